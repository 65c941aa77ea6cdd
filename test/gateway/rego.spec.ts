// The generator's contract without the request side: the text's form (what Authorino's wrapper
// needs), compilation under both Rego parsers, determinism, the config it refuses, and its helpers.
import { strict as assert } from "assert";
import * as fc from "fast-check";
import {
    foldArgumentName,
    generateToolPolicyRego,
    parseUrlAllowEntry,
    regoLiteral,
    RegoSet,
    regoString,
    ToolPolicyError,
} from "../../components/gateway/rego";
import { ISO_4217_CODES } from "../../components/gateway/iso4217";
import type { McpServerConfig } from "../../config/schema";
import { authorinoInput, evaluateBatch, functionsOf, opaCheck, wrapLikeAuthorino } from "../support/opa";
import { ambiguous, files, packaging, parseServer, seedServer, serverWith, stackServers, thermostat, toolCall, weather } from "./fixtures";

function manyHosts(count: number): McpServerConfig {
    const allow = Array.from({ length: count }, (_, i) => `https://host${String(i).padStart(4, "0")}.example.com${i % 3 === 0 ? "/api" : ""}`);
    return serverWith("many", { fetch_url: { arguments: { url: { type: "url", allow } } } });
}

const CONFIGS: readonly [string, () => McpServerConfig][] = [
    ["the seeds' fetch server", () => seedServer("fetch")],
    ["the seeds' currency server", () => seedServer("currency")],
    ["number, absent, string and enum rules", thermostat],
    ["URL path prefixes and ports", weather],
    ["unlisted arguments and optional URLs", files],
    ["a name that denotes two tools", ambiguous],
    ["config values containing the cut-out word", packaging],
    ["a url rule with 1,000 hosts", () => manyHosts(1000)],
    ["a tool without arguments only", () => serverWith("bare", { ping_tool: {} })],
];

describe("tool policy Rego: the form Authorino's wrapper needs", function () {
    for (const [title, config] of CONFIGS) {
        it(`starts with import rego.v1 and declares neither a module nor a default (${title})`, function () {
            const text = generateToolPolicyRego(config());
            assert.ok(text.startsWith("import rego.v1\n"), "first line");
            assert.doesNotMatch(text, /^\s*package\b/m);
            assert.doesNotMatch(text, /^\s*default\s/m);
        });

        it(`is left unchanged by Authorino's clean-up regex (${title})`, function () {
            const text = generateToolPolicyRego(config());
            assert.equal(text.replace(/(\s)*package.*[;\n]+/g, ""), text);
            assert.ok(!text.includes("package"));
        });

        it(`is plain ASCII (${title})`, function () {
            assert.match(generateToolPolicyRego(config()), /^[\x09\x0a\x20-\x7e]*$/);
        });
    }
});

describe("tool policy Rego: compiles as Authorino wraps it", function () {
    for (const [title, config] of CONFIGS) {
        it(`compiles under opa check --v0-compatible (Kuadrant v1.5.2's Authorino) (${title})`, function () {
            const result = opaCheck(wrapLikeAuthorino(generateToolPolicyRego(config())), { v0Compatible: true });
            assert.ok(result.ok, result.output);
        });

        it(`compiles under plain Rego v1 opa check (${title})`, function () {
            const result = opaCheck(wrapLikeAuthorino(generateToolPolicyRego(config())), { v0Compatible: false });
            assert.ok(result.ok, result.output);
        });

        it(`defines no function, so Authorino's object.get query type-checks (${title})`, function () {
            assert.deepEqual(functionsOf(wrapLikeAuthorino(generateToolPolicyRego(config()))), []);
            // and the query itself, evaluated exactly as Authorino does, on a bodyless GET
            const verdicts = evaluateBatch(generateToolPolicyRego(config()), { get: authorinoInput({ method: "GET" }) });
            assert.equal(verdicts.get("get")?.allow, true);
        });
    }

    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`compiles every MCP server of the ${stack} stack both ways`, function () {
            const servers = stackServers(stack);
            assert.ok(servers.length >= 2, "the seeds' two servers are in every stack");
            for (const server of servers) {
                const wrapped = wrapLikeAuthorino(generateToolPolicyRego(server));
                for (const v0Compatible of [true, false]) {
                    const result = opaCheck(wrapped, { v0Compatible });
                    assert.ok(result.ok, `${stack}/${server.name} (v0Compatible=${v0Compatible}): ${result.output}`);
                }
            }
        });
    }

    it("gives the same verdicts parsed as Rego v1 and as v0 with import rego.v1", function () {
        const cases: Record<string, unknown> = {
            allowed: toolCall("fetch_url", { url: "https://httpbin.org/get" }),
            denied: toolCall("fetch_url", { url: "https://httpbin.org.evil.com" }),
            unknown: toolCall("shell", {}),
            get: authorinoInput({ method: "GET" }),
            put: authorinoInput({ method: "PUT", body: "{}" }),
        };
        const rego = generateToolPolicyRego(seedServer("fetch"));
        const v0 = evaluateBatch(rego, cases, { v0Compatible: true });
        const v1 = evaluateBatch(rego, cases, { v0Compatible: false });
        for (const id of Object.keys(cases)) assert.deepEqual(v1.get(id), v0.get(id), id);
        assert.equal(v0.get("allowed")?.outcome, "allow");
        assert.equal(v0.get("denied")?.outcome, "arguments");
    });
});

