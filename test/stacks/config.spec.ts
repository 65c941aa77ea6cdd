import { strict as assert } from "assert";
import { readStackConfig } from "../../cli/mockRuntime";
import { ConfigError, parseConfig } from "../../config/schema";
import type { ConfigIssue } from "../../config/schema";

const NOW = new Date("2026-11-23T12:00:00Z");
const FUTURE = "2026-11-28T00:00:00Z";
const PAST = "2026-11-01T00:00:00Z";

type Raw = Record<string, unknown>;

function clone(raw: Raw): Raw {
    return structuredClone(raw);
}

/** Sets a value at a dotted path with [index] segments, creating objects on the way. */
function setAt(raw: Raw, path: string, value: unknown): Raw {
    const segments = path.split(/\.|\[(\d+)\]/).filter((segment) => segment !== undefined && segment !== "");
    let cursor: Record<string, unknown> | unknown[] = raw;
    segments.forEach((segment, index) => {
        const key: string | number = /^\d+$/.test(segment) ? Number(segment) : segment;
        const last = index === segments.length - 1;
        const container = cursor as Record<string | number, unknown>;
        if (last) {
            if (value === undefined) delete container[key];
            else container[key] = value;
        } else {
            if (container[key] === undefined || container[key] === null) container[key] = {};
            cursor = container[key] as Record<string, unknown>;
        }
    });
    return raw;
}

function issuesOf(raw: Raw, stack: string): readonly ConfigIssue[] {
    try {
        parseConfig(raw, stack, NOW);
    } catch (error) {
        if (error instanceof ConfigError) return error.issues;
        throw error;
    }
    return [];
}

interface HostileCase {
    readonly name: string;
    readonly stack: "dev" | "ci" | "prod" | "staging";
    readonly mutate: (raw: Raw) => Raw;
    readonly key: string;
    /** A fragment the message must contain: what is allowed, or why. */
    readonly says: RegExp;
}

const override = (tools: string[], expires = FUTURE) => ({ tools, reason: "falco crashloop on kernel 6.18", ticket: "SEC-1234", approvedBy: "jane@example.com", expires });

