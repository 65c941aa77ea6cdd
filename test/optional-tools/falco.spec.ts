// The Falco release: the generated agent rules file and the chart values around it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { AGENT_CONTAINER_MACRO, FALCO_RULES_FILE, allowedDestinationCondition, renderFalcoRules } from "../../components/runtime/rules";
import { FALCOSIDEKICK_URL, falcoValues, falcosidekickValues } from "../../components/runtime/values";
import { defaultSchemaDir } from "../support/schemaValidator";
import type { Render } from "./support";
import { chart, hasPath, leafPaths, onKubernetes, prodConfig, render } from "./support";

const chartValues = (chartName: string): unknown => YAML.parse(fs.readFileSync(path.join(defaultSchemaDir(), "falco", "helm", chartName, "values.yaml"), "utf8"));
const FALCO_VALUES = chartValues("falco");
const SIDEKICK_VALUES = chartValues("falcosidekick");
const PASS_THROUGH = new Set(["podSecurityContext", "securityContext"]);

interface RuleEntry {
    rule?: string;
    macro?: string;
    list?: string;
    desc?: string;
    condition?: string;
    output?: string;
    priority?: string;
    items?: string[];
    tags?: string[];
}

// The severity each detection is meant to have: CRITICAL = compromise or escape in progress
// (response-worthy once a rate-limited responder exists), WARNING = likely hostile, worth a human,
// NOTICE = low-confidence signal.
const EXPECTED_PRIORITIES: Readonly<Record<string, string>> = {
    "Agent SPIFFE socket access by non-sidecar": "CRITICAL",
    "Agent credential read by shell or file tool": "CRITICAL",
    "Agent connect to link-local metadata range": "CRITICAL",
    "Agent mount or namespace change": "CRITICAL",
    "Agent privilege escalation syscall": "CRITICAL",
    "Agent outbound connection outside allowlist": "WARNING",
    "Agent process environment read": "WARNING",
    "Agent shell spawned": "WARNING",
    "Agent unexpected process spawned": "NOTICE",
};

