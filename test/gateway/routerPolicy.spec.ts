// The per-server policy against requests as the MCP router really sends them (test/gateway/
// router.ts; docs/tool-policy.md): routed calls with the re-serialised body, the router's session
// set-up (initialize, notifications/initialized with x-mcp-toolname), the stateless protocol
// revision's headers, elicitation responses, and bodies the router's escaping pushes over
// maxRequestBytes. Then the same requests forged by a client, and property tests of the rules.
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { generateGatewayToolPolicyRego, generateToolPolicyRego } from "../../components/gateway/rego";
import { evaluateBatch } from "../support/opa";
import { policyTable, post, rpcBody, seedServer, serverWith, stackServers, verdictTable } from "./fixtures";
import {
    clientToolCallBody,
    cutAtMaxRequestBytes,
    DEFAULT_MAX_REQUEST_BYTES,
    elicitationResponse,
    goJson,
    hairpinInitialize,
    hairpinInitialized,
    routedToolCall,
    statelessToolCall,
} from "./router";

const fetchServer = () => seedServer("fetch");
const currencyServer = () => seedServer("currency");
const fetch = fetchServer();
const currency = currencyServer();
const good = { url: "https://httpbin.org/get" };

policyTable("router policy: what the router sends for an allowed call (fetch)", fetchServer, [
    { name: "allows the routed tools/call with the re-serialised body and the bare name", input: routedToolCall(fetch, "fetch_url", good), expect: "allow" },
    { name: "allows a routed call whose query has & escaped as \\u0026", input: routedToolCall(fetch, "fetch_url", { url: "https://httpbin.org/get?a=1&b=2" }), expect: "allow" },
    { name: "allows a routed call with a string id and a _meta progress token", input: routedToolCall(fetch, "fetch_url", good, { id: "req-9", meta: { progressToken: 3 } }), expect: "allow" },
    { name: "allows the router's initialize (Go map body) with x-mcp-toolname", input: hairpinInitialize(fetch, "fetch_url"), expect: "allow" },
    { name: "allows the router's initialize (Go SDK body) with x-mcp-toolname", input: hairpinInitialize(fetch, "fetch_url", "go-sdk"), expect: "allow" },
    { name: "allows the router's initialize declaring the client's elicitation capability", input: hairpinInitialize(fetch, "fetch_url", "go-map", {}, true), expect: "allow" },
    { name: "allows the router's notifications/initialized (Go map body)", input: hairpinInitialized(fetch, "fetch_url"), expect: "allow" },
    { name: "allows the router's notifications/initialized (Go SDK body with empty params)", input: hairpinInitialized(fetch, "fetch_url", "go-sdk"), expect: "allow" },
    { name: "allows a tools/call of the stateless revision (mcp-method, mcp-name = bare name)", input: statelessToolCall(fetch, "fetch_url", good), expect: "allow" },
]);

policyTable("router policy: argument rules still decide routed calls (fetch)", fetchServer, [
    { name: "denies a routed call to https://malicious.com", input: routedToolCall(fetch, "fetch_url", { url: "https://malicious.com" }), expect: "arguments" },
    { name: "denies a routed call to the metadata service", input: routedToolCall(fetch, "fetch_url", { url: "http://169.254.169.254" }), expect: "arguments" },
    { name: "denies a routed call whose escaped < > hide nothing (still not a URL character)", input: routedToolCall(fetch, "fetch_url", { url: "https://httpbin.org/<x>" }), expect: "arguments" },
    { name: "denies a stateless-revision call to a denied host", input: statelessToolCall(fetch, "fetch_url", { url: "https://evil.com" }), expect: "arguments" },
]);

