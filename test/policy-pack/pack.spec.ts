import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadSettings } from "../../cli/check";
import { PackSettings, readSettings } from "../../policy-pack/checks/settings";
import { baselinePolicies } from "../../policy-pack/policies";

const ROOT = path.resolve(__dirname, "../..");
const PACK = path.join(ROOT, "policy-pack");

// design.md section 8, in table order, plus the prod flags policy of issue 6.
const TABLE = [
    "baseline-seccomp",
    "baseline-capabilities",
    "baseline-read-only-root-filesystem",
    "baseline-run-as-non-root",
    "baseline-no-privilege-escalation",
    "baseline-apparmor",
    "baseline-no-privileged",
    "baseline-no-host-namespaces",
    "baseline-no-shared-process-namespace",
    "baseline-volume-types",
    "baseline-no-host-ports",
    "baseline-proc-mount",
    "baseline-selinux",
    "baseline-sysctls",
    "baseline-linux-only",
    "baseline-no-probe-host",
    "baseline-no-secret-env",
    "baseline-secret-file-mode",
    "baseline-spiffe-socket-isolation",
    "baseline-resource-limits",
    "baseline-approved-registries",
    "baseline-kata-runtime",
    "baseline-namespace-pod-security",
    "baseline-default-deny-network",
    "baseline-namespace-quotas",
    "baseline-supported-api-versions",
];
const STACK_POLICIES = ["baseline-kata-runtime", "baseline-namespace-pod-security", "baseline-default-deny-network", "baseline-namespace-quotas", "baseline-prod-tool-flags"];

describe("policy pack", () => {
    it("has every policy of design.md section 8 and baseline-prod-tool-flags, under exactly those names", () => {
        assert.deepStrictEqual([...baselinePolicies.map((p) => p.name)].sort(), [...TABLE, "baseline-prod-tool-flags"].sort());
    });

    it("makes the cross-resource policies stack policies and the others resource policies", () => {
        for (const p of baselinePolicies) {
            const isStack = "validateStack" in p;
            assert.strictEqual(isStack, STACK_POLICIES.includes(p.name), p.name);
            assert.strictEqual("validateResource" in p, !isStack, p.name);
        }
    });

    it("describes every policy in full sentences", () => {
        for (const p of baselinePolicies) {
            assert.match(p.description, /^[A-Z].*\.$/, p.name);
            assert.match(p.name, /^baseline-[a-z]+(-[a-z]+)*$/);
        }
    });

    it("never lowers the pack's mandatory enforcement", () => {
        for (const p of baselinePolicies) {
            assert.ok(p.enforcementLevel === undefined || p.enforcementLevel === "mandatory", p.name);
        }
        const index = fs.readFileSync(path.join(PACK, "index.ts"), "utf8");
        assert.match(index, /new PolicyPack\("agent-security-baseline", \{[\s\S]*enforcementLevel: "mandatory"/);
    });

    it("does not import the program (two independent implementations)", () => {
        const files: string[] = [];
        const walk = (dir: string): void => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory() && e.name !== "node_modules") {
                    walk(p);
                } else if (e.name.endsWith(".ts")) {
                    files.push(p);
                }
            }
        };
        walk(PACK);
        for (const file of files) {
            const text = fs.readFileSync(file, "utf8");
            for (const m of text.matchAll(/from "([^"]+)"/g)) {
                const spec = m[1];
                if (spec.startsWith(".")) {
                    const target = path.resolve(path.dirname(file), spec);
                    assert.ok(target.startsWith(PACK + path.sep) || target === PACK, `${file} imports ${spec} outside the pack`);
                } else {
                    assert.ok(["@pulumi/policy", "@pulumi/pulumi"].includes(spec), `${file} imports ${spec}`);
                }
            }
        }
    });

    it("declares the package the Pulumi CLI loads", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK, "package.json"), "utf8")) as { name: string; version: string; dependencies: Record<string, string> };
        assert.strictEqual(pkg.name, "agent-security-baseline");
        assert.ok(pkg.version !== "", "PolicyPack reads the version from package.json");
        assert.deepStrictEqual(pkg.dependencies, { "@pulumi/policy": "^1.21.0", "@pulumi/pulumi": "^3.270.0" });
        assert.match(fs.readFileSync(path.join(PACK, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
    });
});

describe("policy pack config files", () => {
    const expected: Record<string, PackSettings> = {
        dev: { profile: "local", platform: "kubernetes", approvedRegistries: ["quay.io/agent-security", "ghcr.io/spiffe", "registry.k8s.io/sig-storage"], kataRuntimeClasses: ["kata"], auditNamespace: "agent-security" },
        ci: {
            profile: "ci",
            platform: "kubernetes",
            approvedRegistries: ["quay.io/agent-security", "ghcr.io/spiffe", "registry.k8s.io/sig-storage", "registry.istio.io/release", "quay.io/kuadrant", "ghcr.io/kuadrant", "reg.kyverno.io/kyverno"],
            kataRuntimeClasses: ["kata"], auditNamespace: "agent-security" },
        prod: {
            profile: "prod",
            platform: "openshift",
            approvedRegistries: ["registry.redhat.io", "quay.io/agent-security", "ghcr.io/spiffe", "ghcr.io/kuadrant", "reg.kyverno.io/kyverno", "docker.io/falcosecurity"],
            kataRuntimeClasses: ["kata"],
            auditNamespace: "agent-security",
        },
    };
    const configured = baselinePolicies.filter((p) => p.configSchema !== undefined);

    for (const stack of Object.keys(expected)) {
        const file = path.join(PACK, "config", `${stack}.json`);

        it(`${stack}.json gives every configurable policy exactly its declared keys, consistent with the ${stack} settings`, () => {
            const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
            assert.deepStrictEqual(Object.keys(config).sort(), configured.map((p) => p.name).sort());
            for (const p of configured) {
                const entry = config[p.name];
                assert.ok(!("enforcementLevel" in entry), `${p.name} must not change the enforcement level`);
                assert.deepStrictEqual(Object.keys(entry).sort(), Object.keys(p.configSchema?.properties ?? {}).sort(), p.name);
                const keys = Object.keys(entry) as (keyof PackSettings)[];
                const read = readSettings(entry, keys);
                assert.deepStrictEqual(read.errors, [], p.name);
                for (const key of keys) {
                    assert.deepStrictEqual(entry[key], expected[stack][key], `${p.name}.${key}`);
                }
            }
        });

        it(`${stack}.json is accepted by npm run check --config`, () => {
            assert.deepStrictEqual(loadSettings(file), expected[stack]);
        });
    }
});
