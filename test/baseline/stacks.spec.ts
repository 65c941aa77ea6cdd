// Every agent workload of every stack, on both platforms, against the baseline of design.md
// section 8, the namespace guards, the upstream schemas and (when present) the policy pack.
import * as assert from "assert";
import type { Manifest, RecordedResource, StackRun } from "../../cli/mockRuntime";
import { manifestsOf } from "../../cli/mockRuntime";
import { resourceQuotaSpec } from "../../components/baseline";
import { agentNamespace, agentsByNamespace } from "../../platform";
import { cpuMillis, memoryBytes, KATA_MIN_MEMORY } from "../../config/schema";
import { loadSchemaValidator } from "../support/schemaValidator";
import { evaluate } from "../../policy-pack/evaluate";
import {
    agentDeployments,
    baselineProblems,
    containersOf,
    isObj,
    ofKind,
    ownResources,
    pathsOfKey,
    PLATFORMS,
    podSpecOf,
    runVariant,
    STACKS,
    agentResources,
} from "./support";
import type { TestPlatform } from "./support";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (isObj(value) ? value : {});



function manifestsOfOwn(run: StackRun): Manifest[] {
    return manifestsOf(ownResources(run));
}

for (const stack of STACKS) {
    for (const platform of PLATFORMS) {
        describe(`stack ${stack} on ${platform}: agent workloads`, function () {
            let run: StackRun;
            before(async function () {
                run = await runVariant(stack, { platform });
            });

            it("renders one hardened Deployment, ServiceAccount and ClusterSPIFFEID per agent", () => {
                const names = run.config.agents.map((agent) => agent.name).sort();
                assert.deepStrictEqual(
                    agentDeployments(run).map((deployment) => deployment.metadata.name).sort(),
                    names,
                );
                const manifests = manifestsOf(run.resources);
                const accounts = ofKind(manifests, "ServiceAccount").filter((sa) => names.includes(sa.metadata.name));
                assert.strictEqual(accounts.length, names.length);
                for (const account of accounts) assert.strictEqual(account.automountServiceAccountToken, false);
                assert.strictEqual(ofKind(manifests, "ClusterSPIFFEID").length, names.length);
            });

            it("passes every baseline rule of design.md section 8 on every agent pod", () => {
                const requireKata = run.config.profile === "prod" && run.config.features.kata;
                const problems = agentDeployments(run).flatMap((deployment) =>
                    baselineProblems(deployment, { platform, registries: run.config.registries, requireKata }),
                );
                assert.deepStrictEqual(problems, []);
            });

            it(platform === "openshift" ? "has no AppArmor field and no hard-coded UID anywhere" : "asks for AppArmor RuntimeDefault on every container and pins a non-root UID", () => {
                const own = manifestsOfOwn(run);
                if (platform === "openshift") {
                    assert.deepStrictEqual(pathsOfKey(own, "appArmorProfile"), []);
                    for (const field of ["runAsUser", "runAsGroup", "fsGroup"]) assert.deepStrictEqual(pathsOfKey(own, field), [], field);
                    return;
                }
                for (const deployment of agentDeployments(run)) {
                    const pod = podSpecOf(deployment);
                    assert.deepStrictEqual(obj(obj(pod.securityContext).appArmorProfile), { type: "RuntimeDefault" });
                    assert.strictEqual(obj(pod.securityContext).runAsUser, 65532);
                    for (const container of containersOf(pod)) {
                        assert.deepStrictEqual(obj(obj(container.spec.securityContext).appArmorProfile), { type: "RuntimeDefault" }, container.name);
                    }
                }
            });

            it("runs Kata agents with runtimeClassName kata, >= 2Gi and an in-pod spire-agent, and others with neither", () => {
                const kata = run.config.features.kata;
                for (const deployment of agentDeployments(run)) {
                    const pod = podSpecOf(deployment);
                    const names = containersOf(pod).map((container) => container.name);
                    const csi = (Array.isArray(pod.volumes) ? pod.volumes : []).some((volume) => obj(obj(volume).csi).driver === "csi.spiffe.io");
                    if (kata) {
                        assert.strictEqual(pod.runtimeClassName, "kata");
                        assert.ok(names.includes("spire-agent"));
                        assert.ok(!csi, "no CSI socket under Kata");
                        const agentContainer = containersOf(pod).find((container) => container.name === "agent");
                        const memory = memoryBytes(String(obj(obj(agentContainer?.spec.resources).limits).memory)) ?? 0;
                        assert.ok(memory >= (memoryBytes(KATA_MIN_MEMORY) ?? Infinity), `memory ${memory}`);
                    } else {
                        assert.strictEqual(pod.runtimeClassName, undefined);
                        assert.ok(!names.includes("spire-agent"));
                        assert.ok(csi, "CSI socket without Kata");
                    }
                    assert.ok(names.includes("spiffe-helper"));
                }
            });

            it("guards every agent namespace: labels, default deny, egress rules with a destination, sized LimitRange and ResourceQuota", () => {
                const manifests = manifestsOf(run.resources);
                for (const [namespace, members] of agentsByNamespace(run.config.agents)) {
                    const ns = ofKind(manifests, "Namespace").find((m) => m.metadata.name === namespace);
                    const labels = obj(ns?.metadata.labels);
                    assert.strictEqual(labels["pod-security.kubernetes.io/enforce"], "restricted");
                    assert.ok(labels["pod-security.kubernetes.io/enforce-version"] === undefined || labels["pod-security.kubernetes.io/enforce-version"] === "latest");
                    assert.strictEqual(labels["pod-security.kubernetes.io/audit"], "restricted");
                    assert.strictEqual(labels["pod-security.kubernetes.io/warn"], "restricted");
                    assert.strictEqual(labels["agent-security.io/agents"], "true");
                    assert.strictEqual(labels["istio-injection"], run.config.features.envoy ? "enabled" : undefined);

                    const policies = ofKind(manifests, "NetworkPolicy").filter((m) => m.metadata.namespace === namespace);
                    const deny = policies.find((p) => {
                        const spec = obj(p.spec);
                        return JSON.stringify(spec.podSelector) === "{}" && JSON.stringify(spec.policyTypes) === JSON.stringify(["Ingress", "Egress"]) && spec.ingress === undefined && spec.egress === undefined;
                    });
                    assert.ok(deny, `default deny in ${namespace}`);
                    for (const policy of policies) {
                        for (const rule of Array.isArray(obj(policy.spec).egress) ? (obj(policy.spec).egress as unknown[]) : []) {
                            assert.ok(Array.isArray(obj(rule).to) && (obj(rule).to as unknown[]).length > 0, `${policy.metadata.name} egress rule without to`);
                        }
                    }
                    const names = policies.map((p) => p.metadata.name);
                    // With Cilium on, its per-agent policy owns DNS and internet egress.
                    assert.strictEqual(names.includes("allow-dns"), !run.config.features.cilium);
                    assert.strictEqual(names.includes("allow-istiod"), run.config.features.envoy);
                    assert.strictEqual(names.includes("allow-spire-server"), run.config.features.kata);
                    assert.strictEqual(names.includes("allow-mcp-gateway"), run.config.features.opa);
                    assert.strictEqual(names.includes("allow-external-https"), !run.config.features.cilium && members.some((agent) => agent.egress.length > 0));

                    const limitRange = ofKind(manifests, "LimitRange").find((m) => m.metadata.namespace === namespace);
                    const limit = obj((obj(limitRange?.spec).limits as unknown[] | undefined)?.[0]);
                    assert.strictEqual(limit.type, "Container");
                    for (const key of ["default", "defaultRequest", "max"]) {
                        assert.ok(obj(limit[key]).cpu && obj(limit[key]).memory, `LimitRange ${key}`);
                    }
                    const quota = ofKind(manifests, "ResourceQuota").find((m) => m.metadata.namespace === namespace);
                    const expected = resourceQuotaSpec({
                        workloads: members.map((agent) => ({
                            name: agent.name,
                            replicas: agent.replicas,
                            cpuMillis: cpuMillis(agent.resources.cpu) ?? 0,
                            memoryBytes: memoryBytes(agent.resources.memory) ?? 0,
                        })),
                        mesh: run.config.features.envoy,
                        kata: run.config.features.kata,
                    });
                    assert.deepStrictEqual(obj(quota?.spec).hard, expected.hard);
                    // the agents' own limits fit with room to spare for sidecars and a rollout
                    const own = members.reduce((sum, agent) => sum + (cpuMillis(agent.resources.cpu) ?? 0) * agent.replicas, 0);
                    assert.ok((cpuMillis(String(expected.hard["limits.cpu"])) ?? 0) > own);
                }
            });

            it("sets an explicit metadata.name on every object it renders", () => {
                for (const resource of ownResources(run)) {
                    if (!resource.type.startsWith("kubernetes:") || resource.type === "kubernetes:helm.sh/v4:Chart") continue;
                    assert.strictEqual(typeof obj(resource.inputs.metadata).name, "string", resource.urn);
                }
            });

            it("renders only objects that validate against the upstream schemas", () => {
                const validator = loadSchemaValidator();
                const failures: string[] = [];
                const kinds = new Set<string>();
                for (const resource of ownResources(run)) {
                    const [manifest] = manifestsOf([resource]);
                    if (manifest === undefined) continue;
                    kinds.add(manifest.kind);
                    const result = validator.validate(manifest as unknown as Record<string, unknown>, { patch: resource.type.endsWith("Patch") });
                    if (!result.ok) failures.push(`${manifest.kind} ${manifest.metadata.name}: ${result.errors.join("; ")}`);
                }
                assert.deepStrictEqual(failures, []);
                const expected = ["Namespace", "NetworkPolicy", "LimitRange", "ResourceQuota", "ServiceAccount", "ConfigMap", "Deployment", "ClusterSPIFFEID"];
                if (platform === "openshift") expected.push("OperatorGroup", "Subscription", "ZeroTrustWorkloadIdentityManager", "SpireServer", "SpireAgent", "SpiffeCSIDriver");
                if (platform === "openshift" && run.config.features.kata) expected.push("KataConfig");
                for (const kind of expected) assert.ok(kinds.has(kind), `no ${kind} was validated`);
            });

            it("passes the policy pack's baseline policies", async function () {
                // Our workloads and namespaces, plus the platform's audit trail that the prod
                // stack policy looks for; other components' findings are their owners' business.
                const own: RecordedResource[] = [
                    ...agentResources(run),
                    ...run.resources.filter((resource) => resource.name === "audit" || resource.name === "platform-namespace"),
                ];
                assert.strictEqual(own.filter((resource) => resource.type === "kubernetes:apps/v1:Deployment").length, run.config.agents.length);
                const findings = await evaluate(
                    own.map((resource) => ({ type: resource.type, props: resource.inputs, urn: resource.urn, name: resource.name })),
                    {
                        profile: run.config.profile,
                        platform: platform as TestPlatform,
                        approvedRegistries: run.config.registries,
                        kataRuntimeClasses: ["kata"],
                        auditNamespace: run.config.platformNamespace,
                    },
                );
                const mandatory = findings.filter((finding) => finding.policy.startsWith("baseline-") && finding.enforcementLevel === "mandatory");
                assert.deepStrictEqual(
                    mandatory.map((finding) => `${finding.policy}: ${finding.message}`),
                    [],
                );
            });

            it("exposes the agents' service accounts in the stack outputs", () => {
                for (const agent of run.config.agents) {
                    const summary = run.outputs.agents.find((s) => s.name === agent.name);
                    assert.strictEqual(summary?.serviceAccount, agent.name);
                    assert.strictEqual(summary?.namespace, agentNamespace(agent));
                }
            });
        });
    }
}
