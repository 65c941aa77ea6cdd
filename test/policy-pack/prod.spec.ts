import * as assert from "assert";
import { overrideProblems } from "../../policy-pack/checks/prod-flags";
import { hardenedTemplate, namespaceObjects, POD_KIND_TYPES, POD_KINDS, PodKind, PodTemplate, wrap } from "./fixtures";
import { assertClean, assertViolates, KUBERNETES, NOT_APPLICABLE, PROD, stackPolicy, stackViolations, TestResource } from "./helpers";

function agentTemplate(): PodTemplate {
    const t = hardenedTemplate("openshift");
    t.metadata.labels = { ...t.metadata.labels, "agent-security.io/role": "agent" };
    t.spec.runtimeClassName = "kata";
    return t;
}

/** A plain namespace (not labelled as an agent namespace) holding the workload. */
function plainNamespace(): TestResource[] {
    return namespaceObjects("tools").map((r) => {
        if (r.type !== "kubernetes:core/v1:Namespace") {
            return r;
        }
        const props = structuredClone(r.props) as { metadata: { labels: Record<string, string> } };
        delete props.metadata.labels["agent-security.io/agents"];
        return { ...r, props };
    });
}

describe("baseline-kata-runtime", () => {
    const policy = stackPolicy("baseline-kata-runtime");
    const agentStack = (kind: PodKind, t: PodTemplate, namespace = "tools"): TestResource[] => [
        ...(namespace === "tools" ? plainNamespace() : namespaceObjects(namespace)),
        { type: POD_KIND_TYPES[kind], props: wrap(kind, t, { name: "currency-agent", namespace }), name: "agent" },
    ];

    for (const kind of POD_KINDS) {
        it(`accepts an agent ${kind} with runtimeClassName kata and rejects it without one`, async () => {
            assertClean(await stackViolations(policy, agentStack(kind, agentTemplate()), PROD), "kata");
            const t = agentTemplate();
            delete t.spec.runtimeClassName;
            assertViolates(await stackViolations(policy, agentStack(kind, t), PROD), "no runtime class", "runtimeClassName", "agent-security.io/role: agent");
        });

        it(`rejects an agent ${kind} on runc`, async () => {
            const t = agentTemplate();
            t.spec.runtimeClassName = "runc";
            assertViolates(await stackViolations(policy, agentStack(kind, t), PROD), "runc", '"runc"');
        });

        it(`treats a ${kind} in a namespace labelled for agents as an agent pod, even without the pod label`, async () => {
            const t = agentTemplate();
            delete t.metadata.labels?.["agent-security.io/role"];
            assertClean(await stackViolations(policy, agentStack(kind, t, "agents"), PROD), "kata in agent namespace");
            delete t.spec.runtimeClassName;
            assertViolates(await stackViolations(policy, agentStack(kind, t, "agents"), PROD), "agent namespace", 'namespace "agents" is labelled');
        });

        it(`leaves a non-agent ${kind} outside agent namespaces alone`, async () => {
            const t = hardenedTemplate("openshift");
            assertClean(await stackViolations(policy, agentStack(kind, t), PROD), "non-agent");
        });
    }

    it("recognises an agent namespace labelled by a NamespacePatch", async () => {
        const t = agentTemplate();
        delete t.metadata.labels?.["agent-security.io/role"];
        delete t.spec.runtimeClassName;
        const resources = [
            ...agentStack("Deployment", t),
            { type: "kubernetes:core/v1:NamespacePatch", props: { metadata: { name: "tools", labels: { "agent-security.io/agents": "true" } } } },
        ];
        assertViolates(await stackViolations(policy, resources, PROD), "NamespacePatch");
    });

    it("rejects a Patch that moves an agent off Kata and accepts one that leaves runtimeClassName alone", async () => {
        const patch = (spec: object) => ({
            type: "kubernetes:apps/v1:DeploymentPatch",
            props: { metadata: { name: "currency-agent", namespace: "agents" }, spec: { template: { metadata: { labels: { "agent-security.io/role": "agent" } }, spec } } },
        });
        assertClean(await stackViolations(policy, [patch({ containers: [{ name: "agent", image: "quay.io/agent-security/a:2" }] })], PROD), "untouched");
        assertViolates(await stackViolations(policy, [patch({ runtimeClassName: "runc" })], PROD), "runc patch", '"runc"');
    });

    it("is not applicable outside prod", async () => {
        const t = agentTemplate();
        delete t.spec.runtimeClassName;
        assert.strictEqual(await stackViolations(policy, agentStack("Deployment", t), { ...KUBERNETES, profile: "ci" }), NOT_APPLICABLE);
    });

    it("uses the configured Kata runtime classes", async () => {
        const t = agentTemplate();
        t.spec.runtimeClassName = "kata-qemu-runtime-rs";
        assertViolates(await stackViolations(policy, agentStack("Deployment", t), PROD), "default list");
        assertClean(await stackViolations(policy, agentStack("Deployment", t), { ...PROD, kataRuntimeClasses: ["kata", "kata-qemu-runtime-rs"] }), "configured list");
    });
});

const FUTURE = "2099-12-01T00:00:00Z";
const PAST = "2001-01-01T00:00:00Z";
const ALL_ON = { envoy: true, opa: true, cilium: true, kyverno: true, falco: true, kata: true };

