// File-based secrets, enforced by the API server itself in every agent namespace (design.md
// section 2). Pod Security Admission has no rule about secrets in environment variables and the
// Kyverno policies are optional (off on dev, possibly down elsewhere), so without this a pod created
// outside `pulumi up` (kubectl, a controller) could read a Secret through `secretKeyRef` and the
// baseline would not hold when a tool is off. Found by the real-API-server test
// (test/cluster/admission.spec.ts). Built-in ValidatingAdmissionPolicy: no webhook to be down.
// One policy and binding per agent namespace, so the namespace component owns its guard and a
// namespace shared by several agents still gets exactly one. Pure: the component creates these.
import { MANAGED_BY_LABELS } from "../wellKnown";

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

/** No container of the list reads a Secret through env or envFrom. */
export function noSecretEnvExpression(list: (typeof CONTAINER_LISTS)[number]): string {
    return (
        `!has(object.spec.${list}) || object.spec.${list}.all(c, ` +
        "(!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef))) && " +
        "(!has(c.envFrom) || c.envFrom.all(f, !has(f.secretRef))))"
    );
}

export function secretsPolicyName(namespace: string): string {
    return `agent-security-secrets-as-files-${namespace}`;
}

export function secretsAsFilesPolicy(namespace: string) {
    return {
        apiVersion: "admissionregistration.k8s.io/v1" as const,
        kind: "ValidatingAdmissionPolicy" as const,
        metadata: { name: secretsPolicyName(namespace), labels: { ...MANAGED_BY_LABELS } },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: {
                // Ephemeral containers arrive through their own subresource; `object` is the Pod there too.
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] }],
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
            },
            validations: CONTAINER_LISTS.map((list) => ({
                expression: noSecretEnvExpression(list),
                message: `secrets reach agent pods only as files (secret or projected volume): no secretKeyRef or envFrom.secretRef in ${list}`,
                reason: "Forbidden",
            })),
        },
    };
}

export function secretsAsFilesBinding(namespace: string) {
    return {
        apiVersion: "admissionregistration.k8s.io/v1" as const,
        kind: "ValidatingAdmissionPolicyBinding" as const,
        metadata: { name: secretsPolicyName(namespace), labels: { ...MANAGED_BY_LABELS } },
        spec: {
            policyName: secretsPolicyName(namespace),
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
        },
    };
}
