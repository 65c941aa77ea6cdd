// The CEL of the Kyverno ValidatingPolicies and of the fail-closed ValidatingAdmissionPolicies:
// every expression parses with a CEL implementation (@marcbachmann/cel-js) and gives the intended
// verdict on compliant and violating pods / DaemonSet states.
import * as assert from "assert";
import { Environment } from "@marcbachmann/cel-js";
import { DAEMONSET_READY_EXPRESSION, DAEMONSET_READY_MESSAGE_EXPRESSION, failClosedPolicy } from "../../components/admission/failClosed";
import { kyvernoPolicies } from "../../components/admission/policies";
import type { ValidatingPolicyManifest } from "../../components/admission/policies";
import type { Manifest } from "../../cli/mockRuntime";
import { ofKind, prodConfig, render } from "./support";

// Kubernetes objects arrive as JSON maps; undeclared variables are dynamic, like Kyverno's
// unstructured `object`.
const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

type Pod = { metadata: Record<string, unknown>; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };

/** Evaluates the policy's variables in order, then each validation; true when all validations hold. */
function verdicts(policy: ValidatingPolicyManifest, pod: Pod): boolean[] {
    const variables: Record<string, unknown> = {};
    for (const variable of policy.spec.variables ?? []) {
        variables[variable.name] = env.evaluate(variable.expression, { object: pod, variables });
    }
    return policy.spec.validations.map((validation) => {
        const result = env.evaluate(validation.expression, { object: pod, variables });
        assert.strictEqual(typeof result, "boolean", `${policy.metadata.name}: ${validation.expression} must yield a bool`);
        return result as boolean;
    });
}

const admitted = (policy: ValidatingPolicyManifest, pod: Pod): boolean => verdicts(policy, pod).every(Boolean);

function compliantPod(): Pod {
    return {
        metadata: { name: "fetch-agent-0", namespace: "fetch-agent", labels: { "agent-security.io/role": "agent", "agent-security.io/agent": "fetch-agent" } },
        spec: {
            runtimeClassName: "kata",
            containers: [
                {
                    name: "agent",
                    image: "quay.io/agent-security/fetch-agent:1.0.0",
                    resources: { limits: { cpu: "1", memory: "2Gi" }, requests: { cpu: "1", memory: "2Gi" } },
                    securityContext: { privileged: false, allowPrivilegeEscalation: false },
                },
                { name: "spiffe-helper", image: "ghcr.io/spiffe/spiffe-helper:0.11.0", resources: { limits: { cpu: "100m", memory: "64Mi" } } },
            ],
            initContainers: [{ name: "init", image: "registry.redhat.io/ubi9/ubi-minimal:9.6", resources: { limits: { cpu: "100m", memory: "64Mi" } } }],
            volumes: [
                { name: "tmp", emptyDir: { medium: "Memory" } },
                { name: "secret", secret: { secretName: "gemini-api-key", defaultMode: 256 } },
            ],
        },
    };
}

function mutate(change: (pod: Pod) => void): Pod {
    const pod = compliantPod();
    change(pod);
    return pod;
}

const REGISTRIES = ["ghcr.io/spiffe", "quay.io/agent-security", "registry.redhat.io"];

