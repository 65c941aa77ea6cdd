import * as assert from "assert";
import { hardenedTemplate, namespaceObjects, POD_KIND_TYPES, POD_KINDS, PodKind, wrap } from "./fixtures";
import { assertClean, assertViolates, stackPolicy, stackViolations, TestResource, urnOf } from "./helpers";

type Mutable = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };

/** The compliant stack: namespace objects plus one workload of `kind` in that namespace. */
function stack(kind: PodKind): TestResource[] {
    return [...namespaceObjects(), { type: POD_KIND_TYPES[kind], props: wrap(kind, hardenedTemplate()), name: "workload" }];
}

function find(resources: TestResource[], name: string): Mutable {
    const r = resources.find((x) => x.name === name);
    if (r === undefined) {
        throw new Error(`no fixture resource ${name}`);
    }
    return r.props as Mutable;
}

interface StackCase {
    readonly name: string;
    readonly expect: "reject" | "accept";
    readonly mutate: (resources: TestResource[]) => TestResource[];
    readonly mentions?: string;
}

function table(policyName: string, cases: readonly StackCase[]): void {
    const policy = stackPolicy(policyName);
    describe(policyName, () => {
        for (const kind of POD_KINDS) {
            it(`passes the isolated namespace with a ${kind}`, async () => {
                assertClean(await stackViolations(policy, stack(kind)), kind);
            });
        }
        for (const c of cases) {
            for (const kind of POD_KINDS) {
                it(`${c.expect === "reject" ? "rejects" : "accepts"} ${c.name} (${kind})`, async () => {
                    assertClean(await stackViolations(policy, stack(kind)), `unmutated ${kind}`);
                    const result = await stackViolations(policy, c.mutate(structuredClone(stack(kind))));
                    if (c.expect === "reject") {
                        assertViolates(result, c.name, ...(c.mentions === undefined ? [] : [c.mentions]));
                    } else {
                        assertClean(result, c.name);
                    }
                });
            }
        }
    });
}

const without = (name: string) => (rs: TestResource[]) => rs.filter((r) => r.name !== name);
const change = (name: string, f: (props: Mutable) => void) => (rs: TestResource[]) => {
    f(find(rs, name));
    return rs;
};
const labels = (props: Mutable) => props.metadata.labels as Record<string, string>;

table("baseline-namespace-pod-security", [
    { name: "a workload namespace the stack does not create", expect: "reject", mutate: without("agents-ns"), mentions: 'Namespace "agents" is not created by this stack' },
    {
        name: "a workload without a namespace (it lands in default)",
        expect: "reject",
        mutate: change("workload", (p) => delete p.metadata.namespace),
        mentions: 'Namespace "default"',
    },
    { name: "enforce baseline instead of restricted", expect: "reject", mutate: change("agents-ns", (p) => (labels(p)["pod-security.kubernetes.io/enforce"] = "baseline")), mentions: '"baseline"' },
    { name: "a missing enforce label", expect: "reject", mutate: change("agents-ns", (p) => delete labels(p)["pod-security.kubernetes.io/enforce"]) },
    { name: "a pinned enforce-version", expect: "reject", mutate: change("agents-ns", (p) => (labels(p)["pod-security.kubernetes.io/enforce-version"] = "v1.30")), mentions: '"v1.30"' },
    { name: "enforce-version latest", expect: "accept", mutate: change("agents-ns", (p) => (labels(p)["pod-security.kubernetes.io/enforce-version"] = "latest")) },
    { name: "warn and audit labels next to enforce", expect: "accept", mutate: change("agents-ns", (p) => (labels(p)["pod-security.kubernetes.io/warn"] = "restricted")) },
]);

const denySpec = (p: Mutable) => p.spec as { podSelector?: unknown; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };

