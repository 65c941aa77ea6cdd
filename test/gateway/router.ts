// Requests as the MCP router hands them to ext_authz, built from the upstream source
// (Kuadrant/mcp-gateway v0.9.0; docs/tool-policy.md): the router's ext_proc runs first with a
// buffered body, so Authorino sees the server's host, the router's headers and the router's
// re-serialised body. Each builder names the upstream function whose output it reproduces.
import type { McpServerConfig } from "../../config/schema";
import { mcpServerName, toolPrefix } from "../../components/gateway/manifests";
import { authorinoInput } from "../support/opa";

/** Istio's default in this project (config/schema.ts `mesh.maxRequestBytes`). */
export const DEFAULT_MAX_REQUEST_BYTES = 65536;

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sortKeys(record[key])]));
    }
    return value;
}

/**
 * Go's encoding/json.Marshal of decoded JSON (map[string]any, float64): keys sorted, and the
 * HTML-safe escapes `<` `>` `&` U+2028 U+2029 as \u003c \u003e \u0026 \u2028 \u2029. Numbers: Go
 * and JavaScript both print the shortest float64 form and switch to an exponent below 1e-6 and
 * from 1e21, so JSON.stringify agrees. The router's envelope struct (internal/routing/
 * mcp_request.go MCPRequest: id, jsonrpc, method, params, result) is in sorted order as well.
 */
export function goJson(value: unknown): string {
    return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SESSION = "backend-session-1";
const CLIENT_HEADERS = { authorization: "Bearer agent-token", "mcp-protocol-version": "2025-11-25", accept: "application/json, text/event-stream" };

function serverPath(server: McpServerConfig): string {
    return server.backend.path;
}

export interface RoutedCallOptions {
    readonly id?: number | string;
    /** Extra or overriding headers after the router's (a forgery, or a client header passed on). */
    readonly headers?: Readonly<Record<string, string>>;
    readonly meta?: Record<string, unknown>;
}

/**
 * A client's tools/call of `<prefix><tool>` after the 2025-11-25 router (router_202511.go
 * routeToolCall + routeToUpstream): `:authority` the server's host, path the server's, the body
 * re-serialised with the bare name, x-mcp-method / x-mcp-toolname / x-mcp-servername set, the
 * backend's mcp-session-id.
 */
export function routedToolCall(server: McpServerConfig, tool: string, args: unknown, options: RoutedCallOptions = {}): Record<string, unknown> {
    const params: Record<string, unknown> = { name: tool, arguments: args };
    if (options.meta) params._meta = options.meta;
    const body = goJson({ id: options.id ?? 1, jsonrpc: "2.0", method: "tools/call", params });
    return authorinoInput({
        method: "POST",
        host: server.host,
        path: serverPath(server),
        body,
        headers: {
            ...CLIENT_HEADERS,
            "mcp-session-id": SESSION,
            "content-length": String(Buffer.byteLength(body)),
            "x-mcp-method": "tools/call",
            "x-mcp-toolname": tool,
            "x-mcp-servername": mcpServerName(server),
            ...options.headers,
        },
    });
}

/** The client's own body of the same call (prefixed name, the client's key order, no escapes). */
export function clientToolCallBody(server: McpServerConfig, tool: string, args: unknown): string {
    return JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: `${toolPrefix(server)}${tool}`, arguments: args } });
}

/**
 * The two client libraries the router has used for its session set-up write the body
 * differently: a Go map marshalled by encoding/json (sorted keys), or the MCP Go SDK's structs
 * (jsonrpc first, params members in declaration order). The policy must not care.
 */
export type HairpinClient = "go-map" | "go-sdk";

function hairpinHeaders(server: McpServerConfig, method: string, tool: string): Record<string, string> {
    // initializeMCPServerSession: the client's headers minus pseudo headers, mcp-session-id,
    // router-key, mcp-init-host, accept; then x-mcp-method (the pending call's, which the router
    // overwrites with the hairpin's own in routeBrokerPassthrough), x-mcp-servername,
    // x-mcp-toolname, user-agent; clients.go adds x-client-id. router-key and mcp-init-host are
    // unset by the router before ext_authz.
    return {
        authorization: CLIENT_HEADERS.authorization,
        "mcp-protocol-version": CLIENT_HEADERS["mcp-protocol-version"],
        "x-mcp-method": method,
        "x-mcp-servername": mcpServerName(server),
        "x-mcp-toolname": tool,
        "user-agent": "mcp-router",
        "x-client-id": "lazyinit",
    };
}

