// The Istio half of the tool policy (design.md section 7): a CUSTOM AuthorizationPolicy that makes
// the MCP gateway's Envoy ask Authorino, with the request body, before anything reaches an MCP
// server. Rendered by the gateway component, which owns the Gateway and its namespace; the mesh
// owns the provider it names.
import { EXT_AUTHZ_PROVIDER, GATEWAY_NAMESPACE, MANAGED_BY_LABELS, MCP_GATEWAY_NAME } from "../wellKnown";
import type { IstioManifest } from "./agentPolicy";

export const EXT_AUTHZ_POLICY_NAME = `${MCP_GATEWAY_NAME}-tool-policy`;

/** The streamable HTTP transport: POST carries JSON-RPC, GET opens the stream, DELETE ends the session. */
export const MCP_METHODS = ["POST", "GET", "DELETE"] as const;
export const MCP_PATHS = ["/mcp", "/mcp/*"] as const;

export interface Operation {
    readonly methods?: readonly string[];
    readonly notMethods?: readonly string[];
    readonly paths?: readonly string[];
    readonly notPaths?: readonly string[];
}

export interface AuthorizationPolicySpec {
    readonly targetRefs: readonly { readonly group: string; readonly kind: "Gateway"; readonly name: string }[];
    readonly action: "CUSTOM";
    readonly provider: { readonly name: string };
    readonly rules: readonly { readonly to: readonly { readonly operation: Operation }[] }[];
}

/**
 * Every request through the gateway goes to Authorino, not only MCP-shaped ones. The first rule is
 * the MCP transport; the other two are its complement (any other method, any other path). A rule
 * set limited to POST/GET/DELETE on /mcp would let `PUT /mcp`, `POST /MCP` or a server path such
 * as `/v1/mcp` skip the check and still be routed to a backend: which requests a server accepts is
 * the server's business, the check must not depend on it. The Rego denies whatever is not a
 * well-formed MCP request, so checking everything is also fail-closed.
 *
 * `targetRefs` the Gateway (Istio >= 1.22); the CRD allows no cross-namespace reference, so the
 * policy lives in the Gateway's namespace.
 */
export function extAuthzPolicyManifest(): IstioManifest<AuthorizationPolicySpec> {
    const methods = [...MCP_METHODS];
    const paths = [...MCP_PATHS];
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: EXT_AUTHZ_POLICY_NAME, namespace: GATEWAY_NAMESPACE, labels: { ...MANAGED_BY_LABELS } },
        spec: {
            targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: MCP_GATEWAY_NAME }],
            action: "CUSTOM",
            provider: { name: EXT_AUTHZ_PROVIDER },
            rules: [
                { to: [{ operation: { methods, paths } }] },
                { to: [{ operation: { notMethods: methods } }] },
                { to: [{ operation: { notPaths: paths } }] },
            ],
        },
    };
}
