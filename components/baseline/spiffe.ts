// The SPIFFE sidecar of an agent pod (design.md sections 2 and 6, policy
// `baseline-spiffe-socket-isolation`): only a `spiffe-helper` or `spire-agent` container ever
// touches the Workload API socket. The helper writes the SVID into a tmpfs emptyDir that the
// agent mounts read-only, so the agent holds its certificate but can never ask the Workload API
// for anything (other identities, JWT-SVIDs for arbitrary audiences).
//
// Without Kata the socket comes from the node's SPIRE agent through the CSI driver
// `csi.spiffe.io`. Under Kata that bind-mounted socket does not cross the VM boundary (the
// workload's kernel is the guest's; spiffe/spire#4522, #4531, kata-containers#4244), so the pod
// runs its own `spire-agent` sidecar and the helper talks to it over a socket in a shared tmpfs.
import { spireServerEndpoint, SPIRE_PSAT_AUDIENCE } from "../identity/endpoints";
import type { Platform } from "../wellKnown";
import { SPIFFE_CSI_DRIVER, SPIFFE_HELPER_CONTAINER, SPIRE_AGENT_CONTAINER } from "../wellKnown";
import { hardenedContainer, resourceRequirements } from "./hardening";
import type { Container, ResourceRequirements, Volume, VolumeMount } from "./types";
import { SPIFFE_SOCKET_ENV, SVID_DIR } from "../../config/wellKnown";

/** Pinned sidecar images; `ghcr.io/spiffe` must be an approved registry of the stack. */
export const DEFAULT_SPIFFE_HELPER_IMAGE = "ghcr.io/spiffe/spiffe-helper:0.11.0";
/** Keep in step with the SPIRE server version (chart `spire` appVersion, or ZTWIM's operand). */
export const DEFAULT_SPIRE_AGENT_IMAGE = "ghcr.io/spiffe/spire-agent:1.14.7";

export const SPIFFE_HELPER_RESOURCES: ResourceRequirements = resourceRequirements({ cpu: "10m", memory: "32Mi" }, { cpu: "100m", memory: "64Mi" });
export const SPIRE_AGENT_RESOURCES: ResourceRequirements = resourceRequirements({ cpu: "50m", memory: "64Mi" }, { cpu: "250m", memory: "256Mi" });

// The SVID directory and the SPIFFE env names are config-layer names (config refuses them in an
// agent's env and writable paths).
export { SPIFFE_SOCKET_ENV, SVID_DIR, SVID_DIR_ENV } from "../../config/wellKnown";
export const SVID_FILES = { svid: "svid.pem", key: "svid_key.pem", bundle: "svid_bundle.pem" } as const;

const CSI_SOCKET_DIR = "/spiffe-workload-api";
const IN_POD_SOCKET_DIR = "/run/spire/agent-sockets";
const SOCKET_FILE = "spire-agent.sock";
const HELPER_CONFIG_DIR = "/etc/spiffe-helper";
const SPIRE_AGENT_CONFIG_DIR = "/run/spire/config";
const SPIRE_AGENT_DATA_DIR = "/run/spire/data";
const SPIRE_BUNDLE_DIR = "/run/spire/bundle";
const SPIRE_TOKEN_DIR = "/var/run/secrets/tokens";
const SPIRE_TOKEN_FILE = "spire-agent";

export const VOLUMES = {
    svid: "spiffe-svid",
    helperConfig: "spiffe-helper-config",
    csiSocket: "spiffe-workload-api",
    inPodSocket: "spire-agent-socket",
    agentConfig: "spire-agent-config",
    agentData: "spire-agent-data",
    bundle: "spire-bundle",
    token: "spire-agent-token",
} as const;

/**
 * The trust bundle the in-pod spire-agent bootstraps from: a ConfigMap in the agent's own
 * namespace (a pod cannot mount another namespace's ConfigMap). Neither install writes it there:
 * the chart and ZTWIM publish `spire-bundle` only into their own namespace, so it must be mirrored
 * (for example with trust-manager) before Kata agent pods can start; the volume is not optional,
 * so a missing bundle fails closed instead of falling back to `insecure_bootstrap`.
 */
export const SPIRE_BUNDLE_CONFIGMAP = "spire-bundle";
export const SPIRE_BUNDLE_KEY = "bundle.crt";

export function socketPath(kata: boolean): string {
    return `${kata ? IN_POD_SOCKET_DIR : CSI_SOCKET_DIR}/${SOCKET_FILE}`;
}