/** The same config with every map's keys and every list that is a set in reverse order. */
function reordered(server: McpServerConfig): McpServerConfig {
    const reverseKeys = <T>(record: Readonly<Record<string, T>>, map: (value: T) => T = (value) => value): Record<string, T> =>
        Object.fromEntries(Object.entries(record).reverse().map(([key, value]) => [key, map(value)]));
    const tools = reverseKeys(server.tools, (tool) => ({
        ...tool,
        arguments: reverseKeys(tool.arguments, (rule) => {
            const copy: Record<string, unknown> = Object.fromEntries(Object.entries(rule).reverse());
            for (const key of ["allow", "deny"]) {
                const list = copy[key];
                if (Array.isArray(list)) copy[key] = [...(list as unknown[])].reverse();
            }
            return copy as typeof rule;
        }),
    }));
    return { ...(Object.fromEntries(Object.entries(server).reverse()) as McpServerConfig), tools, extraMethods: [...server.extraMethods].reverse() };
}

describe("tool policy Rego: deterministic output", function () {
    for (const [title, config] of CONFIGS) {
        it(`generates identical text twice (${title})`, function () {
            assert.equal(generateToolPolicyRego(config()), generateToolPolicyRego(config()));
        });

        it(`generates identical text when the config's key and list order is reversed (${title})`, function () {
            assert.equal(generateToolPolicyRego(reordered(config())), generateToolPolicyRego(config()));
        });
    }

    it("generates identical text under random shuffles of tools, arguments and allow lists", function () {
        const base = parseServer({
            name: "shuffle",
            host: "shuffle.mcp.local",
            backend: { service: "shuffle", port: 8080 },
            extraMethods: ["resources/read", "prompts/get", "resources/list"],
            tools: {
                a: { arguments: { u: { type: "url", allow: ["https://b.example.com", "https://a.example.com/x", "https://a.example.com:8443"] } } },
                b: { arguments: { c: { type: "currency", deny: ["BTC", "ETH"] }, e: { type: "enum", allow: ["x", "y", "z"] } } },
                c: {},
            },
        });
        const expected = generateToolPolicyRego(base);
        fc.assert(
            fc.property(fc.infiniteStream(fc.integer()), (random) => {
                const shuffle = <T>(items: readonly T[]): T[] => {
                    const out = [...items];
                    for (let i = out.length - 1; i > 0; i--) {
                        const j = Math.abs(random.next().value) % (i + 1);
                        [out[i], out[j]] = [out[j] as T, out[i] as T];
                    }
                    return out;
                };
                const tools = Object.fromEntries(
                    shuffle(Object.entries(base.tools)).map(([name, tool]) => [
                        name,
                        {
                            ...tool,
                            arguments: Object.fromEntries(
                                shuffle(Object.entries(tool.arguments)).map(([arg, rule]) => [
                                    arg,
                                    "allow" in rule && Array.isArray(rule.allow) ? { ...rule, allow: shuffle(rule.allow) } : rule,
                                ]),
                            ),
                        },
                    ]),
                );
                const shuffled = { ...base, tools, extraMethods: shuffle(base.extraMethods) } as McpServerConfig;
                return generateToolPolicyRego(shuffled) === expected;
            }),
            { numRuns: 50, seed: 4217 },
        );
    });

    it("carries no timestamp or date", function () {
        assert.doesNotMatch(generateToolPolicyRego(seedServer("fetch")), /20[0-9]{2}-[0-9]{2}-[0-9]{2}/);
    });

    it("moves only the data section when an allow list changes", function () {
        const before = generateToolPolicyRego(seedServer("fetch")).split("\n");
        const server = seedServer("fetch");
        const changed = {
            ...server,
            tools: { fetch_url: { ...server.tools.fetch_url, arguments: { url: { type: "url" as const, allow: ["https://api.weather.gov", "https://httpbin.org", "https://example.org"] } } } },
        };
        const after = generateToolPolicyRego(changed).split("\n");
        assert.equal(after.length, before.length + 1);
        assert.ok(after.includes('\t\t\t\t\t\t\t"example.org": [{"path": "", "port": "443"}],'));
    });
});

function invalid(tools: Record<string, unknown>, extra: Partial<McpServerConfig> = {}): McpServerConfig {
    // Built by hand: the config schema already refuses some of these; the generator must not trust it.
    return { name: "bad", host: "bad.mcp.local", backend: { service: "bad", port: 8080, path: "/mcp" }, extraMethods: [], tools, ...extra } as McpServerConfig;
}

