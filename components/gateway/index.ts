import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin, McpServerConfig, OperatorPin } from "../../config/schema";
import { extAuthzPolicyManifest } from "../mesh/extAuthz";
import { OlmOperator } from "../operators";
import type { McpGatewayEndpoint, Platform } from "../wellKnown";
import { GATEWAY_NAMESPACE, KUADRANT_NAMESPACE, MCP_GATEWAY_NAME } from "../wellKnown";
import { pinnedChartArgs } from "../charts";
import { childOptions } from "./options";
import {
    authPolicyManifest,
    backendNamespace,
    gatewayExtensionManifest,
    gatewayManifest,
    httpRouteManifest,
    kuadrantManifest,
    mcpGatewayChartValues,
    MCP_GATEWAY_PORT,
    MCP_GATEWAY_TOKEN_AUDIENCE,
    rateLimitPolicyManifest,
    referenceGrantManifest,
    serverRegistrationManifest,
    serversOutsideDomain,
} from "./manifests";
import type { GatewayCaller } from "./manifests";
import { platformNamespaceLabels, podSecurityLabels } from "./namespaces";
import { ToolPolicy } from "./toolPolicy";
import { dropPinnedIds } from "./transforms";

export type { GatewayCaller } from "./manifests";
export { MCP_GATEWAY_PORT, MCP_GATEWAY_TOKEN_AUDIENCE, toolPrefix } from "./manifests";

export interface McpGatewayArgs {
    readonly platform: Platform;
    readonly gatewayClassName: string;
    readonly publicHost: string;
    readonly internalDomain: string;
    readonly servers: readonly McpServerConfig[];
    /** Service accounts allowed to call the gateway (AuthPolicy identity). */
    readonly callers: readonly GatewayCaller[];
    readonly charts: { readonly kuadrantOperator: ChartPin; readonly mcpGateway: ChartPin };
    readonly operator: OperatorPin;
    readonly approval: "Automatic" | "Manual";
    /**
     * The Istio mesh (envoy flag) is on: guard the gateway with the CUSTOM ext-authz
     * AuthorizationPolicy whose provider the mesh registers. Without the mesh there is no provider
     * to name, so the argument check is absent and only identity and rates apply.
     */
    readonly meshExtAuthz?: boolean;
}

/**
 * The MCP gateway with Kuadrant: who may call (AuthPolicy), how often per tool (RateLimitPolicy),
 * with which arguments (ToolPolicy + the CUSTOM AuthorizationPolicy), and the routes to the MCP
 * servers, each registered with a tool prefix.
 */
export class McpGateway extends pulumi.ComponentResource {
    /** What agents call: the public listener's host, the MCP path. */
    public readonly url: string;
    /** The same gateway as agents inside the cluster reach it. */
    public readonly endpoint: McpGatewayEndpoint;