/**
 * spiffe-helper's HCL config (keys from spiffe/spiffe-helper README): daemon mode keeps the SVID
 * rotated; the key file stays owner-only (0600, the helper must be able to rewrite it on
 * rotation); all containers of the pod run as one UID (pod-level runAsUser on Kubernetes, the SCC
 * on OpenShift), so the agent can read it.
 */
export function spiffeHelperConfig(kata: boolean): string {
    return [
        `agent_address = "${socketPath(kata)}"`,
        `cert_dir = "${SVID_DIR}"`,
        `svid_file_name = "${SVID_FILES.svid}"`,
        `svid_key_file_name = "${SVID_FILES.key}"`,
        `svid_bundle_file_name = "${SVID_FILES.bundle}"`,
        `cert_file_mode = 0444`,
        `key_file_mode = 0600`,
        `daemon_mode = true`,
        "",
    ].join("\n");
}

export interface SpireAgentConfigInput {
    readonly platform: Platform;
    readonly trustDomain: string;
    /** The k8s_psat cluster name: must equal the server's (`global.spire.clusterName` / ZTWIM `clusterName`). */
    readonly clusterName: string;
}

/**
 * The in-pod spire-agent's HCL config (Kata only).
 *
 * Node attestation: `k8s_psat` with the pod's own projected ServiceAccount token (audience
 * `spire-server`); the pod keeps `automountServiceAccountToken: false`. What the server side must
 * provide, and what this program can and cannot do about it:
 * - the token's `<namespace>:<serviceAccount>` in the k8s_psat `service_account_allow_list` of the
 *   cluster entry named like `clusterName`: the Identity component adds every agent's service
 *   account on the Helm install; ZTWIM hard-codes the list to its own `spire-agent`
 *   (pkg/controller/spire-server/configmap.go), so on OpenShift attestation is refused until ZTWIM
 *   offers that setting;
 * - the trust bundle ConfigMap in the agent namespace (see SPIRE_BUNDLE_CONFIGMAP);
 * - a NetworkPolicy allow from the pod to the server (AgentNamespace `kata: true`).
 * Known upstream limits, unverified on a cluster: k8s_psat names the agent after the node UID
 * (`spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node-uid>`), so an in-pod agent shares its ID
 * with the node's DaemonSet agent and other in-pod agents on that node, and SPIRE keeps one SVID
 * serial per agent ID; and SPIRE's peer tracker needs the caller's PID, which a separate container
 * without `shareProcessNamespace` (forbidden by the baseline) does not expose (spiffe/spire#1660).
 * The key manager is in memory: an agent restart re-attests instead of keeping keys on disk.
 */
export function spireAgentConfig(input: SpireAgentConfigInput): string {
    const server = spireServerEndpoint(input.platform);
    return [
        "agent {",
        `  data_dir = "${SPIRE_AGENT_DATA_DIR}"`,
        `  log_level = "WARN"`,
        `  server_address = "${server.address}"`,
        `  server_port = "${server.port}"`,
        `  socket_path = "${socketPath(true)}"`,
        `  trust_bundle_path = "${SPIRE_BUNDLE_DIR}/${SPIRE_BUNDLE_KEY}"`,
        `  trust_domain = "${input.trustDomain}"`,
        "}",
        "plugins {",
        `  KeyManager "memory" {`,
        "    plugin_data {}",
        "  }",
        `  NodeAttestor "k8s_psat" {`,
        "    plugin_data {",
        `      cluster = "${input.clusterName}"`,
        `      token_path = "${SPIRE_TOKEN_DIR}/${SPIRE_TOKEN_FILE}"`,
        "    }",
        "  }",
        `  WorkloadAttestor "unix" {`,
        "    plugin_data {}",
        "  }",
        "}",
        "",
    ].join("\n");
}

export interface SpiffeSidecarInput {
    readonly platform: Platform;
    readonly kata: boolean;
    /** ConfigMap holding `helper.conf`. */
    readonly helperConfigMap: string;
    /** ConfigMap holding the in-pod spire-agent's `agent.conf` (Kata only). */
    readonly spireAgentConfigMap?: string;
    readonly spiffeHelperImage?: string;
    readonly spireAgentImage?: string;
}

export interface SpiffeSidecars {
    readonly containers: Container[];
    readonly volumes: Volume[];
    /** What the agent container mounts: the SVID directory, read-only, and nothing else. */
    readonly agentMounts: VolumeMount[];
}