policyTable("router policy: the session set-up forged or misplaced (fetch)", fetchServer, [
    { name: "denies an initialize with x-mcp-toolname but without x-mcp-servername (a client's)", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "x-mcp-servername": "" }), expect: "hairpin" },
    { name: "denies an initialize marked mcpBroker (what the router sets on a client's initialize)", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "x-mcp-servername": "mcpBroker" }), expect: "hairpin" },
    { name: "denies an initialize naming another server's registration", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "x-mcp-servername": "gateway-system/currency" }), expect: "hairpin" },
    { name: "denies an initialize naming the server in another case", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "x-mcp-servername": "gateway-system/Fetch" }), expect: "hairpin" },
    { name: "denies an initialize for a tool the server does not list", input: hairpinInitialize(fetch, "shell", "go-map"), expect: "hairpin" },
    { name: "denies an initialize for the client-facing prefixed tool name", input: hairpinInitialize(fetch, "fetch_fetch_url", "go-map"), expect: "hairpin" },
    { name: "denies an initialize whose x-mcp-method is still the pending call's tools/call", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "x-mcp-method": "tools/call" }), expect: "hairpin" },
    { name: "denies an initialize carrying a stateless-revision mcp-method", input: hairpinInitialize(fetch, "fetch_url", "go-map", { "mcp-method": "initialize" }), expect: "hairpin" },
    { name: "denies a notifications/initialized carrying mcp-name", input: hairpinInitialized(fetch, "fetch_url", "go-map", { "mcp-name": "fetch_url" }), expect: "hairpin" },
    { name: "denies a notifications/initialized whose x-mcp-method says initialize", input: hairpinInitialized(fetch, "fetch_url", "go-map", { "x-mcp-method": "initialize" }), expect: "hairpin" },
    {
        name: "denies the set-up headers on tools/list (only initialize and notifications/initialized open a session)",
        input: post(rpcBody("tools/list"), { "x-mcp-method": "tools/list", "x-mcp-servername": "gateway-system/fetch", "x-mcp-toolname": "fetch_url" }),
        expect: "toolname-header",
    },
    {
        name: "denies a tools/call disguised behind the set-up headers of an initialize",
        input: routedToolCall(fetch, "fetch_url", { url: "https://evil.com" }, { headers: { "x-mcp-method": "initialize" } }),
        expect: "method-header",
    },
    {
        name: "denies an initialize body carrying a tools/call's params under a duplicate method key",
        input: post('{"id":1,"jsonrpc":"2.0","method":"tools/call","method":"initialize","params":{"name":"fetch_url","arguments":{"url":"https://evil.com"}}}', {
            "x-mcp-method": "initialize",
            "x-mcp-servername": "gateway-system/fetch",
            "x-mcp-toolname": "fetch_url",
        }),
        expect: "json-rpc",
    },
    {
        name: "denies an escaped duplicate method key (m\\u0065thod) in a set-up request",
        input: post('{"id":1,"jsonrpc":"2.0","m\\u0065thod":"tools/call","method":"initialize","params":{}}', {
            "x-mcp-method": "initialize",
            "x-mcp-servername": "gateway-system/fetch",
            "x-mcp-toolname": "fetch_url",
        }),
        expect: "json-rpc",
    },
]);

policyTable("router policy: the stateless revision's headers (fetch)", fetchServer, [
    { name: "denies an mcp-name that disagrees with the body's tool", input: statelessToolCall(fetch, "fetch_url", good, { "mcp-name": "other_tool" }), expect: "name-header" },
    { name: "denies an mcp-name still carrying the client-facing prefix", input: statelessToolCall(fetch, "fetch_url", good, { "mcp-name": "fetch_fetch_url" }), expect: "name-header" },
    { name: "denies an mcp-name in another case", input: statelessToolCall(fetch, "fetch_url", good, { "mcp-name": "FETCH_URL" }), expect: "name-header" },
    { name: "denies mcp-method tools/list on a tools/call body", input: statelessToolCall(fetch, "fetch_url", good, { "mcp-method": "tools/list" }), expect: "method-header" },
    { name: "denies mcp-method Tools/Call (method names are case-sensitive)", input: statelessToolCall(fetch, "fetch_url", good, { "mcp-method": "Tools/Call" }), expect: "method-header" },
    { name: "denies mcp-method tools/call on a tools/list body", input: post(rpcBody("tools/list"), { "mcp-method": "tools/call" }), expect: "method-header" },
    { name: "allows mcp-method equal to tools/list", input: post(rpcBody("tools/list"), { "mcp-method": "tools/list" }), expect: "allow" },
    { name: "denies mcp-name on tools/list", input: post(rpcBody("tools/list"), { "mcp-name": "fetch_url" }), expect: "name-header" },
    { name: "denies mcp-name on a bodyless GET", input: { ...routedGet() }, expect: "bodyless" },
]);

