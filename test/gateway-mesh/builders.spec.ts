// The pure builders of the gateway and mesh layers, without Pulumi: the decisions that are easy to
// get subtly wrong (who gets checked, which names match, what a transform removes).
import { strict as assert } from "assert";
import { evaluate } from "@marcbachmann/cel-js";
import type * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "../../config/schema";
import type { McpServerConfig } from "../../config/schema";
import { pinnedChartArgs } from "../../components/charts";
import {
    authPolicyManifest,
    celString,
    rateLimitPolicyManifest,
    referenceGrantManifest,
    serversOutsideDomain,
    toolPrefix,
} from "../../components/gateway/manifests";
import { childOptions } from "../../components/gateway/options";
import { dropPinnedIds } from "../../components/gateway/transforms";
import { assertEgressHost, serviceEntryManifest, sidecarManifest } from "../../components/mesh/agentPolicy";
import { extAuthzPolicyManifest, MCP_METHODS } from "../../components/mesh/extAuthz";
import type { Operation } from "../../components/mesh/extAuthz";
import { istiodValues, meshConfig } from "../../components/mesh/meshConfig";
import { NOW, variantConfig } from "./variants";

function ciServers(): readonly McpServerConfig[] {
    return parseConfig(variantConfig("ci"), "ci", NOW).mcpServers;
}

function server(overrides: Partial<McpServerConfig> & Pick<McpServerConfig, "name">): McpServerConfig {
    const base = ciServers()[0] as McpServerConfig;
    return { ...base, ...overrides };
}

// Istio's operation matching (security/authorization-policy.html): exact, `prefix*`, `*suffix`.
function istioPathMatches(pattern: string, value: string): boolean {
    if (pattern === "*") return true;
    if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
    if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
    return pattern === value;
}

function operationMatches(operation: Operation, method: string, path: string): boolean {
    if (operation.methods && !operation.methods.includes(method)) return false;
    if (operation.notMethods && operation.notMethods.includes(method)) return false;
    if (operation.paths && !operation.paths.some((pattern) => istioPathMatches(pattern, path))) return false;
    if (operation.notPaths && operation.notPaths.some((pattern) => istioPathMatches(pattern, path))) return false;
    return true;
}

