import { strict as assert } from "assert";
import { readStackConfig, runStack } from "../../cli/mockRuntime";
import type { RecordedResource } from "../../cli/mockRuntime";
import { TOOLS } from "../../config/profiles";
import type { Tool } from "../../config/profiles";

const NOW = new Date("2026-11-23T12:00:00Z");
const FUTURE = "2026-11-28T00:00:00Z";

// The component each flag brings; the composition point must create it exactly when the flag is on.
const COMPONENT_OF: Readonly<Record<Tool, string>> = {
    envoy: "agent-security:mesh:Mesh",
    opa: "agent-security:gateway:McpGateway",
    cilium: "agent-security:network:AgentEgressPolicy",
    kyverno: "agent-security:admission:KyvernoAdmission",
    falco: "agent-security:runtime:Falco",
    kata: "agent-security:isolation:Isolation",
};

const typesOf = (resources: readonly RecordedResource[]) => new Set(resources.map((resource) => resource.type));

describe("platform composition", () => {
    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`creates exactly the components of the ${stack} feature set, and the baseline always`, async () => {
            const run = await runStack(stack, readStackConfig(stack), { now: NOW });
            const types = typesOf(run.resources);
            for (const tool of TOOLS) {
                assert.equal(types.has(COMPONENT_OF[tool]), run.config.features[tool], `${tool} component presence in ${stack}`);
            }
            for (const always of ["agent-security:baseline:AgentNamespace", "agent-security:agent:SandboxedAgent", "agent-security:identity:Identity"]) {
                assert.ok(types.has(always), `${always} missing in ${stack}`);
            }
            const urns = run.resources.map((resource) => resource.urn);
            assert.equal(new Set(urns).size, urns.length, "URNs are unique");
        });
    }

    for (const tool of TOOLS) {
        it(`drops only the ${tool} component when prod turns ${tool} off under an override`, async () => {
            const raw = structuredClone(readStackConfig("prod"));
            raw.tools = { [tool]: false };
            raw.emergencyOverride = { tools: [tool], reason: "upgrade window", ticket: "SEC-42", approvedBy: "sec@example.com", expires: FUTURE };
            raw.failClosed = (raw.failClosed as string[]).filter((entry) => entry !== tool);
            const run = await runStack("prod", raw, { now: NOW });
            const types = typesOf(run.resources);
            for (const other of TOOLS) {
                assert.equal(types.has(COMPONENT_OF[other]), other !== tool, `${other} with ${tool} off`);
            }
            assert.deepEqual(run.outputs.emergencyOverride?.tools, [tool]);
        });
    }

    it("writes the flags and the emergency override to the audit ConfigMap", async () => {
        const raw = structuredClone(readStackConfig("prod"));
        raw.tools = { falco: false };
        raw.emergencyOverride = { tools: ["falco"], reason: "falco crashloop", ticket: "SEC-7", approvedBy: "jane@example.com", expires: FUTURE };
        raw.failClosed = ["cilium"];
        const run = await runStack("prod", raw, { now: NOW });
        const audit = run.resources.find((resource) => resource.type === "kubernetes:core/v1:ConfigMap" && (resource.inputs.metadata as { name?: string }).name === "agent-security-audit");
        assert.ok(audit, "audit ConfigMap exists");
        const data = audit.inputs.data as Record<string, string>;
        assert.equal((audit.inputs.metadata as { namespace?: string }).namespace, "agent-security");
        assert.equal(JSON.parse(data.tools ?? "{}").falco, false);
        assert.deepEqual(JSON.parse(data.emergencyOverride ?? "null"), raw.emergencyOverride);
    });

    it("renders into the configured directory on dev and talks to a cluster elsewhere", async () => {
        const dev = await runStack("dev", readStackConfig("dev"), { now: NOW });
        const provider = dev.resources.find((resource) => resource.type === "pulumi:providers:kubernetes");
        assert.equal(provider?.inputs.renderYamlToDirectory, "rendered/dev");
        const prod = await runStack("prod", readStackConfig("prod"), { now: NOW });
        const prodProvider = prod.resources.find((resource) => resource.type === "pulumi:providers:kubernetes");
        assert.equal(prodProvider?.inputs.renderYamlToDirectory, undefined);
    });

    it("points agents at the gateway's in-cluster Service with the public host and an audience-bound token", async () => {
        const run = await runStack("ci", readStackConfig("ci"), { now: NOW });
        const deployments = run.resources.filter((resource) => resource.type === "kubernetes:apps/v1:Deployment");
        assert.equal(deployments.length, run.config.agents.length);
        for (const deployment of deployments) {
            const spec = (deployment.inputs as { spec: { template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[]; volumes: { name: string; projected?: { sources: { serviceAccountToken?: { audience: string } }[] } }[] } } } }).spec.template.spec;
            const env = Object.fromEntries((spec.containers.find((c) => c.name === "agent")?.env ?? []).map((e) => [e.name, e.value]));
            assert.equal(env.MCP_GATEWAY_URL, "http://mcp-gateway-istio.gateway-system.svc.cluster.local:8080/mcp");
            assert.equal(env.MCP_GATEWAY_HOST, "mcp.ci.agents.example.com");
            const token = spec.volumes.find((volume) => volume.name === "mcp-gateway-token");
            assert.equal(token?.projected?.sources[0]?.serviceAccountToken?.audience, "mcp-gateway");
        }
    });

    it("creates nothing when the config is invalid", async () => {
        const raw = structuredClone(readStackConfig("prod"));
        raw.tools = { kata: false };
        await assert.rejects(runStack("prod", raw, { now: NOW }), /agent-security:tools.kata/);
    });
});
