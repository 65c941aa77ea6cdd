// Real API server (design.md section 11): the resources the stacks render are accepted by
// kube-apiserver v1.36 with the upstream CRDs installed (CEL rules included), and the admission the
// stack promises holds in every agent namespace: the stack's own agent pod is admitted, the same pod
// with one baseline control broken is refused (and we say by which component), and fail-closed
// refuses agent pods while the Falco or Cilium DaemonSet is missing or not ready.
import * as assert from "assert";
import { baselineAttacks, everyContainerLimited } from "../../cli/attacks";
import type { PodManifest } from "../../cli/attacks";
import { readStackConfig } from "../../cli/mockRuntime";
import type { Manifest } from "../../cli/mockRuntime";
import { LIMIT_RANGE_DEFAULT } from "../../components/baseline/quota";
import { failClosedPolicyName } from "../../components/admission/failClosed";
import { FALCO_NAMESPACE, KATA_RUNTIME_CLASS } from "../../components/wellKnown";
import { startCluster } from "./harness";
import type { Cluster } from "./harness";
import { agentTargets, dryRunCreate, ensureQuotaStatus, eventually, setDaemonSetReadiness, skipWithoutCluster, standInDaemonSet, waitForBaselinePolicies } from "./support";
import type { AgentTarget } from "./support";
import { applyAll, crdsFor, installCrds, renderStack } from "./stack";
import type { ApplyResult, RenderedStack } from "./stack";

/** The clock every render uses, so emergency overrides and the like are deterministic. */
const NOW = new Date("2026-09-01T00:00:00Z");

/** What refuses each baseline attack in an agent namespace. */
const REFUSED_BY: Readonly<Record<string, readonly string[]>> = {
    privileged: ["PodSecurity"],
    root: ["PodSecurity"],
    "host-path": ["PodSecurity"],
    "host-network": ["PodSecurity"],
    capability: ["PodSecurity"],
    "over-limit": ["LimitRanger"],
    "over-quota": ["ResourceQuota"],
};

interface StackCase {
    readonly title: string;
    readonly stack: string;
    readonly raw: () => Record<string, unknown>;
    /** What a cluster's operators would have created before the stack's pods arrive. */
    readonly prepare?: (cluster: Cluster, rendered: RenderedStack) => Promise<void>;
}

const KATA_OVERHEAD = { cpu: "250m", memory: "350Mi" };

const CASES: readonly StackCase[] = [
    { title: "ci stack (Pulumi.ci.yaml)", stack: "ci", raw: () => readStackConfig("ci") },
    {
        title: "prod-shaped stack on platform kubernetes (Pulumi.prod.yaml, platform: kubernetes)",
        stack: "prod",
        raw: () => ({ ...readStackConfig("prod"), platform: "kubernetes" }),
        prepare: async (cluster) => {
            // kata-deploy's `runtimeClasses.createDefault` makes RuntimeClass kata; the RuntimeClass
            // admission plugin refuses pods naming one that does not exist, and adds its overhead
            // to what the quota counts.
            await cluster.client.apply({
                apiVersion: "node.k8s.io/v1",
                kind: "RuntimeClass",
                metadata: { name: KATA_RUNTIME_CLASS },
                handler: "kata",
                overhead: { podFixed: KATA_OVERHEAD },
            });
            // The tools the fail-closed policies watch, healthy, as their charts and controllers would leave them.
            for (const [namespace, name] of [[FALCO_NAMESPACE, "falco"], ["kube-system", "cilium"]] as const) {
                await cluster.client.apply(standInDaemonSet(namespace, name));
                await setDaemonSetReadiness(cluster.client, namespace, name, 3, 3);
            }
        },
    },
];

function describeRefusals(results: readonly ApplyResult[]): string {
    return results
        .filter((result) => result.error)
        .map((result) => `${result.manifest.kind} ${result.manifest.metadata.namespace ?? ""}/${result.manifest.metadata.name}: ${result.error}`)
        .join("\n");
}

