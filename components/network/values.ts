// Helm values for the cilium chart (1.20.0; keys and schema: ../shared/crds/cilium/helm/cilium/).
// Only what the agent egress policies depend on is set; datapath, IPAM and kube-proxy replacement
// are cluster decisions this program does not make (design.md section 6: replacing a CNI on a live
// cluster is not this program's business, the chart is only installed when asked).
import type { HelmValues } from "../charts";

export const CILIUM_RELEASE = "cilium";

export function ciliumValues(): HelmValues {
    return {
        // toFQDNs needs the L7 DNS proxy; it is the chart default, stated because the policies
        // silently stop resolving without it.
        l7Proxy: true,
        policyEnforcementMode: "default",
        dnsProxy: {
            // A refused query makes glibc abandon the whole search list (NO_RECOVERY), so a name the
            // policy allows would fail to resolve when a search-path expansion outside the cluster
            // domain is tried first. NXDOMAIN lets the resolver move on to the allowed absolute name.
            dnsRejectResponseCode: "nameError",
        },
    };
}
