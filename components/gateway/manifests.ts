// Pure builders for the gateway layer's Kubernetes objects: Gateway API, the MCP gateway CRs and
// the Kuadrant policies. The McpGateway component only instantiates what these return, so every
// field is testable without Pulumi and stays a literal (known at preview).
import type { McpServerConfig } from "../../config/schema";
import { GATEWAY_NAMESPACE, KUADRANT_NAMESPACE, MANAGED_BY_LABELS, MCP_GATEWAY_NAME } from "../wellKnown";
import type { Platform } from "../wellKnown";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
/** Listener of the public host: the broker (initialize, tools/list) and the client-facing URL. */
export const PUBLIC_LISTENER = "mcp";
/** Wildcard listener the MCP servers' HTTPRoutes attach to; the router re-routes tools/call here. */
export const INTERNAL_LISTENER = "mcps";
/** Both listeners share one port, as in Kuadrant/mcp-gateway docs/guides/configure-mcp-gateway-listener-and-router.md. */
export const MCP_GATEWAY_PORT = 8080;
/** The audience agents request for the projected ServiceAccount token they present to the gateway. */
export const MCP_GATEWAY_TOKEN_AUDIENCE = "mcp-gateway";
export const KUADRANT_NAME = "kuadrant";
export const IDENTITY_POLICY_NAME = `${MCP_GATEWAY_NAME}-identity`;
export const RATE_LIMIT_POLICY_NAME = `${MCP_GATEWAY_NAME}-tool-rates`;

export interface ObjectMeta {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
}

/** A Kubernetes object as the program renders it; `spec` is typed per builder. */
export interface Manifest<Spec> {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: ObjectMeta;
    readonly spec: Spec;
}

export interface GatewayCaller {
    readonly namespace: string;
    readonly serviceAccountName: string;
}

const labels = { ...MANAGED_BY_LABELS };

function meta(name: string, namespace: string): ObjectMeta {
    return { name, namespace, labels };
}

// ---------------------------------------------------------------------------------------------
// Naming rules shared with the tool policy and the tests
// ---------------------------------------------------------------------------------------------

/**
 * The tool prefix of a server's registration. The CRD pattern is `^[a-z0-9][a-z0-9_]*$`
 * (mcp.kuadrant.io_mcpserverregistrations.yaml), so the `-` a server name may contain becomes `_`.
 */
export function toolPrefix(server: Pick<McpServerConfig, "name" | "prefix">): string {
    return server.prefix ?? `${server.name.replace(/-/g, "_")}_`;
}

/** The backend's namespace: its own when configured, else the gateway's (no ReferenceGrant then). */
export function backendNamespace(server: Pick<McpServerConfig, "backend">): string {
    return server.backend.namespace ?? GATEWAY_NAMESPACE;
}

/**
 * `x-mcp-servername` as the router sets it: `<namespace>/<name>` of the MCPServerRegistration
 * (Kuadrant/mcp-gateway docs/guides/authorization.md). The HTTPRoute has the same name, so the
 * older `<namespace>/<route>` spelling of the architecture guide yields the same value.
 */
export function mcpServerName(server: Pick<McpServerConfig, "name">): string {
    return `${GATEWAY_NAMESPACE}/${server.name}`;
}

/**
 * The servers whose host the `*.<internalDomain>` listener cannot carry. Gateway API wildcard
 * listeners match one or more extra labels and never the bare domain, so such a server's HTTPRoute
 * would never attach and its tools would silently be unreachable.
 */
export function serversOutsideDomain(servers: readonly Pick<McpServerConfig, "name" | "host">[], internalDomain: string): string[] {
    return servers.filter((server) => !server.host.endsWith(`.${internalDomain}`)).map((server) => server.name);
}

// ---------------------------------------------------------------------------------------------
// Kuadrant
// ---------------------------------------------------------------------------------------------

/** The Kuadrant CR; `kuadrant.io/v1beta1` is the only version (upstream-apis 3.1). */
export function kuadrantManifest(): Manifest<Record<string, never>> {
    return { apiVersion: "kuadrant.io/v1beta1", kind: "Kuadrant", metadata: meta(KUADRANT_NAME, KUADRANT_NAMESPACE), spec: {} };
}

// ---------------------------------------------------------------------------------------------
// Gateway API
// ---------------------------------------------------------------------------------------------

