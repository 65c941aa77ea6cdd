// The whole agent pod, built from one agent's config: the agent container, its secret files, its
// writable directories, the SPIFFE sidecar(s), the runtime class. Pure: SandboxedAgent only wraps
// the result in Kubernetes objects.
import type { AgentConfig } from "../../config/schema";
import { KATA_MIN_MEMORY, memoryBytes } from "../../config/schema";
import type { McpGatewayEndpoint, Platform } from "../wellKnown";
import { AGENT_NAME_LABEL, AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, KATA_RUNTIME_CLASS } from "../wellKnown";
import { hardenedContainer, hardenedPodSpec, resourceRequirements, secretFileVolumes, SECRET_FILE_MODE, SECRETS_DIR, SECRETS_DIR_ENV, writableVolumes } from "./hardening";
import type { MountedVolumes } from "./hardening";
import { spiffeHelperConfig, spiffeSidecars, spireAgentConfig, SVID_DIR, SVID_DIR_ENV } from "./spiffe";
import type { EnvVar, PodSpec } from "./types";
import { MCP_GATEWAY_HOST_ENV, MCP_GATEWAY_TOKEN_DIR, MCP_GATEWAY_TOKEN_FILE_ENV, MCP_GATEWAY_URL_ENV, PLATFORM_READ_ONLY_DIRS, RESERVED_ENV, RESERVED_ENV_PREFIXES } from "../../config/wellKnown";
import { normaliseMountPath } from "../../config/paths";

/** Name of the agent's own container (Falco rules and `kubectl logs` default to it). */
export const AGENT_CONTAINER = "agent";
/** Pods the ClusterSPIFFEIDs may select. */
export const AGENT_SPIFFE_LABEL = "agent-security.io/spiffe";
// Env names and mount points the platform sets are config-layer names: config refuses them in an
// agent's env and writable paths (issue 12); the checks below stay as assertions.
export { MCP_GATEWAY_HOST_ENV, MCP_GATEWAY_TOKEN_DIR, MCP_GATEWAY_TOKEN_FILE_ENV, MCP_GATEWAY_URL_ENV, RESERVED_ENV } from "../../config/wellKnown";
/** Short-lived: the kubelet rotates it; a stolen copy stops working within the hour. */
export const MCP_GATEWAY_TOKEN_SECONDS = 3600;


/** Labels of an agent's pods. Other components select on the role and per-agent labels. */
export function agentPodLabels(agentName: string): Record<string, string> {
    return {
        [AGENT_ROLE_LABEL]: AGENT_ROLE_VALUE,
        [AGENT_NAME_LABEL]: agentName,
        [AGENT_SPIFFE_LABEL]: "true",
        "app.kubernetes.io/name": agentName,
        "app.kubernetes.io/part-of": "agent-security",
    };
}

/** The Deployment's selector: the per-agent label only, because a selector is immutable. */
export function agentSelector(agentName: string): Record<string, string> {
    return { [AGENT_NAME_LABEL]: agentName };
}

export interface AgentPodInput {
    readonly agent: AgentConfig;
    readonly platform: Platform;
    readonly kata: boolean;
    readonly trustDomain: string;
    /** SPIRE cluster name; required with Kata (the in-pod agent's k8s_psat cluster). */
    readonly clusterName?: string;
    /** The MCP gateway, when the tool policy is on. */
    readonly mcpGateway?: McpGatewayEndpoint;
    readonly serviceAccountName: string;
    readonly helperConfigMap: string;
    readonly spireAgentConfigMap?: string;
    readonly spiffeHelperImage?: string;
    readonly spireAgentImage?: string;
}

export interface AgentPod {
    readonly labels: Record<string, string>;
    readonly spec: PodSpec;
    /** `helper.conf` of the spiffe-helper sidecar. */
    readonly spiffeHelperConfig: string;
    /** `agent.conf` of the in-pod spire-agent (Kata only). */
    readonly spireAgentConfig?: string;
}

