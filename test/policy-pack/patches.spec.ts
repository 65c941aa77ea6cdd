// `*Patch` resources (server-side apply of a partial object): a field a patch leaves out keeps
// its live value, so absence is fine; a forbidden value that is present is rejected.

import * as assert from "assert";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { baselinePolicies } from "../../policy-pack/policies";
import { Container, PodSpec } from "./fixtures";
import { assertViolates, KUBERNETES, resourcePolicy, resourceViolations } from "./helpers";

const PATCH_TYPES = {
    DeploymentPatch: "kubernetes:apps/v1:DeploymentPatch",
    StatefulSetPatch: "kubernetes:apps/v1:StatefulSetPatch",
    DaemonSetPatch: "kubernetes:apps/v1:DaemonSetPatch",
    ReplicaSetPatch: "kubernetes:apps/v1:ReplicaSetPatch",
    JobPatch: "kubernetes:batch/v1:JobPatch",
    CronJobPatch: "kubernetes:batch/v1:CronJobPatch",
    PodPatch: "kubernetes:core/v1:PodPatch",
    PodTemplatePatch: "kubernetes:core/v1:PodTemplatePatch",
    ReplicationControllerPatch: "kubernetes:core/v1:ReplicationControllerPatch",
} as const;

type PatchKind = keyof typeof PATCH_TYPES;

/** A patch that only bumps the agent image: nothing else is written. */
function minimalSpec(): PodSpec {
    return { containers: [{ name: "agent", image: "quay.io/agent-security/currency-agent:1.0.1" }] };
}

function patch(kind: PatchKind, spec: PodSpec): object {
    const metadata = { name: "currency-agent", namespace: "agents" };
    const template = { spec };
    switch (kind) {
        case "PodPatch":
            return { metadata, spec };
        case "PodTemplatePatch":
            return { metadata, template };
        case "CronJobPatch":
            return { metadata, spec: { jobTemplate: { spec: { template } } } };
        default:
            return { metadata, spec: { template } };
    }
}

const resourcePolicies = baselinePolicies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);

interface PatchCase {
    readonly policy: string;
    readonly name: string;
    readonly change: (spec: PodSpec, agent: Container) => void;
    readonly mentions: string;
}

const CASES: readonly PatchCase[] = [
    { policy: "baseline-no-privileged", name: "privileged true", change: (_, c) => (c.securityContext = { privileged: true }), mentions: "privileged" },
    { policy: "baseline-read-only-root-filesystem", name: "readOnlyRootFilesystem false", change: (_, c) => (c.securityContext = { readOnlyRootFilesystem: false }), mentions: "readOnlyRootFilesystem" },
    { policy: "baseline-no-privilege-escalation", name: "allowPrivilegeEscalation true", change: (_, c) => (c.securityContext = { allowPrivilegeEscalation: true }), mentions: "allowPrivilegeEscalation" },
    { policy: "baseline-capabilities", name: "an added SYS_ADMIN", change: (_, c) => (c.securityContext = { capabilities: { add: ["SYS_ADMIN"] } }), mentions: "SYS_ADMIN" },
    { policy: "baseline-capabilities", name: "a drop list without ALL", change: (_, c) => (c.securityContext = { capabilities: { drop: ["NET_RAW"] } }), mentions: "capabilities.drop" },
    { policy: "baseline-seccomp", name: "seccomp Unconfined", change: (s) => (s.securityContext = { seccompProfile: { type: "Unconfined" } }), mentions: "Unconfined" },
    { policy: "baseline-apparmor", name: "AppArmor Unconfined", change: (_, c) => (c.securityContext = { appArmorProfile: { type: "Unconfined" } }), mentions: "Unconfined" },
    { policy: "baseline-run-as-non-root", name: "runAsUser 0", change: (s) => (s.securityContext = { runAsUser: 0 }), mentions: "runAsUser" },
    { policy: "baseline-run-as-non-root", name: "runAsNonRoot false", change: (_, c) => (c.securityContext = { runAsNonRoot: false }), mentions: "runAsNonRoot" },
    { policy: "baseline-no-host-namespaces", name: "hostNetwork", change: (s) => (s.hostNetwork = true), mentions: "hostNetwork" },
    { policy: "baseline-volume-types", name: "a hostPath volume", change: (s) => (s.volumes = [{ name: "h", hostPath: { path: "/" } }]), mentions: "hostPath" },
    { policy: "baseline-secret-file-mode", name: "a 0644 secret volume", change: (s) => (s.volumes = [{ name: "s", secret: { secretName: "s", defaultMode: 0o644 } }]), mentions: "0644" },
    { policy: "baseline-no-secret-env", name: "a secretKeyRef", change: (_, c) => (c.env = [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }]), mentions: "secretKeyRef" },
    { policy: "baseline-approved-registries", name: "an unqualified image", change: (_, c) => (c.image = "nginx"), mentions: "names no registry" },
    { policy: "baseline-resource-limits", name: "a zero cpu limit", change: (_, c) => (c.resources = { limits: { cpu: "0" } }), mentions: "resources.limits.cpu" },
];

describe("Patch resources", () => {
    for (const kind of Object.keys(PATCH_TYPES) as PatchKind[]) {
        it(`accept a minimal ${kind} under every resource policy`, async () => {
            for (const p of resourcePolicies) {
                const result = await resourceViolations(p, PATCH_TYPES[kind], patch(kind, minimalSpec()), KUBERNETES);
                assert.ok(result === "not applicable" || result.length === 0, `${p.name}: ${JSON.stringify(result)}`);
            }
        });
    }
    for (const c of CASES) {
        for (const kind of Object.keys(PATCH_TYPES) as PatchKind[]) {
            it(`${c.policy} rejects a ${kind} that sets ${c.name}`, async () => {
                const policy = resourcePolicy(c.policy);
                const clean = await resourceViolations(policy, PATCH_TYPES[kind], patch(kind, minimalSpec()), KUBERNETES);
                assert.ok(clean === "not applicable" || clean.length === 0, `minimal patch: ${JSON.stringify(clean)}`);
                const spec = minimalSpec();
                c.change(spec, spec.containers[0]);
                assertViolates(await resourceViolations(policy, PATCH_TYPES[kind], patch(kind, spec), KUBERNETES), c.name, c.mentions);
            });
        }
    }
});