describe("gateway and mesh builders", () => {
    describe("CUSTOM ext-authz AuthorizationPolicy", () => {
        const policy = extAuthzPolicyManifest();
        const checked = (method: string, path: string) => policy.spec.rules.some((rule) => rule.to.some((to) => operationMatches(to.operation, method, path)));

        it("sends the MCP transport (POST, GET, DELETE on /mcp) to Authorino", () => {
            for (const method of MCP_METHODS) {
                assert.ok(checked(method, "/mcp"), `${method} /mcp`);
                assert.ok(checked(method, "/mcp/session"), `${method} /mcp/session`);
            }
        });

        it("leaves no method or path that skips the check", () => {
            const methods = ["POST", "GET", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "post", "PROPFIND"];
            const paths = ["/mcp", "/mcp/", "/mcp/x", "/MCP", "/mcpx", "/v1/mcp", "/", "/admin", "/.well-known/oauth-protected-resource", "/mcp/../admin", "//mcp", ""];
            for (const method of methods) for (const path of paths) assert.ok(checked(method, path), `${method} ${JSON.stringify(path)} is not checked`);
        });

        it("names the mesh's Authorino provider and targets the MCP gateway in its own namespace", () => {
            assert.equal(policy.spec.action, "CUSTOM");
            assert.equal(policy.spec.provider.name, "kuadrant-authorino");
            assert.deepEqual(policy.spec.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "mcp-gateway" }]);
            assert.equal(policy.metadata.namespace, "gateway-system");
        });
    });

    describe("tool prefixes", () => {
        it("uses the configured prefix", () => {
            assert.equal(toolPrefix({ name: "fetch", prefix: "web_" }), "web_");
        });

        it("derives <name>_ and turns the '-' of a DNS label into '_' (the CRD pattern has no '-')", () => {
            assert.equal(toolPrefix({ name: "fetch", prefix: undefined }), "fetch_");
            assert.equal(toolPrefix({ name: "my-server", prefix: undefined }), "my_server_");
            assert.match(toolPrefix({ name: "a-b-c", prefix: undefined }), /^[a-z0-9][a-z0-9_]*$/);
        });
    });

    describe("AuthPolicy caller identity", () => {
        const callers = [
            { namespace: "fetch-agent", serviceAccountName: "fetch-agent" },
            { namespace: "currency-agent", serviceAccountName: "currency-agent" },
        ];
        const predicate = (policy = authPolicyManifest(callers)) => policy.spec.overrides.rules.authorization["allowed-callers"]?.patternMatching.patterns[0]?.predicate ?? "";
        const allows = (username: string, policy = authPolicyManifest(callers)) =>
            evaluate(predicate(policy), { auth: { identity: { user: { username } } } }) === true;

        it("admits the configured agents' service accounts", () => {
            assert.ok(allows("system:serviceaccount:fetch-agent:fetch-agent"));
            assert.ok(allows("system:serviceaccount:currency-agent:currency-agent"));
        });

        it("refuses other service accounts, including an agent's name in another namespace", () => {
            assert.ok(!allows("system:serviceaccount:default:default"));
            assert.ok(!allows("system:serviceaccount:evil:fetch-agent"));
            assert.ok(!allows("system:serviceaccount:fetch-agent:fetch-agent-x"));
        });

        it("refuses everybody when no caller is configured", () => {
            assert.ok(!allows("system:serviceaccount:fetch-agent:fetch-agent", authPolicyManifest([])));
        });

        it("is the same text whatever the order of the callers", () => {
            assert.equal(predicate(authPolicyManifest([...callers].reverse())), predicate());
        });

        it("quotes CEL strings so that a value cannot end the literal", () => {
            assert.equal(evaluate(celString("a'b\\c")), "a'b\\c");
        });
    });

    describe("RateLimitPolicy", () => {
        it("counts a limit only for its own tool on its own server", () => {
            const policy = rateLimitPolicyManifest(ciServers());
            assert.ok(policy);
            const limit = policy.spec.overrides.limits["fetch.fetch_url"];
            assert.ok(limit);
            const matches = (headers: Record<string, string>) => limit.when.every((when) => evaluate(when.predicate, { request: { headers } }) === true);
            const call = { "x-mcp-method": "tools/call" };
            assert.ok(matches({ ...call, "x-mcp-servername": "gateway-system/fetch", "x-mcp-toolname": "fetch_url" }));
            assert.ok(!matches({ ...call, "x-mcp-servername": "gateway-system/currency", "x-mcp-toolname": "fetch_url" }));
            assert.ok(!matches({ ...call, "x-mcp-servername": "gateway-system/fetch", "x-mcp-toolname": "get_exchange_rate" }));
            // The router's session-init hairpin carries the tool name too; counting it would charge a session's first call three times.
            assert.ok(!matches({ "x-mcp-method": "initialize", "x-mcp-servername": "gateway-system/fetch", "x-mcp-toolname": "fetch_url" }));
            assert.ok(!matches({ "x-mcp-method": "notifications/initialized", "x-mcp-servername": "gateway-system/fetch", "x-mcp-toolname": "fetch_url" }));
        });

        it("is absent when no tool has a rate limit (the CRD needs at least one limit)", () => {
            const unlimited = ciServers().map((s) => ({ ...s, tools: Object.fromEntries(Object.entries(s.tools).map(([k, t]) => [k, { ...t, rateLimit: undefined }])) }));
            assert.equal(rateLimitPolicyManifest(unlimited), undefined);
        });

        it("lists limits in a stable order whatever the config order", () => {
            const servers = ciServers();
            assert.deepEqual(Object.keys(rateLimitPolicyManifest([...servers].reverse())?.spec.overrides.limits ?? {}), Object.keys(rateLimitPolicyManifest(servers)?.spec.overrides.limits ?? {}));
        });
    });

    describe("routes and grants", () => {
        it("needs no ReferenceGrant for a backend in the gateway namespace", () => {
            assert.equal(referenceGrantManifest(server({ name: "local", backend: { service: "local-mcp", port: 8080, path: "/mcp" } }), "kubernetes"), undefined);
        });

        it("grants the gateway namespace's HTTPRoutes one named Service in the backend namespace", () => {
            const grant = referenceGrantManifest(server({ name: "fetch" }), "kubernetes");
            assert.ok(grant);
            assert.equal(grant.metadata.namespace, "mcp-servers");
            assert.deepEqual(grant.spec.from, [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "gateway-system" }]);
            assert.deepEqual(grant.spec.to, [{ group: "", kind: "Service", name: "fetch-mcp" }]);
        });

        it("uses ReferenceGrant v1 where Gateway API CRDs are v1.6.1 (kubernetes) and v1beta1 on OpenShift's older CRDs", () => {
            assert.equal(referenceGrantManifest(server({ name: "fetch" }), "kubernetes")?.apiVersion, "gateway.networking.k8s.io/v1");
            assert.equal(referenceGrantManifest(server({ name: "fetch" }), "openshift")?.apiVersion, "gateway.networking.k8s.io/v1beta1");
        });

        it("finds servers whose host the *.<internalDomain> listener cannot carry", () => {
            const servers = [server({ name: "in", host: "in.mcp.local" }), server({ name: "bare", host: "mcp.local" }), server({ name: "out", host: "x.example.com" })];
            assert.deepEqual(serversOutsideDomain(servers, "mcp.local"), ["bare", "out"]);
        });
    });

    describe("mesh config", () => {
        it("registers the ext-authz provider only with the tool policy on", () => {
            assert.equal(meshConfig({ toolPolicy: false, extAuthzTimeout: "2s", maxRequestBytes: 65536 }).extensionProviders, undefined);
            assert.equal(meshConfig({ toolPolicy: true, extAuthzTimeout: "2s", maxRequestBytes: 65536 }).extensionProviders?.length, 1);
        });

        it("sets istiod values at the top level, never under _internal_defaults_do_not_set", () => {
            const values = istiodValues({ toolPolicy: true, extAuthzTimeout: "2s", maxRequestBytes: 65536 });
            assert.ok(!("_internal_defaults_do_not_set" in values));
            assert.ok("meshConfig" in values);
        });
    });

    describe("agent egress objects", () => {
        it("refuses a wildcard or empty host instead of opening egress to everything", () => {
            assert.throws(() => assertEgressHost("*"), /not a plain DNS name/);
            assert.throws(() => assertEgressHost("*.example.com"), /not a plain DNS name/);
            assert.throws(() => assertEgressHost(""), /not a plain DNS name/);
            assert.throws(() => serviceEntryManifest("agents", "*"), /not a plain DNS name/);
        });

        it("sorts and de-duplicates the Sidecar's hosts", () => {
            const sidecar = sidecarManifest("agents", ["b.example.com", "a.example.com", "b.example.com"]);
            assert.deepEqual(sidecar.spec.egress[0]?.hosts, ["./*", "istio-system/*", "./a.example.com", "./b.example.com"]);
        });
    });

    describe("charts", () => {
        const pin = { chart: "mcp-gateway", repo: "oci://ghcr.io/kuadrant/charts", version: "0.9.0" };

        it("addresses an OCI chart by its full reference, without repositoryOpts", () => {
            const args = pinnedChartArgs(pin, "mcp-gateway", "gateway-system", {});
            assert.equal(args.chart, "oci://ghcr.io/kuadrant/charts/mcp-gateway");
            assert.equal(args.repositoryOpts, undefined);
            assert.equal(args.version, "0.9.0");
            assert.equal(args.namespace, "gateway-system");
        });

        it("addresses an https chart through repositoryOpts.repo", () => {
            const args = pinnedChartArgs({ chart: "istiod", repo: "https://istio-release.storage.googleapis.com/charts", version: "1.30.3" }, "istiod", "istio-system", {});
            assert.equal(args.chart, "istiod");
            assert.deepEqual(args.repositoryOpts, { repo: "https://istio-release.storage.googleapis.com/charts" });
        });
    });

    describe("OpenShift chart transform", () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "mcp-gateway-controller", namespace: "gateway-system" },
            spec: {
                template: {
                    spec: {
                        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{ name: "mcp-controller", securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false } }],
                    },
                },
            },
        };
        const transform = (props: Record<string, unknown>, type = "kubernetes:apps/v1:Deployment") =>
            dropPinnedIds({ custom: true, type, name: "x", props, opts: {} } as pulumi.ResourceTransformArgs);

        it("removes pinned UIDs and GIDs so that SCC restricted-v2 can assign them", () => {
            const result = transform(deployment);
            assert.ok(result);
            const podSpec = (result.props.spec as { template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } }).template.spec;
            assert.deepEqual(podSpec.securityContext, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
            assert.deepEqual(podSpec.containers[0]?.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false });
        });

        it("leaves other kinds alone", () => {
            assert.equal(transform({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: {} }, "kubernetes:core/v1:Service"), undefined);
        });
    });

    describe("child options", () => {
        // Plain stand-ins: childOptions only passes resources through.
        const resource = (label: string) => ({ label }) as unknown as pulumi.Resource;
        const parent = resource("parent");

        it("passes the component's own dependsOn on to its children, after the child's own", () => {
            const namespace = resource("namespace");
            const chart = resource("chart");
            assert.deepEqual(childOptions(parent, { dependsOn: [namespace] }, [chart]), { parent, dependsOn: [chart, namespace] });
            assert.deepEqual(childOptions(parent, { dependsOn: namespace }), { parent, dependsOn: [namespace] });
        });

        it("adds no dependsOn when there is nothing to wait for", () => {
            assert.deepEqual(childOptions(parent, undefined), { parent });
        });
    });
});
