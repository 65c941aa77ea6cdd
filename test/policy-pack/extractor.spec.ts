import * as assert from "assert";
import { containersOf, parseResourceType, typeTokenOf, workloadOf } from "../../policy-pack/checks/workload";
import { EXEMPTIONS } from "../../policy-pack/exemptions";
import { clone, container, hardenedTemplate, namespaceObjects, POD_KIND_TYPES, POD_KINDS, PodTemplate, securityContext, wrap } from "./fixtures";
import {
    assertClean,
    assertViolates,
    KUBERNETES,
    NOT_APPLICABLE,
    resourcePolicy,
    resourceViolations,
    stackPolicy,
    stackViolations,
    UNKNOWN,
    UnknownValueError,
} from "./helpers";

describe("pod-spec extractor", () => {
    it("parses Pulumi type tokens, Patch variants included", () => {
        assert.deepStrictEqual(parseResourceType("kubernetes:apps/v1:DeploymentPatch"), {
            group: "apps",
            version: "v1",
            apiVersion: "apps/v1",
            kind: "Deployment",
            patch: true,
        });
        assert.deepStrictEqual(parseResourceType("kubernetes:core/v1:Pod"), { group: "core", version: "v1", apiVersion: "v1", kind: "Pod", patch: false });
        assert.strictEqual(parseResourceType("kubernetes:networking.k8s.io/v1:NetworkPolicy")?.apiVersion, "networking.k8s.io/v1");
        assert.strictEqual(parseResourceType("kubernetes:helm.sh/v4:Chart")?.kind, "Chart");
        assert.strictEqual(parseResourceType("aws:s3/bucket:Bucket"), undefined);
    });

    it("maps manifests to Pulumi type tokens", () => {
        assert.strictEqual(typeTokenOf("apps/v1", "DeploymentPatch"), "kubernetes:apps/v1:DeploymentPatch");
        assert.strictEqual(typeTokenOf("v1", "Pod"), "kubernetes:core/v1:Pod");
        assert.strictEqual(typeTokenOf("networking.k8s.io/v1", "NetworkPolicy"), "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    });

    const expectedPaths: Record<string, string> = {
        Pod: "spec",
        PodTemplate: "template.spec",
        CronJob: "spec.jobTemplate.spec.template.spec",
    };
    for (const kind of POD_KINDS) {
        it(`finds all three container lists of a ${kind}`, () => {
            const t = hardenedTemplate();
            t.spec.ephemeralContainers = [{ name: "debugger" }];
            const w = workloadOf(POD_KIND_TYPES[kind], wrap(kind, t) as Record<string, unknown>);
            assert.ok(w !== undefined);
            assert.strictEqual(w.podPath, expectedPaths[kind] ?? "spec.template.spec");
            assert.deepStrictEqual(
                containersOf(w).map((c) => `${c.list}/${c.name}`),
                ["containers/agent", "containers/spiffe-helper", "initContainers/setup", "ephemeralContainers/debugger"],
            );
            assert.strictEqual(w.podMeta.labels !== undefined, true);
        });
    }

    it("does not treat kinds outside the built-in groups as pod-bearing", () => {
        assert.strictEqual(workloadOf("kubernetes:apps/v1:CronJob", {}), undefined);
        assert.strictEqual(workloadOf("kubernetes:example.com/v1:Deployment", {}), undefined);
        assert.strictEqual(workloadOf("kubernetes:core/v1:ConfigMap", {}), undefined);
    });

    it("names the CronJob's nested pod path in messages", async () => {
        const t = hardenedTemplate();
        securityContext(container(t, "agent")).privileged = true;
        assertViolates(
            await resourceViolations(resourcePolicy("baseline-no-privileged"), POD_KIND_TYPES.CronJob, wrap("CronJob", t)),
            "CronJob",
            "spec.jobTemplate.spec.template.spec.containers[0]",
        );
    });

    it("still checks pods of deprecated apiVersions", async () => {
        const t = hardenedTemplate();
        securityContext(container(t, "agent")).privileged = true;
        const props = { ...wrap("Deployment", t), apiVersion: "extensions/v1beta1" };
        assertViolates(await resourceViolations(resourcePolicy("baseline-no-privileged"), "kubernetes:extensions/v1beta1:Deployment", props), "v1beta1", "privileged");
        assertViolates(await resourceViolations(resourcePolicy("baseline-supported-api-versions"), "kubernetes:extensions/v1beta1:Deployment", props), "v1beta1", "apps/v1");
    });

    it("declares resources without a pod not applicable", async () => {
        const cm = { metadata: { name: "x" }, data: { spec: "privileged" } };
        assert.strictEqual(await resourceViolations(resourcePolicy("baseline-no-privileged"), "kubernetes:core/v1:ConfigMap", cm), NOT_APPLICABLE);
    });

    it("survives malformed shapes without throwing", async () => {
        const weird = { metadata: { name: "w" }, spec: { template: { spec: { containers: "agent", volumes: { name: "x" }, securityContext: [] } } } };
        for (const name of ["baseline-seccomp", "baseline-capabilities", "baseline-volume-types", "baseline-secret-file-mode"]) {
            const result = await resourceViolations(resourcePolicy(name), POD_KIND_TYPES.Deployment, weird);
            assert.ok(Array.isArray(result), name);
        }
    });
});

describe("exemptions", () => {
    function falco(mutate: (t: PodTemplate) => void = () => undefined, meta = { name: "falco", namespace: "falco" }): object {
        const t = hardenedTemplate();
        const c = container(t, "agent");
        c.image = "quay.io/agent-security/falco:0.41.0";
        securityContext(c).privileged = true;
        t.spec.hostPID = true;
        t.spec.volumes?.push({ name: "proc", hostPath: { path: "/proc" } });
        mutate(t);
        return wrap("DaemonSet", t, meta);
    }
    const privileged = resourcePolicy("baseline-no-privileged");

    it("include the Falco DaemonSet in namespace falco, named exactly", () => {
        assert.ok(EXEMPTIONS.some((e) => e.namespace === "falco" && e.kind === "DaemonSet" && e.name === "falco"));
    });

    it("skip the exempt policies for falco/falco", async () => {
        for (const name of ["baseline-no-privileged", "baseline-volume-types"]) {
            assert.strictEqual(await resourceViolations(resourcePolicy(name), POD_KIND_TYPES.DaemonSet, falco()), NOT_APPLICABLE, name);
        }
    });

    it("keep refusing host namespaces for falco/falco: its probe needs privilege, not the host PID namespace", async () => {
        assertViolates(await resourceViolations(resourcePolicy("baseline-no-host-namespaces"), POD_KIND_TYPES.DaemonSet, falco()), "hostPID");
    });

    it("keep the policies the exemption does not list", async () => {
        const props = falco((t) => (container(t, "agent").image = "docker.io/falcosecurity/falco:0.41.0"));
        assertViolates(await resourceViolations(resourcePolicy("baseline-approved-registries"), POD_KIND_TYPES.DaemonSet, props), "registry", "docker.io");
        assertClean(await resourceViolations(resourcePolicy("baseline-approved-registries"), POD_KIND_TYPES.DaemonSet, falco()), "approved image");
    });

    it("do not follow the name into another namespace", async () => {
        assertViolates(await resourceViolations(privileged, POD_KIND_TYPES.DaemonSet, falco(undefined, { name: "falco", namespace: "agents" })), "agents/falco");
    });

    it("do not apply to another kind with the same name", async () => {
        const t = hardenedTemplate();
        securityContext(container(t, "agent")).privileged = true;
        assertViolates(await resourceViolations(privileged, POD_KIND_TYPES.Deployment, wrap("Deployment", t, { name: "falco", namespace: "falco" })), "Deployment falco/falco");
    });

    it("are never granted by labels or annotations", async () => {
        const labelled = falco(undefined, { name: "agent", namespace: "agents" }) as { metadata: Record<string, unknown> };
        labelled.metadata.labels = { "agent-security.io/exempt": "true", "app.kubernetes.io/name": "falco" };
        labelled.metadata.annotations = { "agent-security.io/exempt": "baseline-no-privileged", "policies.pulumi.com/exempt": "true" };
        assertViolates(await resourceViolations(privileged, POD_KIND_TYPES.DaemonSet, labelled), "labels");
    });

    it("do not cover a Patch of the exempt workload", async () => {
        const props = { metadata: { name: "falco", namespace: "falco" }, spec: { template: { spec: { containers: [{ name: "falco", securityContext: { privileged: true } }] } } } };
        assertViolates(await resourceViolations(privileged, "kubernetes:apps/v1:DaemonSetPatch", props), "DaemonSetPatch");
    });

    it("also skip the namespace stack rules for the exempt workload", async () => {
        for (const name of ["baseline-namespace-pod-security", "baseline-default-deny-network", "baseline-namespace-quotas"]) {
            assertClean(await stackViolations(stackPolicy(name), [{ type: POD_KIND_TYPES.DaemonSet, props: falco() }]), name);
        }
    });
});

describe("preview (unknown values)", () => {
    it("lets the SDK downgrade a policy that reads a value unknown at preview", async () => {
        const t = clone(hardenedTemplate()) as unknown as { spec: { containers: { securityContext: unknown }[] } };
        t.spec.containers[0].securityContext = UNKNOWN.object;
        await assert.rejects(
            resourceViolations(resourcePolicy("baseline-no-privileged"), POD_KIND_TYPES.Deployment, wrap("Deployment", t as unknown as PodTemplate)),
            UnknownValueError,
        );
    });

    it("does not read fields it does not need, so unrelated unknowns keep the policy mandatory", async () => {
        const t = hardenedTemplate();
        t.metadata.annotations = { "checksum/config": UNKNOWN.string };
        const props = wrap("Deployment", t) as Record<string, unknown>;
        const withUnknowns = { ...props, status: UNKNOWN.object, metadata: { name: UNKNOWN.string, namespace: "agents", uid: UNKNOWN.string } };
        for (const name of ["baseline-no-privileged", "baseline-seccomp", "baseline-apparmor", "baseline-approved-registries", "baseline-secret-file-mode"]) {
            assertClean(await resourceViolations(resourcePolicy(name), POD_KIND_TYPES.Deployment, withUnknowns, KUBERNETES), name);
        }
    });

    it("keeps the namespace stack rules mandatory when an unrelated label is unknown", async () => {
        const resources = namespaceObjects().map((r) => {
            if (r.type !== "kubernetes:core/v1:Namespace") {
                return r;
            }
            const props = structuredClone(r.props) as { metadata: { labels: Record<string, string> } };
            props.metadata.labels["example.com/owner"] = UNKNOWN.string;
            return { ...r, props };
        });
        resources.push({ type: POD_KIND_TYPES.Deployment, props: wrap("Deployment", hardenedTemplate()), name: "workload" });
        assertClean(await stackViolations(stackPolicy("baseline-namespace-pod-security"), resources), "unknown unrelated label");
    });
});
