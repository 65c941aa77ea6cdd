// Pod Security Admission labels for the platform namespaces this program creates (not agent
// namespaces: those belong to components/baseline and are always `restricted`).
import { operatorNamespaceLabels } from "../operators";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/**
 * PSA labels. `enforce` is what runs there at worst; `warn` and `audit` stay `restricted`, so every
 * pod that falls short of it is reported even where it is admitted. No version label: PSA then
 * applies `latest` (design.md section 6, baseline).
 */
export function podSecurityLabels(enforce: PodSecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    };
}

/** Ours, explicitly not an agent namespace (as operator namespaces are), with PSA labels. */
export function platformNamespaceLabels(enforce: PodSecurityLevel): Record<string, string> {
    return operatorNamespaceLabels(podSecurityLabels(enforce));
}
