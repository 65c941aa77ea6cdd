// Every exemption lifts exactly the policies it names, for exactly one namespace/kind/name, and
// the exempt workload still answers to every other policy of the pack, resource and stack alike.
// The cases are generated from EXEMPTIONS, so an entry added later is covered without a new test.

import * as assert from "assert";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { EXEMPTIONS, Exemption } from "../../policy-pack/exemptions";
import { POD_KINDS as EXTRACTOR_KINDS } from "../../policy-pack/checks/workload";
import { baselinePolicies } from "../../policy-pack/policies";
import { clone, container, hardenedTemplate, POD_KIND_TYPES, PodKind, PodTemplate, podSecurityContext, securityContext, volume, wrap } from "./fixtures";
import { assertClean, assertViolates, NOT_APPLICABLE, resourceViolations, stackViolations } from "./helpers";

const resourcePolicies = baselinePolicies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);
const stackPolicies = baselinePolicies.filter((p): p is StackValidationPolicy => "validateStack" in p);
const NAMESPACE_POLICIES = ["baseline-namespace-pod-security", "baseline-default-deny-network", "baseline-namespace-quotas"];

/** One mutation of the hardened pod per resource policy that it alone must reject. */
const VIOLATE: Readonly<Record<string, (t: PodTemplate) => void>> = {
    "baseline-seccomp": (t) => (podSecurityContext(t).seccompProfile = { type: "Unconfined" }),
    "baseline-capabilities": (t) => (securityContext(container(t, "agent")).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }),
    "baseline-read-only-root-filesystem": (t) => (securityContext(container(t, "agent")).readOnlyRootFilesystem = false),
    "baseline-run-as-non-root": (t) => (securityContext(container(t, "agent")).runAsUser = 0),
    "baseline-no-privilege-escalation": (t) => (securityContext(container(t, "agent")).allowPrivilegeEscalation = true),
    "baseline-apparmor": (t) => (securityContext(container(t, "agent")).appArmorProfile = { type: "Unconfined" }),
    "baseline-no-privileged": (t) => (securityContext(container(t, "agent")).privileged = true),
    "baseline-no-host-namespaces": (t) => (t.spec.hostNetwork = true),
    "baseline-no-shared-process-namespace": (t) => (t.spec.shareProcessNamespace = true),
    "baseline-volume-types": (t) => t.spec.volumes?.push({ name: "root", hostPath: { path: "/" } }),
    "baseline-no-host-ports": (t) => (container(t, "agent").ports = [{ containerPort: 8080, hostPort: 8080 }]),
    "baseline-proc-mount": (t) => (securityContext(container(t, "agent")).procMount = "Unmasked"),
    "baseline-selinux": (t) => (securityContext(container(t, "agent")).seLinuxOptions = { user: "system_u" }),
    "baseline-sysctls": (t) => (podSecurityContext(t).sysctls = [{ name: "kernel.msgmax", value: "65536" }]),
    "baseline-linux-only": (t) => (t.spec.os = { name: "windows" }),
    "baseline-no-probe-host": (t) => (container(t, "agent").readinessProbe = { httpGet: { path: "/", port: 80, host: "169.254.169.254" } }),
    "baseline-no-secret-env": (t) => container(t, "agent").env?.push({ name: "K", valueFrom: { secretKeyRef: { name: "k", key: "k" } } }),
    "baseline-secret-file-mode": (t) => {
        const secret = volume(t, "creds").secret;
        if (secret !== undefined) secret.defaultMode = 0o644;
    },
    "baseline-spiffe-socket-isolation": (t) => container(t, "agent").env?.push({ name: "SPIFFE_ENDPOINT_SOCKET", value: "unix:///s.sock" }),
    "baseline-resource-limits": (t) => delete container(t, "agent").resources,
    "baseline-approved-registries": (t) => (container(t, "agent").image = "docker.io/library/busybox:1.36"),
};

function exemptWorkload(e: Exemption, mutate: (t: PodTemplate) => void = () => undefined): { type: string; props: object } {
    const t = clone(hardenedTemplate());
    mutate(t);
    const kind = e.kind as PodKind;
    return { type: POD_KIND_TYPES[kind], props: wrap(kind, t, { name: e.name, namespace: e.namespace }) };
}

