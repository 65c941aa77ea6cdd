// The ToolPolicy component: one Authorino AuthConfig per MCP server, valid against the CRD, under
// Pulumi's mock runtime (alone, and as the McpGateway of a real stack instantiates it).
import { strict as assert } from "assert";
import { manifestsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { Manifest } from "../../cli/mockRuntime";
import { generateToolPolicyRego } from "../../components/gateway/rego";
import { AUTHCONFIG_API_VERSION, GATEWAY_TOOL_POLICY_NAME, TOOL_POLICY_EVALUATOR, ToolPolicy, toolPolicyAuthConfig, toolPolicyName } from "../../components/gateway/toolPolicy";
import { GATEWAY_NAMESPACE } from "../../components/wellKnown";
import { loadSchemaValidator } from "../support/schemaValidator";
import { assertValid, NOW, seedServer, specOf, stackServers, thermostat, underMocks } from "./fixtures";

const AUTHCONFIG_TYPE = "kubernetes:authorino.kuadrant.io/v1beta3:AuthConfig";


describe("ToolPolicy: the AuthConfig of one MCP server", function () {
    const server = seedServer("fetch");
    const manifest = toolPolicyAuthConfig(server, GATEWAY_NAMESPACE);

    it("validates against the Authorino AuthConfig CRD", function () {
        assertValid(manifest as unknown as Record<string, unknown>);
    });

    it("is an authorino.kuadrant.io/v1beta3 AuthConfig named <server>-tool-policy in the given namespace", function () {
        assert.equal(manifest.apiVersion, AUTHCONFIG_API_VERSION);
        assert.equal(manifest.apiVersion, "authorino.kuadrant.io/v1beta3");
        assert.equal(manifest.kind, "AuthConfig");
        assert.equal(manifest.metadata.name, "fetch-tool-policy");
        assert.equal(manifest.metadata.namespace, GATEWAY_NAMESPACE);
    });

    it("is selected by the server's host only", function () {
        assert.deepEqual(specOf(manifest).hosts, ["fetch-mcp.mcp.local"]);
    });

    it("carries the generated Rego as its only authorization, allow being the only decision", function () {
        const authorization = specOf(manifest).authorization;
        assert.deepEqual(Object.keys(authorization), [TOOL_POLICY_EVALUATOR]);
        const opa = authorization[TOOL_POLICY_EVALUATOR]?.opa;
        assert.equal(opa?.rego, generateToolPolicyRego(server));
        assert.equal(opa?.allValues, false);
    });

    it("sets no opa.version (Kuadrant v1.5.2's Authorino v0.25 CRD lacks the field; import rego.v1 covers both)", function () {
        assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.version, undefined);
    });

    it("authenticates anonymously and says so (identity is the AuthPolicy's job)", function () {
        assert.deepEqual(specOf(manifest).authentication, { anonymous: { anonymous: {} } });
    });

    it("refuses an unknown field in the opa evaluator, which the API server would prune (validator sanity)", function () {
        const broken = structuredClone(manifest) as unknown as { spec: { authorization: Record<string, { opa: Record<string, unknown> }> } };
        const opa = broken.spec.authorization[TOOL_POLICY_EVALUATOR]?.opa;
        assert.ok(opa);
        opa.regoo = "typo";
        assert.equal(loadSchemaValidator().validate(broken as unknown as Record<string, unknown>).ok, false);
    });
});

describe("ToolPolicy: the component under the mock runtime", function () {
    it("registers one AuthConfig per MCP server as its children, with the Rego it exports", async function () {
        const servers = [seedServer("fetch"), seedServer("currency"), thermostat()];
        let component: ToolPolicy | undefined;
        const resources = await underMocks(() => {
            component = new ToolPolicy("mcp-gateway-tool-policy", { servers, namespace: GATEWAY_NAMESPACE });
        });
        assert.ok(component);
        const componentResource = resources.find((resource) => resource.type === "agent-security:gateway:ToolPolicy");
        assert.ok(componentResource, "the component registers with type agent-security:gateway:ToolPolicy");
        const authConfigs = resources.filter((resource) => resource.type === AUTHCONFIG_TYPE);
        assert.deepEqual(authConfigs.map((resource) => resource.name).sort(), ["mcp-gateway-tool-policy-currency", "mcp-gateway-tool-policy-fetch", "mcp-gateway-tool-policy-thermostat"]);
        for (const [name, child] of Object.entries(component.authConfigs)) {
            const urn = await new Promise<string>((resolve) => child.urn.apply(resolve));
            assert.match(urn, /agent-security:gateway:ToolPolicy\$kubernetes:authorino\.kuadrant\.io\/v1beta3:AuthConfig::/, `${name}: child of the component`);
        }
        for (const server of servers) {
            const recorded = authConfigs.find((resource) => (resource.inputs.metadata as { name?: string }).name === toolPolicyName(server));
            assert.ok(recorded, `AuthConfig for ${server.name}`);
            const manifest = recorded.inputs as unknown as Manifest;
            assertValid(recorded.inputs);
            assert.deepEqual(specOf(manifest).hosts, [server.host]);
            assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.rego, component.rego[server.name]);
            assert.equal(component.rego[server.name], generateToolPolicyRego(server));
        }
        assert.deepEqual(Object.keys(component.rego).sort(), ["currency", "fetch", "thermostat"]);
    });

    it("refuses a server listed twice", async function () {
        await assert.rejects(
            underMocks(() => {
                new ToolPolicy("twice", { servers: [seedServer("fetch"), seedServer("fetch")], namespace: GATEWAY_NAMESPACE });
            }),
            /listed twice/,
        );
    });

    it("registers nothing but itself for no servers", async function () {
        const resources = await underMocks(() => {
            new ToolPolicy("empty", { servers: [], namespace: GATEWAY_NAMESPACE });
        });
        assert.deepEqual(resources.filter((resource) => resource.type === AUTHCONFIG_TYPE), []);
    });
});

describe("ToolPolicy: inside a stack (McpGateway instantiates it)", function () {
    for (const stack of ["ci", "prod"] as const) {
        it(`renders one valid AuthConfig per MCP server of the ${stack} stack in ${GATEWAY_NAMESPACE}`, async function () {
            const run = await runStack(stack, readStackConfig(stack), { now: NOW });
            assert.ok(run.config.features.opa, `the opa flag is on in ${stack}`);
            // The public host's AuthConfig is the gateway policy's (test/gateway/gatewayPolicy.spec.ts).
            const authConfigs = manifestsOf(run.resources).filter((manifest) => manifest.kind === "AuthConfig" && manifest.metadata.name !== GATEWAY_TOOL_POLICY_NAME);
            const servers = stackServers(stack);
            assert.deepEqual(authConfigs.map((manifest) => manifest.metadata.name).sort(), servers.map((server) => `${server.name}-tool-policy`).sort());
            for (const manifest of authConfigs) {
                assert.equal(manifest.metadata.namespace, GATEWAY_NAMESPACE);
                assertValid(manifest as unknown as Record<string, unknown>);
                const server = servers.find((candidate) => `${candidate.name}-tool-policy` === manifest.metadata.name);
                assert.ok(server);
                assert.deepEqual(specOf(manifest).hosts, [server.host]);
                assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.rego, generateToolPolicyRego(server));
            }
        });
    }

    it("renders no AuthConfig when the opa flag is off (dev)", async function () {
        const run = await runStack("dev", readStackConfig("dev"), { now: NOW });
        assert.equal(run.config.features.opa, false);
        assert.deepEqual(manifestsOf(run.resources).filter((manifest) => manifest.kind === "AuthConfig"), []);
    });
});
