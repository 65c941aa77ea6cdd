import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Platform } from "../wellKnown";
import { AGENTS_NAMESPACE_LABEL, MANAGED_BY_LABELS } from "../wellKnown";
import { agentNetworkPolicies } from "./network";
import { limitRangeSpec, resourceQuotaSpec } from "./quota";
import { secretsAsFilesBinding, secretsAsFilesPolicy } from "./secretsPolicy";
import type { QuotaInput, QuotaWorkload } from "./quota";

/** One agent of the namespace, as the guards need it (quota sizing and the internet-egress allow). */
export interface AgentNamespaceMember extends QuotaWorkload {
    /** External hosts the agent may reach; non-empty turns on its HTTPS-to-internet allow. */
    readonly egressHosts: readonly string[];
}

export interface AgentNamespaceArgs {
    readonly name: string;
    readonly platform: Platform;
    /** Istio sidecars are injected and istiod must be reachable. */
    readonly mesh: boolean;
    /** Namespace of the MCP gateway the agents may call, when the tool policy is on. */
    readonly mcpGatewayNamespace?: string;
    /** Sum of the limits of the agents in the namespace, used for the ResourceQuota. */
    readonly quota: { readonly cpuMillis: number; readonly memoryBytes: number };
    /**
     * The agents of the namespace. When given, the quota is sized per agent (replicas, rollout
     * surge, sidecars) and agents with egress hosts get the HTTPS-to-internet allow; without it
     * `quota` is taken as a single pod and no internet egress is allowed.
     */
    readonly agents?: readonly AgentNamespaceMember[];
    /** Agents run under Kata: the in-pod spire-agent needs egress to the SPIRE server. */
    readonly kata?: boolean;
    /** Cilium policies own DNS and internet egress (see agentNetworkPolicies). */
    readonly cilium?: boolean;
}

/** Label of the default-revision sidecar injector (Sail `Istio` named `default`, istiod chart). */
export const ISTIO_INJECTION_LABEL = "istio-injection";

/**
 * Labels of an agent namespace. PSA `restricted` enforced with no pinned version (the policy
 * `baseline-namespace-pod-security` accepts absent or `latest`), audited and warned too. On
 * OpenShift the PSA label syncer would rewrite audit/warn from the SCCs the namespace's service
 * accounts may use; switching it off for this namespace keeps our labels authoritative.
 */
export function agentNamespaceLabels(platform: Platform, mesh: boolean): Record<string, string> {
    return {
        ...MANAGED_BY_LABELS,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        [AGENTS_NAMESPACE_LABEL]: "true",
        ...(platform === "openshift" ? { "security.openshift.io/scc.podSecurityLabelSync": "false" } : {}),
        ...(mesh ? { [ISTIO_INJECTION_LABEL]: "enabled" } : {}),
    };
}

/** The quota input of a namespace: per agent when known, else the legacy totals as one pod. */
export function quotaInputOf(args: AgentNamespaceArgs): QuotaInput {
    const workloads: QuotaWorkload[] = args.agents
        ? args.agents.map(({ name, replicas, cpuMillis, memoryBytes }) => ({ name, replicas, cpuMillis, memoryBytes }))
        : [{ name: args.name, replicas: 1, cpuMillis: args.quota.cpuMillis, memoryBytes: args.quota.memoryBytes }];
    return { workloads, mesh: args.mesh, kata: args.kata ?? false };
}

// Namespace (PSA restricted), default-deny NetworkPolicy + explicit allows, LimitRange, ResourceQuota,
// and the secrets-as-files ValidatingAdmissionPolicy (PSA has no rule for secrets in env).
export class AgentNamespace extends pulumi.ComponentResource {
    public readonly namespaceName: string;
    public readonly namespace: k8s.core.v1.Namespace;

    constructor(name: string, args: AgentNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:baseline:AgentNamespace", name, {}, opts);
        this.namespaceName = args.name;

        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: args.name, labels: agentNamespaceLabels(args.platform, args.mesh) } },
            { parent: this },
        );
        const inNamespace: pulumi.CustomResourceOptions = { parent: this, dependsOn: [this.namespace] };
        const labels = { ...MANAGED_BY_LABELS };

        const policies = agentNetworkPolicies({
            platform: args.platform,
            mesh: args.mesh,
            kata: args.kata ?? false,
            mcpGatewayNamespace: args.mcpGatewayNamespace,
            externalEgressAgents: (args.agents ?? []).filter((agent) => agent.egressHosts.length > 0).map((agent) => agent.name),
            cilium: args.cilium ?? false,
        });
        for (const policy of policies) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${policy.name}`,
                { metadata: { name: policy.name, namespace: args.name, labels }, spec: policy.spec },
                inNamespace,
            );
        }

        const quotaInput = quotaInputOf(args);
        new k8s.core.v1.LimitRange(
            `${name}-limits`,
            { metadata: { name: "agent-limits", namespace: args.name, labels }, spec: limitRangeSpec(quotaInput) },
            inNamespace,
        );
        new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            { metadata: { name: "agent-quota", namespace: args.name, labels }, spec: resourceQuotaSpec(quotaInput) },
            inNamespace,
        );

        const secretsPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-secrets-policy`, secretsAsFilesPolicy(args.name), {
            parent: this,
        });
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-secrets-binding`, secretsAsFilesBinding(args.name), {
            parent: this,
            dependsOn: [secretsPolicy],
        });

        this.registerOutputs({ namespaceName: this.namespaceName });
    }
}