export interface Listener {
    readonly name: string;
    readonly hostname: string;
    readonly port: number;
    readonly protocol: "HTTP";
    readonly allowedRoutes: { readonly namespaces: { readonly from: "Same" } };
}

export interface GatewaySpec {
    readonly gatewayClassName: string;
    readonly listeners: readonly Listener[];
}

/**
 * The MCP gateway. Routes may only attach from the gateway's own namespace (`from: Same`): every
 * route this program creates lives there, and another team's HTTPRoute must not be able to hang a
 * backend off a gateway whose identity and tool checks it never registered for.
 */
export function gatewayManifest(args: { readonly gatewayClassName: string; readonly publicHost: string; readonly internalDomain: string }): Manifest<GatewaySpec> {
    const listener = (name: string, hostname: string): Listener => ({
        name,
        hostname,
        port: MCP_GATEWAY_PORT,
        protocol: "HTTP",
        allowedRoutes: { namespaces: { from: "Same" } },
    });
    return {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "Gateway",
        metadata: meta(MCP_GATEWAY_NAME, GATEWAY_NAMESPACE),
        spec: {
            gatewayClassName: args.gatewayClassName,
            listeners: [listener(PUBLIC_LISTENER, args.publicHost), listener(INTERNAL_LISTENER, `*.${args.internalDomain}`)],
        },
    };
}

export interface HttpRouteSpec {
    readonly parentRefs: readonly { readonly group: string; readonly kind: "Gateway"; readonly name: string; readonly sectionName: string }[];
    readonly hostnames: readonly string[];
    readonly rules: readonly {
        readonly matches: readonly { readonly path: { readonly type: "PathPrefix"; readonly value: string } }[];
        readonly backendRefs: readonly { readonly group: ""; readonly kind: "Service"; readonly name: string; readonly namespace?: string; readonly port: number }[];
    }[];
}

/**
 * One server's route on the internal listener. Only the server's MCP path is routed (segment
 * prefix), so other endpoints the server may expose (metrics, admin) are not reachable through
 * the gateway.
 */
export function httpRouteManifest(server: McpServerConfig): Manifest<HttpRouteSpec> {
    const namespace = backendNamespace(server);
    return {
        apiVersion: `${GATEWAY_API_GROUP}/v1`,
        kind: "HTTPRoute",
        metadata: meta(server.name, GATEWAY_NAMESPACE),
        spec: {
            parentRefs: [{ group: GATEWAY_API_GROUP, kind: "Gateway", name: MCP_GATEWAY_NAME, sectionName: INTERNAL_LISTENER }],
            hostnames: [server.host],
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: server.backend.path } }],
                    backendRefs: [
                        {
                            group: "",
                            kind: "Service",
                            name: server.backend.service,
                            ...(namespace === GATEWAY_NAMESPACE ? {} : { namespace }),
                            port: server.backend.port,
                        },
                    ],
                },
            ],
        },
    };
}

export interface ReferenceGrantSpec {
    readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
    readonly to: readonly { readonly group: string; readonly kind: string; readonly name: string }[];
}

/**
 * Lets the server's HTTPRoute in the gateway namespace reference its Service, and nothing else:
 * the grant names the one Service.
 *
 * Version: `v1` is the GA name but exists only in Gateway API CRDs >= v1.5.0 (upstream-apis
 * section 0). Kubernetes clusters get the v1.6.1 standard channel; OpenShift ships its own,
 * older Gateway API CRDs (not to be replaced, section 5), which serve only `v1beta1`.
 */
export function referenceGrantApiVersion(platform: Platform): string {
    return platform === "openshift" ? `${GATEWAY_API_GROUP}/v1beta1` : `${GATEWAY_API_GROUP}/v1`;
}

export function referenceGrantManifest(server: McpServerConfig, platform: Platform): Manifest<ReferenceGrantSpec> | undefined {
    const namespace = backendNamespace(server);
    if (namespace === GATEWAY_NAMESPACE) return undefined;
    return {
        apiVersion: referenceGrantApiVersion(platform),
        kind: "ReferenceGrant",
        metadata: meta(`${MCP_GATEWAY_NAME}-${server.name}`, namespace),
        spec: {
            from: [{ group: GATEWAY_API_GROUP, kind: "HTTPRoute", namespace: GATEWAY_NAMESPACE }],
            to: [{ group: "", kind: "Service", name: server.backend.service }],
        },
    };
}

