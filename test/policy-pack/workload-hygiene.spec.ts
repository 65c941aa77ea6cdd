import * as assert from "assert";
import { container, ephemeral, PodTemplate } from "./fixtures";
import { assertClean, assertViolates, KUBERNETES, NOT_APPLICABLE, resourcePolicy, resourceViolations } from "./helpers";
import { accept, policyTable, reject } from "./table";

const agent = (t: PodTemplate) => container(t, "agent");
const setup = (t: PodTemplate) => container(t, "setup");
const limits = (t: PodTemplate, name: string) => {
    const c = container(t, name);
    c.resources ??= {};
    c.resources.limits ??= {};
    return c.resources.limits;
};

policyTable("baseline-resource-limits", [
    reject("a container without limits", (t) => delete agent(t).resources, 'Container "agent"', "resources.limits.cpu", "resources.limits.memory"),
    reject("a container without a memory limit", (t) => delete limits(t, "agent").memory, "resources.limits.memory"),
    reject("an init container without a cpu limit", (t) => delete limits(t, "setup").cpu, 'Init container "setup"', "resources.limits.cpu"),
    reject('a cpu limit of "0"', (t) => (limits(t, "agent").cpu = "0"), '"0"'),
    reject("a memory limit that is not a quantity", (t) => (limits(t, "agent").memory = "lots"), '"lots"'),
    reject("requests without limits", (t) => (agent(t).resources = { requests: { cpu: "1", memory: "1Gi" } }), "resources.limits.cpu"),
    accept("an ephemeral container without resources", (t) => (t.spec.ephemeralContainers = [ephemeral()])),
    accept("a numeric cpu limit", (t) => (limits(t, "agent").cpu = 1)),
]);

const withImage = (image: string) => (t: PodTemplate) => (agent(t).image = image);

const PORT_REGISTRY = { ...KUBERNETES, approvedRegistries: [...KUBERNETES.approvedRegistries, "registry.example.com:5000"] };
const DIGEST = "sha256:" + "a".repeat(64);

policyTable("baseline-approved-registries", [
    reject("nginx (no registry)", withImage("nginx"), 'Container "agent"', "names no registry"),
    reject("library/nginx (no registry)", withImage("library/nginx:1.27"), "names no registry"),
    reject("docker.io/library/nginx (not approved)", withImage("docker.io/library/nginx:1.27"), "not under an approved registry"),
    reject("localhost/x", withImage("localhost/agent-security/x:1"), "localhost"),
    reject("a look-alike host quay.io.evil.com", withImage("quay.io.evil.com/agent-security/x:1"), "quay.io.evil.com"),
    reject("a look-alike path quay.io/agent-security-evil", withImage("quay.io/agent-security-evil/x:1"), "agent-security-evil"),
    reject("the approved host on another port", withImage("quay.io:443/agent-security/x:1"), "quay.io:443"),
    reject("the approved host with a path outside the prefix", withImage("quay.io/other/x:1"), "quay.io/other/x"),
    reject("a reference with a malformed digest", withImage("quay.io/agent-security/x@sha256:abc"), "digest"),
    reject("an unapproved image only in an init container", (t) => (setup(t).image = "busybox"), 'Init container "setup"'),
    reject("an unapproved image only in an ephemeral container", (t) => {
        const c = ephemeral();
        c.image = "docker.io/nicolaka/netshoot";
        t.spec.ephemeralContainers = [c];
    }, 'Ephemeral container "debugger"'),
    reject("an image volume without a registry", (t) => t.spec.volumes?.push({ name: "model", image: { reference: "models/llama:1" } }), 'Image volume "model"'),
    reject("a container without an image", (t) => delete agent(t).image, "has no image"),
    accept("a digest reference", withImage(`quay.io/agent-security/x@${DIGEST}`)),
    accept("a tag and a digest", withImage(`quay.io/agent-security/x:1.0.0@${DIGEST}`)),
    accept("a deeper path under the approved prefix", withImage("quay.io/agent-security/team/agent:1")),
    accept("the registry host in upper case (DNS is case-insensitive)", withImage("QUAY.IO/agent-security/x:1")),
    accept("a registry with a port when listed exactly", withImage("registry.example.com:5000/x:1"), PORT_REGISTRY),
]);

describe("baseline-approved-registries settings", () => {
    const policy = resourcePolicy("baseline-approved-registries");
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", image: "quay.io/agent-security/a:1" }] } };

    it("rejects every image when the approved list is empty", async () => {
        assertViolates(await resourceViolations(policy, "kubernetes:core/v1:Pod", pod, { ...KUBERNETES, approvedRegistries: [] }), "empty list", "no approved registries are configured");
    });

    it("reports a missing registry list as a violation instead of passing", async () => {
        assertViolates(await resourceViolations(policy, "kubernetes:core/v1:Pod", pod, { platform: "kubernetes" }), "no config", "approvedRegistries is required");
    });

    it("reports an approved entry with a scheme as a config error", async () => {
        assertViolates(
            await resourceViolations(policy, "kubernetes:core/v1:Pod", pod, { ...KUBERNETES, approvedRegistries: ["https://quay.io"] }),
            "scheme",
            "must not have a URL scheme",
        );
    });
});

describe("baseline-supported-api-versions", () => {
    const policy = resourcePolicy("baseline-supported-api-versions");
    const current = [
        "kubernetes:core/v1:Pod",
        "kubernetes:core/v1:PodTemplate",
        "kubernetes:core/v1:ReplicationController",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:apps/v1:ReplicaSet",
        "kubernetes:batch/v1:Job",
        "kubernetes:batch/v1:CronJob",
        "kubernetes:apps/v1:DeploymentPatch",
        "kubernetes:batch/v1:CronJobPatch",
    ];
    const deprecated = [
        "kubernetes:extensions/v1beta1:Deployment",
        "kubernetes:extensions/v1beta1:DaemonSet",
        "kubernetes:extensions/v1beta1:ReplicaSet",
        "kubernetes:apps/v1beta1:Deployment",
        "kubernetes:apps/v1beta1:StatefulSet",
        "kubernetes:apps/v1beta2:Deployment",
        "kubernetes:apps/v1beta2:DaemonSet",
        "kubernetes:apps/v1beta2:ReplicaSet",
        "kubernetes:apps/v1beta2:StatefulSet",
        "kubernetes:batch/v1beta1:CronJob",
        "kubernetes:batch/v2alpha1:CronJob",
        "kubernetes:extensions/v1beta1:DeploymentPatch",
        "kubernetes:batch/v1beta1:CronJobPatch",
    ];
    for (const type of current) {
        it(`accepts ${type}`, async () => {
            assertClean(await resourceViolations(policy, type, { metadata: { name: "x" } }), type);
        });
    }
    for (const type of deprecated) {
        it(`rejects ${type}`, async () => {
            assertViolates(await resourceViolations(policy, type, { metadata: { name: "x" } }), type, "deprecated or removed");
        });
    }
    it("does not apply to kinds that carry no pod", async () => {
        assert.strictEqual(await resourceViolations(policy, "kubernetes:core/v1:ConfigMap", { metadata: { name: "x" } }), NOT_APPLICABLE);
        assert.strictEqual(await resourceViolations(policy, "kubernetes:policy/v1beta1:PodSecurityPolicy", { metadata: { name: "x" } }), NOT_APPLICABLE);
    });
});