const SVID_DIR_SIZE = "4Mi";

export function spiffeSidecars(input: SpiffeSidecarInput): SpiffeSidecars {
    const volumes: Volume[] = [
        // SVID private keys stay on tmpfs (policy baseline-secret-file-mode: emptyDirs shared with
        // the SPIFFE sidecar are medium Memory).
        { name: VOLUMES.svid, emptyDir: { medium: "Memory", sizeLimit: SVID_DIR_SIZE } },
        { name: VOLUMES.helperConfig, configMap: { name: input.helperConfigMap, defaultMode: 0o444 } },
    ];
    const helperMounts: VolumeMount[] = [
        { name: VOLUMES.helperConfig, mountPath: HELPER_CONFIG_DIR, readOnly: true },
        { name: VOLUMES.svid, mountPath: SVID_DIR, readOnly: false },
    ];
    const containers: Container[] = [];

    if (!input.kata) {
        volumes.push({ name: VOLUMES.csiSocket, csi: { driver: SPIFFE_CSI_DRIVER, readOnly: true } });
        helperMounts.push({ name: VOLUMES.csiSocket, mountPath: CSI_SOCKET_DIR, readOnly: true });
    } else {
        if (!input.spireAgentConfigMap) throw new Error("a Kata agent pod needs the in-pod spire-agent's ConfigMap (spireAgentConfigMap)");
        volumes.push(
            { name: VOLUMES.inPodSocket, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
            { name: VOLUMES.agentData, emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            { name: VOLUMES.agentConfig, configMap: { name: input.spireAgentConfigMap, defaultMode: 0o444 } },
            {
                name: VOLUMES.bundle,
                configMap: { name: SPIRE_BUNDLE_CONFIGMAP, defaultMode: 0o444, items: [{ key: SPIRE_BUNDLE_KEY, path: SPIRE_BUNDLE_KEY, mode: 0o444 }], optional: false },
            },
            {
                // A projected, audience-bound, short-lived token: the only API credential in the
                // pod, readable by the sidecar alone (no other container mounts it).
                name: VOLUMES.token,
                projected: {
                    defaultMode: 0o400,
                    sources: [{ serviceAccountToken: { audience: SPIRE_PSAT_AUDIENCE, expirationSeconds: 7200, path: SPIRE_TOKEN_FILE } }],
                },
            },
        );
        // Connecting to a unix socket on a read-only mount works (only regular files, directories
        // and symlinks get EROFS), so the helper's view of the socket directory is read-only.
        helperMounts.push({ name: VOLUMES.inPodSocket, mountPath: IN_POD_SOCKET_DIR, readOnly: true });
        containers.push(
            hardenedContainer(input.platform, {
                name: SPIRE_AGENT_CONTAINER,
                image: input.spireAgentImage ?? DEFAULT_SPIRE_AGENT_IMAGE,
                args: ["-config", `${SPIRE_AGENT_CONFIG_DIR}/agent.conf`],
                volumeMounts: [
                    { name: VOLUMES.agentConfig, mountPath: SPIRE_AGENT_CONFIG_DIR, readOnly: true },
                    { name: VOLUMES.bundle, mountPath: SPIRE_BUNDLE_DIR, readOnly: true },
                    { name: VOLUMES.token, mountPath: SPIRE_TOKEN_DIR, readOnly: true },
                    { name: VOLUMES.agentData, mountPath: SPIRE_AGENT_DATA_DIR, readOnly: false },
                    { name: VOLUMES.inPodSocket, mountPath: IN_POD_SOCKET_DIR, readOnly: false },
                ],
                resources: SPIRE_AGENT_RESOURCES,
            }),
        );
    }

    containers.unshift(
        hardenedContainer(input.platform, {
            name: SPIFFE_HELPER_CONTAINER,
            image: input.spiffeHelperImage ?? DEFAULT_SPIFFE_HELPER_IMAGE,
            args: ["-config", `${HELPER_CONFIG_DIR}/helper.conf`],
            env: [{ name: SPIFFE_SOCKET_ENV, value: `unix://${socketPath(input.kata)}` }],
            volumeMounts: helperMounts,
            resources: SPIFFE_HELPER_RESOURCES,
        }),
    );

    return { containers, volumes, agentMounts: [{ name: VOLUMES.svid, mountPath: SVID_DIR, readOnly: true }] };
}
