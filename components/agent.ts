import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AgentConfig } from "../config/schema";
import { AGENT_CONTAINER, agentSelector, buildAgentPod } from "./baseline/agentPod";
import { ROLLOUT_SURGE } from "./baseline/quota";
import type { McpGatewayEndpoint, Platform } from "./wellKnown";
import { MANAGED_BY_LABELS } from "./wellKnown";

export interface SandboxedAgentArgs {
    readonly agent: AgentConfig;
    readonly namespace: string;
    readonly platform: Platform;
    /** runtimeClassName kata, and an in-pod spire-agent instead of the CSI socket. */
    readonly kata: boolean;
    readonly mesh: boolean;
    readonly trustDomain: string;
    /** The MCP gateway the agent calls, when the tool policy is on. */
    readonly mcpGateway?: McpGatewayEndpoint;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** SPIRE cluster name (k8s_psat); required when `kata` is on. */
    readonly clusterName?: string;
    /** Sidecar images, for registries mirrored elsewhere; defaults are pinned upstream images. */
    readonly spiffeHelperImage?: string;
    readonly spireAgentImage?: string;
}

// ServiceAccount + hardened Deployment with file secrets and the SPIFFE sidecar.
export class SandboxedAgent extends pulumi.ComponentResource {
    public readonly serviceAccountName: string;
    public readonly podLabels: Readonly<Record<string, string>>;
    public readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: SandboxedAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:agent:SandboxedAgent", name, {}, opts);
        const agent = args.agent;
        const labels = { ...MANAGED_BY_LABELS, "app.kubernetes.io/name": agent.name };
        const child: pulumi.CustomResourceOptions = { parent: this, ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}) };

        // One ServiceAccount per agent: it is the agent's SPIFFE ID and its gateway identity.
        this.serviceAccountName = agent.name;
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: this.serviceAccountName, namespace: args.namespace, labels }, automountServiceAccountToken: false },
            child,
        );

        const helperConfigMap = `${agent.name}-spiffe-helper`;
        const spireAgentConfigMap = args.kata ? `${agent.name}-spire-agent` : undefined;
        const pod = buildAgentPod({
            agent,
            platform: args.platform,
            kata: args.kata,
            trustDomain: args.trustDomain,
            clusterName: args.clusterName,
            mcpGateway: args.mcpGateway,
            serviceAccountName: this.serviceAccountName,
            helperConfigMap,
            spireAgentConfigMap,
            spiffeHelperImage: args.spiffeHelperImage,
            spireAgentImage: args.spireAgentImage,
        });
        this.podLabels = Object.freeze({ ...pod.labels });

        const configMaps: k8s.core.v1.ConfigMap[] = [
            new k8s.core.v1.ConfigMap(
                `${name}-spiffe-helper`,
                { metadata: { name: helperConfigMap, namespace: args.namespace, labels }, data: { "helper.conf": pod.spiffeHelperConfig } },
                child,
            ),
        ];
        if (spireAgentConfigMap && pod.spireAgentConfig) {
            configMaps.push(
                new k8s.core.v1.ConfigMap(
                    `${name}-spire-agent`,
                    { metadata: { name: spireAgentConfigMap, namespace: args.namespace, labels }, data: { "agent.conf": pod.spireAgentConfig } },
                    child,
                ),
            );
        }

        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: agent.name, namespace: args.namespace, labels: { ...labels, ...pod.labels } },
                spec: {
                    replicas: agent.replicas,
                    revisionHistoryLimit: 3,
                    selector: { matchLabels: agentSelector(agent.name) },
                    // maxSurge is fixed because the namespace quota is sized for replicas + 1 pods.
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: ROLLOUT_SURGE, maxUnavailable: 0 } },
                    template: {
                        metadata: { labels: { ...pod.labels }, annotations: { "kubectl.kubernetes.io/default-container": AGENT_CONTAINER } },
                        spec: pod.spec,
                    },
                },
            },
            { ...child, dependsOn: [...(args.dependsOn ?? []), serviceAccount, ...configMaps] },
        );

        this.registerOutputs({ serviceAccountName: this.serviceAccountName, podLabels: this.podLabels });
    }
}
