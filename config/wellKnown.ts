// Names the program owns or must never touch. They live on the ground floor because config checks
// them (an agent must not land in a namespace the stack installs) and components build with them;
// components re-export them, so there is one spelling (issue 12).

// ---------------------------------------------------------------------------------------------
// Namespaces of the components the stack installs
// ---------------------------------------------------------------------------------------------

export const KUADRANT_NAMESPACE = "kuadrant-system";
export const GATEWAY_NAMESPACE = "gateway-system";
export const ISTIO_NAMESPACE = "istio-system";
export const ISTIO_CNI_NAMESPACE = "istio-cni";
export const FALCO_NAMESPACE = "falco";
export const KYVERNO_NAMESPACE = "kyverno";
export const SPIRE_NAMESPACE = "spire-server";
export const ZTWIM_NAMESPACE = "zero-trust-workload-identity-manager";
export const OSC_NAMESPACE = "openshift-sandboxed-containers-operator";

/** Every namespace a component of this program creates or installs into, whichever tools are on. */
export const INSTALLED_NAMESPACES: readonly string[] = Object.freeze(
    [KUADRANT_NAMESPACE, GATEWAY_NAMESPACE, ISTIO_NAMESPACE, ISTIO_CNI_NAMESPACE, FALCO_NAMESPACE, KYVERNO_NAMESPACE, SPIRE_NAMESPACE, ZTWIM_NAMESPACE, OSC_NAMESPACE].sort(),
);

/**
 * Why a namespace is not the program's to create or relabel, or undefined when it may be. The
 * Kubernetes system namespaces (`default`, `kube-*`), OpenShift's (`openshift`, `openshift-*`) and
 * the namespaces of the components this stack installs: labelling any of them for Pod Security,
 * injection, default-deny or a quota would take over a namespace the stack did not create.
 */
export function namespaceOwnershipProblem(namespace: string): string | undefined {
    if (namespace === "default" || namespace === "openshift" || namespace.startsWith("kube-") || namespace.startsWith("openshift-")) {
        return `"${namespace}" is a Kubernetes or OpenShift system namespace (default, kube-*, openshift, openshift-*), which this program must not label or fill; choose a namespace of your own`;
    }
    if (INSTALLED_NAMESPACES.includes(namespace)) {
        return `"${namespace}" is where this program installs one of its components (${INSTALLED_NAMESPACES.join(", ")}); choose a namespace of your own`;
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// What the platform puts into every agent container
// ---------------------------------------------------------------------------------------------

/** Where secret files live in the agent container; one directory per Secret. */
export const SECRETS_DIR = "/var/run/secrets/agent-security";
/** Plain env var that tells the agent where its secret files are (the path, never the value). */
export const SECRETS_DIR_ENV = "AGENT_SECRETS_DIR";
/** Where the agent finds svid.pem, svid_key.pem and svid_bundle.pem (read-only for it). */
export const SVID_DIR = "/var/run/spiffe/svid";
/** Plain env var with the SVID directory; the socket variable is reserved for the sidecars. */
export const SVID_DIR_ENV = "SPIFFE_SVID_DIR";
export const SPIFFE_SOCKET_ENV = "SPIFFE_ENDPOINT_SOCKET";
export const MCP_GATEWAY_URL_ENV = "MCP_GATEWAY_URL";
export const MCP_GATEWAY_HOST_ENV = "MCP_GATEWAY_HOST";
export const MCP_GATEWAY_TOKEN_FILE_ENV = "MCP_GATEWAY_TOKEN_FILE";
/**
 * Where the gateway token is mounted: beside the secret files (Falco watches that tree), under a
 * dot-name no Secret can take (Secret names are DNS labels).
 */
export const MCP_GATEWAY_TOKEN_DIR = `${SECRETS_DIR}/.mcp-gateway`;

/** Env names the platform sets; an agent's own env must not shadow them. */
export const RESERVED_ENV: readonly string[] = Object.freeze([
    MCP_GATEWAY_URL_ENV,
    MCP_GATEWAY_HOST_ENV,
    MCP_GATEWAY_TOKEN_FILE_ENV,
    SECRETS_DIR_ENV,
    SVID_DIR_ENV,
    SPIFFE_SOCKET_ENV,
]);
/** Whole families kept for the platform, so a later platform variable never meets an agent's. */
export const RESERVED_ENV_PREFIXES: readonly string[] = Object.freeze(["MCP_GATEWAY_", "SPIFFE_"]);

/** Directories the platform mounts read-only into the agent container. */
export const PLATFORM_READ_ONLY_DIRS: readonly string[] = Object.freeze([SECRETS_DIR, SVID_DIR]);
