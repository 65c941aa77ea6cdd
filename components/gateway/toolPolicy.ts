// The Authorino half of the tool policy (design.md section 7): one AuthConfig per MCP server,
// selected by the server's host, carrying that server's generated Rego. Istio's CUSTOM
// AuthorizationPolicy (components/mesh/extAuthz.ts) sends the gateway's requests to Authorino
// with the body; Authorino picks the AuthConfig by host and evaluates `allow`.
//
// Plus one AuthConfig for the gateway's public host. Where the check sits is settled from the
// upstream source (Kuadrant/mcp-gateway v0.9.0, Istio 1.30.3; docs/tool-policy.md): the MCP
// router's ext_proc is inserted first on the gateway listener with a buffered body
// (internal/controller/mcpgatewayextension_controller.go, buildEnvoyFilter), ahead of Istio's
// CUSTOM ext_authz (pilot/pkg/networking/core/listener_builder.go), so ext_authz sees the request
// the router rewrote. Every tools/call a server executes reaches Authorino with that server's host
// and the bare tool name, and is decided by `<server>-tool-policy`, as are the router's own
// session set-up requests to the server. What the router hands to the broker (initialize,
// tools/list, ping, notifications, calls no server executes) keeps the public host; without an
// AuthConfig for it Authorino would deny all of that: fail closed, but the product would not work.
// The public host's Rego (rego.ts, generateGatewayToolPolicyRego) applies each server's own rules.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { McpServerConfig } from "../../config/schema";
import { MANAGED_BY_LABELS } from "../wellKnown";
import { generateGatewayToolPolicyRego, generateToolPolicyRego } from "./rego";

export const AUTHCONFIG_API_VERSION = "authorino.kuadrant.io/v1beta3";
/** The key of the OPA evaluator inside `spec.authorization`; Authorino names the policy after it. */
export const TOOL_POLICY_EVALUATOR = "tool-policy";
export const MCP_SERVER_LABEL = "agent-security.io/mcp-server";
/** The public host's AuthConfig (see the file comment). */
export const GATEWAY_TOOL_POLICY_NAME = "mcp-gateway-tool-policy";

export function toolPolicyName(server: Pick<McpServerConfig, "name">): string {
    return `${server.name}-tool-policy`;
}

export interface AuthConfigManifest {
    readonly apiVersion: typeof AUTHCONFIG_API_VERSION;
    readonly kind: "AuthConfig";
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: {
        readonly hosts: readonly string[];
        readonly authentication: { readonly [name: string]: { readonly anonymous: Record<string, never> } };
        readonly authorization: { readonly [name: string]: { readonly opa: { readonly rego: string; readonly allValues: boolean } } };
    };
}

/**
 * The AuthConfig of one MCP server, as a plain object (tested without Pulumi).
 *
 * - `hosts: [server.host]`: Authorino selects the AuthConfig by the CheckRequest's host
 *   (Kuadrant/authorino pkg/service/auth.go), so each server's requests meet that server's Rego.
 * - `authentication`: anonymous, on purpose and explicitly. Who may call the gateway is decided by
 *   the AuthPolicy (Kubernetes TokenReview) on the wasm-shim path; this AuthConfig answers only
 *   "is this tool call, with these arguments, allowed". Authorino would add an anonymous identity
 *   by itself when none is configured (controllers/auth_config_controller.go); spelling it out
 *   keeps a reader from wondering whether identity was forgotten.
 * - `opa.version` is left out. The CRD of Authorino v0.27 has it (default v0), but Kuadrant v1.5.2
 *   installs Authorino v0.25, whose CRD has no such field: the API server would prune a `v1` there
 *   and the policy would silently be parsed as v0 on one cluster and v1 on another. Left out, it is
 *   v0 everywhere, and `import rego.v1` (first line of the text) turns on the v1 keywords under
 *   v0 parsing; the tests compile the text both ways.
 * - `allValues: false`: `allow` is the only decision, and the generated text has no other rule
 *   worth exporting.
 */
export function toolPolicyAuthConfig(server: McpServerConfig, namespace: string, rego: string = generateToolPolicyRego(server)): AuthConfigManifest {
    return {
        apiVersion: AUTHCONFIG_API_VERSION,
        kind: "AuthConfig",
        metadata: { name: toolPolicyName(server), namespace, labels: { ...MANAGED_BY_LABELS, [MCP_SERVER_LABEL]: server.name } },
        spec: {
            hosts: [server.host],
            authentication: { anonymous: { anonymous: {} } },
            authorization: { [TOOL_POLICY_EVALUATOR]: { opa: { rego, allValues: false } } },
        },
    };
}

