// The only way out of a baseline rule: an entry here, changed by a reviewed pull request.
//
// Every entry is one chart child that a real `pulumi preview` registers (helm.v4.Chart children,
// test/charts/children.spec.ts renders them) and lists exactly the policies that child fails
// after the values the program passes (components/*/values); everything else still applies to it.
// Namespace rules (PSA, default deny, quotas) are lifted per workload too, never per namespace.
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
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-no-privileged",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-volume-types",
        ],
        reason: "Falco's modern eBPF probe runs privileged with host /proc, /boot, /lib/modules, /usr, /etc and the container runtime socket mounted (falco chart 9.1.0 templates/pod-template.tpl `falco.securityContext`: `privileged: true` unless driver.modernEbpf.leastPrivileged, which RHCOS SELinux refuses; components/runtime/values.ts). So the namespace `falco` is PSA privileged. No host network, host ports or shared process namespace: those rules still apply, as do images, limits, secrets and API versions. The falcoctl init and sidecar containers have no limits: values.yaml falcoctl.artifact.install/follow.resources is `{}`, and test/optional-tools/falco.spec.ts only admits keys that values.yaml spells out (follow-up).",
    },
    {
        namespace: "falco",
        kind: "Deployment",
        name: "falcosidekick",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-secret-env",
            "baseline-resource-limits",
        ],
        reason: "falcosidekick reads its outputs' credentials only from environment variables: the chart loads its Secret with envFrom.secretRef (falcosidekick chart 0.14.0 templates/deployment.yaml) and has no file-based config. It lands in namespace `falco`, PSA privileged for the Falco DaemonSet, without a default-deny NetworkPolicy or quota yet. The chart offers no AppArmor value. The chart ships `resources: {}` (same follow-up as Falco).",
    },
    {
        namespace: "gateway-system",
        kind: "Deployment",
        name: "mcp-gateway-controller",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-read-only-root-filesystem",
            "baseline-run-as-non-root",
            "baseline-seccomp",
        ],
        reason: "The mcp-gateway chart 0.9.0 renders the controller with no pod or container securityContext at all and offers no value for one (templates/deployment-controller.yaml, values.yaml); the namespace gateway-system is PSA restricted but has no default-deny NetworkPolicy or quota yet. Follow-up: a hardening transform like components/gateway/transforms.ts.",
    },
    {
        namespace: "istio-cni",
        kind: "DaemonSet",
        name: "istio-cni-node",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-volume-types",
        ],
        reason: "The Istio CNI node agent installs the CNI plugin on the host and programs pod networking: privileged-class capabilities (NET_ADMIN, SYS_ADMIN, ...), root, hostPath /opt/cni/bin, /etc/cni/net.d and /var/run/istio-cni (cni chart 1.30.3 templates/daemonset.yaml). Namespace istio-cni is PSA privileged for it. No AppArmor or limits values in the chart.",
    },
    {
        namespace: "istio-system",
        kind: "Deployment",
        name: "istiod",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-resource-limits",
            "baseline-secret-file-mode",
        ],
        reason: "istiod chart 1.30.3 mounts its optional CA secrets (cacerts, istio-kubeconfig, istio-csr-dns-cert) without defaultMode and has no value for it, nor an AppArmor value; default resources have no limits and setting them would also cap the HPA-scaled control plane (templates/deployment.yaml, values.yaml). Namespace istio-system is PSA restricted but has no default-deny NetworkPolicy or quota yet: istiod must be reachable from every meshed pod and the API server.",
    },
    {
        namespace: "kuadrant-system",
        kind: "Deployment",
        name: "authorino-operator",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
        ],
        reason: "The kuadrant-operator chart 1.5.2 has no values (values.yaml is empty); its operator Deployments (templates/manifests.yaml and the bundled authorino-operator, limitador-operator and dns-operator charts) set no seccomp/AppArmor and some no read-only root or capability drop. Namespace kuadrant-system is PSA baseline (warn/audit restricted) for them and has no default-deny NetworkPolicy or quota yet. OpenShift installs Kuadrant through OLM instead.",
    },
    {
        namespace: "kuadrant-system",
        kind: "Deployment",
        name: "dns-operator-controller-manager",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-read-only-root-filesystem",
            "baseline-seccomp",
        ],
        reason: "The kuadrant-operator chart 1.5.2 has no values (values.yaml is empty); its operator Deployments (templates/manifests.yaml and the bundled authorino-operator, limitador-operator and dns-operator charts) set no seccomp/AppArmor and some no read-only root or capability drop. Namespace kuadrant-system is PSA baseline (warn/audit restricted) for them and has no default-deny NetworkPolicy or quota yet. OpenShift installs Kuadrant through OLM instead.",
    },
    {
        namespace: "kuadrant-system",
        kind: "Deployment",
        name: "kuadrant-operator-controller-manager",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-seccomp",
        ],
        reason: "The kuadrant-operator chart 1.5.2 has no values (values.yaml is empty); its operator Deployments (templates/manifests.yaml and the bundled authorino-operator, limitador-operator and dns-operator charts) set no seccomp/AppArmor and some no read-only root or capability drop. Namespace kuadrant-system is PSA baseline (warn/audit restricted) for them and has no default-deny NetworkPolicy or quota yet. OpenShift installs Kuadrant through OLM instead.",
    },
    {
        namespace: "kuadrant-system",
        kind: "Deployment",
        name: "limitador-operator-controller-manager",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-read-only-root-filesystem",
            "baseline-seccomp",
        ],
        reason: "The kuadrant-operator chart 1.5.2 has no values (values.yaml is empty); its operator Deployments (templates/manifests.yaml and the bundled authorino-operator, limitador-operator and dns-operator charts) set no seccomp/AppArmor and some no read-only root or capability drop. Namespace kuadrant-system is PSA baseline (warn/audit restricted) for them and has no default-deny NetworkPolicy or quota yet. OpenShift installs Kuadrant through OLM instead.",
    },
    {
        namespace: "kube-system",
        kind: "DaemonSet",
        name: "cilium",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-host-namespaces",
            "baseline-no-host-ports",
            "baseline-no-privilege-escalation",
            "baseline-no-privileged",
            "baseline-no-probe-host",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-selinux",
            "baseline-volume-types",
        ],
        reason: "The Cilium agent is the node's CNI and datapath: privileged init containers, host network, host ports, hostPath /sys/fs/bpf, /run/cilium, /etc/cni/net.d, /lib/modules and SELinux spc_t (cilium chart 1.20.0 templates/cilium-agent/daemonset.yaml). Installed only with cilium.install: true into kube-system, which the program does not own (no PSA label, default deny or quota of ours there).",
    },
    {
        namespace: "kube-system",
        kind: "DaemonSet",
        name: "cilium-envoy",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-host-namespaces",
            "baseline-no-host-ports",
            "baseline-no-privilege-escalation",
            "baseline-no-probe-host",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-selinux",
            "baseline-volume-types",
        ],
        reason: "Cilium's node Envoy shares the agent's host network and BPF maps: host network, host ports, hostPath /sys/fs/bpf and /var/run/cilium, SELinux spc_t, NET_ADMIN/SYS_ADMIN (cilium chart 1.20.0 templates/cilium-envoy/daemonset.yaml), in kube-system, which the program does not own.",
    },
    {
        namespace: "kube-system",
        kind: "Deployment",
        name: "cilium-operator",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-host-namespaces",
            "baseline-no-host-ports",
            "baseline-no-probe-host",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
        ],
        reason: "cilium-operator runs with host network (it must work before pod networking exists) and host ports, and the chart sets no AppArmor, limits or read-only root for it (cilium chart 1.20.0 templates/cilium-operator/deployment.yaml). It runs in kube-system, which the program does not own.",
    },
    {
        namespace: "kube-system",
        kind: "DaemonSet",
        name: "kata-deploy",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-volume-types",
        ],
        reason: "kata-deploy installs the Kata runtime onto each node: it writes the host's /opt/kata and containerd config through hostPath and restarts containerd as root with host access (kata-deploy chart 4.1.0 templates/kata-deploy.yaml). It runs in kube-system, which the program does not own.",
    },
    {
        namespace: "kyverno",
        kind: "Deployment",
        name: "kyverno-admission-controller",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-resource-limits",
        ],
        reason: "The kyverno chart 3.9.0 sets no AppArmor profile and no cpu limit by default (values.yaml `*.resources`), and the namespace kyverno is PSA restricted without a default-deny NetworkPolicy or quota yet: the admission webhook must be reachable from the API server, whose address the program does not know. Follow-up: limits through values.",
    },
    {
        namespace: "kyverno",
        kind: "Deployment",
        name: "kyverno-background-controller",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-resource-limits",
        ],
        reason: "The kyverno chart 3.9.0 sets no AppArmor profile and no cpu limit by default (values.yaml `*.resources`), and the namespace kyverno is PSA restricted without a default-deny NetworkPolicy or quota yet: the admission webhook must be reachable from the API server, whose address the program does not know. Follow-up: limits through values.",
    },
    {
        namespace: "kyverno",
        kind: "Deployment",
        name: "kyverno-cleanup-controller",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-resource-limits",
        ],
        reason: "The kyverno chart 3.9.0 sets no AppArmor profile and no cpu limit by default (values.yaml `*.resources`), and the namespace kyverno is PSA restricted without a default-deny NetworkPolicy or quota yet: the admission webhook must be reachable from the API server, whose address the program does not know. Follow-up: limits through values.",
    },
    {
        namespace: "kyverno",
        kind: "Deployment",
        name: "kyverno-reports-controller",
        policies: [
            "baseline-apparmor",
            "baseline-default-deny-network",
            "baseline-namespace-quotas",
            "baseline-resource-limits",
        ],
        reason: "The kyverno chart 3.9.0 sets no AppArmor profile and no cpu limit by default (values.yaml `*.resources`), and the namespace kyverno is PSA restricted without a default-deny NetworkPolicy or quota yet: the admission webhook must be reachable from the API server, whose address the program does not know. Follow-up: limits through values.",
    },
    {
        namespace: "spire-server",
        kind: "DaemonSet",
        name: "spire-agent",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-host-namespaces",
            "baseline-no-privilege-escalation",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-volume-types",
        ],
        reason: "The node SPIRE agent serves the Workload API on a hostPath socket directory (/run/spire/agent-sockets) and attests pods through the host PID namespace (spire chart 0.30.0 charts/spire-agent/templates/daemonset.yaml). Namespace spire-server is PSA privileged for it.",
    },
    {
        namespace: "spire-server",
        kind: "DaemonSet",
        name: "spire-spiffe-csi-driver",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-no-privileged",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
            "baseline-volume-types",
        ],
        reason: "The SPIFFE CSI driver bind-mounts the agent's socket into pods: privileged with hostPath kubelet directories and bidirectional mount propagation (spire chart 0.30.0 charts/spiffe-csi-driver/templates/daemonset.yaml).",
    },
    {
        namespace: "spire-server",
        kind: "StatefulSet",
        name: "spire-server",
        policies: [
            "baseline-apparmor",
            "baseline-capabilities",
            "baseline-default-deny-network",
            "baseline-namespace-pod-security",
            "baseline-namespace-quotas",
            "baseline-no-privilege-escalation",
            "baseline-no-shared-process-namespace",
            "baseline-read-only-root-filesystem",
            "baseline-resource-limits",
            "baseline-run-as-non-root",
            "baseline-seccomp",
        ],
        reason: "The spire chart 0.30.0 runs the server with the controller manager sharing its process namespace and leaves container securityContext, AppArmor and limits empty by default (charts/spire-server/templates/server-resource.yaml, values.yaml `securityContext: {}`). It lands in spire-server, PSA privileged for the agent and CSI driver, without a default-deny NetworkPolicy or quota yet.",
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
