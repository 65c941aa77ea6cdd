// Fail-closed admission (design.md section 2; security-tooling design, "Fail-closed option"): while a
// tool's DaemonSet is missing or not fully ready, new agent pods are refused. Built-in
// ValidatingAdmissionPolicy with the DaemonSet as its parameter, so no controller of ours is needed:
// the API server reads the DaemonSet's status on every admission, and `parameterNotFoundAction: Deny`
// covers a deleted DaemonSet. Pure: the component creates what this returns (arrays are mutable only
// because the SDK's input types are).
import { AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, MANAGED_BY_LABELS } from "../wellKnown";

export const VAP_API_VERSION = "admissionregistration.k8s.io/v1";

export interface FailClosedToolInput {
    readonly tool: string;
    readonly daemonSetNamespace: string;
    readonly daemonSetName: string;
}

/** The readiness condition on the DaemonSet parameter (DaemonSetStatus fields, apps/v1). */
export const DAEMONSET_READY_EXPRESSION =
    "params != null && has(params.status) && has(params.status.desiredNumberScheduled) && has(params.status.numberReady) && " +
    "params.status.desiredNumberScheduled > 0 && params.status.numberReady == params.status.desiredNumberScheduled";

/** Tells the person whose pod was refused how far the DaemonSet is from ready. */
export const DAEMONSET_READY_MESSAGE_EXPRESSION =
    "params != null && has(params.status) && has(params.status.desiredNumberScheduled) && has(params.status.numberReady) ? " +
    "'DaemonSet ' + params.metadata.namespace + '/' + params.metadata.name + ' has ' + string(params.status.numberReady) + ' of ' + " +
    "string(params.status.desiredNumberScheduled) + ' pods ready; agent pods are admitted only while it is fully ready (fail-closed)' : " +
    "'the DaemonSet this fail-closed policy depends on reports no status; agent pods are refused'";

export function failClosedPolicyName(tool: string): string {
    return `agent-security-require-${tool}-ready`;
}

export interface ValidatingAdmissionPolicyManifest {
    readonly apiVersion: typeof VAP_API_VERSION;
    readonly kind: "ValidatingAdmissionPolicy";
    readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: {
        readonly failurePolicy: "Fail";
        readonly paramKind: { readonly apiVersion: "apps/v1"; readonly kind: "DaemonSet" };
        readonly matchConstraints: {
            readonly resourceRules: {
                readonly apiGroups: string[];
                readonly apiVersions: string[];
                readonly operations: string[];
                readonly resources: string[];
            }[];
            readonly objectSelector: { readonly matchLabels: Readonly<Record<string, string>> };
        };
        readonly validations: { readonly expression: string; readonly message: string; readonly messageExpression: string; readonly reason: string }[];
    };
}

export interface ValidatingAdmissionPolicyBindingManifest {
    readonly apiVersion: typeof VAP_API_VERSION;
    readonly kind: "ValidatingAdmissionPolicyBinding";
    readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: {
        readonly policyName: string;
        readonly validationActions: ["Deny"];
        readonly paramRef: { readonly name: string; readonly namespace: string; readonly parameterNotFoundAction: "Deny" };
    };
}

export function failClosedPolicy(input: FailClosedToolInput): ValidatingAdmissionPolicyManifest {
    return {
        apiVersion: VAP_API_VERSION,
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: failClosedPolicyName(input.tool), labels: { ...MANAGED_BY_LABELS, "agent-security.io/tool": input.tool } },
        spec: {
            // An error evaluating the policy (or a missing parameter type) refuses the pod too.
            failurePolicy: "Fail",
            paramKind: { apiVersion: "apps/v1", kind: "DaemonSet" },
            matchConstraints: {
                // CREATE only: gating updates of running agent pods on a tool would not stop them.
                // The role label selects agent pods wherever they are; a pod that claims the label
                // outside an agent namespace is gated as well, which errs on the safe side.
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
                objectSelector: { matchLabels: { [AGENT_ROLE_LABEL]: AGENT_ROLE_VALUE } },
            },
            validations: [
                {
                    expression: DAEMONSET_READY_EXPRESSION,
                    message: `agent pods are admitted only while the ${input.tool} DaemonSet ${input.daemonSetNamespace}/${input.daemonSetName} is fully ready (fail-closed)`,
                    messageExpression: DAEMONSET_READY_MESSAGE_EXPRESSION,
                    reason: "Forbidden",
                },
            ],
        },
    };
}

export function failClosedBinding(input: FailClosedToolInput): ValidatingAdmissionPolicyBindingManifest {
    return {
        apiVersion: VAP_API_VERSION,
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: failClosedPolicyName(input.tool), labels: { ...MANAGED_BY_LABELS, "agent-security.io/tool": input.tool } },
        spec: {
            policyName: failClosedPolicyName(input.tool),
            validationActions: ["Deny"],
            paramRef: { name: input.daemonSetName, namespace: input.daemonSetNamespace, parameterNotFoundAction: "Deny" },
        },
    };
}