table("baseline-default-deny-network", [
    { name: "no default-deny NetworkPolicy", expect: "reject", mutate: without("agents-default-deny"), mentions: "no default-deny NetworkPolicy" },
    { name: "a default deny for ingress only", expect: "reject", mutate: change("agents-default-deny", (p) => (denySpec(p).policyTypes = ["Ingress"])) },
    { name: "a default deny that selects only some pods", expect: "reject", mutate: change("agents-default-deny", (p) => (denySpec(p).podSelector = { matchLabels: { app: "other" } })) },
    { name: "a default deny with an allow-all ingress rule", expect: "reject", mutate: change("agents-default-deny", (p) => (denySpec(p).ingress = [{}])), mentions: "spec.ingress[0]" },
    {
        name: "an extra policy whose egress rule has no peers",
        expect: "reject",
        mutate: change("agents-allow-dns", (p) => (denySpec(p).egress = [{ ports: [{ protocol: "TCP", port: 443 }] }])),
        mentions: 'without "to"',
    },
    {
        name: "a default deny in another namespace only",
        expect: "reject",
        mutate: change("agents-default-deny", (p) => (p.metadata.namespace = "elsewhere")),
    },
    { name: "podSelector left out (it selects every pod)", expect: "accept", mutate: change("agents-default-deny", (p) => delete denySpec(p).podSelector) },
    { name: "empty rule lists written out", expect: "accept", mutate: change("agents-default-deny", (p) => Object.assign(denySpec(p), { ingress: [], egress: [] })) },
]);

const limitSpec = (p: Mutable) => p.spec as { limits: { type: string; default?: Record<string, string> }[] };
const quotaHard = (p: Mutable) => (p.spec as { hard: Record<string, string> }).hard;

table("baseline-namespace-quotas", [
    { name: "no LimitRange", expect: "reject", mutate: without("agents-limits"), mentions: "LimitRange" },
    { name: "a LimitRange for Pods only", expect: "reject", mutate: change("agents-limits", (p) => (limitSpec(p).limits[0].type = "Pod")) },
    { name: "a Container default without memory", expect: "reject", mutate: change("agents-limits", (p) => delete limitSpec(p).limits[0].default?.memory) },
    { name: "no ResourceQuota", expect: "reject", mutate: without("agents-quota"), mentions: "ResourceQuota" },
    { name: "a quota without limits.memory", expect: "reject", mutate: change("agents-quota", (p) => delete quotaHard(p)["limits.memory"]), mentions: "limits.memory" },
    { name: "a quota in another namespace", expect: "reject", mutate: change("agents-quota", (p) => (p.metadata.namespace = "elsewhere")) },
    { name: "a quota that also caps requests", expect: "accept", mutate: change("agents-quota", (p) => (quotaHard(p)["requests.cpu"] = "4")) },
]);

describe("namespace stack rules", () => {
    it("blame the Namespace resource when it exists, once per namespace", async () => {
        const resources = [...stack("Deployment"), { type: POD_KIND_TYPES.StatefulSet, props: wrap("StatefulSet", hardenedTemplate()), name: "second" }];
        const policy = stackPolicy("baseline-namespace-quotas");
        const mutated = resources.filter((r) => r.name !== "agents-quota");
        const result = await stackViolations(policy, mutated);
        assert.ok(result !== "not applicable");
        assert.strictEqual(result.length, 1);
        assert.strictEqual(result[0].urn, urnOf(mutated[0], 0));
        assert.ok(result[0].message.includes("Deployment agents/currency-agent, StatefulSet agents/currency-agent"), result[0].message);
    });

    it("ignore Patch resources, which change objects in namespaces the stack does not own", async () => {
        const patch = { type: "kubernetes:apps/v1:DeploymentPatch", props: { metadata: { name: "coredns", namespace: "kube-system" }, spec: {} } };
        for (const name of ["baseline-namespace-pod-security", "baseline-default-deny-network", "baseline-namespace-quotas"]) {
            assertClean(await stackViolations(stackPolicy(name), [patch]), name);
        }
    });
});