describe("tool policy Rego: config the generator refuses", function () {
    const refuses = (title: string, server: () => McpServerConfig, message: RegExp) =>
        it(title, function () {
            assert.throws(() => generateToolPolicyRego(server()), (error: unknown) => error instanceof ToolPolicyError && message.test(error.message));
        });

    refuses("refuses tools/call in extraMethods (it would bypass every tool rule)", () => invalid({ t: { arguments: {}, allowUnlistedArguments: false } }, { extraMethods: ["tools/call"] }), /tools\/call/);
    refuses("refuses an enum whose every allowed value is denied", () => invalid({ t: { arguments: { m: { type: "enum", allow: ["a"], deny: [" A "] } }, allowUnlistedArguments: false } }), /also denied/);
    refuses("refuses a currency allow list with a code that is not ISO 4217", () => invalid({ t: { arguments: { c: { type: "currency", allow: ["USD", "XYZ"] } }, allowUnlistedArguments: false } }), /XYZ/);
    refuses("refuses a currency rule that denies every allowed code", () => invalid({ t: { arguments: { c: { type: "currency", allow: ["USD"], deny: ["usd"] } }, allowUnlistedArguments: false } }), /also denied/);
    refuses("refuses two arguments that differ only in letter case", () => invalid({ t: { arguments: { url: { type: "absent" }, URL: { type: "absent" } }, allowUnlistedArguments: false } }), /letter case/);
    refuses("refuses two arguments that fold together through a long s", () => invalid({ t: { arguments: { s: { type: "absent" }, "\u017f": { type: "absent" } }, allowUnlistedArguments: false } }), /letter case/);
    refuses("refuses a plain-http URL allow entry", () => invalid({ t: { arguments: { u: { type: "url", allow: ["http://example.com"] } }, allowUnlistedArguments: false } }), /https/);
    refuses("refuses a URL allow entry with userinfo", () => invalid({ t: { arguments: { u: { type: "url", allow: ["https://a@example.com"] } }, allowUnlistedArguments: false } }), /user info/);
    refuses("refuses a URL allow entry with an IP literal", () => invalid({ t: { arguments: { u: { type: "url", allow: ["https://127.0.0.1"] } }, allowUnlistedArguments: false } }), /DNS host/);
    refuses("refuses a URL allow entry with port 0", () => invalid({ t: { arguments: { u: { type: "url", allow: ["https://example.com:0"] } }, allowUnlistedArguments: false } }), /port/);
    refuses("refuses a server without tools", () => invalid({}), /at least one tool/);
});

describe("tool policy Rego: helpers", function () {
    it("parses allow entries into host, port and segment prefix", function () {
        assert.deepEqual(parseUrlAllowEntry("https://api.weather.gov"), { host: "api.weather.gov", port: 443, path: "" });
        assert.deepEqual(parseUrlAllowEntry("https://api.weather.gov/"), { host: "api.weather.gov", port: 443, path: "" });
        assert.deepEqual(parseUrlAllowEntry("https://api.weather.gov/points/"), { host: "api.weather.gov", port: 443, path: "/points" });
        assert.deepEqual(parseUrlAllowEntry("https://example.com:8443/a/b"), { host: "example.com", port: 8443, path: "/a/b" });
        assert.deepEqual(parseUrlAllowEntry("https://example.com:443/a"), { host: "example.com", port: 443, path: "/a" });
    });

    it("writes Rego strings that decode to the original and never spell the cut-out word", function () {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("package", "a package; b", "\u2028", "\\", '"')), (value) => {
                const literal = regoString(value);
                return JSON.parse(literal) === value && !literal.includes("package") && /^[\x20-\x7e]*$/.test(literal);
            }),
            { numRuns: 500, seed: 7 },
        );
    });

    it("writes sets sorted and objects with sorted keys", function () {
        assert.equal(regoLiteral(new RegoSet(["b", "a", "b"])), '{"a", "b"}');
        assert.equal(regoLiteral(new RegoSet([])), "set()");
        assert.equal(regoLiteral({ b: 1, a: "x" }), '{"a": "x", "b": 1}');
    });

    it("folds argument names the way Go's encoding/json matches them", function () {
        assert.equal(foldArgumentName("URL"), "url");
        assert.equal(foldArgumentName("\u017fource"), "source");
        assert.equal(foldArgumentName("\u212aey"), "key");
    });

    it("embeds a sorted, unique list of three-letter ISO 4217 codes", function () {
        assert.deepEqual([...ISO_4217_CODES].sort(), ISO_4217_CODES);
        assert.equal(new Set(ISO_4217_CODES).size, ISO_4217_CODES.length);
        for (const code of ISO_4217_CODES) assert.match(code, /^[A-Z]{3}$/);
        for (const code of ["USD", "EUR", "JPY", "CHF", "ZWG", "XCG"]) assert.ok(ISO_4217_CODES.includes(code), code);
        for (const code of ["BTC", "ETH", "HRK", "XBT"]) assert.ok(!ISO_4217_CODES.includes(code), code);
    });
});
