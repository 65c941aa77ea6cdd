// Cilium's view of the peers an agent talks to. Cilium exposes pod labels with the `k8s:` source
// prefix and the pod's namespace as `k8s:io.kubernetes.pod.namespace` (upstream-apis.md section 7).
import { MANAGED_BY_LABELS } from "../wellKnown";
import type { Platform } from "../wellKnown";

export const CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";

export const AGENT_SECURITY_LABELS: Readonly<Record<string, string>> = { ...MANAGED_BY_LABELS };

export interface DnsTarget {
    readonly selector: Readonly<Record<string, string>>;
    /** The port the DNS pods listen on (policy applies after service translation). */
    readonly port: string;
}

/**
 * The cluster resolver per platform. Kubernetes: CoreDNS pods labelled `k8s-app: kube-dns` in
 * kube-system, port 53. OpenShift: the DNS operator's pods in openshift-dns, labelled
 * `dns.operator.openshift.io/daemonset-dns: default`, listening on 5353 behind the `dns-default`
 * Service's port 53 (upstream-apis.md section 7 marks the OpenShift facts unverified).
 */
export const DNS_TARGETS: Readonly<Record<Platform, DnsTarget>> = {
    kubernetes: {
        selector: { [CILIUM_NAMESPACE_LABEL]: "kube-system", "k8s:k8s-app": "kube-dns" },
        port: "53",
    },
    openshift: {
        selector: { [CILIUM_NAMESPACE_LABEL]: "openshift-dns", "k8s:dns.operator.openshift.io/daemonset-dns": "default" },
        port: "5353",
    },
};
