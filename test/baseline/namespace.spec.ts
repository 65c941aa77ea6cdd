import * as assert from "assert";
import fc from "fast-check";
import {
    agentNamespaceLabels,
    agentNetworkPolicies,
    ISTIO_PROXY_LIMITS,
    KATA_POD_OVERHEAD,
    limitRangeSpec,
    namespaceQuota,
    NON_INTERNET_CIDRS,
    podEnvelope,
    resourceQuotaSpec,
    ROLLOUT_SURGE,
    sidecarLimits,
} from "../../components/baseline";
import type { QuotaInput } from "../../components/baseline";
import { cpuMillis, memoryBytes } from "../../config/schema";

describe("agent namespace: labels", () => {
    it("enforces, audits and warns PSA restricted without a pinned version and marks the namespace as an agent namespace", () => {
        const labels = agentNamespaceLabels("kubernetes", false);
        assert.strictEqual(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.strictEqual(labels["pod-security.kubernetes.io/audit"], "restricted");
        assert.strictEqual(labels["pod-security.kubernetes.io/warn"], "restricted");
        assert.ok(!("pod-security.kubernetes.io/enforce-version" in labels));
        assert.strictEqual(labels["agent-security.io/agents"], "true");
        assert.ok(!("istio-injection" in labels));
    });

    it("turns on default-revision sidecar injection with the mesh", () => {
        assert.strictEqual(agentNamespaceLabels("openshift", true)["istio-injection"], "enabled");
    });

    it("stops OpenShift's PSA label syncer from rewriting the audit and warn levels", () => {
        assert.strictEqual(agentNamespaceLabels("openshift", false)["security.openshift.io/scc.podSecurityLabelSync"], "false");
        assert.ok(!("security.openshift.io/scc.podSecurityLabelSync" in agentNamespaceLabels("kubernetes", false)));
    });
});

describe("agent namespace: network policies", () => {
    const base = { platform: "kubernetes" as const, mesh: false, kata: false, externalEgressAgents: [] };

    it("starts from a default deny of ingress and egress for every pod", () => {
        const deny = agentNetworkPolicies(base).find((policy) => policy.name === "default-deny");
        assert.deepStrictEqual(deny?.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("allows DNS to kube-dns on 53 on kubernetes and to the OpenShift DNS pods on 5353", () => {
        const kube = agentNetworkPolicies(base).find((policy) => policy.name === "allow-dns")?.spec.egress?.[0];
        assert.deepStrictEqual(kube?.to[0]?.podSelector, { matchLabels: { "k8s-app": "kube-dns" } });
        assert.deepStrictEqual(kube?.to[0]?.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } });
        assert.deepStrictEqual(kube?.ports, [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ]);
        const ocp = agentNetworkPolicies({ ...base, platform: "openshift" }).find((policy) => policy.name === "allow-dns")?.spec.egress?.[0];
        assert.deepStrictEqual(ocp?.to[0]?.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "openshift-dns" } });
        assert.deepStrictEqual(ocp?.to[0]?.podSelector, { matchLabels: { "dns.operator.openshift.io/daemonset-dns": "default" } });
        assert.deepStrictEqual(ocp?.ports?.map((port) => port.port), [5353, 5353]);
    });

    it("adds the gateway, istiod and SPIRE server allows only when asked", () => {
        assert.deepStrictEqual(
            agentNetworkPolicies(base).map((policy) => policy.name),
            ["default-deny", "allow-dns"],
        );
        const all = agentNetworkPolicies({ ...base, mesh: true, kata: true, mcpGatewayNamespace: "gateway-system", externalEgressAgents: ["a"] });
        assert.deepStrictEqual(
            all.map((policy) => policy.name),
            ["default-deny", "allow-dns", "allow-mcp-gateway", "allow-istiod", "allow-spire-server", "allow-external-https"],
        );
        assert.deepStrictEqual(
            agentNetworkPolicies({ ...base, mesh: true, kata: true, mcpGatewayNamespace: "gateway-system", externalEgressAgents: ["a"], cilium: true }).map((policy) => policy.name),
            ["default-deny", "allow-mcp-gateway", "allow-istiod", "allow-spire-server"],
            "with Cilium on, DNS and internet egress are left to the CiliumNetworkPolicy (an L4-only allow would switch its filters off)",
        );
        const istiod = all.find((policy) => policy.name === "allow-istiod")?.spec.egress?.[0];
        assert.deepStrictEqual(istiod?.ports, [{ protocol: "TCP", port: 15012 }]);
        const spire = all.find((policy) => policy.name === "allow-spire-server")?.spec.egress?.[0];
        assert.deepStrictEqual(spire?.ports, [{ protocol: "TCP", port: 8081 }]);
        assert.deepStrictEqual(spire?.to[0]?.namespaceSelector, { matchLabels: { "kubernetes.io/metadata.name": "spire-server" } });
    });

    it("allows HTTPS to public IPv4 only, only for agents with egress hosts, never to cluster or metadata ranges", () => {
        const policy = agentNetworkPolicies({ ...base, externalEgressAgents: ["fetch-agent", "currency-agent"] }).find((p) => p.name === "allow-external-https");
        assert.deepStrictEqual(policy?.spec.podSelector, { matchExpressions: [{ key: "agent-security.io/agent", operator: "In", values: ["currency-agent", "fetch-agent"] }] });
        const rule = policy?.spec.egress?.[0];
        assert.deepStrictEqual(rule?.ports, [{ protocol: "TCP", port: 443 }]);
        assert.strictEqual(rule?.to[0]?.ipBlock?.cidr, "0.0.0.0/0");
        for (const cidr of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]) {
            assert.ok(rule?.to[0]?.ipBlock?.except.includes(cidr), cidr);
        }
        assert.deepStrictEqual([...NON_INTERNET_CIDRS].sort(), [...(rule?.to[0]?.ipBlock?.except ?? [])].sort());
    });

    it("gives every egress rule a destination, on every combination", () => {
        fc.assert(
            fc.property(
                fc.constantFrom("kubernetes" as const, "openshift" as const),
                fc.boolean(),
                fc.boolean(),
                fc.option(fc.constant("gateway-system"), { nil: undefined }),
                fc.array(fc.stringMatching(/^[a-z]{1,10}$/), { maxLength: 3 }),
                (platform, mesh, kata, mcpGatewayNamespace, externalEgressAgents) => {
                    for (const policy of agentNetworkPolicies({ platform, mesh, kata, mcpGatewayNamespace, externalEgressAgents })) {
                        for (const rule of policy.spec.egress ?? []) {
                            assert.ok(rule.to.length > 0, `${policy.name} has an egress rule without to`);
                        }
                    }
                },
            ),
        );
    });
});