function auditMap(data: Record<string, string>, namespace = "agent-security"): TestResource {
    return {
        type: "kubernetes:core/v1:ConfigMap",
        name: "audit",
        props: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "agent-security-audit", namespace }, data },
    };
}

function audit(tools: Record<string, unknown>, override: unknown = null, profile = "prod"): TestResource {
    return auditMap({ profile, tools: JSON.stringify(tools), emergencyOverride: JSON.stringify(override) });
}

const override = (fields: Record<string, unknown> = {}) => ({
    tools: ["falco"],
    reason: "falco 9.1 crashloop on kernel 6.18",
    ticket: "SEC-1",
    approvedBy: "a@b.c",
    expires: FUTURE,
    ...fields,
});

describe("baseline-prod-tool-flags", () => {
    const policy = stackPolicy("baseline-prod-tool-flags");
    const falcoOff = { ...ALL_ON, falco: false };

    interface FlagCase {
        readonly name: string;
        readonly resources: TestResource[];
        readonly mentions?: string;
    }
    const rejects: FlagCase[] = [
        { name: "a stack without the audit ConfigMap", resources: [], mentions: "no ConfigMap agent-security/agent-security-audit" },
        { name: "an audit ConfigMap in another namespace", resources: [auditMap({ profile: "prod", tools: JSON.stringify(ALL_ON), emergencyOverride: "null" }, "default")], mentions: "found one in default" },
        { name: "a tool off without an override", resources: [audit(falcoOff)], mentions: "Tool falco is off" },
        { name: "a tool off with an override missing", resources: [auditMap({ profile: "prod", tools: JSON.stringify(falcoOff) })], mentions: "Tool falco is off" },
        { name: "a tool off under an expired override", resources: [audit(falcoOff, override({ expires: PAST }))], mentions: "expired" },
        { name: "a tool off under an override with an empty reason", resources: [audit(falcoOff, override({ reason: " " }))], mentions: "reason" },
        { name: "a tool off under an override without a ticket", resources: [audit(falcoOff, override({ ticket: undefined }))], mentions: "ticket" },
        { name: "a tool off under an override without approvedBy", resources: [audit(falcoOff, override({ approvedBy: "" }))], mentions: "approvedBy" },
        { name: "a tool off under an override with a bad expiry", resources: [audit(falcoOff, override({ expires: "next week" }))], mentions: "expires" },
        { name: "a tool off that the override does not list", resources: [audit({ ...ALL_ON, cilium: false }, override())], mentions: "Tool cilium is off" },
        { name: "two tools off with one listed", resources: [audit({ ...falcoOff, kata: false }, override())], mentions: "Tool kata is off" },
        { name: "a tool missing from the record", resources: [audit({ envoy: true, opa: true, cilium: true, kyverno: true, falco: true })], mentions: "kata" },
        { name: 'a flag recorded as the string "true"', resources: [audit({ ...ALL_ON, opa: "true" })], mentions: "opa" },
        { name: "tools that are not JSON", resources: [auditMap({ profile: "prod", tools: "envoy=true", emergencyOverride: "null" })], mentions: "data.tools" },
        { name: "an audit record of another profile", resources: [audit(ALL_ON, null, "local")], mentions: '"local"' },
    ];
    for (const c of rejects) {
        it(`rejects ${c.name}`, async () => {
            assertClean(await stackViolations(policy, [audit(ALL_ON)], PROD), "all tools on");
            assertViolates(await stackViolations(policy, c.resources, PROD), c.name, ...(c.mentions === undefined ? [] : [c.mentions]));
        });
    }

    const accepts: FlagCase[] = [
        { name: "every tool on", resources: [audit(ALL_ON)] },
        { name: "a tool off under a complete, unexpired override that lists it", resources: [audit(falcoOff, override())] },
        { name: "every tool on next to an expired override", resources: [audit(ALL_ON, override({ expires: PAST }))] },
        { name: "an override with a date-only expiry in the future", resources: [audit(falcoOff, override({ expires: "2099-01-01" }))] },
    ];
    for (const c of accepts) {
        it(`accepts ${c.name}`, async () => {
            assertViolates(await stackViolations(policy, [], PROD), "missing audit map");
            assertClean(await stackViolations(policy, c.resources, PROD), c.name);
        });
    }

    it("is not applicable outside prod", async () => {
        assert.strictEqual(await stackViolations(policy, [], KUBERNETES), NOT_APPLICABLE);
    });

    it("follows the configured audit namespace", async () => {
        const moved = auditMap({ profile: "prod", tools: JSON.stringify(ALL_ON), emergencyOverride: "null" }, "platform");
        assertViolates(await stackViolations(policy, [moved], PROD), "default namespace");
        assertClean(await stackViolations(policy, [moved], { ...PROD, auditNamespace: "platform" }), "configured namespace");
    });

    it("judges expiry against the clock it is given", () => {
        const o = override({ expires: "2030-01-01T00:00:00Z" });
        assert.deepStrictEqual(overrideProblems(o, new Date("2029-12-31T23:59:59Z")), []);
        assert.deepStrictEqual(overrideProblems(o, new Date("2030-01-01T00:00:00Z")), ["it expired at 2030-01-01T00:00:00Z"]);
    });

    it("fails closed when the pack config has no profile", async () => {
        assertViolates(await stackViolations(policy, [audit(ALL_ON)], { platform: "openshift" }), "no profile", "profile is required");
    });
});
