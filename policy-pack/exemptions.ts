// The only way out of a baseline rule: an entry here, changed by a reviewed pull request.
//
// An exemption names the exact namespace, kind and name of one workload and the policies it is
// exempt from. Labels and annotations never exempt anything: whoever writes the workload also
// writes its labels. Patches (`*Patch` resources) are never exempt, so a patch cannot add to an
// exempt workload what the exemption did not anticipate.

import { nameOf, Workload } from "./checks/workload";
import { asStr, get } from "./checks/values";

export interface Exemption {
    readonly namespace: string;
    readonly kind: string;
    readonly name: string;
    readonly policies: readonly string[];
    /** Why the workload cannot meet the policies; shown to reviewers, not to the engine. */
    readonly reason: string;
}

export const EXEMPTIONS: readonly Exemption[] = Object.freeze([
    {
        namespace: "falco",
        kind: "DaemonSet",
        name: "falco",
        policies: [
            "baseline-seccomp",
            "baseline-capabilities",
            "baseline-read-only-root-filesystem",
            "baseline-run-as-non-root",
            "baseline-no-privilege-escalation",
            "baseline-apparmor",
            "baseline-no-privileged",
            "baseline-no-host-namespaces",
            "baseline-volume-types",
            "baseline-namespace-pod-security",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
        ],
        reason:
            "Falco's modern eBPF probe loads BPF programs as root with host /proc, /sys and the container runtime socket mounted (falco chart 9.1.0); it cannot run under PSA restricted or the hardened securityContext. Image, limits, secrets and API version rules still apply.",
    },
]);

/** True when `policy` must skip `w`: exact namespace, kind and name, never for a Patch. */
export function isExempt(policy: string, w: Workload): boolean {
    if (w.patch) {
        return false;
    }
    for (const e of EXEMPTIONS) {
        // Kind and policy first: they are plain values, and metadata is only read for candidates.
        if (e.kind !== w.kind || !e.policies.includes(policy)) {
            continue;
        }
        if (asStr(get(w.props, "metadata", "namespace")) === e.namespace && nameOf(w.props) === e.name) {
            return true;
        }
    }
    return false;
}