// ---------------------------------------------------------------------------------------------
// MCP gateway CRs (mcp.kuadrant.io/v1; v1alpha1 is deprecated)
// ---------------------------------------------------------------------------------------------

export interface GatewayExtensionSpec {
    readonly targetRef: { readonly group: string; readonly kind: "Gateway"; readonly name: string; readonly sectionName: string };
    readonly publicHost: string;
}

/** In the Gateway's namespace, so no ReferenceGrant is needed for the extension. */
export function gatewayExtensionManifest(publicHost: string): Manifest<GatewayExtensionSpec> {
    return {
        apiVersion: "mcp.kuadrant.io/v1",
        kind: "MCPGatewayExtension",
        metadata: meta(MCP_GATEWAY_NAME, GATEWAY_NAMESPACE),
        spec: {
            targetRef: { group: GATEWAY_API_GROUP, kind: "Gateway", name: MCP_GATEWAY_NAME, sectionName: PUBLIC_LISTENER },
            publicHost,
        },
    };
}

export interface ServerRegistrationSpec {
    readonly targetRef: { readonly group: string; readonly kind: "HTTPRoute"; readonly name: string };
    readonly prefix: string;
    readonly path: string;
}

export function serverRegistrationManifest(server: McpServerConfig): Manifest<ServerRegistrationSpec> {
    return {
        apiVersion: "mcp.kuadrant.io/v1",
        kind: "MCPServerRegistration",
        metadata: meta(server.name, GATEWAY_NAMESPACE),
        spec: {
            targetRef: { group: GATEWAY_API_GROUP, kind: "HTTPRoute", name: server.name },
            prefix: toolPrefix(server),
            path: server.backend.path,
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Kuadrant policies (kuadrant.io/v1)
// ---------------------------------------------------------------------------------------------

export interface PolicyTargetRef {
    readonly group: string;
    readonly kind: "Gateway";
    readonly name: string;
}

const gatewayTarget: PolicyTargetRef = { group: GATEWAY_API_GROUP, kind: "Gateway", name: MCP_GATEWAY_NAME };

/** A CEL string literal. */
export function celString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** The username the Kubernetes TokenReview reports for a ServiceAccount token. */
export function serviceAccountUsername(caller: GatewayCaller): string {
    return `system:serviceaccount:${caller.namespace}:${caller.serviceAccountName}`;
}

export interface AuthPolicySpec {
    readonly targetRef: PolicyTargetRef;
    readonly overrides: {
        readonly strategy: "merge";
        readonly rules: {
            readonly authentication: Record<string, { readonly kubernetesTokenReview: { readonly audiences: readonly string[] } }>;
            readonly authorization: Record<string, { readonly patternMatching: { readonly patterns: readonly { readonly predicate: string }[] } }>;
        };
    };
}

/**
 * Caller identity on the whole Gateway (both listeners: a client that sends the internal host
 * directly must be checked as well).
 *
 * Why ServiceAccount tokens (TokenReview with an audience) and not SPIFFE identities: the SPIFFE
 * ID Authorino would see is `source.principal`, the peer of an mTLS connection. It exists only
 * when the caller's Istio sidecar originated mTLS to the gateway: never with the mesh flag off
 * (opa on, envoy off is a valid profile), and not reliably for Kata pods, whose sidecar redirection
 * is unverified upstream (upstream-apis 4.2). It would also be Istio's CA identity, not the SPIRE
 * one of design.md section 6. A projected, audience-bound, short-lived ServiceAccount token works
 * in every profile, and the audience keeps a token minted for another service from being replayed
 * here.
 *
 * `overrides` with `merge`: a route-level AuthPolicy (for example a tool allowlist on a server's
 * HTTPRoute) adds rules but can never replace the identity check.
 */
export function authPolicyManifest(callers: readonly GatewayCaller[]): Manifest<AuthPolicySpec> {
    const usernames = [...new Set(callers.map(serviceAccountUsername))].sort();
    // An empty list is a valid CEL list: with no callers configured, nobody is let in.
    const predicate = `auth.identity.user.username in [${usernames.map(celString).join(", ")}]`;
    return {
        apiVersion: "kuadrant.io/v1",
        kind: "AuthPolicy",
        metadata: meta(IDENTITY_POLICY_NAME, GATEWAY_NAMESPACE),
        spec: {
            targetRef: gatewayTarget,
            overrides: {
                strategy: "merge",
                rules: {
                    authentication: { "agent-service-account": { kubernetesTokenReview: { audiences: [MCP_GATEWAY_TOKEN_AUDIENCE] } } },
                    authorization: { "allowed-callers": { patternMatching: { patterns: [{ predicate }] } } },
                },
            },
        },
    };
}

export interface RateLimit {
    readonly rates: readonly { readonly limit: number; readonly window: string }[];
    readonly when: readonly { readonly predicate: string }[];
}

export interface RateLimitPolicySpec {
    readonly targetRef: PolicyTargetRef;
    readonly overrides: { readonly strategy: "merge"; readonly limits: Record<string, RateLimit> };
}

/** The JSON-RPC method a rate limit counts. */
export const TOOL_CALL_METHOD = "tools/call";

/** The limit's key: server names are DNS labels (no `.`), so `<server>.<tool>` is unambiguous. */
export function rateLimitName(serverName: string, toolName: string): string {
    return `${serverName}.${toolName}`;
}

/**
 * One limit per tool that configures `rateLimit`, counted only for requests whose router-set
 * headers name that tool on that server (`x-mcp-toolname` carries the upstream name, the prefix
 * stripped, which is how tools are named in config) and that are the tool call itself
 * (`x-mcp-method == "tools/call"`): before a session's first call to a server the router sends
 * its own initialize and notifications/initialized through the gateway with the same
 * x-mcp-servername and x-mcp-toolname but their own x-mcp-method (Kuadrant/mcp-gateway
 * internal/routing/router_202511.go initializeMCPServerSession, routeBrokerPassthrough), which
 * would otherwise count that call three times. `overrides` so that a route-level policy cannot
 * lift a platform limit. Undefined when no tool is limited: the CRD requires at least one limit.
 */
export function rateLimitPolicyManifest(servers: readonly McpServerConfig[]): Manifest<RateLimitPolicySpec> | undefined {
    const limits: Record<string, RateLimit> = {};
    const sorted = [...servers].sort((a, b) => a.name.localeCompare(b.name));
    for (const server of sorted) {
        for (const toolName of Object.keys(server.tools).sort()) {
            const rate = server.tools[toolName]?.rateLimit;
            if (!rate) continue;
            limits[rateLimitName(server.name, toolName)] = {
                rates: [{ limit: rate.limit, window: rate.window }],
                when: [
                    { predicate: `request.headers['x-mcp-method'] == ${celString(TOOL_CALL_METHOD)}` },
                    { predicate: `request.headers['x-mcp-servername'] == ${celString(mcpServerName(server))}` },
                    { predicate: `request.headers['x-mcp-toolname'] == ${celString(toolName)}` },
                ],
            };
        }
    }
    if (Object.keys(limits).length === 0) return undefined;
    return {
        apiVersion: "kuadrant.io/v1",
        kind: "RateLimitPolicy",
        metadata: meta(RATE_LIMIT_POLICY_NAME, GATEWAY_NAMESPACE),
        spec: { targetRef: gatewayTarget, overrides: { strategy: "merge", limits } },
    };
}

// ---------------------------------------------------------------------------------------------
// The mcp-gateway chart
// ---------------------------------------------------------------------------------------------

/**
 * Values of the mcp-gateway chart (crds/mcp-gateway/helm/mcp-gateway/values.yaml): only the
 * controller comes from the chart. The Gateway and the MCPGatewayExtension are rendered by this
 * program (`gateway.create: false`, `mcpGatewayExtension.create: false`) so that they are typed,
 * schema-checked and visible in the preview; `gateway.publicHost` feeds the broker's
 * `--mcp-gateway-public-host` flag. The chart's NetworkPolicies stay off: the controller's allows
 * egress to 443/53 only, which misses API servers on 6443 behind DNAT, and port-only rules are
 * dropped by OVN-Kubernetes (design.md section 6, baseline).
 */
export function mcpGatewayChartValues(args: { readonly gatewayClassName: string; readonly publicHost: string; readonly internalDomain: string }): Record<string, unknown> {
    return {
        controller: { enabled: true },
        gateway: {
            create: false,
            name: MCP_GATEWAY_NAME,
            namespace: GATEWAY_NAMESPACE,
            gatewayClassName: args.gatewayClassName,
            publicHost: args.publicHost,
            internalHostPattern: `*.${args.internalDomain}`,
            port: MCP_GATEWAY_PORT,
        },
        mcpGatewayExtension: { create: false },
        networkPolicy: { enabled: false },
    };
}