/** The router's own initialize for the pending call of `tool`, as it reaches the server host. */
export function hairpinInitialize(server: McpServerConfig, tool: string, client: HairpinClient = "go-map", headers: Record<string, string> = {}, elicitation = false): Record<string, unknown> {
    const capabilities = elicitation ? { elicitation: {} } : {};
    const clientInfo = { name: "mcp-gateway", version: "0.0.1" };
    const body =
        client === "go-map"
            ? goJson({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities, clientInfo } })
            : JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { capabilities, clientInfo, protocolVersion: "2025-11-25" } });
    return authorinoInput({ method: "POST", host: server.host, path: serverPath(server), body, headers: { ...hairpinHeaders(server, "initialize", tool), ...headers } });
}

/** The router's notifications/initialized that follows, with the backend's session. */
export function hairpinInitialized(server: McpServerConfig, tool: string, client: HairpinClient = "go-map", headers: Record<string, string> = {}): Record<string, unknown> {
    const body = client === "go-map" ? goJson({ jsonrpc: "2.0", method: "notifications/initialized" }) : JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized", params: {} });
    return authorinoInput({
        method: "POST",
        host: server.host,
        path: serverPath(server),
        body,
        headers: { ...hairpinHeaders(server, "notifications/initialized", tool), "mcp-session-id": SESSION, ...headers },
    });
}

/**
 * A tools/call on the stateless protocol revision after the router (router_202607.go
 * routeToolCall): the client's mcp-method stays, mcp-name is rewritten to the bare name like the
 * body (validateAndRewriteBody re-serialises only when the server has a prefix), plus the router's
 * x-mcp-* headers. No session, no set-up requests.
 */
export function statelessToolCall(server: McpServerConfig, tool: string, args: unknown, headers: Record<string, string> = {}): Record<string, unknown> {
    const body = goJson({ id: 1, jsonrpc: "2.0", method: "tools/call", params: { name: tool, arguments: args } });
    return authorinoInput({
        method: "POST",
        host: server.host,
        path: serverPath(server),
        body,
        headers: {
            authorization: CLIENT_HEADERS.authorization,
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/call",
            "mcp-name": tool,
            "x-mcp-method": "tools/call",
            "x-mcp-toolname": tool,
            "x-mcp-servername": mcpServerName(server),
            ...headers,
        },
    });
}

/**
 * A client's elicitation response after the router (router_202511.go routeElicitationResponse):
 * the server's request id restored, re-serialised, sent to the server's host with the backend
 * session and x-mcp-servername; no x-mcp-method.
 */
export function elicitationResponse(server: McpServerConfig, result: unknown, options: { readonly id?: unknown; readonly extra?: Record<string, unknown>; readonly headers?: Record<string, string>; readonly host?: string } = {}): Record<string, unknown> {
    const body = goJson({ id: options.id === undefined ? 7 : options.id, jsonrpc: "2.0", result, ...options.extra });
    return authorinoInput({
        method: "POST",
        host: options.host ?? server.host,
        path: serverPath(server),
        body,
        headers: { authorization: CLIENT_HEADERS.authorization, "mcp-session-id": SESSION, "x-mcp-servername": mcpServerName(server), ...options.headers },
    });
}

/**
 * What Envoy sends ext_authz for a body over maxRequestBytes with allowPartialMessage: the first
 * maxRequestBytes bytes and `x-envoy-auth-partial-body: true`.
 */
export function cutAtMaxRequestBytes(input: Record<string, unknown>, maxRequestBytes: number, markPartial = true): Record<string, unknown> {
    const request = input.request as { body: string; headers: Record<string, string> };
    const body = Buffer.from(request.body).subarray(0, maxRequestBytes).toString("utf8");
    const headers = { ...request.headers, "x-envoy-auth-partial-body": markPartial ? "true" : "false" };
    const context = input.context as { request: { http: Record<string, unknown> } };
    return { ...input, request: { ...request, body, headers }, context: { ...context, request: { http: { ...context.request.http, body, headers } } } };
}
