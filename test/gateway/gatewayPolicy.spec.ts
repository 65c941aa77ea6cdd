// The tool policy of the MCP gateway's PUBLIC host (rego.ts generateGatewayToolPolicyRego, the
// `mcp-gateway-tool-policy` AuthConfig). Authorino picks an AuthConfig by host; ext_authz runs after
// the MCP router (docs/tool-policy.md), and what the router hands to the broker keeps the public
// host. There the body names tools as clients see them (`<prefix><tool>`), and each name must meet
// exactly its own server's rules. Same real opa, same Authorino wrapping as the per-server specs.
import { strict as assert } from "assert";
import { manifestsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import { generateGatewayToolPolicyRego, generateToolPolicyRego, ToolPolicyError } from "../../components/gateway/rego";
import {
    AUTHCONFIG_API_VERSION,
    GATEWAY_TOOL_POLICY_NAME,
    gatewayToolPolicyAuthConfig,
    TOOL_POLICY_EVALUATOR,
    ToolPolicy,
    toolPolicyName,
} from "../../components/gateway/toolPolicy";
import { GATEWAY_NAMESPACE } from "../../components/wellKnown";
import type { McpServerConfig } from "../../config/schema";
import { authorinoInput, evaluateBatch, functionsOf, opaCheck, wrapLikeAuthorino } from "../support/opa";
import { ambiguous, files, NOW, packaging, rpcBody, serverWith, stackServers, thermostat, toolCallBody, verdictTable, weather, assertValid, specOf, underMocks } from "./fixtures";
import type { PolicyCase } from "./fixtures";

const PUBLIC_HOST = "mcp.agents.example.com";
const AUTHCONFIG_TYPE = "kubernetes:authorino.kuadrant.io/v1beta3:AuthConfig";

// ---------------------------------------------------------------------------------------------
// Requests at the public host
// ---------------------------------------------------------------------------------------------

const atPublicHost = (method: string, body = "", headers: Record<string, string> = {}): Record<string, unknown> =>
    authorinoInput({ method, body, headers, host: PUBLIC_HOST });
const post = (body: string, headers: Record<string, string> = {}): Record<string, unknown> => atPublicHost("POST", body, headers);
const call = (name: string, args?: unknown, headers: Record<string, string> = {}): Record<string, unknown> => post(toolCallBody(name, args), headers);
const fetchUrl = (url: unknown, name = "fetch_fetch_url", headers: Record<string, string> = {}): Record<string, unknown> => call(name, { url }, headers);
const rate = (to: unknown, name = "currency_get_exchange_rate", headers: Record<string, string> = {}): Record<string, unknown> =>
    call(name, { currency_from: "USD", currency_to: to }, headers);

// Two servers with a tool of the same upstream name and disjoint rules: a name must reach exactly
// its own server's rules, never the other's.
const alpha = (): McpServerConfig => serverWith("alpha", { fetch: { arguments: { url: { type: "url", allow: ["https://a.example.com"] } } } });
const beta = (): McpServerConfig => serverWith("beta", { fetch: { arguments: { url: { type: "url", allow: ["https://b.example.com"] } } } });

/** A table of the public host's policy. */
function gatewayTable(title: string, servers: () => readonly McpServerConfig[], cases: readonly PolicyCase[]): void {
    verdictTable(title, () => generateGatewayToolPolicyRego(servers()), cases);
}

const seeds = (): readonly McpServerConfig[] => stackServers("dev");

// ---------------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------------

gatewayTable("gateway policy: the seeds' cases through the public host, prefixed names", seeds, [
    { name: "allows fetch_fetch_url to https://httpbin.org/get", input: fetchUrl("https://httpbin.org/get"), expect: "allow" },
    { name: "denies fetch_fetch_url to https://malicious.com", input: fetchUrl("https://malicious.com"), expect: "arguments" },
    { name: "denies fetch_fetch_url to the metadata service http://169.254.169.254", input: fetchUrl("http://169.254.169.254"), expect: "arguments" },
    { name: "denies fetch_fetch_url to a host that only starts with an allowed host", input: fetchUrl("https://httpbin.org.evil.com/get"), expect: "arguments" },
    { name: "allows currency_get_exchange_rate from USD to EUR", input: rate("EUR"), expect: "allow" },
    { name: "denies currency_get_exchange_rate from USD to BTC", input: rate("BTC"), expect: "arguments" },
    { name: "denies currency_get_exchange_rate without the required currency_to", input: call("currency_get_exchange_rate", { currency_from: "USD" }), expect: "arguments" },
]);

gatewayTable("gateway policy: tool names at the public host", seeds, [
    { name: "denies the bare fetch_url (bare names are ambiguous across servers)", input: fetchUrl("https://httpbin.org/get", "fetch_url"), expect: "tool" },
    { name: "denies the bare get_exchange_rate", input: rate("EUR", "get_exchange_rate"), expect: "tool" },
    { name: "denies the fetch server's tool under the currency server's prefix", input: fetchUrl("https://httpbin.org/get", "currency_fetch_url"), expect: "tool" },
    { name: "denies the currency server's tool under the fetch server's prefix", input: rate("EUR", "fetch_get_exchange_rate"), expect: "tool" },
    { name: "denies a doubled prefix", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_fetch_url"), expect: "tool" },
    { name: "denies an upper-case prefix (names compare byte for byte)", input: fetchUrl("https://httpbin.org/get", "FETCH_fetch_url"), expect: "tool" },
    { name: "denies the prefix alone", input: fetchUrl("https://httpbin.org/get", "fetch_"), expect: "tool" },
    { name: "denies an unlisted tool of a known server", input: call("fetch_shell", { cmd: "id" }), expect: "tool" },
    { name: "denies a name with a trailing space", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url "), expect: "tool" },
    { name: "denies a tool name that is not a string", input: post(rpcBody("tools/call", { name: ["fetch_fetch_url"], arguments: { url: "https://httpbin.org/get" } })), expect: "params" },
    { name: "denies extra members in params", input: post(rpcBody("tools/call", { name: "fetch_fetch_url", arguments: { url: "https://httpbin.org/get" }, server: "x" })), expect: "params" },
]);

gatewayTable("gateway policy: router headers at the public host", seeds, [
    { name: "allows the router's x-mcp-toolname (the upstream name of the same tool)", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-toolname": "fetch_url" }), expect: "allow" },
    { name: "allows the router's x-mcp-method tools/call", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-method": "tools/call" }), expect: "allow" },
    { name: "still applies the argument rules when the header agrees", input: fetchUrl("https://malicious.com", "fetch_fetch_url", { "x-mcp-toolname": "fetch_url" }), expect: "arguments" },
    { name: "denies an x-mcp-toolname of another server's tool", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-toolname": "get_exchange_rate" }), expect: "toolname-header" },
    { name: "denies an x-mcp-toolname of an unlisted tool", input: rate("EUR", "currency_get_exchange_rate", { "x-mcp-toolname": "shell" }), expect: "toolname-header" },
    // The control is the first case of this table: the same request without the header is allowed.
    { name: "denies an x-mcp-toolname spelled client-facing (the router writes the upstream name)", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-toolname": "fetch_fetch_url" }), expect: "denied" },
    { name: "denies an empty x-mcp-toolname", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-toolname": "" }), expect: "toolname-header" },
    { name: "denies an x-mcp-method that disagrees with a tools/call body", input: fetchUrl("https://httpbin.org/get", "fetch_fetch_url", { "x-mcp-method": "tools/list" }), expect: "method-header" },
    { name: "denies an x-mcp-method that disagrees with a tools/list body", input: post(rpcBody("tools/list"), { "x-mcp-method": "tools/call" }), expect: "method-header" },
    { name: "denies x-mcp-toolname on tools/list", input: post(rpcBody("tools/list"), { "x-mcp-toolname": "fetch_url" }), expect: "toolname-header" },
]);

const duplicateArgument =
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_fetch_url","arguments":{"url":"https://httpbin.org/get","url":"https://malicious.com"}}}';
const duplicateArgumentReversed =
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_fetch_url","arguments":{"url":"https://malicious.com","url":"https://httpbin.org/get"}}}';
const duplicateName = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"currency_get_exchange_rate","name":"fetch_fetch_url","arguments":{"url":"https://httpbin.org/get"}}}';
const escapedDuplicateMethod = '{"jsonrpc":"2.0","id":1,"method":"tools/call","m\\u0065thod":"tools/list","params":{"name":"fetch_fetch_url","arguments":{"url":"https://httpbin.org/get"}}}';
const allowedCall = toolCallBody("fetch_fetch_url", { url: "https://httpbin.org/get" });

gatewayTable("gateway policy: transport and JSON-RPC framing at the public host", seeds, [
    { name: "allows a bodyless GET (the event stream)", input: atPublicHost("GET"), expect: "allow" },
    { name: "allows a bodyless DELETE (ending the session)", input: atPublicHost("DELETE"), expect: "allow" },
    { name: "denies a GET with a body", input: atPublicHost("GET", allowedCall), expect: "bodyless" },
    { name: "denies a GET with x-mcp-toolname", input: atPublicHost("GET", "", { "x-mcp-toolname": "fetch_url" }), expect: "bodyless" },
    { name: "denies a PUT", input: atPublicHost("PUT", allowedCall), expect: "http-method" },
    { name: "denies a POST without a body", input: post(""), expect: "json-rpc" },
    { name: "denies a batch holding one allowed call", input: post(`[${allowedCall}]`), expect: "json-rpc" },
    { name: "denies a truncated body", input: post(allowedCall.slice(0, -1)), expect: "json-rpc" },
    { name: "denies a body Envoy marks as cut", input: post(allowedCall, { "x-envoy-auth-partial-body": "true" }), expect: "partial-body" },
    { name: "denies two concatenated messages", input: post(`${allowedCall}${allowedCall}`), expect: "json-rpc" },
    { name: "denies a duplicate argument key (allowed value last)", input: post(duplicateArgumentReversed), expect: "json-rpc" },
    { name: "denies a duplicate argument key (allowed value first)", input: post(duplicateArgument), expect: "json-rpc" },
    { name: "denies a duplicate tool name key", input: post(duplicateName), expect: "json-rpc" },
    { name: "denies an escaped duplicate of the method key", input: post(escapedDuplicateMethod), expect: "json-rpc" },
    { name: "denies JSON-RPC 1.0", input: post(JSON.stringify({ jsonrpc: "1.0", id: 1, method: "tools/list" })), expect: "json-rpc" },
]);

gatewayTable("gateway policy: methods the broker answers", () => [...seeds(), thermostat()], [
    { name: "allows initialize", input: post(rpcBody("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "agent", version: "1" } })), expect: "allow" },
    { name: "allows ping", input: post(rpcBody("ping")), expect: "allow" },
    { name: "allows tools/list", input: post(rpcBody("tools/list")), expect: "allow" },
    { name: "allows tools/list with the router's x-mcp-method", input: post(rpcBody("tools/list"), { "x-mcp-method": "tools/list" }), expect: "allow" },
    { name: "allows notifications/initialized", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })), expect: "allow" },
    { name: "allows notifications/cancelled", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } })), expect: "allow" },
    // thermostat lists resources/read in extraMethods; its own AuthConfig allows it (checked below).
    { name: "denies a server's extraMethod (resources/read), which no request here attributes to that server", input: post(rpcBody("resources/read", { uri: "file:///x" })), expect: "rpc-method" },
    { name: "denies prompts/get", input: post(rpcBody("prompts/get", { name: "fetch_x" })), expect: "rpc-method" },
    { name: "denies resources/list", input: post(rpcBody("resources/list")), expect: "rpc-method" },
    { name: "denies an unknown method", input: post(rpcBody("shell/exec")), expect: "rpc-method" },
    { name: "allows th_set_temperature within the thermostat's bounds", input: call("th_set_temperature", { celsius: 20, mode: "eco" }), expect: "allow" },
    { name: "denies th_set_temperature out of the thermostat's bounds", input: call("th_set_temperature", { celsius: 50 }), expect: "arguments" },
    { name: "denies th_set_temperature with an absent-rule argument", input: call("th_set_temperature", { celsius: 20, debug: true }), expect: "arguments" },
    { name: "allows th_status without arguments", input: call("th_status"), expect: "allow" },
    { name: "still allows the seeds' tools next to the thermostat", input: fetchUrl("https://api.weather.gov/points/1,2"), expect: "allow" },
]);

gatewayTable("gateway policy: one upstream tool name on two servers, each with its own rules", () => [alpha(), beta()], [
    { name: "allows alpha_fetch to alpha's host", input: call("alpha_fetch", { url: "https://a.example.com/x" }), expect: "allow" },
    { name: "denies alpha_fetch to beta's host", input: call("alpha_fetch", { url: "https://b.example.com/x" }), expect: "arguments" },
    { name: "allows beta_fetch to beta's host", input: call("beta_fetch", { url: "https://b.example.com/x" }), expect: "allow" },
    { name: "denies beta_fetch to alpha's host", input: call("beta_fetch", { url: "https://a.example.com/x" }), expect: "arguments" },
    { name: "denies the bare fetch (which server would run it?)", input: call("fetch", { url: "https://a.example.com/x" }), expect: "tool" },
    { name: "allows beta_fetch with the router's header fetch", input: call("beta_fetch", { url: "https://b.example.com/x" }, { "x-mcp-toolname": "fetch" }), expect: "allow" },
]);

// Per server, "p_x" denotes both x and p_x (the body may or may not be rewritten yet). At the
// public host the body is client-facing, so "p_x" is x and "p_p_x" is p_x, exactly.
gatewayTable("gateway policy: a server whose tool name starts with its own prefix", () => [ambiguous()], [
    { name: "applies x's rule (max 10) to p_x", input: call("p_x", { n: 50 }), expect: "arguments" },
    { name: "allows p_x within x's rule", input: call("p_x", { n: 5 }), expect: "allow" },
    { name: "applies p_x's rule (max 100) to p_p_x", input: call("p_p_x", { n: 50 }), expect: "allow" },
    { name: "denies p_p_x above p_x's rule", input: call("p_p_x", { n: 500 }), expect: "arguments" },
    { name: "allows p_p_x with the router's header p_x", input: call("p_p_x", { n: 50 }, { "x-mcp-toolname": "p_x" }), expect: "allow" },
    { name: "denies p_p_x with the header of the other tool", input: call("p_p_x", { n: 5 }, { "x-mcp-toolname": "x" }), expect: "toolname-header" },
    { name: "denies the bare x", input: call("x", { n: 5 }), expect: "tool" },
]);

describe("gateway policy: the per-server AuthConfig still allows its extraMethods (the control)", function () {
    it("allows resources/read through the thermostat's own policy and denies it at the public host", function () {
        const input = { read: post(rpcBody("resources/read", { uri: "file:///x" })) };
        assert.equal(evaluateBatch(generateToolPolicyRego(thermostat()), input).get("read")?.allow, true);
        assert.equal(evaluateBatch(generateGatewayToolPolicyRego([...seeds(), thermostat()]), input).get("read")?.outcome, "rpc-method");
    });
});

// ---------------------------------------------------------------------------------------------
// The text: form, compilation, determinism, refusals
// ---------------------------------------------------------------------------------------------

const CONFIGS: readonly [string, () => readonly McpServerConfig[]][] = [
    ["the dev stack's seeds", () => stackServers("dev")],
    ["the ci stack", () => stackServers("ci")],
    ["the prod stack", () => stackServers("prod")],
    ["every rule type across servers", () => [...seeds(), thermostat(), weather(), files()]],
    ["config values containing the cut-out word", () => [packaging(), ...seeds()]],
    ["a server whose tool starts with its prefix", () => [ambiguous()]],
    ["one server", () => [serverWith("bare", { ping_tool: {} })]],
];

describe("gateway policy Rego: form and compilation as Authorino wraps it", function () {
    for (const [title, servers] of CONFIGS) {
        it(`starts with import rego.v1, declares no module, no default, no function, is ASCII and survives the clean-up (${title})`, function () {
            const text = generateGatewayToolPolicyRego(servers());
            assert.ok(text.startsWith("import rego.v1\n"));
            assert.ok(!text.includes("package"));
            assert.equal(text.replace(/(\s)*package.*[;\n]+/g, ""), text);
            assert.doesNotMatch(text, /^\s*default\s/m);
            assert.match(text, /^[\x09\x0a\x20-\x7e]*$/);
            assert.deepEqual(functionsOf(wrapLikeAuthorino(text)), []);
        });

        it(`compiles under opa check --v0-compatible and under Rego v1 (${title})`, function () {
            const wrapped = wrapLikeAuthorino(generateGatewayToolPolicyRego(servers()));
            for (const v0Compatible of [true, false]) {
                const result = opaCheck(wrapped, { v0Compatible });
                assert.ok(result.ok, `v0Compatible=${v0Compatible}: ${result.output}`);
            }
        });
    }

    it("gives the same verdicts parsed as Rego v1 and as v0 with import rego.v1", function () {
        const cases: Record<string, unknown> = {
            allowed: fetchUrl("https://httpbin.org/get"),
            denied: fetchUrl("https://malicious.com"),
            bare: fetchUrl("https://httpbin.org/get", "fetch_url"),
            list: post(rpcBody("tools/list")),
            get: atPublicHost("GET"),
        };
        const rego = generateGatewayToolPolicyRego(seeds());
        const v0 = evaluateBatch(rego, cases, { v0Compatible: true });
        const v1 = evaluateBatch(rego, cases, { v0Compatible: false });
        for (const id of Object.keys(cases)) assert.deepEqual(v1.get(id), v0.get(id), id);
        assert.equal(v0.get("allowed")?.outcome, "allow");
        assert.equal(v0.get("bare")?.outcome, "tool");
    });

    it("shares the per-server policy's decision procedure and request parsing, text for text", function () {
        // Everything after the generated _policy constant is the decision and the request model.
        const tail = (text: string): string => text.slice(text.indexOf("\n}\n", text.indexOf("_policy := ")));
        const server = thermostat();
        assert.equal(tail(generateGatewayToolPolicyRego([server])), tail(generateToolPolicyRego(server)));
    });
});

describe("gateway policy Rego: deterministic output", function () {
    it("generates identical text twice", function () {
        assert.equal(generateGatewayToolPolicyRego(seeds()), generateGatewayToolPolicyRego(seeds()));
    });

    it("generates identical text whatever the order of servers and of their tools", function () {
        const servers = [...seeds(), thermostat(), weather()];
        const reversed = [...servers].reverse().map((server) => ({ ...server, tools: Object.fromEntries(Object.entries(server.tools).reverse()) }));
        assert.equal(generateGatewayToolPolicyRego(reversed), generateGatewayToolPolicyRego(servers));
    });

    it("lists the tools under sorted client-facing names", function () {
        const text = generateGatewayToolPolicyRego([...seeds(), thermostat()]);
        const names = ["currency_get_exchange_rate", "fetch_fetch_url", "th_set_temperature", "th_status"].map((name) => text.indexOf(`\t\t"${name}": {`));
        for (const index of names) assert.ok(index > 0);
        assert.deepEqual([...names].sort((a, b) => a - b), names);
    });
});

describe("gateway policy Rego: config it refuses", function () {
    const refuses = (title: string, servers: () => readonly McpServerConfig[], message: RegExp) =>
        it(title, function () {
            assert.throws(() => generateGatewayToolPolicyRego(servers()), (error: unknown) => error instanceof ToolPolicyError && message.test(error.message));
        });

    refuses(
        "refuses one server's prefix starting another's, naming both servers",
        () => [serverWith("a", { x: {} }, { prefix: "a_" }), serverWith("ab", { x: {} }, { prefix: "a_b_" })],
        /mcpServers\[a\] and mcpServers\[ab\].*"a_" starts "a_b_"/,
    );
    refuses(
        "refuses it whatever the order the servers come in",
        () => [serverWith("zz", { x: {} }, { prefix: "a_b_" }), serverWith("aa", { x: {} }, { prefix: "a_" })],
        /mcpServers\[aa\] and mcpServers\[zz\]/,
    );
    refuses("refuses two servers with the same prefix", () => [serverWith("one", { x: {} }, { prefix: "same_" }), serverWith("two", { y: {} }, { prefix: "same_" })], /mcpServers\[one\] and mcpServers\[two\].*equals/);
    refuses("refuses a server listed twice", () => [serverWith("dup", { x: {} }), serverWith("dup", { x: {} })], /dup.*listed twice/);
    refuses("refuses no servers", () => [], /at least one MCP server/);
    // Built around a parsed server: the config schema refuses this too, and the generator must not
    // rely on it.
    refuses("refuses what the per-server generator refuses (tools/call in extraMethods)", () => [...seeds(), { ...serverWith("x", { t: {} }), extraMethods: ["tools/call"] }], /tools\/call/);

    it("accepts prefixes that merely share a beginning (fetch_ and fetcher_)", function () {
        assert.doesNotThrow(() => generateGatewayToolPolicyRego([serverWith("one", { x: {} }, { prefix: "fetch_" }), serverWith("two", { x: {} }, { prefix: "fetcher_" })]));
    });
});

// ---------------------------------------------------------------------------------------------
// The AuthConfig and the component
// ---------------------------------------------------------------------------------------------

function nameOf(manifest: unknown): string | undefined {
    return (manifest as { readonly metadata?: { readonly name?: string } }).metadata?.name;
}


describe("ToolPolicy: the public host's AuthConfig", function () {
    const manifest = gatewayToolPolicyAuthConfig(seeds(), PUBLIC_HOST, GATEWAY_NAMESPACE);

    it("validates against the Authorino AuthConfig CRD", function () {
        assertValid(manifest as unknown as Record<string, unknown>);
    });

    it("is named mcp-gateway-tool-policy, selected by the public host only, with the gateway Rego", function () {
        assert.equal(manifest.apiVersion, AUTHCONFIG_API_VERSION);
        assert.equal(manifest.kind, "AuthConfig");
        assert.equal(manifest.metadata.name, GATEWAY_TOOL_POLICY_NAME);
        assert.equal(manifest.metadata.name, "mcp-gateway-tool-policy");
        assert.equal(manifest.metadata.namespace, GATEWAY_NAMESPACE);
        assert.deepEqual(specOf(manifest).hosts, [PUBLIC_HOST]);
        assert.deepEqual(Object.keys(specOf(manifest).authorization), [TOOL_POLICY_EVALUATOR]);
        assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.rego, generateGatewayToolPolicyRego(seeds()));
    });

    it("authenticates anonymously, exports only allow and sets no opa.version, like the per-server ones", function () {
        assert.deepEqual(specOf(manifest).authentication, { anonymous: { anonymous: {} } });
        assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.allValues, false);
        assert.equal(specOf(manifest).authorization[TOOL_POLICY_EVALUATOR]?.opa.version, undefined);
    });

    it("registers the servers' AuthConfigs and the public host's under the component, exposing the gateway Rego apart from the per-server map", async function () {
        const servers = [...seeds(), thermostat()];
        let component: ToolPolicy | undefined;
        const resources = await underMocks(() => {
            component = new ToolPolicy("tp", { servers, namespace: GATEWAY_NAMESPACE, publicHost: PUBLIC_HOST });
        });
        assert.ok(component);
        const authConfigs = resources.filter((resource) => resource.type === AUTHCONFIG_TYPE);
        assert.deepEqual(authConfigs.map((resource) => resource.name).sort(), ["tp-currency", "tp-fetch", "tp-thermostat", "tp.gateway"]);
        for (const resource of authConfigs) assertValid(resource.inputs);
        const gateway = authConfigs.find((resource) => nameOf(resource.inputs) === GATEWAY_TOOL_POLICY_NAME);
        assert.ok(gateway);
        assert.deepEqual(specOf(gateway.inputs).hosts, [PUBLIC_HOST]);
        assert.equal(component.gatewayRego, generateGatewayToolPolicyRego(servers));
        assert.equal(specOf(gateway.inputs).authorization[TOOL_POLICY_EVALUATOR]?.opa.rego, component.gatewayRego);
        assert.deepEqual(Object.keys(component.rego).sort(), ["currency", "fetch", "thermostat"]);
        assert.ok(component.gatewayAuthConfig);
        const urn = await new Promise<string>((resolve) => component?.gatewayAuthConfig?.urn.apply(resolve));
        assert.match(urn, /agent-security:gateway:ToolPolicy\$kubernetes:authorino\.kuadrant\.io\/v1beta3:AuthConfig::tp\.gateway$/);
    });

    it("renders no public-host AuthConfig without a publicHost, or without servers", async function () {
        let withoutHost: ToolPolicy | undefined;
        const resources = await underMocks(() => {
            withoutHost = new ToolPolicy("nohost", { servers: seeds(), namespace: GATEWAY_NAMESPACE });
            new ToolPolicy("noservers", { servers: [], namespace: GATEWAY_NAMESPACE, publicHost: PUBLIC_HOST });
        });
        const names = resources.filter((resource) => resource.type === AUTHCONFIG_TYPE).map((resource) => nameOf(resource.inputs));
        assert.deepEqual(names.sort(), ["currency-tool-policy", "fetch-tool-policy"]);
        assert.equal(withoutHost?.gatewayRego, undefined);
    });

    it("refuses a server whose host is the public host (two AuthConfigs for one host)", async function () {
        // The config schema already keeps server hosts under the internal domain; the component
        // is also called directly, so it checks again.
        const clash: McpServerConfig = { ...serverWith("clash", { x: {} }), host: PUBLIC_HOST };
        await assert.rejects(
            underMocks(() => {
                new ToolPolicy("clash", { servers: [...seeds(), clash], namespace: GATEWAY_NAMESPACE, publicHost: PUBLIC_HOST });
            }),
            /public host/,
        );
    });

    it("refuses a server named mcp-gateway, whose AuthConfig would take the public host's name", async function () {
        // The config schema refuses the name as well; the component must not rely on it.
        const named = { ...serverWith("mcpgw", { x: {} }, { prefix: "mg_" }), name: "mcp-gateway" };
        assert.equal(toolPolicyName(named), GATEWAY_TOOL_POLICY_NAME);
        await assert.rejects(
            underMocks(() => {
                new ToolPolicy("named", { servers: [...seeds(), named], namespace: GATEWAY_NAMESPACE, publicHost: PUBLIC_HOST });
            }),
            /rename the server/,
        );
    });
});

