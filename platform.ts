// Composition: the resolved feature set decides which components exist; this file wires their
// inputs and outputs and reads no config of its own (design.md section 3).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AgentNamespace } from "./components/baseline";
import { SandboxedAgent } from "./components/agent";
import { FailClosedAdmission, KyvernoAdmission } from "./components/admission";
import { McpGateway } from "./components/gateway";
import { Identity } from "./components/identity";
import { Isolation } from "./components/isolation";
import { AgentMeshPolicy, Mesh } from "./components/mesh";
import { AgentEgressPolicy, CiliumInstall } from "./components/network";
import { FALCOSIDEKICK_AUTH_SECRET, FalcoResponder } from "./components/response";
import { Falco } from "./components/runtime";
import type { FalcoCoverage } from "./components/runtime";
import { ToolHealth } from "./components/runtime/health";
import { FALCO_NAMESPACE, GATEWAY_NAMESPACE, KATA_RUNTIME_CLASS, MANAGED_BY_LABELS } from "./components/wellKnown";
import type { AgentConfig, AgentSecurityConfig } from "./config/schema";
import { ConfigError, cpuMillis, memoryBytes } from "./config/schema";
import type { FeatureSet } from "./config/profiles";
import { RESPONDER_MODE, enabledTools } from "./config/profiles";
import { responderIssues } from "./config/responder";

export const AUDIT_CONFIGMAP_NAME = "agent-security-audit";

export interface AgentSummary {
    readonly name: string;
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly kata: boolean;
    readonly falcoCovered: boolean;
}

export interface PlatformOutputs {
    readonly stack: string;
    readonly profile: string;
    readonly platform: string;
    readonly features: FeatureSet;
    readonly emergencyOverride: AgentSecurityConfig["emergencyOverride"] | null;
    readonly agents: readonly AgentSummary[];
    readonly falcoCoverage: FalcoCoverage | null;
    readonly mcpGatewayUrl: string | null;
    readonly renderDirectory: string | null;
}

/** The namespace an agent lands in: its own unless config shares one. */
export function agentNamespace(agent: AgentConfig): string {
    return agent.namespace ?? agent.name;
}

/** Agents grouped by namespace, in config order, so shared namespaces get one set of guards. */
export function agentsByNamespace(agents: readonly AgentConfig[]): Map<string, AgentConfig[]> {
    const groups = new Map<string, AgentConfig[]>();
    for (const agent of agents) {
        const namespace = agentNamespace(agent);
        groups.set(namespace, [...(groups.get(namespace) ?? []), agent]);
    }
    return groups;
}

/** What every layer is handed: the validated config, the resolved tools and the provider options. */
interface Floor {
    readonly cfg: AgentSecurityConfig;
    readonly features: FeatureSet;
    readonly opts: pulumi.ComponentResourceOptions;
}

/** What the agent layer wires to: the layers below it that exist on this profile. */
interface AgentNeighbours {
    readonly isolation: Isolation | undefined;
    readonly mesh: Mesh | undefined;
    readonly gateway: McpGateway | undefined;
}

export function buildPlatform(cfg: AgentSecurityConfig): PlatformOutputs {
    const provider = new k8s.Provider("k8s", cfg.render ? { renderYamlToDirectory: cfg.render.directory } : {});
    const floor: Floor = { cfg, features: cfg.features, opts: { provider } };
    assertResponderConfig(cfg);

    // Registration order is kept as it was before the split, so rendered output does not move.
    const platformNamespace = platformLayer(floor);
    const isolation = isolationLayer(floor);
    const mesh = meshLayer(floor);
    const gateway = gatewayLayer(floor);
    identityLayer(floor);
    const agentNamespaces: pulumi.Resource[] = [];
    const agents = agentLayer(floor, { isolation, mesh, gateway }, agentNamespaces);
    ciliumLayer(floor);
    const responder = responseLayer(floor, agents, [platformNamespace, ...agentNamespaces]);
    const falco = falcoLayer(floor, responder);
    kyvernoLayer(floor);
    failClosedLayer(floor);
    healthLayer(floor, platformNamespace);

    return {
        stack: cfg.stack,
        profile: cfg.profile,
        platform: cfg.platform,
        features: floor.features,
        emergencyOverride: cfg.emergencyOverride ?? null,
        agents,
        falcoCoverage: falco ? falco.coverage : null,
        mcpGatewayUrl: gateway ? gateway.url : null,
        renderDirectory: cfg.render?.directory ?? null,
    };
}

