// Who an alert is about. Falco names a pod; the responder acts per agent identity, which is the
// pair (namespace, ServiceAccount) that SPIRE turns into the SPIFFE ID
// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>` (the ClusterSPIFFEID template in
// components/identity/endpoints.ts). A pod is an agent only when the API server says so: it carries
// the agent role and name labels, runs as that agent's ServiceAccount, and the agent is one the
// stack deployed in that namespace. Anything else is recorded and never acted on.
import type { AgentEntry } from "./settings";

/** Pod labels as components/wellKnown.ts defines them (the responder image cannot import the program). */
export const AGENT_ROLE_LABEL = "agent-security.io/role";
export const AGENT_ROLE_VALUE = "agent";
export const AGENT_NAME_LABEL = "agent-security.io/agent";
/** The ClusterSPIFFEIDs select on this label; removing it stops SVID issuance for the pod. */
export const AGENT_SPIFFE_LABEL = "agent-security.io/spiffe";
/** Set on a quarantined pod; the quarantine NetworkPolicy selects it. */
export const QUARANTINE_LABEL = "agent-security.io/quarantine";

export interface PodFacts {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly serviceAccountName: string;
}

export interface AgentIdentity {
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly spiffeId: string;
    readonly agent: AgentEntry;
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
    return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The key the breaker counts under. */
export function identityKey(identity: Pick<AgentIdentity, "namespace" | "serviceAccount">): string {
    return `${identity.namespace}/${identity.serviceAccount}`;
}

/**
 * Name of the ConfigMap holding one identity's breaker state. Namespace and ServiceAccount names of
 * agents are DNS labels, so the dotted name is a valid DNS subdomain (at most 24 + 63 + 1 + 63).
 */
export function breakerStateName(namespace: string, serviceAccount: string): string {
    return `falco-responder-breaker.${namespace}.${serviceAccount}`;
}

/** Agents by namespace, for the lookup of each alert. */
export function agentIndex(agents: readonly AgentEntry[]): Map<string, AgentEntry[]> {
    const index = new Map<string, AgentEntry[]>();
    for (const agent of agents) index.set(agent.namespace, [...(index.get(agent.namespace) ?? []), agent]);
    return index;
}

export type Resolution =
    | { readonly kind: "agent"; readonly identity: AgentIdentity }
    | { readonly kind: "not-agent"; readonly reason: string };

/** Decides from the pod as the API server returned it whether it is one of the stack's agents. */
export function resolveIdentity(pod: PodFacts, agents: readonly AgentEntry[], trustDomain: string): Resolution {
    if (pod.labels[AGENT_ROLE_LABEL] !== AGENT_ROLE_VALUE) return { kind: "not-agent", reason: "pod has no agent role label" };
    const name = pod.labels[AGENT_NAME_LABEL];
    const agent = agents.find((entry) => entry.namespace === pod.namespace && entry.name === name);
    if (!agent) return { kind: "not-agent", reason: "pod's agent label names no agent of this namespace" };
    if (pod.serviceAccountName !== agent.serviceAccount) return { kind: "not-agent", reason: "pod does not run as the agent's ServiceAccount" };
    return {
        kind: "agent",
        identity: { namespace: pod.namespace, serviceAccount: agent.serviceAccount, spiffeId: spiffeId(trustDomain, pod.namespace, agent.serviceAccount), agent },
    };
}
