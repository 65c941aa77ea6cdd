// Kyverno ValidatingPolicies (policies.kyverno.io/v1, CEL) that mirror the baseline at admission
// (design.md sections 6 and 8; upstream-apis.md section 8). Pure: the component creates what this
// returns; the tests compile and evaluate every expression.
//
// Scope: Pods (and the pods/ephemeralcontainers subresource, so `kubectl debug` is checked too) in
// namespaces labelled agent-security.io/agents=true. Kyverno's autogen would also check Deployments
// and other controllers, but it only runs for policies without a namespace or object selector
// (kyverno/kyverno pkg/cel/autogen/support.go, CanAutoGen), and the selector is what keeps these
// policies off the rest of the cluster; every controller's pod passes through here anyway. The
// policies say so explicitly (`autogen.podControllers.controllers: []`).
//
// CEL notes: the three container lists are checked one by one rather than concatenated, because
// with typed objects (the API server's and Kyverno's type checker) `containers + ephemeralContainers`
// is a list(Container) + list(EphemeralContainer) type error. Every optional field is behind has().
import { AGENTS_NAMESPACE_LABEL, AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, MANAGED_BY_LABELS } from "../wellKnown";

export const VALIDATING_POLICY_API_VERSION = "policies.kyverno.io/v1";

export type ValidationAction = "Audit" | "Deny";

export interface CelValidation {
    readonly expression: string;
    readonly message: string;
    readonly reason?: string;
}

export interface CelVariable {
    readonly name: string;
    readonly expression: string;
}

export interface ResourceRule {
    readonly apiGroups: readonly string[];
    readonly apiVersions: readonly string[];
    readonly operations: readonly string[];
    readonly resources: readonly string[];
}

export interface LabelSelector {
    readonly matchLabels: Readonly<Record<string, string>>;
}

export interface ValidatingPolicyManifest {
    readonly apiVersion: typeof VALIDATING_POLICY_API_VERSION;
    readonly kind: "ValidatingPolicy";
    readonly metadata: {
        readonly name: string;
        readonly labels: Readonly<Record<string, string>>;
        readonly annotations: Readonly<Record<string, string>>;
    };
    readonly spec: {
        readonly validationActions: readonly ValidationAction[];
        readonly failurePolicy: "Fail" | "Ignore";
        readonly autogen: { readonly podControllers: { readonly controllers: readonly string[] } };
        readonly evaluation: { readonly background: { readonly enabled: boolean } };
        readonly matchConstraints: {
            readonly resourceRules: readonly ResourceRule[];
            readonly namespaceSelector: LabelSelector;
            readonly objectSelector?: LabelSelector;
        };
        readonly variables?: readonly CelVariable[];
        readonly validations: readonly CelValidation[];
    };
}

export interface KyvernoPolicyInput {
    readonly validationAction: ValidationAction;
    readonly approvedRegistries: readonly string[];
    /** Require this runtime class on agent pods (prod with kata on). */
    readonly requiredRuntimeClass?: string;
}

type ContainerList = "containers" | "initContainers" | "ephemeralContainers";

/** `pred` (over the variable `c`) holds for every container of the listed lists that exist. */
export function everyContainer(lists: readonly ContainerList[], pred: string): string {
    return lists
        .map((list) => (list === "containers" ? `object.spec.containers.all(c, ${pred})` : `(!has(object.spec.${list}) || object.spec.${list}.all(c, ${pred}))`))
        .join(" && ");
}

const ALL_LISTS: readonly ContainerList[] = ["containers", "initContainers", "ephemeralContainers"];
// The API forbids `resources` on ephemeral containers, so limits apply to the other two lists.
const RESOURCE_LISTS: readonly ContainerList[] = ["containers", "initContainers"];

/** A CEL string literal; registries are validated config (no quotes or escapes), JSON quoting matches CEL's. */
const celString = (value: string): string => JSON.stringify(value);

/** The CEL that approves an image reference held in `ref` against `variables.approvedRegistries`. */
export function approvedImageExpression(ref: string): string {
    // host[:port] exact and path by `/` prefix, like the policy pack and config.imageFromRegistry:
    // `quay.io/agent-security/x` matches `quay.io/agent-security`, `quay.io.evil.com/x` and
    // `quay.io/agent-security-evil/x` do not, and an unqualified `nginx` matches nothing.
    return `variables.approvedRegistries.exists(r, ${ref}.startsWith(r + '/'))`;
}