describe("Kyverno ValidatingPolicies (CEL)", () => {
    const policies = kyvernoPolicies({ validationAction: "Deny", approvedRegistries: REGISTRIES, requiredRuntimeClass: "kata" });
    const byName = (name: string): ValidatingPolicyManifest => {
        const found = policies.find((policy) => policy.metadata.name === `agent-security-${name}`);
        assert.ok(found, `policy agent-security-${name} exists`);
        return found;
    };

    it("parses and type-checks every variable and validation expression", () => {
        for (const policy of policies) {
            for (const expression of [...(policy.spec.variables ?? []).map((variable) => variable.expression), ...policy.spec.validations.map((validation) => validation.expression)]) {
                assert.doesNotThrow(() => env.parse(expression), `${policy.metadata.name}: ${expression}`);
                const check = env.check(expression);
                assert.ok(check.valid, `${policy.metadata.name}: ${expression}: ${check.error?.message ?? ""}`);
            }
        }
    });

    it("admits a compliant agent pod under every policy", () => {
        for (const policy of policies) assert.deepStrictEqual(verdicts(policy, compliantPod()), policy.spec.validations.map(() => true), policy.metadata.name);
    });

    it("admits the agent pods the program itself renders for prod (all tools on)", async () => {
        const prod = await render("prod", prodConfig());
        const rendered = ofKind(prod.manifests, "Deployment").filter((deployment: Manifest) => ["fetch-agent", "currency-agent"].includes(deployment.metadata.name));
        assert.strictEqual(rendered.length, 2);
        const prodPolicies = ofKind(prod.manifests, "ValidatingPolicy") as unknown as ValidatingPolicyManifest[];
        for (const deployment of rendered) {
            const template = (deployment.spec as { template: Pod }).template;
            for (const policy of prodPolicies) assert.ok(admitted(policy, template), `${deployment.metadata.name} vs ${policy.metadata.name}`);
        }
    });

    describe("resource limits", () => {
        it("denies a container without a memory limit", () => {
            assert.strictEqual(admitted(byName("resource-limits"), mutate((pod) => delete (pod.spec.containers[0]!.resources as { limits: Record<string, string> }).limits.memory)), false);
        });
        it("denies an init container without limits", () => {
            assert.strictEqual(admitted(byName("resource-limits"), mutate((pod) => ((pod.spec.initContainers as Record<string, unknown>[])[0]!.resources = {}))), false);
        });
        it("does not require limits on ephemeral containers (the API forbids them)", () => {
            assert.strictEqual(admitted(byName("resource-limits"), mutate((pod) => (pod.spec.ephemeralContainers = [{ name: "debug", image: "quay.io/agent-security/debug:1" }]))), true);
        });
    });

    describe("no host mounts", () => {
        it("denies a hostPath volume", () => {
            assert.strictEqual(admitted(byName("no-host-mounts"), mutate((pod) => (pod.spec.volumes as unknown[]).push({ name: "host", hostPath: { path: "/" } }))), false);
        });
        it("admits a pod without volumes", () => {
            assert.strictEqual(admitted(byName("no-host-mounts"), mutate((pod) => delete pod.spec.volumes)), true);
        });
    });

    describe("approved registries (host[:port] exact, path by '/' prefix)", () => {
        const registries = byName("approved-registries");
        const withImage = (image: string): Pod => mutate((pod) => (pod.spec.containers[0]!.image = image));
        for (const image of ["quay.io/agent-security/fetch-agent:1.0.0", "quay.io/agent-security/nested/x@sha256:" + "a".repeat(64), "registry.redhat.io/ubi9/ubi:9.6"]) {
            it(`admits ${image}`, () => assert.strictEqual(admitted(registries, withImage(image)), true));
        }
        for (const image of [
            "nginx:1.27",
            "library/nginx:1.27",
            "docker.io/library/nginx:1.27",
            "quay.io/other/fetch-agent:1.0.0",
            "quay.io/agent-security-evil/fetch-agent:1.0.0",
            "quay.io.evil.com/agent-security/fetch-agent:1.0.0",
            "registry.redhat.io:5000/ubi9/ubi:9.6",
            "quay.io/agent-security",
        ]) {
            it(`denies ${image}`, () => assert.strictEqual(admitted(registries, withImage(image)), false));
        }
        it("denies an init container from an unapproved registry", () => {
            assert.strictEqual(admitted(registries, mutate((pod) => ((pod.spec.initContainers as Record<string, unknown>[])[0]!.image = "docker.io/busybox:1"))), false);
        });
        it("denies an ephemeral container from an unapproved registry", () => {
            assert.strictEqual(admitted(registries, mutate((pod) => (pod.spec.ephemeralContainers = [{ name: "debug", image: "docker.io/nicolaka/netshoot:latest" }]))), false);
        });
        it("denies an image volume from an unapproved registry and admits an approved one", () => {
            const volume = (reference: string): Pod => mutate((pod) => (pod.spec.volumes as unknown[]).push({ name: "model", image: { reference } }));
            assert.strictEqual(admitted(registries, volume("docker.io/models/x:1")), false);
            assert.strictEqual(admitted(registries, volume("quay.io/agent-security/models/x:1")), true);
        });
    });

    describe("no privileged containers and no host namespaces", () => {
        it("denies a privileged container, init container or ephemeral container", () => {
            const privileged = { privileged: true };
            assert.strictEqual(admitted(byName("no-privileged"), mutate((pod) => (pod.spec.containers[1]!.securityContext = privileged))), false);
            assert.strictEqual(admitted(byName("no-privileged"), mutate((pod) => ((pod.spec.initContainers as Record<string, unknown>[])[0]!.securityContext = privileged))), false);
            assert.strictEqual(
                admitted(byName("no-privileged"), mutate((pod) => (pod.spec.ephemeralContainers = [{ name: "debug", image: "quay.io/agent-security/debug:1", securityContext: privileged }]))),
                false,
            );
        });
        for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
            it(`denies ${field}: true and admits ${field}: false`, () => {
                assert.strictEqual(admitted(byName("no-host-namespaces"), mutate((pod) => (pod.spec[field] = true))), false);
                assert.strictEqual(admitted(byName("no-host-namespaces"), mutate((pod) => (pod.spec[field] = false))), true);
            });
        }
    });

    describe("Kata runtime class on agent pods", () => {
        it("applies to agent pods only (object selector on the role label)", () => {
            assert.deepStrictEqual(byName("kata-runtime").spec.matchConstraints.objectSelector, { matchLabels: { "agent-security.io/role": "agent" } });
        });
        it("denies an agent pod without runtimeClassName or with another runtime class", () => {
            assert.strictEqual(admitted(byName("kata-runtime"), mutate((pod) => delete pod.spec.runtimeClassName)), false);
            assert.strictEqual(admitted(byName("kata-runtime"), mutate((pod) => (pod.spec.runtimeClassName = "runc"))), false);
        });
        it("is not rendered without a required runtime class", () => {
            const names = kyvernoPolicies({ validationAction: "Audit", approvedRegistries: REGISTRIES }).map((policy) => policy.metadata.name);
            assert.ok(!names.includes("agent-security-kata-runtime"));
        });
    });

    it("matches pods and the ephemeral-containers subresource in agent namespaces, without autogen", () => {
        for (const policy of policies) {
            assert.deepStrictEqual(policy.spec.matchConstraints.resourceRules, [
                { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] },
            ]);
            assert.deepStrictEqual(policy.spec.matchConstraints.namespaceSelector, { matchLabels: { "agent-security.io/agents": "true" } });
            assert.deepStrictEqual(policy.spec.autogen, { podControllers: { controllers: [] } });
        }
    });
});