describe("Falco: agent rules and chart values", () => {
    let prod: Render;
    let entries: RuleEntry[];
    let rules: RuleEntry[];
    before(async () => {
        prod = await render("prod", prodConfig());
        const falco = chart(prod.charts, "falco");
        assert.ok(falco, "the falco release is rendered");
        const text = (falco.values.customRules as Record<string, string>)[FALCO_RULES_FILE];
        assert.strictEqual(typeof text, "string", `customRules carries ${FALCO_RULES_FILE}`);
        const document = YAML.parseDocument(text!);
        assert.deepStrictEqual(document.errors, [], "the rules file parses as YAML");
        entries = document.toJS() as RuleEntry[];
        rules = entries.filter((entry) => entry.rule !== undefined);
    });

    it("gives every rule rule, desc, condition, output and priority", () => {
        assert.ok(rules.length > 0);
        for (const rule of rules) {
            for (const key of ["rule", "desc", "condition", "output", "priority"] as const) {
                assert.ok(typeof rule[key] === "string" && rule[key]!.trim() !== "", `${rule.rule ?? "?"}: ${key}`);
            }
        }
    });

    it(`anchors every rule condition on the agent pod label macro ${AGENT_CONTAINER_MACRO}`, () => {
        const macro = entries.find((entry) => entry.macro === AGENT_CONTAINER_MACRO);
        assert.strictEqual(macro?.condition, "(container.id != host and k8s.pod.label[agent-security.io/role] = agent)");
        for (const rule of rules) assert.match(rule.condition!, new RegExp(`(^|\\W)${AGENT_CONTAINER_MACRO}(\\W|$)`), rule.rule);
    });

    it("covers the issue's detections with the intended priorities (CRITICAL, WARNING, NOTICE)", () => {
        assert.deepStrictEqual(Object.fromEntries(rules.map((rule) => [rule.rule, rule.priority])), EXPECTED_PRIORITIES);
    });

    it("orders rules most severe first, since Falco fires only the first matching rule", () => {
        const order = ["CRITICAL", "WARNING", "NOTICE"];
        const ranks = rules.map((rule) => order.indexOf(rule.priority!));
        assert.deepStrictEqual(ranks, [...ranks].sort((a, b) => a - b));
    });

    it("defines every agent_security_* macro and list before it is used", () => {
        const defined = new Set<string>();
        for (const entry of entries) {
            const text = [entry.condition ?? "", ...(entry.items ?? [])].join(" ");
            for (const used of text.match(/\bagent_security_[a-z_]+\b/g) ?? []) assert.ok(defined.has(used), `${entry.rule ?? entry.macro ?? entry.list}: ${used} is used before it is defined`);
            const name = entry.macro ?? entry.list;
            if (name !== undefined) defined.add(name);
        }
    });

    it("writes conditions Falco 0.44 accepts: balanced parentheses and no deprecated evt.dir", () => {
        for (const entry of entries.filter((candidate) => candidate.condition !== undefined)) {
            let depth = 0;
            for (const char of entry.condition!) {
                depth += char === "(" ? 1 : char === ")" ? -1 : 0;
                assert.ok(depth >= 0, `${entry.rule ?? entry.macro}: unbalanced`);
            }
            assert.strictEqual(depth, 0, `${entry.rule ?? entry.macro}: unbalanced`);
            assert.doesNotMatch(entry.condition!, /evt\.dir/, `${entry.rule ?? entry.macro}`);
        }
    });

    it("watches the paths the agent pods really use: secrets, SVIDs and the Workload API socket", () => {
        const macro = (name: string): string => entries.find((entry) => entry.macro === name)?.condition ?? "";
        assert.match(macro("agent_security_credential_path"), /fd\.name startswith \/var\/run\/secrets\/agent-security\//);
        assert.match(macro("agent_security_credential_path"), /fd\.name startswith \/var\/run\/spiffe\//);
        assert.match(macro("agent_security_spiffe_socket_access"), /\/spiffe-workload-api\//);
        // The rendered Deployments mount exactly there.
        const mounts = prod.manifests
            .filter((manifest) => manifest.kind === "Deployment")
            .flatMap((deployment) => (deployment.spec as { template: { spec: { containers: { volumeMounts?: { mountPath: string }[] }[] } } }).template.spec.containers)
            .flatMap((container) => (container.volumeMounts ?? []).map((mount) => mount.mountPath));
        assert.ok(mounts.some((path) => path.startsWith("/var/run/secrets/agent-security/")), "agent secrets are mounted under /var/run/secrets/agent-security/");
        assert.ok(mounts.some((path) => path.startsWith("/var/run/spiffe/")), "SVIDs are mounted under /var/run/spiffe/");
    });

    it("allows outbound connects per agent to exactly that agent's egress hosts", () => {
        const condition = entries.find((entry) => entry.macro === "agent_security_allowed_destination")?.condition;
        assert.strictEqual(
            condition,
            "((k8s.pod.label[agent-security.io/agent] = currency-agent and k8s.ns.name = currency-agent and fd.sip.name in (api.frankfurter.app, generativelanguage.googleapis.com)) or " +
                "(k8s.pod.label[agent-security.io/agent] = fetch-agent and k8s.ns.name = fetch-agent and fd.sip.name in (generativelanguage.googleapis.com)))",
        );
        assert.strictEqual(allowedDestinationCondition([{ name: "quiet", namespace: "quiet", egressHosts: [] }]), "(evt.num = 0)");
    });

    it("renders the same text for the same agents in any order (deterministic, sorted)", () => {
        const agents = [
            { name: "b-agent", namespace: "b", egressHosts: ["z.example.com", "a.example.com"] },
            { name: "a-agent", namespace: "a", egressHosts: ["m.example.com"] },
        ];
        const reversed = [...agents].reverse().map((agent) => ({ ...agent, egressHosts: [...agent.egressHosts].reverse() }));
        assert.strictEqual(renderFalcoRules({ agents }), renderFalcoRules({ agents: reversed }));
    });

    describe("falco chart values", () => {
        let values: Record<string, unknown>;
        before(() => {
            values = chart(prod.charts, "falco")!.values;
        });

        it("uses the modern eBPF driver and the container plugin for pod labels", () => {
            assert.deepStrictEqual(values.driver, { enabled: true, kind: "modern_ebpf", modernEbpf: { leastPrivileged: false } });
            assert.deepStrictEqual(values.collectors, { enabled: true, containerEngine: { enabled: true }, kubernetes: { enabled: false } });
        });

        it("keeps automated response off and the bundled falcosidekick subchart off", () => {
            assert.deepStrictEqual(values.responseActions, { enabled: false });
            assert.deepStrictEqual(values.falcosidekick, { enabled: false });
        });

        it("sends JSON alerts to the separate falcosidekick release and loads the agent rules first", () => {
            const falco = values.falco as Record<string, unknown>;
            assert.deepStrictEqual(falco.http_output, { enabled: true, url: "http://falcosidekick.falco.svc.cluster.local:2801/" });
            assert.strictEqual(FALCOSIDEKICK_URL, "http://falcosidekick.falco.svc.cluster.local:2801/");
            assert.strictEqual(falco.json_output, true);
            assert.deepStrictEqual((falco.rules_files as string[])[0], "/etc/falco/rules.d");
        });

        it("creates the OpenShift SCC on OpenShift only", async () => {
            assert.deepStrictEqual(values.scc, { create: true });
            const kube = await render("prod", onKubernetes());
            assert.deepStrictEqual(chart(kube.charts, "falco")!.values.scc, { create: false });
        });

        it("sets only keys the falco 9.1.0 chart knows (customRules entries aside)", () => {
            const paths = leafPaths(falcoValues({ platform: "openshift", rulesFileName: FALCO_RULES_FILE, rulesText: "" })).filter((path) => path[0] !== "customRules");
            for (const keys of paths) assert.ok(hasPath(FALCO_VALUES, keys), `falco values.yaml has ${keys.join(".")}`);
        });
    });

    describe("falcosidekick chart values", () => {
        it("posts to the configured webhook at the configured minimum priority", () => {
            const values = chart(prod.charts, "falcosidekick")!.values as { config: { webhook: Record<string, unknown> } };
            assert.deepStrictEqual(values.config.webhook, {
                address: "http://falco-responder.agent-security.svc.cluster.local:8080/falco",
                method: "POST",
                minimumpriority: "warning",
                checkcert: true,
            });
        });

        it("leaves the webhook output disabled without a URL", () => {
            const values = falcosidekickValues({ platform: "kubernetes", minimumPriority: "warning" }) as { config: { webhook: { address: string } } };
            assert.strictEqual(values.config.webhook.address, "");
        });

        it("drops the chart's fixed UID on OpenShift only", () => {
            const openshift = falcosidekickValues({ platform: "openshift", minimumPriority: "warning" }).podSecurityContext as Record<string, unknown>;
            const kubernetes = falcosidekickValues({ platform: "kubernetes", minimumPriority: "warning" }).podSecurityContext as Record<string, unknown>;
            assert.deepStrictEqual([openshift.runAsUser, openshift.fsGroup], [null, null]);
            assert.ok(!("runAsUser" in kubernetes));
        });

        it("sets only keys the falcosidekick 0.14.0 chart knows", () => {
            for (const platform of ["openshift", "kubernetes"] as const) {
                for (const keys of leafPaths(falcosidekickValues({ platform, webhookUrl: "https://example.com/hook", minimumPriority: "warning" }))) {
                    // podSecurityContext / securityContext are Kubernetes objects the chart passes through
                    // verbatim; only their top-level key has to exist.
                    const known = PASS_THROUGH.has(keys[0]!) ? keys.slice(0, 1) : keys;
                    assert.ok(hasPath(SIDEKICK_VALUES, known), `falcosidekick values.yaml has ${keys.join(".")}`);
                }
            }
        });
    });
});