const CASES: readonly HostileCase[] = [
    { name: "unknown top-level key", stack: "dev", mutate: (r) => setAt(r, "colour", "blue"), key: "agent-security:colour", says: /not a known key; allowed keys here: profile, platform/ },
    { name: "top-level key that tries to switch the baseline off", stack: "prod", mutate: (r) => setAt(r, "baseline", { seccomp: false }), key: "agent-security:baseline", says: /mandatory baseline .* has no switch/ },
    { name: "agent key that asks for a privileged container", stack: "dev", mutate: (r) => setAt(r, "agents[0].privileged", true), key: "agent-security:agents[0].privileged", says: /mandatory baseline/ },
    { name: "agent securityContext override", stack: "ci", mutate: (r) => setAt(r, "agents[1].securityContext", { runAsUser: 0 }), key: "agent-security:agents[1].securityContext", says: /mandatory baseline/ },
    { name: "agent wants the service account token", stack: "dev", mutate: (r) => setAt(r, "agents[0].automountServiceAccountToken", true), key: "agent-security:agents[0].automountServiceAccountToken", says: /mandatory baseline/ },
    { name: "secrets as environment variables switch", stack: "dev", mutate: (r) => setAt(r, "secretsAsEnv", true), key: "agent-security:secretsAsEnv", says: /mandatory baseline/ },
    { name: "tool flag that is not a tool", stack: "dev", mutate: (r) => setAt(r, "tools", { seccomp: false }), key: "agent-security:tools.seccomp", says: /envoy, opa, cilium, kyverno, falco, kata/ },
    { name: "platform of the wrong type", stack: "dev", mutate: (r) => setAt(r, "platform", 42), key: "agent-security:platform", says: /openshift, kubernetes/ },
    { name: "unknown profile", stack: "staging", mutate: (r) => setAt(r, "profile", "staging"), key: "agent-security:profile", says: /local, ci, prod/ },
    { name: "profile that does not match the stack", stack: "dev", mutate: (r) => setAt(r, "profile", "prod"), key: "agent-security:profile", says: /stack dev must use profile local/ },
    { name: "new stack without a profile", stack: "staging", mutate: (r) => setAt(r, "profile", undefined), key: "agent-security:profile", says: /required for stack staging: one of local, ci, prod/ },
    { name: "prod with a tool off and no override", stack: "prod", mutate: (r) => setAt(r, "tools", { falco: false }), key: "agent-security:tools.falco", says: /emergency override/ },
    { name: "expired override", stack: "prod", mutate: (r) => setAt(setAt(r, "tools", { kata: false }), "emergencyOverride", override(["kata"], PAST)), key: "agent-security:emergencyOverride.expires", says: /expired/ },
    { name: "override for a tool that is on", stack: "prod", mutate: (r) => setAt(r, "emergencyOverride", override(["falco"])), key: "agent-security:emergencyOverride.tools[0]", says: /falco is on/ },
    { name: "override outside prod", stack: "ci", mutate: (r) => setAt(r, "emergencyOverride", override(["falco"])), key: "agent-security:emergencyOverride", says: /only exists for profile prod/ },
    { name: "override with a malformed ticket", stack: "prod", mutate: (r) => setAt(setAt(r, "tools", { kata: false }), "emergencyOverride", { ...override(["kata"]), ticket: "yes" }), key: "agent-security:emergencyOverride.ticket", says: /SEC-1234/ },
    { name: "override approved by nobody", stack: "prod", mutate: (r) => setAt(setAt(r, "tools", { kata: false }), "emergencyOverride", { ...override(["kata"]), approvedBy: "jane" }), key: "agent-security:emergencyOverride.approvedBy", says: /e-mail/ },
    { name: "override with a date that is not an instant", stack: "prod", mutate: (r) => setAt(setAt(r, "tools", { kata: false }), "emergencyOverride", { ...override(["kata"]), expires: "next week" }), key: "agent-security:emergencyOverride.expires", says: /ISO 8601/ },
    { name: "override without a reason", stack: "prod", mutate: (r) => setAt(setAt(r, "tools", { kata: false }), "emergencyOverride", { ...override(["kata"]), reason: "  " }), key: "agent-security:emergencyOverride.reason", says: /must not be empty/ },
    { name: "empty agent name", stack: "dev", mutate: (r) => setAt(r, "agents[0].name", ""), key: "agent-security:agents[0].name", says: /DNS label/ },
    { name: "duplicate agent names", stack: "dev", mutate: (r) => setAt(r, "agents[1].name", "fetch-agent"), key: "agent-security:agents[1].name", says: /unique/ },
    { name: "agent pointing at an unknown MCP server", stack: "ci", mutate: (r) => setAt(r, "agents[0].mcpServers", ["weather"]), key: "agent-security:agents[0].mcpServers[0]", says: /not a configured MCP server; known: fetch, currency/ },
    { name: "registry with a scheme", stack: "dev", mutate: (r) => setAt(r, "registries[0]", "https://quay.io/agent-security"), key: "agent-security:registries[0]", says: /no scheme/ },
    { name: "registry with a tag", stack: "dev", mutate: (r) => setAt(r, "registries[1]", "ghcr.io/spiffe:latest"), key: "agent-security:registries[1]", says: /registry host/ },
    { name: "no approved registry", stack: "ci", mutate: (r) => setAt(r, "registries", []), key: "agent-security:registries", says: /at least one/ },
    { name: "cpu quantity in words", stack: "dev", mutate: (r) => setAt(r, "agents[0].resources.cpu", "1 core"), key: "agent-security:agents[0].resources.cpu", says: /250m/ },
    { name: "cpu as a number", stack: "dev", mutate: (r) => setAt(r, "agents[0].resources.cpu", 1), key: "agent-security:agents[0].resources.cpu", says: /string quantity/ },
    { name: "memory in decimal units", stack: "dev", mutate: (r) => setAt(r, "agents[1].resources.memory", "2GB"), key: "agent-security:agents[1].resources.memory", says: /Ki, Mi, Gi or Ti/ },
    { name: "zero memory", stack: "dev", mutate: (r) => setAt(r, "agents[1].resources.memory", "0Mi"), key: "agent-security:agents[1].resources.memory", says: /greater than zero/ },
    { name: "memory under 2Gi for a Kata agent", stack: "prod", mutate: (r) => setAt(r, "agents[1].resources.memory", "1536Mi"), key: "agent-security:agents[1].resources.memory", says: /below 2Gi/ },
    { name: "non-https URL allow entry", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].tools.fetch_url.arguments.url.allow[0]", "http://api.weather.gov"), key: "agent-security:mcpServers[0].tools.fetch_url.arguments.url.allow[0]", says: /https:\/\// },
    { name: "URL allow entry with user info", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].tools.fetch_url.arguments.url.allow[1]", "https://user@httpbin.org"), key: "agent-security:mcpServers[0].tools.fetch_url.arguments.url.allow[1]", says: /user info/ },
    { name: "URL allow entry with an IP literal", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].tools.fetch_url.arguments.url.allow[1]", "https://169.254.169.254/latest"), key: "agent-security:mcpServers[0].tools.fetch_url.arguments.url.allow[1]", says: /DNS host/ },
    { name: "argument rule of an unknown type", stack: "ci", mutate: (r) => setAt(r, "mcpServers[1].tools.get_exchange_rate.arguments.currency_to.type", "crypto"), key: "agent-security:mcpServers[1].tools.get_exchange_rate.arguments.currency_to.type", says: /url, enum, currency, string, number, absent/ },
    { name: "string rule with a broken pattern", stack: "ci", mutate: (r) => setAt(r, "mcpServers[1].tools.get_exchange_rate.arguments.currency_date.pattern", "(["), key: "agent-security:mcpServers[1].tools.get_exchange_rate.arguments.currency_date.pattern", says: /valid regular expression/ },
    { name: "MCP server without tools", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].tools", {}), key: "agent-security:mcpServers[0].tools", says: /at least one tool/ },
    { name: "duplicate MCP server names", stack: "ci", mutate: (r) => setAt(setAt(r, "mcpServers[1].name", "fetch"), "agents[1].mcpServers", ["fetch"]), key: "agent-security:mcpServers[1].name", says: /unique/ },
    { name: "unqualified agent image", stack: "dev", mutate: (r) => setAt(r, "agents[0].image", "fetch-agent:1.0.0"), key: "agent-security:agents[0].image", says: /fully qualified/ },
    { name: "agent image from an unapproved registry", stack: "dev", mutate: (r) => setAt(r, "agents[0].image", "docker.io/library/fetch-agent:1.0.0"), key: "agent-security:agents[0].image", says: /approved: quay.io\/agent-security, ghcr.io\/spiffe/ },
    { name: "registry look-alike image", stack: "dev", mutate: (r) => setAt(r, "agents[0].image", "quay.io/agent-security-evil/fetch-agent:1.0.0"), key: "agent-security:agents[0].image", says: /not from an approved registry/ },
    { name: "secret smuggled as a plain env value", stack: "dev", mutate: (r) => setAt(r, "agents[0].env.GEMINI_API_KEY", "AIza..."), key: "agent-security:agents[0].env.GEMINI_API_KEY", says: /delivered only as files/ },
    { name: "wildcard egress host", stack: "ci", mutate: (r) => setAt(r, "agents[0].egress[0]", "*.googleapis.com"), key: "agent-security:agents[0].egress[0]", says: /no scheme, port, path, wildcard or IP/ },
    { name: "metadata address as egress host", stack: "ci", mutate: (r) => setAt(r, "agents[0].egress[0]", "169.254.169.254"), key: "agent-security:agents[0].egress[0]", says: /IP address/ },
    { name: "fail-closed on a tool that is off", stack: "ci", mutate: (r) => setAt(r, "failClosed", ["falco"]), key: "agent-security:failClosed[0]", says: /falco is off/ },
    { name: "ambient mesh with the envoy flag on", stack: "ci", mutate: (r) => setAt(r, "mesh.mode", "ambient"), key: "agent-security:mesh.mode", says: /REGISTRY_ONLY/ },
    { name: "chart repository over plain http", stack: "prod", mutate: (r) => setAt(r, "charts.falco.repo", "http://charts.example.com"), key: "agent-security:charts.falco.repo", says: /https:\/\/ or oci:\/\// },
    { name: "chart version range instead of a pin", stack: "prod", mutate: (r) => setAt(r, "charts.falco.version", "^9.1.0"), key: "agent-security:charts.falco.version", says: /exact semantic version/ },
    { name: "chart that does not exist", stack: "prod", mutate: (r) => setAt(r, "charts.nginx", { version: "1.0.0" }), key: "agent-security:charts.nginx", says: /kuadrantOperator/ },
    { name: "zero replicas", stack: "dev", mutate: (r) => setAt(r, "agents[0].replicas", 0), key: "agent-security:agents[0].replicas", says: /./ },
    { name: "agents that are not a list", stack: "dev", mutate: (r) => setAt(r, "agents", "fetch-agent"), key: "agent-security:agents", says: /must be a list; got a string/ },
    { name: "Cilium install with the cilium flag off", stack: "ci", mutate: (r) => setAt(r, "cilium", { install: true }), key: "agent-security:cilium.install", says: /cilium flag on/ },
    { name: "MCP server host outside the gateway's internal domain", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].host", "fetch.example.com"), key: "agent-security:mcpServers[0].host", says: /under the gateway's internal domain mcp.local/ },
    { name: "rate-limit window Limitador cannot parse", stack: "ci", mutate: (r) => setAt(r, "mcpServers[0].tools.fetch_url.rateLimit.window", "100000s"), key: "agent-security:mcpServers[0].tools.fetch_url.rateLimit.window", says: /at most 5 digits/ },
    { name: "privileged port for an agent", stack: "dev", mutate: (r) => setAt(r, "agents[0].port", 80), key: "agent-security:agents[0].port", says: /NET_BIND_SERVICE/ },
];

describe("stack config validation", () => {
    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`accepts the committed Pulumi.${stack}.yaml`, () => {
            assert.deepEqual(issuesOf(readStackConfig(stack), stack), []);
        });
    }

    it("has at least 30 hostile cases", () => {
        assert.ok(CASES.length >= 30, `only ${CASES.length} cases`);
    });

    for (const hostile of CASES) {
        it(`rejects ${hostile.name} with one error naming ${hostile.key}`, () => {
            const base = readStackConfig(hostile.stack === "staging" ? "prod" : hostile.stack);
            const issues = issuesOf(hostile.mutate(clone(base)), hostile.stack);
            assert.equal(issues.length, 1, `expected exactly one issue, got:\n${issues.map((i) => `${i.key}: ${i.message}`).join("\n")}`);
            const [issue] = issues;
            assert.equal(issue?.key, hostile.key);
            assert.match(issue?.message ?? "", hostile.says);
        });
    }

    it("accepts prod with a tool off while a valid override lists it", () => {
        const raw = setAt(setAt(clone(readStackConfig("prod")), "tools", { falco: false }), "emergencyOverride", override(["falco"]));
        setAt(raw, "failClosed", ["cilium"]);
        const cfg = parseConfig(raw, "prod", NOW);
        assert.equal(cfg.features.falco, false);
        assert.equal(cfg.emergencyOverride?.ticket, "SEC-1234");
    });

    it("treats an override that expires exactly now as expired", () => {
        const raw = setAt(setAt(clone(readStackConfig("prod")), "tools", { kata: false }), "emergencyOverride", override(["kata"], NOW.toISOString()));
        assert.equal(issuesOf(raw, "prod")[0]?.key, "agent-security:emergencyOverride.expires");
    });

    it("returns a frozen config", () => {
        const cfg = parseConfig(readStackConfig("ci"), "ci", NOW);
        assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.agents) && Object.isFrozen(cfg.agents[0]));
    });

    it("lets a new stack name choose its profile", () => {
        const raw = setAt(clone(readStackConfig("ci")), "profile", "ci");
        assert.equal(parseConfig(raw, "staging", NOW).profile, "ci");
    });
});