policyTable("router policy: mcp-name on an extraMethods method", () => serverWith("prompts", { t: {} }, { extraMethods: ["prompts/get", "resources/read"] }), [
    { name: "allows mcp-name equal to a prompts/get's name (an extraMethods method)", input: post(rpcBody("prompts/get", { name: "p" }), { "mcp-method": "prompts/get", "mcp-name": "p" }), expect: "allow" },
    { name: "denies mcp-name other than a prompts/get's name", input: post(rpcBody("prompts/get", { name: "p" }), { "mcp-method": "prompts/get", "mcp-name": "q" }), expect: "name-header" },
    { name: "allows mcp-name equal to a resources/read's uri", input: post(rpcBody("resources/read", { uri: "ui://x" }), { "mcp-name": "ui://x" }), expect: "allow" },
    { name: "denies mcp-name on a resources/read without params", input: post(rpcBody("resources/read"), { "mcp-name": "ui://x" }), expect: "name-header" },
]);

function routedGet(): Record<string, unknown> {
    const input = routedToolCall(fetch, "fetch_url", good);
    const request = input.request as Record<string, unknown>;
    const context = input.context as { request: { http: Record<string, unknown> } };
    const headers = { ":authority": fetch.host, "mcp-name": "fetch_url" };
    const strip = (view: Record<string, unknown>): Record<string, unknown> => {
        const { body: _body, ...rest } = view;
        return { ...rest, method: "GET", headers };
    };
    return { ...input, request: strip(request), context: { ...context, request: { http: strip(context.request.http) } } };
}

policyTable("router policy: elicitation responses (fetch)", fetchServer, [
    { name: "allows an accepted elicitation response with content", input: elicitationResponse(fetch, { action: "accept", content: { city: "Paris", days: 3 } }), expect: "allow" },
    { name: "allows a declined elicitation response", input: elicitationResponse(fetch, { action: "decline" }), expect: "allow" },
    { name: "allows a cancelled elicitation response with a string id", input: elicitationResponse(fetch, { action: "cancel" }, { id: "srv-1" }), expect: "allow" },
    { name: "allows an elicitation response with _meta", input: elicitationResponse(fetch, { action: "accept", content: {}, _meta: { a: 1 } }), expect: "allow" },
    { name: "denies a response that smuggles a method", input: elicitationResponse(fetch, { action: "accept" }, { extra: { method: "tools/call" } }), expect: "json-rpc" },
    { name: "denies a response that smuggles params", input: elicitationResponse(fetch, { action: "accept" }, { extra: { params: { name: "fetch_url" } } }), expect: "json-rpc" },
    { name: "denies a response with both result and error", input: elicitationResponse(fetch, { action: "accept" }, { extra: { error: { code: 1 } } }), expect: "json-rpc" },
    { name: "denies an error response", input: post(goJson({ id: 7, jsonrpc: "2.0", error: { code: -32000, message: "x" } })), expect: "json-rpc" },
    { name: "denies a response without an id", input: post(goJson({ jsonrpc: "2.0", result: { action: "accept" } })), expect: "json-rpc" },
    { name: "denies a response with a null id", input: elicitationResponse(fetch, { action: "accept" }, { id: null }), expect: "json-rpc" },
    { name: "denies a response whose action is not an elicitation action", input: elicitationResponse(fetch, { action: "accepted" }), expect: "response" },
    { name: "denies a response whose action is upper-case", input: elicitationResponse(fetch, { action: "ACCEPT" }), expect: "response" },
    { name: "denies a sampling result (the router answers those itself)", input: elicitationResponse(fetch, { role: "assistant", content: { type: "text", text: "hi" }, model: "m" }), expect: "response" },
    { name: "denies a roots/list result", input: elicitationResponse(fetch, { roots: [{ uri: "file:///" }] }), expect: "response" },
    { name: "denies an elicitation result with an extra member", input: elicitationResponse(fetch, { action: "accept", content: {}, name: "fetch_url" }), expect: "response" },
    { name: "denies content that is not an object", input: elicitationResponse(fetch, { action: "accept", content: "https://evil.com" }), expect: "response" },
    { name: "denies a result that is not an object", input: elicitationResponse(fetch, "accept"), expect: "json-rpc" },
    { name: "denies an elicitation response labelled x-mcp-method tools/call", input: elicitationResponse(fetch, { action: "accept" }, { headers: { "x-mcp-method": "tools/call" } }), expect: "response" },
    { name: "denies an elicitation response carrying x-mcp-toolname", input: elicitationResponse(fetch, { action: "accept" }, { headers: { "x-mcp-toolname": "fetch_url" } }), expect: "response" },
    { name: "denies an elicitation response with a duplicate action key", input: post('{"id":7,"jsonrpc":"2.0","result":{"action":"accept","action":"decline"}}'), expect: "json-rpc" },
]);

