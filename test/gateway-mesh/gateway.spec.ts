// What the McpGateway renders per stack (ci: kubernetes, prod: openshift), field by field.
import { strict as assert } from "assert";
import type { StackRun } from "../../cli/mockRuntime";
import { at, chart, componentsOfType, ofKind, oneOf, render } from "./support";

const SERVERS = [
    { name: "currency", host: "currency-mcp.mcp.local", service: "currency-mcp", prefix: "currency_" },
    { name: "fetch", host: "fetch-mcp.mcp.local", service: "fetch-mcp", prefix: "fetch_" },
];

function describeGateway(variant: "ci" | "prod", expected: { readonly publicHost: string; readonly gatewayClassName: string }): void {
    let run: StackRun;
    before(async () => {
        run = await render(variant);
    });

    it("creates the Kuadrant CR (kuadrant.io/v1beta1) in kuadrant-system", () => {
        const kuadrant = oneOf(run, "Kuadrant", "kuadrant", "kuadrant-system");
        assert.equal(kuadrant.apiVersion, "kuadrant.io/v1beta1");
    });

    it("renders the Gateway with the public and the internal wildcard listener", () => {
        const gateway = oneOf(run, "Gateway", "mcp-gateway", "gateway-system");
        assert.equal(gateway.apiVersion, "gateway.networking.k8s.io/v1");
        assert.equal(at(gateway, "spec.gatewayClassName"), expected.gatewayClassName);
        assert.deepEqual(at(gateway, "spec.listeners"), [
            { name: "mcp", hostname: expected.publicHost, port: 8080, protocol: "HTTP", allowedRoutes: { namespaces: { from: "Same" } } },
            { name: "mcps", hostname: "*.mcp.local", port: 8080, protocol: "HTTP", allowedRoutes: { namespaces: { from: "Same" } } },
        ]);
    });

    it("installs the mcp-gateway chart from its OCI reference, controller only", () => {
        const release = chart(run, "mcp-gateway");
        assert.equal(release.chart, "oci://ghcr.io/kuadrant/charts/mcp-gateway");
        assert.equal(release.version, "0.9.0");
        assert.equal(release.namespace, "gateway-system");
        assert.equal(at(release.values, "gateway.create"), false);
        assert.equal(at(release.values, "mcpGatewayExtension.create"), false);
        assert.equal(at(release.values, "gateway.publicHost"), expected.publicHost);
        assert.equal(at(release.values, "controller.enabled"), true);
    });

    it("extends the Gateway's public listener with one MCPGatewayExtension in the same namespace", () => {
        const extensions = ofKind(run, "MCPGatewayExtension");
        assert.equal(extensions.length, 1);
        const extension = extensions[0];
        assert.equal(extension?.apiVersion, "mcp.kuadrant.io/v1");
        assert.equal(extension?.metadata.namespace, "gateway-system");
        assert.deepEqual(at(extension, "spec.targetRef"), { group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway", sectionName: "mcp" });
    });

    it("routes each MCP server's host to its Service on the internal listener", () => {
        assert.deepEqual(ofKind(run, "HTTPRoute").map((route) => route.metadata.name).sort(), SERVERS.map((s) => s.name));
        for (const server of SERVERS) {
            const route = oneOf(run, "HTTPRoute", server.name, "gateway-system");
            assert.deepEqual(at(route, "spec.hostnames"), [server.host]);
            assert.deepEqual(at(route, "spec.parentRefs"), [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway", sectionName: "mcps" }]);
            assert.deepEqual(at(route, "spec.rules"), [
                {
                    matches: [{ path: { type: "PathPrefix", value: "/mcp" } }],
                    backendRefs: [{ group: "", kind: "Service", name: server.service, namespace: "mcp-servers", port: 8080 }],
                },
            ]);
        }
    });

    it("grants each cross-namespace backendRef with a ReferenceGrant in the backend's namespace", () => {
        const grants = ofKind(run, "ReferenceGrant");
        assert.deepEqual(grants.map((grant) => `${grant.metadata.namespace}/${grant.metadata.name}`).sort(), SERVERS.map((s) => `mcp-servers/mcp-gateway-${s.name}`));
        for (const server of SERVERS) {
            const grant = oneOf(run, "ReferenceGrant", `mcp-gateway-${server.name}`, "mcp-servers");
            assert.deepEqual(at(grant, "spec.to"), [{ group: "", kind: "Service", name: server.service }]);
            assert.deepEqual(at(grant, "spec.from"), [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "gateway-system" }]);
        }
    });

    it("registers each server once, with its tool prefix and path", () => {
        assert.deepEqual(ofKind(run, "MCPServerRegistration").map((r) => r.metadata.name).sort(), SERVERS.map((s) => s.name));
        for (const server of SERVERS) {
            const registration = oneOf(run, "MCPServerRegistration", server.name, "gateway-system");
            assert.equal(registration.apiVersion, "mcp.kuadrant.io/v1");
            assert.deepEqual(registration.spec, { targetRef: { group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: server.name }, prefix: server.prefix, path: "/mcp" });
        }
    });

    it("checks caller identity on the whole Gateway: the agents' ServiceAccount tokens, audience-bound", () => {
        const policy = oneOf(run, "AuthPolicy", "mcp-gateway-identity", "gateway-system");
        assert.equal(policy.apiVersion, "kuadrant.io/v1");
        assert.deepEqual(at(policy, "spec.targetRef"), { group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway" });
        assert.equal(at(policy, "spec.overrides.strategy"), "merge");
        assert.deepEqual(at(policy, "spec.overrides.rules.authentication"), { "agent-service-account": { kubernetesTokenReview: { audiences: ["mcp-gateway"] } } });
        assert.deepEqual(at(policy, "spec.overrides.rules.authorization"), {
            "allowed-callers": {
                patternMatching: {
                    patterns: [
                        {
                            predicate:
                                "auth.identity.user.username in ['system:serviceaccount:currency-agent:currency-agent', 'system:serviceaccount:fetch-agent:fetch-agent']",
                        },
                    ],
                },
            },
        });
    });

    it("limits each rate-limited tool separately, counting only tools/call, keyed on x-mcp-toolname and the server", () => {
        const policy = oneOf(run, "RateLimitPolicy", "mcp-gateway-tool-rates", "gateway-system");
        assert.equal(policy.apiVersion, "kuadrant.io/v1");
        assert.deepEqual(at(policy, "spec.targetRef"), { group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway" });
        assert.deepEqual(at(policy, "spec.overrides.limits"), {
            "currency.get_exchange_rate": {
                rates: [{ limit: 120, window: "1m" }],
                when: [
                    { predicate: "request.headers['x-mcp-method'] == 'tools/call'" },
                    { predicate: "request.headers['x-mcp-servername'] == 'gateway-system/currency'" },
                    { predicate: "request.headers['x-mcp-toolname'] == 'get_exchange_rate'" },
                ],
            },
            "fetch.fetch_url": {
                rates: [{ limit: 60, window: "1m" }],
                when: [
                    { predicate: "request.headers['x-mcp-method'] == 'tools/call'" },
                    { predicate: "request.headers['x-mcp-servername'] == 'gateway-system/fetch'" },
                    { predicate: "request.headers['x-mcp-toolname'] == 'fetch_url'" },
                ],
            },
        });
    });

    it("guards the Gateway with the CUSTOM ext-authz AuthorizationPolicy (mesh and tool policy both on)", () => {
        const policy = oneOf(run, "AuthorizationPolicy", "mcp-gateway-tool-policy", "gateway-system");
        assert.equal(policy.apiVersion, "security.istio.io/v1");
        assert.equal(at(policy, "spec.action"), "CUSTOM");
        assert.deepEqual(at(policy, "spec.provider"), { name: "kuadrant-authorino" });
        assert.deepEqual(at(policy, "spec.targetRefs"), [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway" }]);
    });

    it("instantiates the tool policy for the MCP servers in the gateway namespace", () => {
        assert.deepEqual(componentsOfType(run, "agent-security:gateway:ToolPolicy").map((r) => r.name), ["gateway-tool-policy"]);
    });

    it("creates the gateway and MCP server namespaces with Pod Security labels", () => {
        for (const [name, level] of [["gateway-system", "restricted"], ["mcp-servers", "restricted"]] as const) {
            const namespace = oneOf(run, "Namespace", name);
            assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], level, name);
            assert.equal(namespace.metadata.labels?.["agent-security.io/agents"], "false", name);
        }
    });

    it("exports the URL agents call: the public host on the listener port", () => {
        assert.equal(run.outputs.mcpGatewayUrl, `http://${expected.publicHost}:8080/mcp`);
    });
}

describe("McpGateway", () => {
    describe("ci (kubernetes)", () => {
        describeGateway("ci", { publicHost: "mcp.ci.agents.example.com", gatewayClassName: "istio" });

        it("installs Kuadrant from the pinned kuadrant-operator chart into kuadrant-system", async () => {
            const release = chart(await render("ci"), "kuadrant-operator");
            assert.equal(release.chart, "kuadrant-operator");
            assert.equal(release.version, "1.5.2");
            assert.equal(release.repo, "https://kuadrant.io/helm-charts/");
            assert.equal(release.namespace, "kuadrant-system");
        });

        it("creates kuadrant-system enforcing baseline and warning on restricted", async () => {
            const namespace = oneOf(await render("ci"), "Namespace", "kuadrant-system");
            assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "baseline");
            assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/warn"], "restricted");
        });
    });

    describe("prod (openshift)", () => {
        describeGateway("prod", { publicHost: "mcp.agents.example.com", gatewayClassName: "istio" });

        it("installs Kuadrant through OLM, not Helm", async () => {
            const run = await render("prod");
            assert.deepEqual(
                componentsOfType(run, "agent-security:operators:OlmOperator").map((r) => r.name).filter((n) => n.startsWith("gateway-")),
                ["gateway-kuadrant-operator"],
            );
            assert.throws(() => chart(run, "kuadrant-operator"), /expected one chart release/);
        });

        it("subscribes to rhcl-operator in kuadrant-system with an AllNamespaces OperatorGroup", async () => {
            const run = await render("prod");
            const subscription = oneOf(run, "Subscription", "rhcl-operator", "kuadrant-system");
            assert.equal(at(subscription, "spec.name"), "rhcl-operator");
            const groups = ofKind(run, "OperatorGroup", "kuadrant-system");
            assert.equal(groups.length, 1);
            assert.equal(at(groups[0], "spec.targetNamespaces"), undefined);
        });
    });
});
