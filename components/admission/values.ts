// Helm values for the kyverno chart (3.9.0, app v1.19.0; keys: ../shared/crds/kyverno/helm/kyverno/values.yaml).
import type { HelmValues } from "../charts";
import type { Platform } from "../wellKnown";
import type { ValidationAction } from "./policies";

export const KYVERNO_RELEASE = "kyverno";

/**
 * The chart pins runAsUser/runAsGroup 65534 in every container securityContext, which OpenShift's
 * restricted-v2 SCC refuses (UIDs come from the namespace range; kyverno/kyverno#1662). null removes
 * the chart default; everything else in those contexts (non-root, drop ALL, read-only root,
 * RuntimeDefault seccomp) already meets `restricted`.
 */
const OPENSHIFT_UID: HelmValues = { runAsUser: null, runAsGroup: null };

export function kyvernoValues(input: { readonly platform: Platform; readonly validationAction: ValidationAction }): HelmValues {
    const openshift = input.platform === "openshift";
    const securityContext = (): HelmValues => (openshift ? { securityContext: OPENSHIFT_UID } : {});
    return {
        admissionController: {
            // With Deny the admission controller is on the pod-creation path of agent namespaces
            // (failurePolicy Fail): three replicas so one eviction does not stop agent rollouts.
            replicas: input.validationAction === "Deny" ? 3 : 1,
            ...(openshift ? { container: { securityContext: OPENSHIFT_UID }, initContainer: { securityContext: OPENSHIFT_UID } } : {}),
        },
        backgroundController: { ...securityContext() },
        cleanupController: { ...securityContext() },
        reportsController: { ...securityContext() },
        webhooksCleanup: { ...securityContext() },
        crds: { install: true, ...(openshift ? { migration: { securityContext: OPENSHIFT_UID } } : {}) },
        // The kyverno-api subchart renders its CRDs with `labels: {}` and `annotations: {}` when
        // given none; the API server drops an empty map, so every later `pulumi up` saw a metadata
        // diff on those CRDs (found against a real kube-apiserver, test/e2e/cluster.spec.ts).
        "kyverno-api": {
            labels: { "app.kubernetes.io/part-of": "kyverno" },
            annotations: { "agent-security.io/installed-by": "kyverno-chart" },
        },
        test: { ...securityContext() },
    };
}
