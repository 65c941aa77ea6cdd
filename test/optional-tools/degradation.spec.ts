// Graceful degradation (security-tooling design; design.md section 2): turning any single optional
// tool off in a prod-like stack leaves the mandatory baseline of every agent as it was. The baseline
// resources compared are the agents' Deployments, ServiceAccounts, agent Namespaces, NetworkPolicies,
// LimitRanges and ResourceQuotas.
//
// Differences a flag legitimately makes, and nothing else (everything not listed below must be
// byte-identical between the all-on render and the render with the tool off):
// - falco: the Falco responder's deny-all `agent-security-quarantine` NetworkPolicy goes away (it
//   selects only pods the responder labels as quarantined). Otherwise none: Falco acts from the node.
// - kyverno: none. It acts at admission.
// - cilium: the Kubernetes `allow-dns` and `allow-external-https` NetworkPolicies come back. With
//   Cilium on, its per-agent policy owns DNS (L7-filtered) and internet egress (toFQDNs), because
//   Cilium adds up allows and an L4-only Kubernetes allow would disable both filters.
// - kata: the Deployment loses `runtimeClassName` and the in-pod `spire-agent` container with its
//   volumes, and the `spiffe-helper` sidecar switches from the in-pod agent's socket to the CSI
//   socket (the agent container itself is unchanged); the `allow-spire-server` NetworkPolicy goes
//   away (only the in-pod spire-agent talks to the server); the ResourceQuota may shrink by the
//   spire-agent's budget, never grow.
// - envoy: the agent Namespace loses the sidecar-injection label; the `allow-istiod` NetworkPolicy
//   goes away; the ResourceQuota and the LimitRange's per-container `max` may shrink by the
//   istio-proxy budget, never grow.
// - opa: the Deployment loses the agent container's `MCP_GATEWAY_*` environment variables and the
//   projected gateway token (volume and mount), and the `allow-mcp-gateway` NetworkPolicy goes away
//   (there is no gateway to call).
import * as assert from "assert";
import { agentNamespace } from "../../platform";
import type { AgentConfig } from "../../config/schema";
import { TOOLS } from "../../config/profiles";
import type { Tool } from "../../config/profiles";
import type { Manifest } from "../../cli/mockRuntime";
import type { RawConfig } from "./support";
import { onKubernetes, prodConfig, prodWithout, render } from "./support";

const BASELINE_KINDS = new Set(["Deployment", "ServiceAccount", "Namespace", "NetworkPolicy", "LimitRange", "ResourceQuota"]);
const INJECTION_LABELS = ["istio-injection", "istio.io/rev", "istio.io/dataplane-mode", "sidecar.istio.io/inject"];
const SPIFFE_SIDECARS = new Set(["spiffe-helper", "spire-agent"]);

type Baseline = Map<string, Manifest>;

function baselineOf(manifests: readonly Manifest[], agentNamespaces: ReadonlySet<string>): Baseline {
    const out: Baseline = new Map();
    for (const manifest of manifests) {
        if (!BASELINE_KINDS.has(manifest.kind)) continue;
        const namespace = manifest.kind === "Namespace" ? manifest.metadata.name : manifest.metadata.namespace;
        if (namespace === undefined || !agentNamespaces.has(namespace)) continue;
        out.set(`${manifest.kind}/${namespace}/${manifest.metadata.name}`, structuredClone(manifest));
    }
    return out;
}

interface PodSpecLike {
    runtimeClassName?: string;
    containers: ContainerLike[];
    initContainers?: ContainerLike[];
    volumes?: { name: string }[];
}
interface ContainerLike {
    name: string;
    env?: { name: string }[];
    volumeMounts?: { name: string }[];
}

const podSpec = (deployment: Manifest): PodSpecLike => (deployment.spec as { template: { spec: PodSpecLike } }).template.spec;

/** Cpu in millicores or memory in bytes of a Kubernetes quantity. */
function quantity(value: string): number {
    const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti)?$/.exec(value);
    assert.ok(match, `unparseable quantity ${value}`);
    const number = Number(match[1]);
    const unit = match[2];
    if (unit === "m") return number;
    if (unit === undefined) return number * 1000;
    return number * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[unit]!;
}

/** `off` may be smaller than `on` but not larger, key by key, and has the same keys. */
function assertNotLarger(on: Record<string, string>, off: Record<string, string>, where: string): void {
    assert.deepStrictEqual(Object.keys(off).sort(), Object.keys(on).sort(), `${where}: keys`);
    for (const key of Object.keys(on)) {
        if (key === "pods") {
            assert.strictEqual(off[key], on[key], `${where}: pods`);
            continue;
        }
        assert.ok(quantity(off[key]!) <= quantity(on[key]!), `${where}: ${key} grew from ${on[key]} to ${off[key]}`);
    }
}