for (const stackCase of CASES) {
    describe(`real API server: ${stackCase.title}`, function () {
        this.timeout(600_000);
        let cluster: Cluster;
        let rendered: RenderedStack;
        let applied: ApplyResult[];
        let targets: AgentTarget[];

        before(async function () {
            skipWithoutCluster(this);
            rendered = await renderStack(stackCase.stack, stackCase.raw(), NOW);
            cluster = await startCluster();
            await installCrds(cluster.client, crdsFor(rendered.manifests));
            applied = await applyAll(cluster.client, rendered.manifests);
            await stackCase.prepare?.(cluster, rendered);
            targets = agentTargets(rendered.manifests, rendered.run.outputs.agents);
            for (const namespace of new Set(targets.map((target) => target.namespace))) {
                await ensureQuotaStatus(cluster.client, namespace, cluster.pids.controllerManager !== undefined);
            }
            await waitForBaselinePolicies(cluster.client, targets.map((target) => target.pod));
        });

        after(async () => {
            // Runs when a test or the before hook failed too; stop() is bounded and idempotent.
            await cluster?.stop();
        });

        it("accepts every resource the stack renders, CRD validation rules (CEL) included", () => {
            assert.ok(applied.length > 0);
            assert.strictEqual(describeRefusals(applied), "", "the API server refused resources the stack renders");
            const skipped = applied.filter((result) => result.skipped);
            assert.deepStrictEqual(
                skipped.filter((result) => !result.manifest.kind.endsWith("Patch")).map((result) => result.manifest.metadata.name),
                [],
                "only patches of objects a chart or operator creates may be skipped",
            );
        });

        it("refuses a custom resource that breaks one of its CRD's CEL rules (so the acceptance above is not vacuous)", async () => {
            const policy = rendered.manifests.find((manifest) => manifest.kind === "RateLimitPolicy");
            assert.ok(policy, "the stack renders a RateLimitPolicy");
            const spec = structuredClone(policy.spec) as { targetRef: { group: string } };
            spec.targetRef.group = "example.com";
            await assert.rejects(
                cluster.client.apply({ ...(policy as Manifest), spec } as Manifest, { dryRun: true }),
                /Invalid targetRef.group/,
            );
        });

        it("stores every agent namespace with Pod Security Admission `restricted` enforced", async () => {
            for (const namespace of new Set(targets.map((target) => target.namespace))) {
                const object = await cluster.client.get("v1", "Namespace", undefined, namespace);
                assert.strictEqual(object?.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted", namespace);
            }
        });

        describe("in every agent namespace", () => {
            it("admits the stack's own agent pod (the Deployment's template)", async () => {
                for (const target of targets) {
                    const verdict = await dryRunCreate(cluster.client, target.agentPod);
                    assert.ok(verdict.admitted, `${target.namespace}: ${verdict.by}: ${verdict.message}`);
                }
            });

            for (const id of Object.keys(REFUSED_BY)) {
                it(`refuses the agent pod with one control broken: ${id}, and names the refusing component`, async () => {
                    for (const target of targets) {
                        const attack = attacksFor(rendered, target).find((candidate) => candidate.id === id);
                        assert.ok(attack, `attack ${id} exists for ${target.namespace}`);
                        const verdict = await dryRunCreate(cluster.client, attack.build(target.pod));
                        assert.ok(!verdict.admitted, `${target.namespace}: ${attack.attack} was admitted`);
                        assert.ok(REFUSED_BY[id]?.includes(verdict.by ?? ""), `${target.namespace}: ${attack.attack}: refused by ${verdict.by}, expected ${REFUSED_BY[id]?.join(" or ")}: ${verdict.message}`);
                    }
                });
            }

            it("refuses the agent pod with a secret in an environment variable (file-based secrets), by the stack's own policy", async () => {
                for (const target of targets) {
                    const attack = attacksFor(rendered, target).find((candidate) => candidate.id === "secret-env");
                    assert.ok(attack);
                    const verdict = await dryRunCreate(cluster.client, attack.build(target.pod));
                    assert.ok(!verdict.admitted, `${target.namespace}: ${attack.attack} was admitted`);
                    assert.match(verdict.by ?? "", /^ValidatingAdmissionPolicy agent-security-/, `${target.namespace}: ${verdict.message}`);
                }
            });

            it("gives a container that arrives without limits the namespace's LimitRange defaults (so it is never unlimited)", async () => {
                for (const target of targets) {
                    const attack = attacksFor(rendered, target).find((candidate) => candidate.id === "no-limits");
                    assert.ok(attack);
                    const verdict = await dryRunCreate(cluster.client, attack.build(target.pod));
                    assert.ok(verdict.admitted && verdict.object, `${target.namespace}: ${verdict.message}`);
                    assert.strictEqual(everyContainerLimited(verdict.object), undefined);
                    const limits = (verdict.object as PodManifest).spec.containers[0]?.resources?.limits;
                    assert.deepStrictEqual({ cpu: limits?.cpu, memory: limits?.memory }, LIMIT_RANGE_DEFAULT);
                }
            });
        });

        if (stackCase.stack === "prod") {
            describe("fail-closed (failClosed: [falco, cilium])", () => {
                const verdictOf = async (target: AgentTarget) => dryRunCreate(cluster.client, target.agentPod);

                // The policies read the DaemonSet through an informer: a status change reaches them
                // after a moment, so each verdict is awaited (bounded), never slept for.
                const expectVerdict = async (admitted: boolean, policy?: string): Promise<void> => {
                    const target = targets[0];
                    assert.ok(target);
                    await eventually(`agent pod ${admitted ? "admitted" : `refused by ${policy}`}`, 20_000, async () => {
                        const verdict = await verdictOf(target);
                        if (verdict.admitted !== admitted) return verdict.admitted ? "admitted" : `refused by ${verdict.by}: ${verdict.message}`;
                        if (!admitted && policy && verdict.by !== `ValidatingAdmissionPolicy ${policy}`) return `refused by ${verdict.by}: ${verdict.message}`;
                        return undefined;
                    });
                };

                afterEach(async () => {
                    for (const [namespace, name] of [[FALCO_NAMESPACE, "falco"], ["kube-system", "cilium"]] as const) {
                        await cluster.client.apply(standInDaemonSet(namespace, name));
                        await setDaemonSetReadiness(cluster.client, namespace, name, 3, 3);
                    }
                });

                it("admits a new agent pod while both DaemonSets report every pod ready", async () => {
                    await expectVerdict(true);
                });

                it("refuses a new agent pod while the Falco DaemonSet has 2 of 3 pods ready, and admits it again once ready", async () => {
                    await setDaemonSetReadiness(cluster.client, FALCO_NAMESPACE, "falco", 2, 3);
                    await expectVerdict(false, failClosedPolicyName("falco"));
                    const target = targets[0];
                    assert.ok(target);
                    const verdict = await verdictOf(target);
                    assert.match(verdict.message ?? "", /has 2 of 3 pods ready/);
                    await setDaemonSetReadiness(cluster.client, FALCO_NAMESPACE, "falco", 3, 3);
                    await expectVerdict(true);
                });

                it("refuses a new agent pod while the Cilium DaemonSet has no pod scheduled (desired 0)", async () => {
                    await setDaemonSetReadiness(cluster.client, "kube-system", "cilium", 0, 0);
                    await expectVerdict(false, failClosedPolicyName("cilium"));
                });

                it("refuses a new agent pod while the Falco DaemonSet is missing (parameterNotFoundAction: Deny)", async () => {
                    await cluster.client.delete("apps/v1", "DaemonSet", FALCO_NAMESPACE, "falco");
                    await expectVerdict(false, failClosedPolicyName("falco"));
                });

                it("does not gate pods without the agent role label on the tools (only agent pods are fail-closed)", async () => {
                    await cluster.client.delete("apps/v1", "DaemonSet", FALCO_NAMESPACE, "falco");
                    await expectVerdict(false, failClosedPolicyName("falco"));
                    const target = targets[0];
                    assert.ok(target);
                    const verdict = await dryRunCreate(cluster.client, target.pod);
                    assert.ok(verdict.admitted, `${verdict.by}: ${verdict.message}`);
                });
            });
        }
    });
}

function attacksFor(rendered: RenderedStack, target: AgentTarget) {
    const limitRange = rendered.manifests.find((manifest) => manifest.kind === "LimitRange" && manifest.metadata.namespace === target.namespace);
    const quota = rendered.manifests.find((manifest) => manifest.kind === "ResourceQuota" && manifest.metadata.namespace === target.namespace);
    const limitMaxCpu = (limitRange?.spec as { limits?: { max?: { cpu?: string } }[] } | undefined)?.limits?.[0]?.max?.cpu;
    const quotaCpu = (quota?.spec as { hard?: Record<string, string> } | undefined)?.hard?.["limits.cpu"];
    return baselineAttacks({ limitMaxCpu, quotaCpu });
}