function policy(
    name: string,
    description: string,
    input: KyvernoPolicyInput,
    validations: readonly CelValidation[],
    extra: { readonly variables?: readonly CelVariable[]; readonly objectSelector?: LabelSelector } = {},
): ValidatingPolicyManifest {
    return {
        apiVersion: VALIDATING_POLICY_API_VERSION,
        kind: "ValidatingPolicy",
        metadata: {
            name,
            labels: { ...MANAGED_BY_LABELS },
            annotations: { "policies.kyverno.io/description": description },
        },
        spec: {
            validationActions: [input.validationAction],
            // Enforcing profiles fail closed when Kyverno cannot answer; the namespace selector keeps
            // that to agent namespaces. Audit never blocks.
            failurePolicy: input.validationAction === "Deny" ? "Fail" : "Ignore",
            autogen: { podControllers: { controllers: [] } },
            evaluation: { background: { enabled: true } },
            matchConstraints: {
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] }],
                namespaceSelector: { matchLabels: { [AGENTS_NAMESPACE_LABEL]: "true" } },
                ...(extra.objectSelector ? { objectSelector: extra.objectSelector } : {}),
            },
            ...(extra.variables ? { variables: extra.variables } : {}),
            validations,
        },
    };
}

export function kyvernoPolicies(input: KyvernoPolicyInput): ValidatingPolicyManifest[] {
    const registries = [...new Set(input.approvedRegistries)].sort();
    const policies: ValidatingPolicyManifest[] = [
        policy("agent-security-resource-limits", "Every container and init container of an agent pod sets cpu and memory limits (baseline-resource-limits).", input, [
            {
                expression: everyContainer(
                    RESOURCE_LISTS,
                    "has(c.resources) && has(c.resources.limits) && 'cpu' in c.resources.limits && 'memory' in c.resources.limits",
                ),
                message: "every container and init container of an agent pod must set resources.limits.cpu and resources.limits.memory",
                reason: "Invalid",
            },
        ]),
        policy("agent-security-no-host-mounts", "Agent pods mount nothing from the host (baseline-volume-types).", input, [
            {
                expression: "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))",
                message: "agent pods must not use hostPath volumes",
                reason: "Forbidden",
            },
        ]),
        policy(
            "agent-security-approved-registries",
            "Every image of an agent pod, including image volumes, comes from an approved registry (baseline-approved-registries).",
            input,
            [
                {
                    expression: everyContainer(ALL_LISTS, `has(c.image) && ${approvedImageExpression("c.image")}`),
                    message: `every container image of an agent pod must come from an approved registry: ${registries.join(", ")}`,
                    reason: "Forbidden",
                },
                {
                    expression: `!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.image) || (has(v.image.reference) && ${approvedImageExpression("v.image.reference")}))`,
                    message: `every image volume of an agent pod must come from an approved registry: ${registries.join(", ")}`,
                    reason: "Forbidden",
                },
            ],
            { variables: [{ name: "approvedRegistries", expression: `[${registries.map(celString).join(", ")}]` }] },
        ),
        policy("agent-security-no-privileged", "No container of an agent pod runs privileged (baseline-no-privileged).", input, [
            {
                expression: everyContainer(ALL_LISTS, "!has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged"),
                message: "no container, init container or ephemeral container of an agent pod may set securityContext.privileged: true",
                reason: "Forbidden",
            },
        ]),
        policy("agent-security-no-host-namespaces", "Agent pods share no host namespace (baseline-no-host-namespaces).", input, [
            { expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork", message: "agent pods must not set hostNetwork: true", reason: "Forbidden" },
            { expression: "!has(object.spec.hostPID) || !object.spec.hostPID", message: "agent pods must not set hostPID: true", reason: "Forbidden" },
            { expression: "!has(object.spec.hostIPC) || !object.spec.hostIPC", message: "agent pods must not set hostIPC: true", reason: "Forbidden" },
        ]),
    ];
    if (input.requiredRuntimeClass !== undefined) {
        policies.push(
            policy(
                "agent-security-kata-runtime",
                `Agent pods run in the ${input.requiredRuntimeClass} runtime class (baseline-kata-runtime).`,
                input,
                [
                    {
                        expression: `has(object.spec.runtimeClassName) && object.spec.runtimeClassName == ${celString(input.requiredRuntimeClass)}`,
                        message: `agent pods must set runtimeClassName: ${input.requiredRuntimeClass}`,
                        reason: "Forbidden",
                    },
                ],
                { objectSelector: { matchLabels: { [AGENT_ROLE_LABEL]: AGENT_ROLE_VALUE } } },
            ),
        );
    }
    return policies.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
