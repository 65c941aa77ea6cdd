// Names that several layers must agree on. They are constants, not config: upstream operators and
// charts hard-code most of them, and a second spelling anywhere would silently break the wiring.

export type Platform = "openshift" | "kubernetes";

export const AGENT_ROLE_LABEL = "agent-security.io/role";
export const AGENT_ROLE_VALUE = "agent";
export const AGENT_NAME_LABEL = "agent-security.io/agent";
export const AGENTS_NAMESPACE_LABEL = "agent-security.io/agents";
export const MANAGED_BY_LABELS = { "app.kubernetes.io/managed-by": "agent-security" } as const;

export const KUADRANT_NAMESPACE = "kuadrant-system";
export const GATEWAY_NAMESPACE = "gateway-system";
export const MCP_GATEWAY_NAME = "mcp-gateway";
export const ISTIO_NAMESPACE = "istio-system";
export const ISTIO_CNI_NAMESPACE = "istio-cni";
export const FALCO_NAMESPACE = "falco";
export const KYVERNO_NAMESPACE = "kyverno";
export const SPIRE_NAMESPACE = "spire-server";
export const ZTWIM_NAMESPACE = "zero-trust-workload-identity-manager";
export const OSC_NAMESPACE = "openshift-sandboxed-containers-operator";

/** Authorino's gRPC authorization service as the Kuadrant operator names it (auth_workflow_helpers.go). */
export const AUTHORINO_AUTHZ_SERVICE = `authorino-authorino-authorization.${KUADRANT_NAMESPACE}.svc.cluster.local`;
export const AUTHORINO_AUTHZ_PORT = 50051;
/** meshConfig.extensionProviders[].name that the CUSTOM AuthorizationPolicy refers to. */
export const EXT_AUTHZ_PROVIDER = "kuadrant-authorino";

export const KATA_RUNTIME_CLASS = "kata";

/** How an agent reaches the MCP gateway; produced by the gateway, consumed by the agent pod. */
export interface McpGatewayEndpoint {
    /** The gateway's in-cluster Service URL (reachable inside the mesh and under Cilium). */
    readonly url: string;
    /** The Host header to send: the listener matches the public host, not the Service name. */
    readonly host: string;
    /** Audience of the projected ServiceAccount token the AuthPolicy's TokenReview accepts. */
    readonly tokenAudience: string;
}

export const SPIFFE_CSI_DRIVER = "csi.spiffe.io";
export const SPIFFE_HELPER_CONTAINER = "spiffe-helper";
export const SPIRE_AGENT_CONTAINER = "spire-agent";
