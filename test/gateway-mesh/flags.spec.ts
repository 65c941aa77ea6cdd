// The envoy and opa flags, both directions: dev (both off), ci (both on), and ci with one of them
// off. Whatever a flag brings must be absent without it, and the other flag's layer must not care.
import { strict as assert } from "assert";
import { ConfigError, parseConfig } from "../../config/schema";
import type { StackRun } from "../../cli/mockRuntime";
import { chartsOf } from "../../cli/mockRuntime";
import { at, chart, componentsOfType, ofKind, oneOf, render } from "./support";
import { NOW, variantConfig } from "./variants";

const GATEWAY_KINDS = ["Kuadrant", "Gateway", "HTTPRoute", "ReferenceGrant", "MCPGatewayExtension", "MCPServerRegistration", "AuthPolicy", "RateLimitPolicy"];
const MESH_KINDS = ["Istio", "IstioCNI", "Sidecar", "ServiceEntry", "PeerAuthentication"];
const GATEWAY_CHARTS = ["kuadrant-operator", "mcp-gateway"];
const MESH_CHARTS = ["istio-base", "istiod", "istio-cni"];

function kindsPresent(run: StackRun, kinds: readonly string[]): string[] {
    return kinds.filter((kind) => ofKind(run, kind).length > 0);
}

function chartsPresent(run: StackRun, releases: readonly string[]): string[] {
    const rendered = new Set(chartsOf(run.resources).map((release) => release.release));
    return releases.filter((release) => rendered.has(release));
}

describe("envoy and opa flags", () => {
    describe("dev: both off", () => {
        it("renders no gateway, mesh or tool policy component", async () => {
            const run = await render("dev");
            for (const type of ["agent-security:gateway:McpGateway", "agent-security:gateway:ToolPolicy", "agent-security:mesh:Mesh", "agent-security:mesh:AgentMeshPolicy"]) {
                assert.equal(componentsOfType(run, type).length, 0, type);
            }
        });

        it("renders none of their objects or charts", async () => {
            const run = await render("dev");
            assert.deepEqual(kindsPresent(run, [...GATEWAY_KINDS, ...MESH_KINDS, "AuthorizationPolicy"]), []);
            assert.deepEqual(chartsPresent(run, [...GATEWAY_CHARTS, ...MESH_CHARTS]), []);
            assert.equal(run.outputs.mcpGatewayUrl, null);
        });
    });

    describe("ci: both on", () => {
        it("renders both layers and the CUSTOM policy that joins them", async () => {
            const run = await render("ci");
            assert.deepEqual(kindsPresent(run, GATEWAY_KINDS), GATEWAY_KINDS);
            assert.deepEqual(kindsPresent(run, ["Sidecar", "ServiceEntry", "PeerAuthentication"]), ["Sidecar", "ServiceEntry", "PeerAuthentication"]);
            assert.equal(ofKind(run, "AuthorizationPolicy").length, 1);
        });
    });

    describe("ci with envoy on, opa off", () => {
        it("renders the mesh without the Authorino provider", async () => {
            const run = await render("envoyOnly");
            const meshConfig = chart(run, "istiod").values.meshConfig;
            assert.deepEqual(at(meshConfig, "outboundTrafficPolicy"), { mode: "REGISTRY_ONLY" });
            assert.equal(at(meshConfig, "extensionProviders"), undefined);
        });

        it("renders no gateway object, no tool policy and no CUSTOM AuthorizationPolicy", async () => {
            const run = await render("envoyOnly");
            assert.deepEqual(kindsPresent(run, GATEWAY_KINDS), []);
            assert.deepEqual(chartsPresent(run, GATEWAY_CHARTS), []);
            assert.equal(componentsOfType(run, "agent-security:gateway:ToolPolicy").length, 0);
            assert.equal(ofKind(run, "AuthorizationPolicy").length, 0);
            assert.equal(run.outputs.mcpGatewayUrl, null);
        });

        it("leaves the gateway namespace out of the agents' Sidecar egress", async () => {
            const sidecars = ofKind(await render("envoyOnly"), "Sidecar");
            assert.ok(sidecars.length > 0);
            for (const sidecar of sidecars) assert.ok(!(at(sidecar, "spec.egress") as { hosts: string[] }[])[0]?.hosts.includes("gateway-system/*"));
        });
    });

    describe("ci with opa on, envoy off", () => {
        it("renders the gateway, identity, rates and tool policy", async () => {
            const run = await render("opaOnly");
            assert.deepEqual(kindsPresent(run, GATEWAY_KINDS), GATEWAY_KINDS);
            assert.equal(componentsOfType(run, "agent-security:gateway:ToolPolicy").length, 1);
            assert.ok(oneOf(run, "AuthPolicy", "mcp-gateway-identity", "gateway-system"));
        });

        it("renders no mesh object, no istio chart and no CUSTOM AuthorizationPolicy (no provider to name)", async () => {
            const run = await render("opaOnly");
            assert.deepEqual(kindsPresent(run, MESH_KINDS), []);
            assert.deepEqual(chartsPresent(run, MESH_CHARTS), []);
            assert.equal(ofKind(run, "AuthorizationPolicy").length, 0);
        });
    });

    describe("mesh.mode", () => {
        const issuesFor = (tools: Record<string, boolean>) => {
            const raw = { ...variantConfig("ci"), tools, mesh: { mode: "ambient" } };
            try {
                parseConfig(raw, "ci", NOW);
                return [];
            } catch (error) {
                if (error instanceof ConfigError) return error.issues;
                throw error;
            }
        };

        it("refuses ambient mode with the envoy flag on, naming the key and the alternative", () => {
            const issues = issuesFor({});
            assert.equal(issues.length, 1);
            assert.equal(issues[0]?.key, "agent-security:mesh.mode");
            assert.match(issues[0]?.message ?? "", /ambient.*REGISTRY_ONLY.*sidecar/);
        });

        it("accepts ambient mode while the envoy flag is off (no mesh is rendered)", () => {
            assert.deepEqual(issuesFor({ envoy: false }), []);
        });
    });
});