export function buildAgentPod(input: AgentPodInput): AgentPod {
    const { agent, platform, kata } = input;
    if (kata) {
        // config/schema.ts refuses smaller values already; a second guard here keeps the builder
        // safe for any caller: QEMU's overhead inside the micro-VM needs the headroom.
        const memory = memoryBytes(agent.resources.memory) ?? 0;
        if (memory < (memoryBytes(KATA_MIN_MEMORY) ?? 0)) {
            throw new Error(`agent ${agent.name}: memory ${agent.resources.memory} is below ${KATA_MIN_MEMORY}, the minimum for a Kata micro-VM`);
        }
        if (!input.clusterName) throw new Error(`agent ${agent.name}: Kata needs the SPIRE cluster name for the in-pod spire-agent`);
    }
    // config/rules.ts refuses these (on normalised paths); kept as assertions for other callers.
    for (const path of agent.writablePaths) {
        // Compared in normal form: "/var/run/spiffe/./svid" is the SVID directory too. Paths config
        // would refuse outright (with "..") are compared as written; config never passes them.
        const normalised = normaliseMountPath(path);
        const compared = normalised.ok ? normalised.path : path;
        for (const owned of PLATFORM_READ_ONLY_DIRS) {
            if (compared === owned || compared.startsWith(`${owned}/`)) {
                throw new Error(`agent ${agent.name}: writable path ${path} overlaps ${owned}, which the platform mounts read-only`);
            }
        }
    }
    for (const name of Object.keys(agent.env)) {
        if (RESERVED_ENV.includes(name) || RESERVED_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) throw new Error(`agent ${agent.name}: env ${name} is set by the platform and cannot be overridden`);
    }

    const writable = writableVolumes(agent.writablePaths);
    const secrets = secretFileVolumes(agent.secrets);
    const sidecars = spiffeSidecars({
        platform,
        kata,
        helperConfigMap: input.helperConfigMap,
        spireAgentConfigMap: input.spireAgentConfigMap,
        spiffeHelperImage: input.spiffeHelperImage,
        spireAgentImage: input.spireAgentImage,
    });

    // Plain values only, sorted so the preview diff moves with config, not with key order.
    const env: EnvVar[] = Object.keys(agent.env)
        .sort()
        .map((name) => ({ name, value: agent.env[name] ?? "" }));
    const gateway = gatewayTokenVolume(input.mcpGateway);
    if (input.mcpGateway) {
        env.push({ name: MCP_GATEWAY_URL_ENV, value: input.mcpGateway.url });
        env.push({ name: MCP_GATEWAY_HOST_ENV, value: input.mcpGateway.host });
        env.push({ name: MCP_GATEWAY_TOKEN_FILE_ENV, value: `${MCP_GATEWAY_TOKEN_DIR}/token` });
    }
    if (agent.secrets.length > 0) env.push({ name: SECRETS_DIR_ENV, value: SECRETS_DIR });
    env.push({ name: SVID_DIR_ENV, value: SVID_DIR });

    const agentContainer = hardenedContainer(platform, {
        name: AGENT_CONTAINER,
        image: agent.image,
        ports: agent.port !== undefined ? [{ name: "http", containerPort: agent.port, protocol: "TCP" }] : [],
        env,
        volumeMounts: [...writable.mounts, ...secrets.mounts, ...gateway.mounts, ...sidecars.agentMounts],
        // requests = limits: the agent gets Guaranteed QoS and the quota arithmetic stays exact.
        resources: resourceRequirements(agent.resources, agent.resources),
    });

    const spec = hardenedPodSpec(platform, {
        serviceAccountName: input.serviceAccountName,
        containers: [agentContainer, ...sidecars.containers],
        volumes: [...writable.volumes, ...secrets.volumes, ...gateway.volumes, ...sidecars.volumes],
        runtimeClassName: kata ? KATA_RUNTIME_CLASS : undefined,
    });

    return {
        labels: agentPodLabels(agent.name),
        spec,
        spiffeHelperConfig: spiffeHelperConfig(kata),
        ...(kata && input.clusterName
            ? { spireAgentConfig: spireAgentConfig({ platform, trustDomain: input.trustDomain, clusterName: input.clusterName }) }
            : {}),
    };
}

/**
 * The token the agent presents to the MCP gateway (the AuthPolicy's TokenReview): a projected,
 * audience-bound, expiring ServiceAccount token, as a 0400 file in the agent container only. The
 * pod keeps `automountServiceAccountToken: false`: this token is valid for the gateway alone, not
 * for the Kubernetes API.
 */
function gatewayTokenVolume(gateway: McpGatewayEndpoint | undefined): MountedVolumes {
    if (!gateway) return { volumes: [], mounts: [] };
    const name = "mcp-gateway-token";
    return {
        volumes: [
            {
                name,
                projected: {
                    defaultMode: SECRET_FILE_MODE,
                    sources: [{ serviceAccountToken: { audience: gateway.tokenAudience, expirationSeconds: MCP_GATEWAY_TOKEN_SECONDS, path: "token" } }],
                },
            },
        ],
        mounts: [{ name, mountPath: MCP_GATEWAY_TOKEN_DIR, readOnly: true }],
    };
}
