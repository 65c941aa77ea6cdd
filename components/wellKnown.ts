// Names that several layers must agree on. They are constants, not config: upstream operators and
// charts hard-code most of them, and a second spelling anywhere would silently break the wiring.
import { KUADRANT_NAMESPACE } from "../config/wellKnown";

export type Platform = "openshift" | "kubernetes";

export const AGENT_ROLE_LABEL = "agent-security.io/role";
export const AGENT_ROLE_VALUE = "agent";
export const AGENT_NAME_LABEL = "agent-security.io/agent";
export const AGENTS_NAMESPACE_LABEL = "agent-security.io/agents";
export const MANAGED_BY_LABELS = { "app.kubernetes.io/managed-by": "agent-security" } as const;

// The namespaces of installed components live in the config layer, which refuses them as agent,
// backend and platform namespaces (issue 12).
export {
    FALCO_NAMESPACE,
    GATEWAY_NAMESPACE,
    ISTIO_CNI_NAMESPACE,
    ISTIO_NAMESPACE,
    KUADRANT_NAMESPACE,
    KYVERNO_NAMESPACE,
    OSC_NAMESPACE,
    SPIRE_NAMESPACE,
    ZTWIM_NAMESPACE,
} from "../config/wellKnown";
export const MCP_GATEWAY_NAME = "mcp-gateway";

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
