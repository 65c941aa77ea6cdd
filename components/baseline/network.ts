// NetworkPolicies of an agent namespace (design.md section 6, baseline): deny everything, then
// allow exactly what an agent pod needs. Pure: AgentNamespace wraps each spec in a NetworkPolicy.
//
// Every egress rule names a destination (`to`): OVN-Kubernetes, OpenShift's default CNI, drops
// port-only egress rules, so a rule without `to` would allow nothing there and everything on
// other CNIs.
import { spireServerEndpoint } from "../identity/endpoints";
import type { Platform } from "../wellKnown";
import { AGENT_NAME_LABEL, ISTIO_NAMESPACE } from "../wellKnown";

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

export interface NetworkPolicyPeer {
    namespaceSelector?: LabelSelector;
    podSelector?: LabelSelector;
    ipBlock?: { cidr: string; except: string[] };
}

export interface NetworkPolicyPort {
    protocol: "TCP" | "UDP";
    port: number;
}

export interface NetworkPolicyEgressRule {
    to: NetworkPolicyPeer[];
    ports?: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
    podSelector: LabelSelector;
    policyTypes: ("Ingress" | "Egress")[];
    egress?: NetworkPolicyEgressRule[];
}

export interface NamedNetworkPolicy {
    /** metadata.name, and the role suffix of the Pulumi resource. */
    readonly name: string;
    readonly spec: NetworkPolicySpec;
}

/** Namespace name label the API server sets on every namespace (Kubernetes >= 1.21). */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

function inNamespace(namespace: string, podLabels?: Record<string, string>): NetworkPolicyPeer {
    return {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
        ...(podLabels ? { podSelector: { matchLabels: { ...podLabels } } } : {}),
    };
}

function tcpUdp(port: number): NetworkPolicyPort[] {
    return [
        { protocol: "UDP", port },
        { protocol: "TCP", port },
    ];
}

/**
 * The cluster DNS pods and the port they listen on. NetworkPolicy matches after the Service DNAT,
 * so the rule must name the pods' own port: CoreDNS on Kubernetes listens on 53; OpenShift's DNS
 * daemonset listens on 5353 behind the `dns-default` Service's port 53 (openshift/cluster-dns-operator),
 * so an allow on 53 there lets no query through.
 */
export function dnsPeer(platform: Platform): { peer: NetworkPolicyPeer; port: number } {
    return platform === "openshift"
        ? { peer: inNamespace("openshift-dns", { "dns.operator.openshift.io/daemonset-dns": "default" }), port: 5353 }
        : { peer: inNamespace("kube-system", { "k8s-app": "kube-dns" }), port: 53 };
}

/**
 * Address ranges the internet-egress rule never reaches: RFC 1918 (pod, service and node networks
 * live there), link-local 169.254.0.0/16 (cloud metadata endpoints), CGNAT 100.64.0.0/10 (OVN's
 * join and transit subnets, many cloud VPCs) and loopback.
 */
export const NON_INTERNET_CIDRS: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"];

/** istiod's XDS and CA port; 15017 is its webhook, called by the API server, never by a pod. */
export const ISTIOD_XDS_PORT = 15012;

export interface AgentNetworkInput {
    readonly platform: Platform;
    readonly mesh: boolean;
    /** Agents run under Kata: their in-pod spire-agent dials the SPIRE server. */
    readonly kata: boolean;
    readonly mcpGatewayNamespace?: string;
    /** Agents of the namespace that have external egress hosts. */
    readonly externalEgressAgents: readonly string[];
    /** Cilium enforces the agents' egress (CiliumNetworkPolicy with an L7 DNS rule and toFQDNs). */
    readonly cilium?: boolean;
}

export function agentNetworkPolicies(input: AgentNetworkInput): NamedNetworkPolicy[] {
    const policies: NamedNetworkPolicy[] = [
        // Selects every pod, lists both directions, allows nothing: the base every allow below
        // adds to (policies are additive).
        { name: "default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    ];
    // Cilium adds up the allows of every policy that selects a pod, Kubernetes NetworkPolicies
    // included, and an L4-only allow switches its L7 filter off. With Cilium on, a plain DNS allow
    // would reopen every name (DNS exfiltration) and the 443-to-internet allow would make the
    // toFQDNs allowlist moot, so both are left to the agent's CiliumNetworkPolicy.
    const ciliumOwnsEgress = input.cilium === true;
    const dns = dnsPeer(input.platform);
    if (!ciliumOwnsEgress) {
        policies.push({ name: "allow-dns", spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [dns.peer], ports: tcpUdp(dns.port) }] } });
    }

    if (input.mcpGatewayNamespace) {
        // The namespace holds only the MCP gateway; its listener ports are gateway config owned by
        // another component, so the rule pins the destination, not the port.
        policies.push({
            name: "allow-mcp-gateway",
            spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [inNamespace(input.mcpGatewayNamespace)] }] },
        });
    }
    if (input.mesh) {
        policies.push({
            name: "allow-istiod",
            spec: {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [{ to: [inNamespace(ISTIO_NAMESPACE, { app: "istiod" })], ports: [{ protocol: "TCP", port: ISTIOD_XDS_PORT }] }],
            },
        });
    }
    if (input.kata) {
        // Only under Kata: without it the node's SPIRE agent (not the pod) talks to the server.
        const server = spireServerEndpoint(input.platform);
        policies.push({
            name: "allow-spire-server",
            spec: {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [{ to: [inNamespace(server.namespace)], ports: [{ protocol: "TCP", port: server.podPort }] }],
            },
        });
    }
    const external = [...new Set(input.externalEgressAgents)].sort();
    if (external.length > 0 && !ciliumOwnsEgress) {
        // NetworkPolicy cannot name hosts. The host allowlist is enforced by the mesh
        // (REGISTRY_ONLY + ServiceEntry, from the sidecar, whose traffic leaves from the pod IP
        // and so also needs this rule) and by Cilium toFQDNs where those are on; this rule bounds
        // what is left when they are off: HTTPS only, only to public IPv4 space, only for agents
        // that have egress hosts at all. IPv6 destinations stay denied.
        policies.push({
            name: "allow-external-https",
            spec: {
                podSelector: { matchExpressions: [{ key: AGENT_NAME_LABEL, operator: "In", values: external }] },
                policyTypes: ["Egress"],
                egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_INTERNET_CIDRS] } }], ports: [{ protocol: "TCP", port: 443 }] }],
            },
        });
    }
    return policies;
}