    constructor(name: string, args: McpGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:gateway:McpGateway", name, {}, opts);
        const outside = serversOutsideDomain(args.servers, args.internalDomain);
        if (outside.length > 0) {
            throw new Error(
                `MCP server(s) ${outside.join(", ")}: host must be a subdomain of the gateway's internal domain ${args.internalDomain} (agent-security:gateway.internalDomain), or the route never attaches to the *.${args.internalDomain} listener`,
            );
        }
        const child = (...dependsOn: pulumi.Resource[]) => childOptions(this, opts, dependsOn);
        const custom = (role: string, manifest: k8s.apiextensions.CustomResourceArgs, dependsOn: pulumi.Resource[]) =>
            new k8s.apiextensions.CustomResource(`${name}-${role}`, manifest, child(...dependsOn));

        // Kuadrant: the operator, then the CR that makes it deploy Authorino and Limitador.
        // The operators and the Authorino/Limitador pods they create are not templated here and do
        // not all set a seccomp profile (authorino-operator's manager sets only runAsNonRoot), so
        // `restricted` is warned and audited, `baseline` enforced: no privileged pods, no host
        // namespaces.
        const kuadrantPodSecurity = "baseline";
        let kuadrantInstall: pulumi.Resource;
        if (args.platform === "openshift") {
            // AllNamespaces only (the CSV's installModes): an OperatorGroup without targetNamespaces.
            kuadrantInstall = new OlmOperator(
                `${name}-kuadrant-operator`,
                {
                    namespace: KUADRANT_NAMESPACE,
                    createNamespace: true,
                    installMode: "AllNamespaces",
                    createOperatorGroup: true,
                    operator: args.operator,
                    approval: args.approval,
                    namespaceLabels: podSecurityLabels(kuadrantPodSecurity),
                },
                child(),
            );
        } else {
            const kuadrantNamespace = new k8s.core.v1.Namespace(
                `${name}-kuadrant-namespace`,
                { metadata: { name: KUADRANT_NAMESPACE, labels: platformNamespaceLabels(kuadrantPodSecurity) } },
                child(),
            );
            // The chart has no values (crds/kuadrant/helm/kuadrant-operator/values.yaml).
            kuadrantInstall = new k8s.helm.v4.Chart(
                `${name}-kuadrant-operator`,
                pinnedChartArgs(args.charts.kuadrantOperator, "kuadrant-operator", KUADRANT_NAMESPACE, {}),
                child(kuadrantNamespace),
            );
        }
        custom("kuadrant", kuadrantManifest(), [kuadrantInstall]);

        // The gateway namespace enforces `restricted`: the chart's controller is built for it
        // (templates/deployment-controller.yaml) and istiod gives the Gateway's istio-proxy pods the
        // seccomp profile it lacks by default (components/mesh/meshConfig.ts). A broker-router the
        // controller deploys without a compliant security context is refused, loudly, rather than
        // admitted next to the gateway that guards every tool call.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: GATEWAY_NAMESPACE, labels: platformNamespaceLabels("restricted") } },
            child(),
        );
        const gateway = custom("gateway", gatewayManifest(args), [namespace]);
        const chart = new k8s.helm.v4.Chart(
            `${name}-mcp-gateway`,
            pinnedChartArgs(args.charts.mcpGateway, "mcp-gateway", GATEWAY_NAMESPACE, mcpGatewayChartValues(args)),
            { ...child(namespace), ...(args.platform === "openshift" ? { transforms: [dropPinnedIds] } : {}) },
        );
        // The mcp.kuadrant.io CRDs come with the chart.
        custom("extension", gatewayExtensionManifest(args.publicHost), [chart, gateway]);

        // Namespaces of MCP servers outside the gateway namespace, for their ReferenceGrants.
        const backendNamespaces = new Map<string, k8s.core.v1.Namespace>();
        for (const serverNamespace of [...new Set(args.servers.map(backendNamespace))].filter((ns) => ns !== GATEWAY_NAMESPACE).sort()) {
            backendNamespaces.set(
                serverNamespace,
                new k8s.core.v1.Namespace(
                    `${name}-backend-namespace-${serverNamespace}`,
                    { metadata: { name: serverNamespace, labels: platformNamespaceLabels("restricted") } },
                    child(),
                ),
            );
        }
        for (const server of [...args.servers].sort((a, b) => a.name.localeCompare(b.name))) {
            const route = custom(`route-${server.name}`, httpRouteManifest(server), [gateway]);
            const grant = referenceGrantManifest(server, args.platform);
            const grantNamespace = backendNamespaces.get(backendNamespace(server));
            if (grant && grantNamespace) custom(`reference-grant-${server.name}`, grant, [grantNamespace]);
            custom(`registration-${server.name}`, serverRegistrationManifest(server), [chart, route]);
        }

        custom("identity", authPolicyManifest(args.callers), [kuadrantInstall, gateway]);
        const rates = rateLimitPolicyManifest(args.servers);
        if (rates) custom("rate-limits", rates, [kuadrantInstall, gateway]);

        new ToolPolicy(`${name}-tool-policy`, { servers: args.servers, namespace: GATEWAY_NAMESPACE, publicHost: args.publicHost }, child(kuadrantInstall, namespace));
        if (args.meshExtAuthz) custom("ext-authz", extAuthzPolicyManifest(), [gateway]);

        this.url = `http://${args.publicHost}:${MCP_GATEWAY_PORT}/mcp`;
        // Istio's gateway deployment controller names the Service `<gateway>-<class>`. Agents dial
        // it directly: the public name resolves outside the cluster (or not at all) and is neither
        // in the mesh registry nor in the Cilium DNS allowlist.
        this.endpoint = {
            url: `http://${MCP_GATEWAY_NAME}-${args.gatewayClassName}.${GATEWAY_NAMESPACE}.svc.cluster.local:${MCP_GATEWAY_PORT}/mcp`,
            host: args.publicHost,
            tokenAudience: MCP_GATEWAY_TOKEN_AUDIENCE,
        };
        this.registerOutputs({ url: this.url, endpoint: this.endpoint });
    }
}
