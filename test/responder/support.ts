// Shared fixtures of the responder tests: a settings object, agent pods in a fake cluster, alerts.
import { AGENT_NAME_LABEL, AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, AGENT_SPIFFE_LABEL } from "../../responder/src/identity";
import type { Alert, FalcoPayloadInput } from "../../responder/src/payload";
import { responderSettingsSchema } from "../../responder/src/settings";
import type { AgentEntry, ResponderSettings } from "../../responder/src/settings";
import type { FakeCluster } from "./fakeCluster";

export const TRUST_DOMAIN = "agents.example.com";
export const STATE_NAMESPACE = "agent-security";
export const AUDIT_CONFIGMAP = "agent-security-audit";

export function agents(count: number): AgentEntry[] {
    return Array.from({ length: count }, (_, index) => {
        const name = `agent-${index}`;
        // Two agents share each namespace, so identities differ by ServiceAccount too.
        return { namespace: `agents-${Math.floor(index / 2)}`, name, serviceAccount: name, deployment: name };
    });
}

export function settings(overrides: Partial<ResponderSettings> & { agents: AgentEntry[] }): ResponderSettings {
    return responderSettingsSchema.parse({
        mode: "enforce",
        trustDomain: TRUST_DOMAIN,
        stateNamespace: STATE_NAMESPACE,
        auditConfigMap: AUDIT_CONFIGMAP,
        breaker: { maxRecycles: 3, windowSeconds: 600 },
        actions: { priorities: { critical: "recycle", emergency: "recycle" }, rules: { "Agent quarantine me": "quarantine" }, default: "record" },
        ...overrides,
    });
}

export function agentPodLabels(agent: string): Record<string, string> {
    return { [AGENT_ROLE_LABEL]: AGENT_ROLE_VALUE, [AGENT_NAME_LABEL]: agent, [AGENT_SPIFFE_LABEL]: "true" };
}

/** Agent pods, their Deployments and the audit ConfigMap, as the stack would have created them. */
export function seedCluster(cluster: FakeCluster, entries: readonly AgentEntry[], podsPerAgent: number): void {
    cluster.configMaps.set(`${STATE_NAMESPACE}/${AUDIT_CONFIGMAP}`, { labels: {}, data: { stack: "prod" }, resourceVersion: "1" });
    for (const entry of entries) {
        cluster.addDeployment(entry.namespace, entry.deployment, 2);
        for (let pod = 0; pod < podsPerAgent; pod++) ensurePod(cluster, entry, pod);
    }
}

export function podName(entry: AgentEntry, pod: number): string {
    return `${entry.name}-7d9f8-${pod}`;
}

/** Like a ReplicaSet: a deleted pod comes back under the same test name with a new uid. */
export function ensurePod(cluster: FakeCluster, entry: AgentEntry, pod: number): void {
    const key = `${entry.namespace}/${podName(entry, pod)}`;
    if (!cluster.pods.has(key)) cluster.addPod(entry.namespace, podName(entry, pod), { labels: agentPodLabels(entry.name), serviceAccountName: entry.serviceAccount });
}

let sequence = 0;
export function uuid(): string {
    sequence++;
    return `00000000-0000-4000-8000-${sequence.toString(16).padStart(12, "0")}`;
}

export function alertFor(entry: Pick<AgentEntry, "namespace">, pod: string, rule = "Agent credential read by shell or file tool", priority: Alert["priority"] = "critical"): Alert {
    return { uuid: uuid(), rule, priority, time: "2026-12-05T10:00:00.000Z", pod: { namespace: entry.namespace, name: pod } };
}

/** A payload as falcosidekick posts it (falcosidekick types.FalcoPayload). */
export function payload(namespace: string, pod: string, overrides: Partial<FalcoPayloadInput> = {}, agent = "agent-0"): FalcoPayloadInput {
    return {
        uuid: uuid(),
        output: `10:00:00.000000000: Critical Agent credential file read by a shell or tool (file=/var/run/secrets/agent-security/gemini-api-key/api-key proc=cat cmdline=cat /var/run/secrets/agent-security/gemini-api-key/api-key)`,
        priority: "Critical",
        rule: "Agent credential read by shell or file tool",
        time: "2026-12-05T10:00:00.000000000Z",
        output_fields: {
            "k8s.ns.name": namespace,
            "k8s.pod.name": pod,
            "container.name": "agent",
            "proc.cmdline": "cat /var/run/secrets/agent-security/gemini-api-key/api-key",
            "evt.time": 1764928800000000000,
            "k8s.pod.label[agent-security.io/agent]": agent,
        },
        source: "syscall",
        tags: ["agent-security", "credential_access"],
        hostname: "worker-1",
        ...overrides,
    };
}