describe("fail-closed ValidatingAdmissionPolicy (CEL)", () => {
    // CEL ints are BigInt in cel-js, as the API server's are int64.
    const daemonSet = (status: Record<string, bigint> | undefined): Record<string, unknown> => ({
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "falco", namespace: "falco" },
        ...(status ? { status } : {}),
    });
    const ready = (params: unknown): unknown => env.evaluate(DAEMONSET_READY_EXPRESSION, { params, object: compliantPod() });

    it("is the expression the rendered policy uses, and it parses and type-checks", () => {
        const policy = failClosedPolicy({ tool: "falco", daemonSetNamespace: "falco", daemonSetName: "falco" });
        assert.deepStrictEqual(
            policy.spec.validations.map((validation) => [validation.expression, validation.messageExpression]),
            [[DAEMONSET_READY_EXPRESSION, DAEMONSET_READY_MESSAGE_EXPRESSION]],
        );
        for (const expression of [DAEMONSET_READY_EXPRESSION, DAEMONSET_READY_MESSAGE_EXPRESSION]) {
            assert.doesNotThrow(() => env.parse(expression));
            assert.ok(env.check(expression).valid, expression);
        }
    });

    it("admits agent pods while every scheduled pod of the DaemonSet is ready", () => {
        assert.strictEqual(ready(daemonSet({ desiredNumberScheduled: 3n, numberReady: 3n })), true);
    });

    for (const [label, params] of [
        ["one pod short of ready", daemonSet({ desiredNumberScheduled: 3n, numberReady: 2n })],
        ["scheduled on no node", daemonSet({ desiredNumberScheduled: 0n, numberReady: 0n })],
        ["without a status yet", daemonSet(undefined)],
        ["missing (no parameter)", null],
    ] as const) {
        it(`refuses agent pods while the DaemonSet is ${label}`, () => {
            assert.strictEqual(ready(params), false);
        });
    }

    it("explains the refusal with the DaemonSet's ready count", () => {
        const message = env.evaluate(DAEMONSET_READY_MESSAGE_EXPRESSION, { params: daemonSet({ desiredNumberScheduled: 3n, numberReady: 1n }) });
        assert.strictEqual(message, "DaemonSet falco/falco has 1 of 3 pods ready; agent pods are admitted only while it is fully ready (fail-closed)");
    });

    it("binds to the tool's DaemonSet with parameterNotFoundAction Deny and gates agent pod creation", async () => {
        const prod = await render("prod", prodConfig());
        // The baseline's own policies (secrets as files) are bound too; this spec is about the optional tools' readiness gates.
        const isReadinessGate = (resource: { metadata?: { name?: string }; spec?: unknown }): boolean => {
            const name = resource.metadata?.name ?? "";
            return name.startsWith("agent-security-require-");
        };
        const bindings = ofKind(prod.manifests, "ValidatingAdmissionPolicyBinding").filter(isReadinessGate);
        assert.equal(bindings.length, 2, "one binding per fail-closed tool in prod (falco, cilium)");
        assert.deepStrictEqual(
            bindings.map((binding) => (binding.spec as { paramRef: unknown; validationActions: unknown; policyName: string })).map((spec) => [spec.policyName, spec.paramRef, spec.validationActions]),
            [
                ["agent-security-require-falco-ready", { name: "falco", namespace: "falco", parameterNotFoundAction: "Deny" }, ["Deny"]],
                ["agent-security-require-cilium-ready", { name: "cilium", namespace: "kube-system", parameterNotFoundAction: "Deny" }, ["Deny"]],
            ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        );
        const gates = ofKind(prod.manifests, "ValidatingAdmissionPolicy").filter(isReadinessGate);
        assert.equal(gates.length, 2);
        for (const policy of gates) {
            const spec = policy.spec as { paramKind: unknown; failurePolicy: string; matchConstraints: unknown };
            assert.deepStrictEqual(spec.paramKind, { apiVersion: "apps/v1", kind: "DaemonSet" });
            assert.strictEqual(spec.failurePolicy, "Fail");
            assert.deepStrictEqual(spec.matchConstraints, {
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
                objectSelector: { matchLabels: { "agent-security.io/role": "agent" } },
            });
        }
    });
});