describe("agent namespace: quota", () => {
    it("sizes one agent without mesh or Kata as (replicas + 1) x (agent + spiffe-helper)", () => {
        const quota = namespaceQuota({ workloads: [{ name: "a", replicas: 2, cpuMillis: 500, memoryBytes: 2 ** 30 }], mesh: false, kata: false });
        assert.strictEqual(quota.pods, 3);
        assert.strictEqual(quota.cpuMillis, 3 * (500 + 100));
        assert.strictEqual(quota.memoryBytes, 3 * (1024 + 64) * 2 ** 20);
    });

    it("adds istio-proxy limits with the mesh and spire-agent plus pod overhead with Kata", () => {
        const pod = podEnvelope({ name: "a", replicas: 1, cpuMillis: 1000, memoryBytes: 2 ** 31 }, { mesh: true, kata: true });
        assert.strictEqual(pod.cpuMillis, 1000 + 100 + 250 + ISTIO_PROXY_LIMITS.cpuMillis + KATA_POD_OVERHEAD.cpuMillis);
        assert.strictEqual(pod.memoryBytes, 2 ** 31 + (64 + 256 + 350) * 2 ** 20 + ISTIO_PROXY_LIMITS.memoryBytes);
    });

    it("writes hard limits and requests for cpu and memory and a pod count", () => {
        const spec = resourceQuotaSpec({ workloads: [{ name: "a", replicas: 1, cpuMillis: 1000, memoryBytes: 2 ** 30 }], mesh: false, kata: false });
        assert.deepStrictEqual(Object.keys(spec.hard).sort(), ["limits.cpu", "limits.memory", "pods", "requests.cpu", "requests.memory"]);
        assert.deepStrictEqual(spec.hard, { "limits.cpu": "2200m", "limits.memory": "2176Mi", "requests.cpu": "2200m", "requests.memory": "2176Mi", pods: "2" });
    });

    const workloads = fc.array(
        fc.record({
            name: fc.stringMatching(/^[a-z]{1,8}$/),
            replicas: fc.integer({ min: 1, max: 20 }),
            cpuMillis: fc.integer({ min: 1, max: 16000 }),
            memoryBytes: fc.integer({ min: 1, max: 64 * 1024 }).map((mi) => mi * 2 ** 20),
        }),
        { minLength: 1, maxLength: 6 },
    );
    const quotaInput = fc.record({ workloads, mesh: fc.boolean(), kata: fc.boolean() }) as fc.Arbitrary<QuotaInput>;

    it("admits every pod of every agent during a rolling update, and no more than one pod per agent of headroom", () => {
        fc.assert(
            fc.property(quotaInput, (input) => {
                const spec = resourceQuotaSpec(input);
                const hardCpu = cpuMillis(spec.hard["limits.cpu"] ?? "") ?? -1;
                const hardMemory = memoryBytes(spec.hard["limits.memory"] ?? "") ?? -1;
                let cpu = 0;
                let memory = 0;
                let pods = 0;
                for (const workload of input.workloads) {
                    const pod = podEnvelope(workload, input);
                    cpu += pod.cpuMillis * (workload.replicas + ROLLOUT_SURGE);
                    memory += pod.memoryBytes * (workload.replicas + ROLLOUT_SURGE);
                    pods += workload.replicas + ROLLOUT_SURGE;
                }
                assert.ok(hardCpu >= cpu, `cpu ${hardCpu} < ${cpu}`);
                assert.ok(hardMemory >= memory, `memory ${hardMemory} < ${memory}`);
                assert.ok(hardMemory - memory < 2 ** 20, "memory rounds up by less than 1Mi");
                assert.strictEqual(Number(spec.hard.pods), pods);
                assert.strictEqual(spec.hard["requests.cpu"], spec.hard["limits.cpu"]);
                assert.strictEqual(spec.hard["requests.memory"], spec.hard["limits.memory"]);
            }),
            { numRuns: 300 },
        );
    });

    it("keeps the LimitRange default within max and max above every container the namespace runs", () => {
        fc.assert(
            fc.property(quotaInput, (input) => {
                const limit = limitRangeSpec(input).limits[0];
                assert.strictEqual(limit?.type, "Container");
                const maxCpu = cpuMillis(limit?.max.cpu ?? "") ?? -1;
                const maxMemory = memoryBytes(limit?.max.memory ?? "") ?? -1;
                assert.ok((cpuMillis(limit?.default.cpu ?? "") ?? Infinity) <= maxCpu);
                assert.ok((memoryBytes(limit?.default.memory ?? "") ?? Infinity) <= maxMemory);
                assert.ok((cpuMillis(limit?.defaultRequest.cpu ?? "") ?? Infinity) <= (cpuMillis(limit?.default.cpu ?? "") ?? 0));
                const containers = [...input.workloads, ...sidecarLimits(input)];
                for (const container of containers) {
                    assert.ok(container.cpuMillis <= maxCpu);
                    assert.ok(container.memoryBytes <= maxMemory);
                }
            }),
            { numRuns: 300 },
        );
    });
});
