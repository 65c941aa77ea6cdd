// The CiliumNetworkPolicy of one agent (design.md section 6, network; upstream-apis.md section 7).
// Pure: the component creates what this returns, the tests inspect it.
//
// Shape of the egress allowlist:
// - DNS to the cluster resolver, through Cilium's DNS proxy (`rules.dns`), which is what fills the
//   FQDN -> IP cache that `toFQDNs` matches on. Only the agent's hosts are allowed by exact name, so
//   a query for any other external name is refused and DNS cannot be used to tunnel data out. The
//   one pattern is `**.<cluster domain>`: in-cluster names (the MCP gateway, istiod, the SPIRE server)
//   and the resolver's search-path expansions (`api.example.com.<ns>.svc.cluster.local`, tried first
//   with ndots:5). The cluster DNS answers that zone itself and never forwards it, so it carries no
//   data out of the cluster.
// - `toFQDNs` matchName per host, TCP 443 only (the same hosts, port and scheme as the mesh's
//   ServiceEntries and the tool policy's URL rules).
// - In-cluster peers by namespace/label: the MCP gateway, istiod (sidecar xDS + certificates on 15012)
//   when the mesh is on, the SPIRE server when an in-pod spire-agent is used (Kata).
// Nothing else: no toCIDR/toCIDRSet, no toEntities (so no `world`), and therefore nothing that could
// reach 169.254.0.0/16 (cloud metadata). On top of not allowing it, the metadata range is denied with
// `egressDeny` (design.md section 2, "metadata range denied"): Cilium adds up the allows of every
// policy that selects a pod, Kubernetes NetworkPolicies included, and only a deny wins over all of
// them.
import { AGENT_SECURITY_LABELS, CILIUM_NAMESPACE_LABEL, DNS_TARGETS } from "./wellKnownPeers";
import type { Platform } from "../wellKnown";
import { ISTIO_NAMESPACE } from "../wellKnown";

export const CILIUM_API_VERSION = "cilium.io/v2";
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
export const ISTIOD_XDS_PORT = "15012";
export const SPIRE_SERVER_PORT = "8081";
export const HTTPS_PORT = "443";

export interface CiliumPortProtocol {
    readonly port: string;
    readonly protocol: "TCP" | "UDP" | "ANY";
}

export interface CiliumDnsRule {
    readonly matchName?: string;
    readonly matchPattern?: string;
}

export interface CiliumPortRule {
    readonly ports: readonly CiliumPortProtocol[];
    readonly rules?: { readonly dns: readonly CiliumDnsRule[] };
}

export interface CiliumEndpointSelector {
    readonly matchLabels: Readonly<Record<string, string>>;
}

export interface CiliumEgressRule {
    readonly toEndpoints?: readonly CiliumEndpointSelector[];
    readonly toFQDNs?: readonly CiliumDnsRule[];
    readonly toPorts?: readonly CiliumPortRule[];
}

export interface CiliumEgressDenyRule {
    readonly toCIDRSet: readonly { readonly cidr: string }[];
}

/** Cloud instance metadata (169.254.169.254) and the rest of IPv4 link-local. */
export const METADATA_RANGE = "169.254.0.0/16";

export interface CiliumNetworkPolicyManifest {
    readonly apiVersion: typeof CILIUM_API_VERSION;
    readonly kind: "CiliumNetworkPolicy";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: {
        readonly description: string;
        readonly endpointSelector: CiliumEndpointSelector;
        readonly enableDefaultDeny: { readonly egress: boolean; readonly ingress: boolean };
        readonly egress: readonly CiliumEgressRule[];
        readonly egressDeny: readonly CiliumEgressDenyRule[];
    };
}

export interface AgentEgressInput {
    readonly agentName: string;
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly egressHosts: readonly string[];
    readonly platform: Platform;
    readonly mcpGatewayNamespace?: string;
    /** The Istio sidecar is injected and must reach istiod. */
    readonly mesh?: boolean;
    /** Namespace of the SPIRE server, when the pod runs its own spire-agent (Kata). */
    readonly spireServerNamespace?: string;
    readonly clusterDomain?: string;
}

const sortedKeys = (labels: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

export function agentEgressPolicyName(agentName: string): string {
    return `${agentName}-egress`;
}

export function agentEgressPolicy(input: AgentEgressInput): CiliumNetworkPolicyManifest {
    const hosts = [...new Set(input.egressHosts)].sort();
    const clusterDomain = input.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const dns = DNS_TARGETS[input.platform];

    const egress: CiliumEgressRule[] = [
        {
            toEndpoints: [{ matchLabels: sortedKeys(dns.selector) }],
            toPorts: [
                {
                    ports: [
                        { port: dns.port, protocol: "UDP" },
                        { port: dns.port, protocol: "TCP" },
                    ],
                    rules: { dns: [...hosts.map((host) => ({ matchName: host })), { matchPattern: `**.${clusterDomain}` }] },
                },
            ],
        },
    ];
    if (hosts.length > 0) {
        egress.push({
            toFQDNs: hosts.map((host) => ({ matchName: host })),
            toPorts: [{ ports: [{ port: HTTPS_PORT, protocol: "TCP" }] }],
        });
    }
    if (input.mcpGatewayNamespace !== undefined) {
        // The gateway's listener port belongs to the gateway component; the namespace is the boundary,
        // as in the baseline NetworkPolicy.
        egress.push({ toEndpoints: [{ matchLabels: { [CILIUM_NAMESPACE_LABEL]: input.mcpGatewayNamespace } }] });
    }
    if (input.mesh === true) {
        egress.push({
            toEndpoints: [{ matchLabels: { [CILIUM_NAMESPACE_LABEL]: ISTIO_NAMESPACE, "k8s:app": "istiod" } }],
            toPorts: [{ ports: [{ port: ISTIOD_XDS_PORT, protocol: "TCP" }] }],
        });
    }
    if (input.spireServerNamespace !== undefined) {
        egress.push({
            toEndpoints: [{ matchLabels: { [CILIUM_NAMESPACE_LABEL]: input.spireServerNamespace } }],
            toPorts: [{ ports: [{ port: SPIRE_SERVER_PORT, protocol: "TCP" }] }],
        });
    }

    return {
        apiVersion: CILIUM_API_VERSION,
        kind: "CiliumNetworkPolicy",
        metadata: { name: agentEgressPolicyName(input.agentName), namespace: input.namespace, labels: { ...AGENT_SECURITY_LABELS } },
        spec: {
            description: `Egress allowlist of agent ${input.agentName}: DNS for its hosts, HTTPS to them, and the in-cluster services it needs. Generated by agent-security.`,
            endpointSelector: { matchLabels: sortedKeys(input.podLabels) },
            // Egress is default-deny once this policy selects the pod; ingress is left to the
            // baseline NetworkPolicy (this policy says nothing about it).
            enableDefaultDeny: { egress: true, ingress: false },
            egress,
            egressDeny: [{ toCIDRSet: [{ cidr: METADATA_RANGE }] }],
        },
    };
}
