// The per-agent CiliumNetworkPolicy allows exactly the agent's hosts plus the DNS that resolves them,
// never the metadata range; the Cilium chart values match the chart's own schema.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import * as YAML from "yaml";
import { agentEgressPolicy } from "../../components/network/policy";
import type { AgentEgressInput, CiliumEgressRule, CiliumNetworkPolicyManifest } from "../../components/network/policy";
import { ciliumValues } from "../../components/network/values";
import { defaultSchemaDir } from "../support/schemaValidator";
import type { AgentConfig } from "../../config/schema";
import type { Render } from "./support";
import { hasPath, leafPaths, ofKind, onKubernetes, prodConfig, render } from "./support";

const DNS_PEERS = {
    kubernetes: { selector: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" }, port: "53" },
    openshift: { selector: { "k8s:dns.operator.openshift.io/daemonset-dns": "default", "k8s:io.kubernetes.pod.namespace": "openshift-dns" }, port: "5353" },
} as const;

const isDnsRule = (rule: CiliumEgressRule): boolean => (rule.toPorts ?? []).some((port) => port.rules?.dns !== undefined);

/** What the policy lets the pod resolve and reach, flattened. */
function allowed(policy: CiliumNetworkPolicyManifest): { dnsNames: string[]; dnsPatterns: string[]; fqdns: string[]; fqdnPorts: unknown[] } {
    const dnsRules = policy.spec.egress.filter(isDnsRule);
    assert.strictEqual(dnsRules.length, 1, "exactly one DNS rule");
    const dns = dnsRules[0]!.toPorts!.flatMap((port) => port.rules?.dns ?? []);
    const fqdnRules = policy.spec.egress.filter((rule) => rule.toFQDNs !== undefined);
    return {
        dnsNames: dns.flatMap((entry) => (entry.matchName ? [entry.matchName] : [])).sort(),
        dnsPatterns: dns.flatMap((entry) => (entry.matchPattern ? [entry.matchPattern] : [])).sort(),
        fqdns: fqdnRules.flatMap((rule) => rule.toFQDNs!.map((entry) => entry.matchName ?? `pattern:${entry.matchPattern ?? ""}`)).sort(),
        fqdnPorts: fqdnRules.flatMap((rule) => rule.toPorts ?? []),
    };
}

function baseInput(overrides: Partial<AgentEgressInput> = {}): AgentEgressInput {
    return {
        agentName: "fetch-agent",
        namespace: "fetch-agent",
        podLabels: { "agent-security.io/role": "agent", "agent-security.io/agent": "fetch-agent" },
        egressHosts: ["generativelanguage.googleapis.com", "api.weather.gov"],
        platform: "kubernetes",
        ...overrides,
    };
}

describe("Cilium: per-agent egress policy", () => {
    for (const [platform, config] of [
        ["openshift", prodConfig],
        ["kubernetes", () => onKubernetes()],
    ] as const) {
        describe(`rendered prod on ${platform}`, () => {
            let prod: Render;
            let agents: AgentConfig[];
            before(async () => {
                const raw = config();
                agents = raw.agents as AgentConfig[];
                prod = await render("prod", raw);
            });

            it("allows each agent exactly its hosts: DNS by exact name and HTTPS 443/TCP, plus in-cluster names", () => {
                for (const agent of agents) {
                    const policy = ofKind(prod.manifests, "CiliumNetworkPolicy").find((manifest) => manifest.metadata.name === `${agent.name}-egress`) as unknown as CiliumNetworkPolicyManifest;
                    assert.ok(policy, `${agent.name} has a policy`);
                    const hosts = [...new Set(agent.egress)].sort();
                    assert.deepStrictEqual(allowed(policy), {
                        dnsNames: hosts,
                        dnsPatterns: ["**.cluster.local"],
                        fqdns: hosts,
                        fqdnPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
                    });
                }
            });

            it(`sends DNS to the ${platform} cluster resolver with string ports`, () => {
                for (const policy of ofKind(prod.manifests, "CiliumNetworkPolicy") as unknown as CiliumNetworkPolicyManifest[]) {
                    const dns = policy.spec.egress.find(isDnsRule)!;
                    assert.deepStrictEqual(dns.toEndpoints, [{ matchLabels: DNS_PEERS[platform].selector }]);
                    assert.deepStrictEqual(dns.toPorts![0]!.ports, [
                        { port: DNS_PEERS[platform].port, protocol: "UDP" },
                        { port: DNS_PEERS[platform].port, protocol: "TCP" },
                    ]);
                }
            });

            it("never allows 169.254.0.0/16, any CIDR or any entity, and denies the metadata range outright", () => {
                for (const policy of ofKind(prod.manifests, "CiliumNetworkPolicy") as unknown as CiliumNetworkPolicyManifest[]) {
                    const egress = JSON.stringify(policy.spec.egress);
                    assert.doesNotMatch(egress, /169\.254/);
                    assert.doesNotMatch(egress, /toCIDR|toEntities|toServices|toNodes|toGroups/);
                    for (const rule of policy.spec.egress) {
                        assert.deepStrictEqual(
                            Object.keys(rule).filter((key) => !["toEndpoints", "toFQDNs", "toPorts"].includes(key)),
                            [],
                        );
                    }
                    assert.deepStrictEqual(policy.spec.egressDeny, [{ toCIDRSet: [{ cidr: "169.254.0.0/16" }] }]);
                    for (const port of policy.spec.egress.flatMap((rule) => rule.toPorts ?? []).flatMap((entry) => entry.ports)) {
                        assert.strictEqual(typeof port.port, "string");
                    }
                }
            });

            it("selects exactly the agent's pods (the Deployment's pod labels)", () => {
                for (const agent of agents) {
                    const policy = ofKind(prod.manifests, "CiliumNetworkPolicy").find((manifest) => manifest.metadata.name === `${agent.name}-egress`) as unknown as CiliumNetworkPolicyManifest;
                    const deployment = ofKind(prod.manifests, "Deployment").find((manifest) => manifest.metadata.name === agent.name);
                    assert.ok(deployment, `${agent.name} Deployment`);
                    const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
                    const selector = policy.spec.endpointSelector.matchLabels;
                    assert.strictEqual(selector["agent-security.io/agent"], agent.name);
                    assert.strictEqual(selector["agent-security.io/role"], "agent");
                    for (const [key, value] of Object.entries(selector)) assert.strictEqual(podLabels[key], value, `${agent.name}: pod label ${key}`);
                }
            });

            it("lets the sidecars reach istiod (mesh on), the SPIRE server (Kata on) and the MCP gateway", () => {
                const policy = ofKind(prod.manifests, "CiliumNetworkPolicy")[0] as unknown as CiliumNetworkPolicyManifest;
                const peers = policy.spec.egress.filter((rule) => rule.toEndpoints && !isDnsRule(rule)).map((rule) => [rule.toEndpoints, rule.toPorts ?? null]);
                assert.deepStrictEqual(peers, [
                    [[{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "gateway-system" } }], null],
                    [[{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "istio-system", "k8s:app": "istiod" } }], [{ ports: [{ port: "15012", protocol: "TCP" }] }]],
                    [
                        [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": platform === "openshift" ? "zero-trust-workload-identity-manager" : "spire-server" } }],
                        [{ ports: [{ port: "8081", protocol: "TCP" }] }],
                    ],
                ]);
            });
        });
    }

    it("drops the istiod, SPIRE and gateway peers when the mesh, Kata and the gateway are off", () => {
        const policy = agentEgressPolicy(baseInput());
        assert.deepStrictEqual(
            policy.spec.egress.filter((rule) => !isDnsRule(rule) && rule.toFQDNs === undefined),
            [],
        );
    });

    it("lets an agent without egress hosts resolve in-cluster names only and reach no FQDN", () => {
        const policy = agentEgressPolicy(baseInput({ egressHosts: [] }));
        assert.deepStrictEqual(allowed(policy), { dnsNames: [], dnsPatterns: ["**.cluster.local"], fqdns: [], fqdnPorts: [] });
    });

    it("is deterministic: host order and duplicates do not change the policy", () => {
        const a = agentEgressPolicy(baseInput({ egressHosts: ["b.example.com", "a.example.com", "b.example.com"] }));
        const b = agentEgressPolicy(baseInput({ egressHosts: ["a.example.com", "b.example.com"] }));
        assert.strictEqual(JSON.stringify(a), JSON.stringify(b));
    });
});