/**
 * The AuthConfig of the gateway's public host: as toolPolicyAuthConfig (same anonymous
 * authentication, same evaluator, no opa.version, allValues false) but selected by the public
 * host and carrying the gateway Rego, which knows every server's tools by their client-facing names.
 */
export function gatewayToolPolicyAuthConfig(
    servers: readonly McpServerConfig[],
    publicHost: string,
    namespace: string,
    rego: string = generateGatewayToolPolicyRego(servers),
): AuthConfigManifest {
    return {
        apiVersion: AUTHCONFIG_API_VERSION,
        kind: "AuthConfig",
        metadata: { name: GATEWAY_TOOL_POLICY_NAME, namespace, labels: { ...MANAGED_BY_LABELS } },
        spec: {
            hosts: [publicHost],
            authentication: { anonymous: { anonymous: {} } },
            authorization: { [TOOL_POLICY_EVALUATOR]: { opa: { rego, allValues: false } } },
        },
    };
}

export interface ToolPolicyArgs {
    readonly servers: readonly McpServerConfig[];
    /** Where the AuthConfigs live (Kuadrant's Authorino watches all namespaces); the gateway's. */
    readonly namespace: string;
    /**
     * The gateway's public host (what agents call). When given, and there is at least one server,
     * one more AuthConfig (`mcp-gateway-tool-policy`) guards requests that reach Authorino with it.
     */
    readonly publicHost?: string;
}

export class ToolPolicy extends pulumi.ComponentResource {
    /** The generated Rego per MCP server name, exactly as the AuthConfig carries it. */
    public readonly rego: Readonly<Record<string, string>>;
    /** The AuthConfig per MCP server name. */
    public readonly authConfigs: Readonly<Record<string, k8s.apiextensions.CustomResource>>;
    /**
     * The public host's Rego and AuthConfig; undefined without a publicHost or without servers.
     * Separate fields, not entries of the maps above, so no server name can clash with them.
     */
    public readonly gatewayRego: string | undefined;
    public readonly gatewayAuthConfig: k8s.apiextensions.CustomResource | undefined;

    constructor(name: string, args: ToolPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:gateway:ToolPolicy", name, {}, opts);
        const rego: Record<string, string> = {};
        const authConfigs: Record<string, k8s.apiextensions.CustomResource> = {};
        // The AuthConfig CRD comes with Kuadrant: whatever the caller made this component wait for
        // (the operator install), the custom resources have to wait for too.
        const childOpts: pulumi.CustomResourceOptions = { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) };
        for (const server of args.servers) {
            if (Object.prototype.hasOwnProperty.call(rego, server.name)) {
                throw new Error(`ToolPolicy ${name}: MCP server ${server.name} is listed twice`);
            }
            const text = generateToolPolicyRego(server);
            rego[server.name] = text;
            authConfigs[server.name] = new k8s.apiextensions.CustomResource(
                `${name}-${server.name}`,
                { ...toolPolicyAuthConfig(server, args.namespace, text) },
                childOpts,
            );
        }
        this.rego = Object.freeze(rego);
        this.authConfigs = Object.freeze(authConfigs);

        // Without servers the public host gets no AuthConfig, so Authorino denies everything there.
        if (args.publicHost !== undefined && args.servers.length > 0) {
            const publicHost = args.publicHost;
            for (const server of args.servers) {
                // Two AuthConfigs claiming one host: Authorino serves one of them, whichever it
                // reconciled first. Same name in one namespace: one would overwrite the other.
                if (server.host.toLowerCase() === publicHost.toLowerCase()) {
                    throw new Error(`ToolPolicy ${name}: MCP server ${server.name} has the gateway's public host ${publicHost} as its host`);
                }
                if (toolPolicyName(server) === GATEWAY_TOOL_POLICY_NAME) {
                    throw new Error(`ToolPolicy ${name}: MCP server ${server.name}'s AuthConfig would be named ${GATEWAY_TOOL_POLICY_NAME}, the public host's; rename the server`);
                }
            }
            const text = generateGatewayToolPolicyRego(args.servers);
            this.gatewayRego = text;
            // A "." cannot occur in a server name (a DNS label), so this resource name is not
            // `${name}-${server.name}` for any server.
            this.gatewayAuthConfig = new k8s.apiextensions.CustomResource(
                `${name}.gateway`,
                { ...gatewayToolPolicyAuthConfig(args.servers, publicHost, args.namespace, text) },
                childOpts,
            );
        } else {
            this.gatewayRego = undefined;
            this.gatewayAuthConfig = undefined;
        }
        this.registerOutputs({ rego: this.rego, ...(this.gatewayRego === undefined ? {} : { gatewayRego: this.gatewayRego }) });
    }
}