// maxRequestBytes: the router's body is longer than the client's (each & < > becomes six bytes),
// so a body the client kept under the limit can arrive cut. Envoy then marks it partial.
const ampersands = (count: number): string => `https://httpbin.org/get?${Array.from({ length: count }, (_, i) => `a${i % 10}=1`).join("&")}`;
const nearLimitUrl = (() => {
    // The largest number of query pairs whose client body stays under the limit.
    let pairs = 1;
    while (Buffer.byteLength(clientToolCallBody(fetch, "fetch_url", { url: ampersands(pairs + 1) })) <= DEFAULT_MAX_REQUEST_BYTES) pairs++;
    return ampersands(pairs);
})();
const nearLimitCall = routedToolCall(fetch, "fetch_url", { url: nearLimitUrl });
const smallUrl = ampersands(50);

describe("router policy: the escaping and maxRequestBytes (fixture sanity)", function () {
    it("builds a client body under the limit whose re-serialised body is over it", function () {
        assert.ok(Buffer.byteLength(clientToolCallBody(fetch, "fetch_url", { url: nearLimitUrl })) <= DEFAULT_MAX_REQUEST_BYTES);
        assert.ok(Buffer.byteLength((nearLimitCall.request as { body: string }).body) > DEFAULT_MAX_REQUEST_BYTES);
    });
});

policyTable("router policy: a body the escaping pushes over maxRequestBytes (fetch)", fetchServer, [
    { name: "denies the cut body Envoy marks partial", input: cutAtMaxRequestBytes(nearLimitCall, DEFAULT_MAX_REQUEST_BYTES), expect: "partial-body" },
    { name: "denies the cut body even unmarked (it is no longer JSON)", input: cutAtMaxRequestBytes(nearLimitCall, DEFAULT_MAX_REQUEST_BYTES, false), expect: "json-rpc" },
    { name: "allows the same call whole (maxRequestBytes sized for the escaping)", input: nearLimitCall, expect: "allow" },
    { name: "allows a short call with many escaped ampersands", input: routedToolCall(fetch, "fetch_url", { url: smallUrl }), expect: "allow" },
]);

policyTable("router policy: routed calls to the currency server", currencyServer, [
    { name: "allows get_exchange_rate USD->EUR as routed", input: routedToolCall(currency, "get_exchange_rate", { currency_from: "USD", currency_to: "EUR" }), expect: "allow" },
    { name: "denies get_exchange_rate USD->BTC as routed", input: routedToolCall(currency, "get_exchange_rate", { currency_from: "USD", currency_to: "BTC" }), expect: "arguments" },
    { name: "allows the router's initialize for get_exchange_rate", input: hairpinInitialize(currency, "get_exchange_rate"), expect: "allow" },
    { name: "denies the router's initialize for the fetch server's tool at the currency host", input: hairpinInitialize(currency, "fetch_url"), expect: "hairpin" },
    { name: "denies fetch's set-up headers at the currency host", input: hairpinInitialize(currency, "get_exchange_rate", "go-map", { "x-mcp-servername": "gateway-system/fetch" }), expect: "hairpin" },
]);