describe("Cilium: chart values", () => {
    const dir = path.join(defaultSchemaDir(), "cilium", "helm", "cilium");
    const schema = JSON.parse(fs.readFileSync(path.join(dir, "values.schema.json"), "utf8")) as Record<string, unknown>;
    const defaults = YAML.parse(fs.readFileSync(path.join(dir, "values.yaml"), "utf8")) as unknown;

    /** The chart schema with unknown keys refused where it lists properties (outside combinators). */
    function strict(node: unknown): unknown {
        if (Array.isArray(node)) return node.map(strict);
        if (node === null || typeof node !== "object") return node;
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
            out[key] = ["anyOf", "oneOf", "allOf", "not"].includes(key) ? value : strict(value);
        }
        if ("properties" in out && !("additionalProperties" in out)) out.additionalProperties = false;
        return out;
    }

    it("validate against the chart's values.schema.json, unknown keys refused", () => {
        const ajv = new Ajv({ strict: false, allErrors: true });
        const validate = ajv.compile(strict(schema) as object);
        assert.ok(validate(ciliumValues()), JSON.stringify(validate.errors));
    });

    it("set only keys the cilium 1.20.0 chart has", () => {
        for (const keys of leafPaths(ciliumValues())) assert.ok(hasPath(defaults, keys), keys.join("."));
    });

    it("answer refused DNS lookups with NXDOMAIN so resolvers keep walking the search list", () => {
        assert.deepStrictEqual(ciliumValues().dnsProxy, { dnsRejectResponseCode: "nameError" });
    });

    it("catch a mistyped key (the strict schema is not vacuous)", () => {
        const ajv = new Ajv({ strict: false });
        const validate = ajv.compile(strict(schema) as object);
        assert.strictEqual(validate({ dnsProxy: { dnsRejectResponseKode: "nameError" } }), false);
    });
});