describe("exemptions (policy-pack/exemptions.ts)", () => {
    it("name only policies of the pack, each once, with exact coordinates and a reason citing the chart", () => {
        const names = new Set(baselinePolicies.map((p) => p.name));
        const seen = new Set<string>();
        for (const e of EXEMPTIONS) {
            const id = `${e.namespace}/${e.kind}/${e.name}`;
            assert.ok(!seen.has(id), `${id} is listed twice`);
            seen.add(id);
            assert.ok(e.kind in EXTRACTOR_KINDS, `${id}: ${e.kind} is a pod-bearing kind`);
            for (const field of [e.namespace, e.name]) {
                assert.match(field, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${id}: exact names only, no patterns`);
            }
            assert.ok(e.policies.length > 0, `${id} lifts no policy`);
            assert.strictEqual(new Set(e.policies).size, e.policies.length, `${id} lists a policy twice`);
            for (const p of e.policies) {
                assert.ok(names.has(p), `${id}: ${p} is not a policy of the pack`);
            }
            assert.ok(e.policies.length < names.size - 2, `${id} lifts nearly every policy; name the few it needs`);
            assert.match(e.reason, /templates\/|values\.yaml|_helpers\.tpl|Chart\.yaml|files\//, `${id}: the reason cites the chart file that needs it`);
        }
    });

    it("have a violating mutation for every resource policy, so the next test covers them all", () => {
        const missing = resourcePolicies.map((p) => p.name).filter((n) => n !== "baseline-supported-api-versions" && VIOLATE[n] === undefined);
        assert.deepStrictEqual(missing, []);
    });

    for (const e of EXEMPTIONS) {
        const id = `${e.kind} ${e.namespace}/${e.name}`;
        describe(id, () => {
            it("is skipped by exactly the resource policies it names", async () => {
                for (const p of resourcePolicies) {
                    const result = await resourceViolations(p, exemptWorkload(e).type, exemptWorkload(e).props);
                    if (e.policies.includes(p.name)) {
                        assert.strictEqual(result, NOT_APPLICABLE, `${p.name} should skip ${id}`);
                    } else {
                        assertClean(result, `${p.name} on the hardened ${id}`);
                    }
                }
            });

            for (const p of resourcePolicies) {
                if (e.policies.includes(p.name) || VIOLATE[p.name] === undefined) continue;
                it(`still fails ${p.name}`, async () => {
                    const w = exemptWorkload(e, VIOLATE[p.name]);
                    assertViolates(await resourceViolations(p, w.type, w.props), `${p.name} on ${id}`);
                });
            }

            it("still fails baseline-supported-api-versions when its apiVersion is deprecated", async () => {
                const w = exemptWorkload(e);
                const type = w.type.replace(/:[^:]+\/v1:/, ":extensions/v1beta1:").replace(":core/v1:", ":core/v1beta1:");
                if (e.policies.includes("baseline-supported-api-versions")) return;
                assertViolates(await resourceViolations(resourcePolicy("baseline-supported-api-versions"), type, w.props), `api version of ${id}`, "deprecated");
            });

            for (const name of NAMESPACE_POLICIES) {
                const lifted = e.policies.includes(name);
                it(`${lifted ? "is skipped by" : "still fails"} ${name} in a namespace the stack does not isolate`, async () => {
                    const policy = stackPolicies.find((p) => p.name === name);
                    assert.ok(policy !== undefined);
                    const result = await stackViolations(policy, [exemptWorkload(e)]);
                    if (lifted) {
                        assertClean(result, `${name} on ${id}`);
                    } else {
                        assertViolates(result, `${name} on ${id}`, `"${e.namespace}"`);
                    }
                });
            }

            it("is not exempt under the same name in another namespace or as another kind", async () => {
                const [lifted] = e.policies.filter((p) => VIOLATE[p] !== undefined);
                if (lifted === undefined) return;
                const policy = resourcePolicy(lifted);
                const t = clone(hardenedTemplate());
                VIOLATE[lifted](t);
                const kind = e.kind as PodKind;
                assertViolates(await resourceViolations(policy, POD_KIND_TYPES[kind], wrap(kind, t, { name: e.name, namespace: `${e.namespace}-x` })), "other namespace");
                const other: PodKind = kind === "Deployment" ? "StatefulSet" : "Deployment";
                assertViolates(await resourceViolations(policy, POD_KIND_TYPES[other], wrap(other, t, { name: e.name, namespace: e.namespace })), "other kind");
            });
        });
    }
});

function resourcePolicy(name: string): ResourceValidationPolicy {
    const p = resourcePolicies.find((x) => x.name === name);
    assert.ok(p !== undefined, name);
    return p;
}