verdictTable("router policy: what the router never sends to the public host", () => generateGatewayToolPolicyRego(stackServers("dev")), [
    { name: "denies the set-up initialize at the public host", input: hairpinInitialize({ ...fetch, host: "mcp.agents.example.com" }, "fetch_url"), expect: "denied" },
    { name: "denies an elicitation response at the public host", input: elicitationResponse(fetch, { action: "accept" }, { host: "mcp.agents.example.com" }), expect: "response" },
    { name: "allows a plain initialize at the public host (control)", input: post(rpcBody("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "a", version: "1" } })), expect: "allow" },
]);

// ---------------------------------------------------------------------------------------------
// Properties: the rules, not a handful of examples
// ---------------------------------------------------------------------------------------------

describe("router policy: properties", function () {
    it("gives a call the same verdict in the client's JSON and in the router's re-serialised JSON", function () {
        const urlChars = fc.constantFrom("a", "/", "?", "&", "=", "<", ">", "\u2028", "%26", "x", ".", "@", "#", ":", "\u00e9");
        const url = fc.tuple(fc.constantFrom("https://httpbin.org", "https://api.weather.gov", "https://evil.com", "https://httpbin.org.evil.com"), fc.array(urlChars, { maxLength: 12 })).map(([base, chars]) => `${base}/${chars.join("")}`);
        const urls = fc.sample(url, { numRuns: 150, seed: 11 });
        const cases: Record<string, unknown> = {};
        urls.forEach((value, index) => {
            cases[`client${index}`] = post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "fetch_url", arguments: { url: value } } }));
            cases[`router${index}`] = routedToolCall(fetch, "fetch_url", { url: value });
        });
        const verdicts = evaluateBatch(generateToolPolicyRego(fetch), cases);
        let allowed = 0;
        urls.forEach((value, index) => {
            const client = verdicts.get(`client${index}`);
            const router = verdicts.get(`router${index}`);
            assert.deepEqual(router, client, `${JSON.stringify(value)}: router ${JSON.stringify(router)} vs client ${JSON.stringify(client)}`);
            if (router?.allowed) allowed++;
        });
        assert.ok(allowed > 5 && allowed < urls.length, `a useful mix of verdicts (${allowed} of ${urls.length} allowed)`);
    });

    it("allows a set-up request exactly when every header condition holds", function () {
        const servername = fc.constantFrom<string | undefined>("gateway-system/fetch", "gateway-system/currency", "mcpBroker", "", undefined);
        const method = fc.constantFrom("initialize", "notifications/initialized");
        const methodHeader = fc.constantFrom<string | "same" | undefined>("same", "tools/call", "initialize", "notifications/initialized", undefined);
        const tool = fc.constantFrom<string | undefined>("fetch_url", "fetch_fetch_url", "get_exchange_rate", "", undefined);
        const stateless = fc.constantFrom<Record<string, string>>({}, {}, { "mcp-method": "initialize" }, { "mcp-name": "fetch_url" });
        const combos = fc.sample(fc.record({ servername, method, methodHeader, tool, stateless, client: fc.constantFrom<"go-map" | "go-sdk">("go-map", "go-sdk") }), { numRuns: 200, seed: 5 });
        const cases: Record<string, unknown> = {};
        const expected: boolean[] = [];
        combos.forEach((combo, index) => {
            const base = combo.method === "initialize" ? hairpinInitialize(fetch, "fetch_url", combo.client) : hairpinInitialized(fetch, "fetch_url", combo.client);
            const request = base.request as { body: string; headers: Record<string, string> };
            const headers: Record<string, string> = { ...request.headers, ...combo.stateless };
            delete headers["x-mcp-servername"];
            delete headers["x-mcp-method"];
            delete headers["x-mcp-toolname"];
            if (combo.servername !== undefined) headers["x-mcp-servername"] = combo.servername;
            const methodValue = combo.methodHeader === "same" ? combo.method : combo.methodHeader;
            if (methodValue !== undefined) headers["x-mcp-method"] = methodValue;
            if (combo.tool !== undefined) headers["x-mcp-toolname"] = combo.tool;
            cases[`c${index}`] = post(request.body, headers);
            const statelessFree = Object.keys(combo.stateless).length === 0;
            // Without a tool name header it is a plain initialize or notification: allowed when the
            // method headers agree and no stateless-revision name header is there.
            const plain =
                combo.tool === undefined &&
                [methodValue, combo.stateless["mcp-method"]].every((value) => value === undefined || value === combo.method) &&
                combo.stateless["mcp-name"] === undefined;
            const setUp = combo.servername === "gateway-system/fetch" && methodValue === combo.method && combo.tool === "fetch_url" && statelessFree;
            expected.push(plain || setUp);
        });
        const verdicts = evaluateBatch(generateToolPolicyRego(fetch), cases);
        combos.forEach((combo, index) => {
            assert.equal(verdicts.get(`c${index}`)?.allowed, expected[index], JSON.stringify(combo));
        });
        assert.ok(expected.some((value) => value) && expected.some((value) => !value));
    });

    it("allows a tools/call's name headers exactly when each is absent or names the body's tool", function () {
        const header = fc.constantFrom<string | undefined>(undefined, "fetch_url", "fetch_fetch_url", "FETCH_URL", "");
        const methodHeader = fc.constantFrom<string | undefined>(undefined, "tools/call", "tools/list", "TOOLS/CALL");
        const combos = fc.sample(fc.record({ toolname: header, name: header, xMethod: methodHeader, method: methodHeader }), { numRuns: 150, seed: 9 });
        const cases: Record<string, unknown> = {};
        combos.forEach((combo, index) => {
            const headers: Record<string, string> = {};
            if (combo.toolname !== undefined) headers["x-mcp-toolname"] = combo.toolname;
            if (combo.name !== undefined) headers["mcp-name"] = combo.name;
            if (combo.xMethod !== undefined) headers["x-mcp-method"] = combo.xMethod;
            if (combo.method !== undefined) headers["mcp-method"] = combo.method;
            cases[`c${index}`] = post(goJson({ id: 1, jsonrpc: "2.0", method: "tools/call", params: { arguments: good, name: "fetch_url" } }), headers);
        });
        const verdicts = evaluateBatch(generateToolPolicyRego(fetch), cases);
        combos.forEach((combo, index) => {
            const ok = [combo.toolname, combo.name].every((value) => value === undefined || value === "fetch_url") && [combo.xMethod, combo.method].every((value) => value === undefined || value === "tools/call");
            assert.equal(verdicts.get(`c${index}`)?.allowed, ok, JSON.stringify(combo));
        });
    });

    it("denies a body with a duplicate key exactly when one is there, whatever the escapes (\\u003a included)", function () {
        // _meta is free-form, so only the duplicate check decides. Keys come from a tiny alphabet
        // (duplicates are common), spelled plainly or with \u escapes; values are strings full of
        // raw and escaped colons, the case the cheap colon count alone cannot decide.
        const keySpelling = fc.constantFrom('"a"', '"\\u0061"', '"b"', '"\\u0062"', '"a:"', '"a\\u003a"', '"c"');
        const valuePiece = fc.constantFrom(":", "\\u003a", "\\u003A", "x", "\\\\", '\\"', "\\u0026", " ");
        const member = fc.tuple(keySpelling, fc.array(valuePiece, { maxLength: 5 })).map(([key, pieces]) => [key, `"${pieces.join("")}"`] as const);
        const samples = fc.sample(fc.array(member, { minLength: 1, maxLength: 5 }), { numRuns: 150, seed: 21 });
        const cases: Record<string, unknown> = {};
        const duplicated: boolean[] = [];
        samples.forEach((members, index) => {
            const meta = `{${members.map(([key, value]) => `${key}:${value}`).join(",")}}`;
            const body = `{"id":1,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":${meta},"arguments":{"url":"https://httpbin.org/get"},"name":"fetch_url"}}`;
            cases[`c${index}`] = post(body);
            const keys = members.map(([key]) => JSON.parse(key) as string);
            duplicated.push(new Set(keys).size !== keys.length);
        });
        const verdicts = evaluateBatch(generateToolPolicyRego(fetch), cases);
        samples.forEach((members, index) => {
            const verdict = verdicts.get(`c${index}`);
            assert.equal(verdict?.outcome, duplicated[index] ? "json-rpc" : "allow", JSON.stringify(members));
        });
        assert.ok(duplicated.some((value) => value) && duplicated.some((value) => !value));
    });
});