describe("ToolPolicy: the public host's AuthConfig inside a stack (McpGateway passes gateway.publicHost)", function () {
    for (const stack of ["ci", "prod"] as const) {
        it(`renders 3 valid AuthConfigs for the ${stack} stack: the 2 seed servers' and the public host's`, async function () {
            const run = await runStack(stack, readStackConfig(stack), { now: NOW });
            const authConfigs = manifestsOf(run.resources).filter((manifest) => manifest.kind === "AuthConfig");
            assert.deepEqual(authConfigs.map((manifest) => manifest.metadata.name).sort(), ["currency-tool-policy", "fetch-tool-policy", GATEWAY_TOOL_POLICY_NAME]);
            for (const manifest of authConfigs) assertValid(manifest as unknown as Record<string, unknown>);
            const gateway = authConfigs.find((manifest) => manifest.metadata.name === GATEWAY_TOOL_POLICY_NAME);
            assert.ok(gateway);
            assert.equal(gateway.metadata.namespace, GATEWAY_NAMESPACE);
            assert.deepEqual(specOf(gateway).hosts, [run.config.gateway.publicHost]);
            assert.notEqual(run.config.gateway.publicHost, "");
            assert.equal(specOf(gateway).authorization[TOOL_POLICY_EVALUATOR]?.opa.rego, generateGatewayToolPolicyRego(stackServers(stack)));
        });
    }
});
