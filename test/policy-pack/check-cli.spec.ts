// `npm run check` end to end: the real CLI in a child process, on files.

import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { container, hardenedTemplate, namespaceObjects, PodTemplate, securityContext, wrap } from "./fixtures";

const ROOT = path.resolve(__dirname, "../..");
const DEV_SETTINGS = { profile: "local", platform: "kubernetes", approvedRegistries: ["quay.io/agent-security", "ghcr.io/spiffe"], kataRuntimeClasses: ["kata"] };

interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function check(...args: string[]): Run {
    const result = spawnSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", "cli/check.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        // The CLI needs Node >= 22; the node running mocha is that node.
        env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` },
        timeout: 60000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonRow {
    policy: string;
    enforcementLevel: string;
    kind: string;
    namespace: string;
    name: string;
    message: string;
}

function rows(run: Run): JsonRow[] {
    return JSON.parse(run.stdout) as JsonRow[];
}

function yamlDocs(...docs: object[]): string {
    return docs.map((d) => stringify(d)).join("---\n");
}

function deployment(mutate: (t: PodTemplate) => void = () => undefined, name = "currency-agent"): object {
    const t = hardenedTemplate();
    mutate(t);
    return wrap("Deployment", t, { name, namespace: "agents" });
}

describe("npm run check", function () {
    this.timeout(120000);
    let dir: string;
    let config: string;
    const file = (name: string, text: string): string => {
        const p = path.join(dir, name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, text);
        return p;
    };
    const isolation = () => namespaceObjects().map((r) => r.props);

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-check-"));
        config = file("settings.json", JSON.stringify(DEV_SETTINGS));
    });

    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("exits 0 on a compliant multi-document stack and prints the summary", () => {
        const stack = file("ok/stack.yaml", yamlDocs(...isolation(), deployment()));
        const run = check("--config", config, stack);
        assert.strictEqual(run.status, 0, run.stderr + run.stdout);
        assert.strictEqual(run.stdout.trim(), "check: no violations in 6 resources from 1 file.");
    });

    it("exits 1 with one readable line per violation and a summary", () => {
        const bad = file("bad/stack.yaml", yamlDocs(...isolation(), deployment((t) => (securityContext(container(t, "agent")).privileged = true))));
        const run = check("--config", config, bad);
        assert.strictEqual(run.status, 1, run.stderr);
        const lines = run.stdout.trim().split("\n");
        assert.deepStrictEqual(lines, [
            '[mandatory] baseline-no-privileged Deployment agents/currency-agent: Container "agent" (spec.template.spec.containers[0]) sets securityContext.privileged to true; privileged containers are forbidden.',
            "check: 1 mandatory and 0 advisory violations in 6 resources from 1 file.",
        ]);
    });

    it("prints the JSON array of {policy, enforcementLevel, kind, namespace, name, message} for every document", () => {
        const pods = [1, 2].map((i) => {
            const t = hardenedTemplate();
            container(t, "agent").image = "nginx";
            return wrap("Pod", t, { name: `pod-${i}`, namespace: "agents" });
        });
        const list = { apiVersion: "v1", kind: "List", items: [wrap("Pod", (() => {
            const t = hardenedTemplate();
            t.spec.hostNetwork = true;
            return t;
        })(), { name: "pod-3", namespace: "agents" })] };
        const multi = file("multi/pods.yaml", yamlDocs(...isolation(), ...pods, list));
        const run = check("--format", "json", "--config", config, multi);
        assert.strictEqual(run.status, 1, run.stderr);
        const out = rows(run);
        for (const row of out) {
            assert.deepStrictEqual(Object.keys(row), ["policy", "enforcementLevel", "kind", "namespace", "name", "message"]);
        }
        assert.deepStrictEqual(
            out.map((r) => [r.policy, r.kind, r.namespace, r.name]),
            [
                ["baseline-approved-registries", "Pod", "agents", "pod-1"],
                ["baseline-approved-registries", "Pod", "agents", "pod-2"],
                ["baseline-no-host-namespaces", "Pod", "agents", "pod-3"],
            ],
        );
        assert.ok(out.every((r) => r.enforcementLevel === "mandatory"));
    });

    it("reads a DeploymentPatch document as the Pulumi DeploymentPatch resource", () => {
        const patch = (securityContextValue: object) => ({
            apiVersion: "apps/v1",
            kind: "DeploymentPatch",
            metadata: { name: "coredns", namespace: "kube-system" },
            spec: { template: { spec: { containers: [{ name: "coredns", image: "quay.io/agent-security/coredns:1.12", securityContext: securityContextValue }] } } },
        });
        const benign = file("patch/benign.yaml", yamlDocs(patch({ readOnlyRootFilesystem: true })));
        assert.strictEqual(check("--config", config, benign).status, 0);
        const hostile = file("patch/hostile.yaml", yamlDocs(patch({ privileged: true })));
        const run = check("--format", "json", "--config", config, hostile);
        assert.strictEqual(run.status, 1, run.stderr);
        assert.deepStrictEqual(rows(run).map((r) => [r.policy, r.kind, r.namespace, r.name]), [["baseline-no-privileged", "DeploymentPatch", "kube-system", "coredns"]]);
    });

    it("reads YAML 1.1 octal modes and booleans the way kubectl does", () => {
        const base = stringify(deployment());
        assert.match(base, /defaultMode: 256/);
        const octal = file("octal/ok.yaml", yamlDocs(...isolation()) + "---\n" + base.replace(/defaultMode: 256/g, "defaultMode: 0400"));
        assert.strictEqual(check("--config", config, octal).status, 0);
        const sneaky = file("octal/sneaky.yaml", yamlDocs(...isolation()) + "---\n" + base.replace("defaultMode: 256", "defaultMode: 0256").replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: true\n            privileged: yes"));
        const run = check("--format", "json", "--config", config, sneaky);
        assert.strictEqual(run.status, 1, run.stderr);
        assert.deepStrictEqual(rows(run).map((r) => r.policy).sort(), ["baseline-no-privileged", "baseline-secret-file-mode"]);
        assert.ok(rows(run).some((r) => r.message.includes("0256")));
    });

    it("recurses into directories for *.yaml, *.yml and *.json only", () => {
        file("tree/a/isolation.yml", yamlDocs(...isolation()));
        file("tree/b/deployment.json", JSON.stringify(deployment()));
        file("tree/notes.txt", "not: [yaml");
        file("tree/values/charts.yaml", stringify({ releases: [{ name: "falco", chart: "falco", version: "9.1.0" }] }));
        const run = check("--config", config, path.join(dir, "tree"));
        assert.strictEqual(run.status, 0, run.stderr + run.stdout);
        assert.strictEqual(run.stdout.trim(), "check: no violations in 6 resources from 3 files (1 non-Kubernetes documents skipped).");
    });

    it("exits 2 naming a path that does not exist", () => {
        const missing = path.join(dir, "nowhere.yaml");
        const run = check("--config", config, missing);
        assert.strictEqual(run.status, 2);
        assert.strictEqual(run.stdout, "");
        assert.match(run.stderr, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot read`));
    });

    it("exits 2 with file:line for a YAML syntax error", () => {
        const broken = file("broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [oops\nspec: {}\n");
        const run = check("--config", config, broken);
        assert.strictEqual(run.status, 2);
        assert.match(run.stderr, new RegExp(`^check: ${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: YAML syntax error`, "m"));
        const line = Number(/broken\.yaml:(\d+):/.exec(run.stderr)?.[1]);
        assert.ok(line >= 3 && line <= 5, run.stderr);
    });

    it("exits 2 on bad usage and on invalid settings", () => {
        assert.strictEqual(check().status, 2);
        assert.strictEqual(check("--format", "xml", dir).status, 2);
        assert.strictEqual(check("--strict", dir).status, 2);
        const bad = file("bad-settings.json", JSON.stringify({ ...DEV_SETTINGS, profile: "staging" }));
        const run = check("--config", bad, dir);
        assert.strictEqual(run.status, 2);
        assert.match(run.stderr, /profile must be one of local, ci, prod, got "staging"/);
    });

    it("applies the prod rules from the pack's per-stack config file", () => {
        const t = hardenedTemplate("openshift");
        const stack = file("prod/stack.yaml", yamlDocs(...isolation(), wrap("Deployment", t, { name: "currency-agent", namespace: "agents" })));
        const run = check("--format", "json", "--config", path.join(ROOT, "policy-pack/config/prod.json"), stack);
        assert.strictEqual(run.status, 1, run.stderr);
        assert.deepStrictEqual(rows(run).map((r) => [r.policy, r.kind]), [
            ["baseline-kata-runtime", "Deployment"],
            ["baseline-prod-tool-flags", ""],
        ]);
    });

    it("without --config says which defaults it uses and rejects images it cannot approve", () => {
        const stack = file("defaults/stack.yaml", yamlDocs(...isolation(), deployment()));
        const run = check(stack);
        assert.strictEqual(run.status, 1);
        assert.match(run.stderr, /approvedRegistries \[\] \(every image is rejected/);
        assert.match(run.stdout, /cannot be approved because no approved registries are configured/);
    });
});