/** Removes from both renders what the tool's flag legitimately changes, checking the direction. */
function neutralize(tool: Tool, on: Baseline, off: Baseline): void {
    const dropPolicy = (name: string): void => {
        for (const [key, manifest] of on) {
            if (manifest.kind === "NetworkPolicy" && manifest.metadata.name === name) {
                assert.ok(!off.has(key), `${key} should disappear with ${tool} off`);
                on.delete(key);
            }
        }
    };
    const restoredPolicy = (name: string): void => {
        let seen = false;
        for (const [key, manifest] of off) {
            if (manifest.kind === "NetworkPolicy" && manifest.metadata.name === name) {
                assert.ok(!on.has(key), `${key} must not exist while ${tool} is on`);
                off.delete(key);
                seen = true;
            }
        }
        assert.ok(seen, `${name} should come back with ${tool} off`);
    };
    const quotas = (): void => {
        for (const [key, manifest] of on) {
            if (manifest.kind !== "ResourceQuota") continue;
            const other = off.get(key);
            assert.ok(other, `${key} must exist with ${tool} off`);
            const hardOn = (manifest.spec as { hard: Record<string, string> }).hard;
            const hardOff = (other.spec as { hard: Record<string, string> }).hard;
            assertNotLarger(hardOn, hardOff, key);
            (manifest.spec as { hard: unknown }).hard = "neutralized";
            (other.spec as { hard: unknown }).hard = "neutralized";
        }
    };
    switch (tool) {
        case "kata":
            for (const [key, manifest] of [...on, ...off]) {
                if (manifest.kind !== "Deployment") continue;
                const spec = podSpec(manifest);
                if (on.get(key) === manifest) assert.strictEqual(spec.runtimeClassName, "kata", `${key} runs in Kata when kata is on`);
                else assert.strictEqual(spec.runtimeClassName, undefined, `${key} has no runtime class when kata is off`);
                delete spec.runtimeClassName;
                spec.containers = spec.containers.filter((container) => !SPIFFE_SIDECARS.has(container.name));
                if (spec.initContainers) spec.initContainers = spec.initContainers.filter((container) => !SPIFFE_SIDECARS.has(container.name));
                const used = new Set([...spec.containers, ...(spec.initContainers ?? [])].flatMap((container) => (container.volumeMounts ?? []).map((mount) => mount.name)));
                spec.volumes = (spec.volumes ?? []).filter((volume) => used.has(volume.name));
            }
            dropPolicy("allow-spire-server");
            quotas();
            return;
        case "envoy":
            for (const [key, manifest] of on) {
                if (manifest.kind === "Namespace") {
                    const labels = manifest.metadata.labels as Record<string, string>;
                    assert.ok(INJECTION_LABELS.some((label) => label in labels), `${key} carries a sidecar-injection label when envoy is on`);
                    for (const label of INJECTION_LABELS) delete labels[label];
                }
                if (manifest.kind === "LimitRange") {
                    const other = off.get(key);
                    assert.ok(other, `${key} must exist with envoy off`);
                    const limitsOn = (manifest.spec as { limits: { type: string; max?: Record<string, string> }[] }).limits;
                    const limitsOff = (other.spec as { limits: { type: string; max?: Record<string, string> }[] }).limits;
                    limitsOn.forEach((limit, index) => {
                        const counterpart = limitsOff[index];
                        assert.ok(counterpart && counterpart.type === limit.type, `${key}: same limit types`);
                        if (limit.max || counterpart.max) assertNotLarger(limit.max ?? {}, counterpart.max ?? {}, `${key} max`);
                        delete limit.max;
                        delete counterpart.max;
                    });
                }
            }
            dropPolicy("allow-istiod");
            quotas();
            return;
        case "opa":
            for (const [key, manifest] of on) {
                if (manifest.kind !== "Deployment") continue;
                const agent = podSpec(manifest).containers.find((container) => container.name === "agent");
                assert.ok(agent?.env?.some((env) => env.name === "MCP_GATEWAY_URL"), `${key}: the agent is told the gateway URL when opa is on`);
                agent!.env = agent!.env!.filter((env) => !env.name.startsWith("MCP_GATEWAY_"));
                const spec = podSpec(manifest);
                assert.ok((spec.volumes ?? []).some((volume) => volume.name === "mcp-gateway-token"), `${key}: the gateway token is mounted when opa is on`);
                spec.volumes = (spec.volumes ?? []).filter((volume) => volume.name !== "mcp-gateway-token");
                agent!.volumeMounts = (agent!.volumeMounts ?? []).filter((mount) => mount.name !== "mcp-gateway-token");
            }
            dropPolicy("allow-mcp-gateway");
            return;
        case "cilium":
            restoredPolicy("allow-dns");
            restoredPolicy("allow-external-https");
            return;
        case "falco":
            dropPolicy("agent-security-quarantine");
            return;
        case "kyverno":
            return;
    }
}

function agentNamespaces(raw: RawConfig): Set<string> {
    return new Set((raw.agents as AgentConfig[]).map((agent) => agentNamespace(agent)));
}

for (const [platform, base] of [
    ["openshift", prodConfig],
    ["kubernetes", () => onKubernetes()],
] as const) {
    describe(`graceful degradation on ${platform}: the agents' baseline survives any single tool turned off`, () => {
        let allOn: Baseline;
        let namespaces: Set<string>;
        before(async () => {
            const raw = base();
            namespaces = agentNamespaces(raw);
            allOn = baselineOf((await render("prod", raw)).manifests, namespaces);
            assert.ok(allOn.size > 0, "the all-on render has baseline resources to compare");
            for (const kind of BASELINE_KINDS) assert.ok([...allOn.values()].some((manifest) => manifest.kind === kind), `the all-on render has a ${kind}`);
        });

        for (const tool of TOOLS) {
            it(`${tool} off changes nothing in the baseline but what the ${tool} flag is documented to change`, async () => {
                const off = baselineOf((await render("prod", prodWithout(tool, base()))).manifests, namespaces);
                const on = new Map([...allOn].map(([key, manifest]) => [key, structuredClone(manifest)]));
                neutralize(tool, on, off);
                assert.deepStrictEqual([...off.keys()].sort(), [...on.keys()].sort(), "the same baseline resources exist");
                for (const [key, manifest] of on) {
                    assert.strictEqual(JSON.stringify(off.get(key)), JSON.stringify(manifest), `${key} differs with ${tool} off`);
                }
            });
        }
    });
}