/** The platform namespace and the audit trail of design.md section 5: profile, flags and any emergency override, in-cluster. */
function platformLayer({ cfg, features, opts }: Floor): k8s.core.v1.Namespace {
    const platformNamespace = new k8s.core.v1.Namespace(
        "platform-namespace",
        {
            metadata: {
                name: cfg.platformNamespace,
                labels: {
                    ...MANAGED_BY_LABELS,
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            },
        },
        opts,
    );
    new k8s.core.v1.ConfigMap(
        "audit",
        {
            metadata: { name: AUDIT_CONFIGMAP_NAME, namespace: cfg.platformNamespace, labels: { ...MANAGED_BY_LABELS } },
            data: {
                stack: cfg.stack,
                profile: cfg.profile,
                platform: cfg.platform,
                tools: JSON.stringify(features),
                emergencyOverride: JSON.stringify(cfg.emergencyOverride ?? null),
            },
        },
        { ...opts, dependsOn: [platformNamespace] },
    );
    return platformNamespace;
}

/** Kata: agent pods wait for it, because a pod naming a RuntimeClass that does not exist yet is refused at admission. */
function isolationLayer({ cfg, features, opts }: Floor): Isolation | undefined {
    if (!features.kata) return undefined;
    return new Isolation(
        "isolation",
        { platform: cfg.platform, chart: cfg.charts.kataDeploy, operator: cfg.operators.sandboxedContainers, approval: cfg.operatorApproval, labelNodes: cfg.kata.labelNodes },
        opts,
    );
}

function meshLayer({ cfg, features, opts }: Floor): Mesh | undefined {
    if (!features.envoy) return undefined;
    return new Mesh(
        "mesh",
        {
            platform: cfg.platform,
            istioVersion: cfg.mesh.istioVersion,
            extAuthzTimeout: cfg.mesh.extAuthzTimeout,
            maxRequestBytes: cfg.mesh.maxRequestBytes,
            toolPolicy: features.opa,
            charts: { istioBase: cfg.charts.istioBase, istiod: cfg.charts.istiod, istioCni: cfg.charts.istioCni },
            operator: cfg.operators.serviceMesh,
            approval: cfg.operatorApproval,
        },
        opts,
    );
}

function gatewayLayer({ cfg, features, opts }: Floor): McpGateway | undefined {
    if (!features.opa) return undefined;
    // The ext-authz provider lives in the mesh's istiod (the Sail `Istio` we patch), so the MCP
    // gateway must be served by that istiod's class on both platforms. OpenShift's
    // `openshift-default` class belongs to the ingress operator's own Istio, which never sees our
    // mesh config: a Gateway there would skip the tool policy (config refuses it, issue 12).
    const gatewayClassName = cfg.gateway.className ?? "istio";
    return new McpGateway(
        "gateway",
        {
            platform: cfg.platform,
            gatewayClassName,
            publicHost: cfg.gateway.publicHost,
            internalDomain: cfg.gateway.internalDomain,
            servers: cfg.mcpServers,
            callers: cfg.agents.map((agent) => ({ namespace: agentNamespace(agent), serviceAccountName: agent.name })),
            charts: { kuadrantOperator: cfg.charts.kuadrantOperator, mcpGateway: cfg.charts.mcpGateway },
            operator: cfg.operators.connectivityLink,
            approval: cfg.operatorApproval,
            meshExtAuthz: features.envoy,
        },
        opts,
    );
}

function identityLayer({ cfg, features, opts }: Floor): Identity {
    return new Identity(
        "identity",
        {
            platform: cfg.platform,
            trustDomain: cfg.identity.trustDomain,
            clusterName: cfg.identity.clusterName,
            charts: { spireCrds: cfg.charts.spireCrds, spire: cfg.charts.spire },
            operator: cfg.operators.workloadIdentity,
            approval: cfg.operatorApproval,
            agents: cfg.agents.map((agent) => ({ agentName: agent.name, namespace: agentNamespace(agent), serviceAccountName: agent.name })),
            kata: features.kata,
        },
        opts,
    );
}

/** Per agent namespace: one set of guards (and mesh policy), then each agent and its Cilium egress. */
function agentLayer(floor: Floor, { isolation, mesh, gateway }: AgentNeighbours, namespaceGuards: pulumi.Resource[] = []): AgentSummary[] {
    const { cfg, features, opts } = floor;
    const mcpGatewayNamespace = gateway ? GATEWAY_NAMESPACE : undefined;
    const summaries: AgentSummary[] = [];
    for (const [namespace, members] of agentsByNamespace(cfg.agents)) {
        const guards = new AgentNamespace(
            `ns-${namespace}`,
            {
                name: namespace,
                platform: cfg.platform,
                mesh: features.envoy,
                mcpGatewayNamespace,
                quota: {
                    cpuMillis: members.reduce((sum, agent) => sum + (cpuMillis(agent.resources.cpu) ?? 0) * agent.replicas, 0),
                    memoryBytes: members.reduce((sum, agent) => sum + (memoryBytes(agent.resources.memory) ?? 0) * agent.replicas, 0),
                },
                agents: members.map((agent) => ({
                    name: agent.name,
                    replicas: agent.replicas,
                    cpuMillis: cpuMillis(agent.resources.cpu) ?? 0,
                    memoryBytes: memoryBytes(agent.resources.memory) ?? 0,
                    egressHosts: agent.egress,
                })),
                kata: features.kata,
                cilium: features.cilium,
            },
            opts,
        );
        namespaceGuards.push(guards);
        if (features.envoy) {
            new AgentMeshPolicy(
                `mesh-${namespace}`,
                { namespace, egressHosts: [...new Set(members.flatMap((agent) => agent.egress))].sort(), mcpGatewayNamespace },
                // The Sidecar and ServiceEntry kinds exist only once the mesh has installed its CRDs.
                { ...opts, dependsOn: mesh ? [guards, mesh] : [guards] },
            );
        }
        for (const agentCfg of members) {
            const agent = new SandboxedAgent(
                agentCfg.name,
                {
                    agent: agentCfg,
                    namespace,
                    platform: cfg.platform,
                    kata: features.kata,
                    mesh: features.envoy,
                    trustDomain: cfg.identity.trustDomain,
                    mcpGateway: gateway?.endpoint,
                    clusterName: cfg.identity.clusterName,
                },
                { ...opts, dependsOn: isolation ? [guards, isolation] : [guards] },
            );
            if (features.cilium) {
                new AgentEgressPolicy(
                    `egress-${agentCfg.name}`,
                    {
                        agentName: agentCfg.name,
                        namespace,
                        podLabels: agent.podLabels,
                        egressHosts: agentCfg.egress,
                        platform: cfg.platform,
                        mcpGatewayNamespace,
                        mesh: features.envoy,
                        kata: features.kata,
                    },
                    { ...opts, dependsOn: [guards] },
                );
            }
            summaries.push({
                name: agentCfg.name,
                namespace,
                serviceAccount: agent.serviceAccountName,
                kata: features.kata,
                falcoCovered: features.falco && !features.kata,
            });
        }
    }
    return summaries;
}

function ciliumLayer({ cfg, features, opts }: Floor): void {
    if (features.cilium && cfg.cilium.install) {
        new CiliumInstall("cilium", { chart: cfg.charts.cilium, namespace: cfg.cilium.namespace }, opts);
    }
}

/**
 * The Falco responder (issue 14), with Falco: it answers falcosidekick's webhook. The profile picks
 * record (local, ci) or enforce (prod). Its Roles live in the agent namespaces, so it waits for them.
 */
function responseLayer({ cfg, features, opts }: Floor, agents: readonly AgentSummary[], dependsOn: pulumi.Resource[]): FalcoResponder | undefined {
    if (!features.falco || cfg.responder.image === undefined) return undefined;
    // Not "falco-…": resource names under the Falco component's prefix would read as its children.
    return new FalcoResponder(
        "responder",
        {
            platform: cfg.platform,
            namespace: cfg.platformNamespace,
            auditConfigMap: AUDIT_CONFIGMAP_NAME,
            image: cfg.responder.image,
            replicas: cfg.responder.replicas,
            mode: RESPONDER_MODE[cfg.profile],
            trustDomain: cfg.identity.trustDomain,
            breaker: cfg.responder.breaker,
            actions: cfg.responder.actions,
            // SandboxedAgent names the Deployment after the agent.
            agents: agents.map((agent) => ({ name: agent.name, namespace: agent.namespace, serviceAccount: agent.serviceAccount, deployment: agent.name })),
        },
        { ...opts, dependsOn },
    );
}

/** The responder's config rules need the resolved profile and tools, so they run here, before any resource exists. */
function assertResponderConfig(cfg: AgentSecurityConfig): void {
    const issues = responderIssues(cfg.responder, { profile: cfg.profile, falco: cfg.features.falco, registries: cfg.registries });
    if (issues.length > 0) throw new ConfigError(issues.map((issue) => ({ key: `agent-security:${issue.path}`, message: issue.message })));
}

function falcoLayer({ cfg, features, opts }: Floor, responder?: FalcoResponder): Falco | undefined {
    if (!features.falco) return undefined;
    return new Falco(
        "falco",
        {
            platform: cfg.platform,
            charts: { falco: cfg.charts.falco, falcosidekick: cfg.charts.falcosidekick },
            webhookUrl: cfg.falco.webhookUrl ?? responder?.webhookUrl,
            minimumPriority: cfg.falco.minimumPriority,
            ...(responder ? { webhookAuth: { secretName: FALCOSIDEKICK_AUTH_SECRET, configFile: responder.falcosidekickConfigFile } } : {}),
            agents: cfg.agents.map((agent) => ({ name: agent.name, namespace: agentNamespace(agent), egressHosts: agent.egress, kata: features.kata })),
        },
        opts,
    );
}

function kyvernoLayer({ cfg, features, opts }: Floor): void {
    if (!features.kyverno) return;
    new KyvernoAdmission(
        "kyverno",
        {
            platform: cfg.platform,
            chart: cfg.charts.kyverno,
            validationAction: cfg.kyverno.validationAction ?? (cfg.profile === "prod" ? "Deny" : "Audit"),
            approvedRegistries: cfg.registries,
            requiredRuntimeClass: cfg.profile === "prod" && features.kata ? KATA_RUNTIME_CLASS : undefined,
        },
        opts,
    );
}

function failClosedLayer({ cfg, opts }: Floor): void {
    if (cfg.failClosed.length === 0) return;
    new FailClosedAdmission(
        "fail-closed",
        {
            tools: cfg.failClosed.map((tool) =>
                tool === "falco"
                    ? { tool, daemonSetNamespace: FALCO_NAMESPACE, daemonSetName: "falco" }
                    : { tool, daemonSetNamespace: cfg.cilium.namespace, daemonSetName: "cilium" },
            ),
        },
        opts,
    );
}

function healthLayer({ cfg, features, opts }: Floor, platformNamespace: k8s.core.v1.Namespace): void {
    if (!cfg.monitoring || enabledTools(features).length === 0) return;
    new ToolHealth(
        "tool-health",
        { namespace: cfg.platformNamespace, platform: cfg.platform, tools: enabledTools(features), ciliumNamespace: cfg.cilium.namespace },
        { ...opts, dependsOn: [platformNamespace] },
    );
}
