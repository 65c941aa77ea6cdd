// Tool-policy decision latency (design.md section 10): `opa bench` of the generated Rego, wrapped
// and queried exactly as Authorino does (`allow = object.get(data.authorino.authz["<uid>"],
// "allow", null)`, Rego v0 parsing with `import rego.v1`), for the seeds' servers and for a fetch
// server with 1,000 allowlisted hosts. Prints figures; asserts nothing.
//
//   npx ts-node --transpile-only bench/opa.ts        (BENCH_COUNT=3 for the best of three runs)
import { generateToolPolicyRego } from "../components/gateway/rego";
import type { McpServerConfig } from "../config/schema";
import { authorinoInput, evaluateBatch, findOpa, opaBench, TEST_UID, wrapLikeAuthorino } from "../test/support/opa";
import { rpcBody, seedServer, serverWith, toolCall } from "../test/gateway/fixtures";

const AUTHORINO_QUERY = `allow = object.get(data.authorino.authz["${TEST_UID}"], "allow", null)`;
const COUNT = Number(process.env.BENCH_COUNT ?? 1);

interface BenchCase {
    readonly label: string;
    readonly input: Record<string, unknown>;
}

interface BenchPolicy {
    readonly title: string;
    readonly server: McpServerConfig;
    /** Design target in microseconds per decision. */
    readonly targetMicros: number;
    readonly cases: readonly BenchCase[];
}

function manyHosts(count: number): McpServerConfig {
    const allow = Array.from({ length: count }, (_, i) => `https://host${String(i).padStart(4, "0")}.example.com${i % 3 === 0 ? "/api" : ""}`);
    return serverWith("fetch-1k", { fetch_url: { arguments: { url: { type: "url", allow } } } }, { prefix: "fetch_" });
}

const policies: readonly BenchPolicy[] = [
    {
        title: "seed fetch",
        server: seedServer("fetch"),
        targetMicros: 50,
        cases: [
            { label: "tools/call fetch_url httpbin.org (allowed)", input: toolCall("fetch_url", { url: "https://httpbin.org/get" }, { "x-mcp-toolname": "fetch_url", "x-mcp-method": "tools/call" }) },
            { label: "tools/call fetch_url malicious.com (denied)", input: toolCall("fetch_url", { url: "https://malicious.com" }) },
            { label: "tools/call with a duplicate key (denied)", input: authorinoInput({ method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://evil.com","url":"https://httpbin.org/get"}}}' }) },
            { label: "tools/list (allowed)", input: authorinoInput({ method: "POST", body: rpcBody("tools/list") }) },
            { label: "GET event stream (allowed)", input: authorinoInput({ method: "GET" }) },
        ],
    },
    {
        title: "seed currency",
        server: seedServer("currency"),
        targetMicros: 50,
        cases: [
            { label: "get_exchange_rate USD->EUR (allowed)", input: toolCall("get_exchange_rate", { currency_from: "USD", currency_to: "EUR" }) },
            { label: "get_exchange_rate USD->BTC (denied)", input: toolCall("get_exchange_rate", { currency_from: "USD", currency_to: "BTC" }) },
        ],
    },
    {
        title: "fetch, 1,000 hosts",
        server: manyHosts(1000),
        targetMicros: 100,
        cases: [
            { label: "host #500 of 1,000 (allowed)", input: toolCall("fetch_url", { url: "https://host0500.example.com/x" }) },
            { label: "host #999 under its path prefix (allowed)", input: toolCall("fetch_url", { url: "https://host0999.example.com/api/v1" }) },
            { label: "host not listed (denied)", input: toolCall("fetch_url", { url: "https://host1000.example.com/" }) },
        ],
    },
];

function pad(text: string, width: number): string {
    return text.length >= width ? text : `${text}${" ".repeat(width - text.length)}`;
}

function main(): void {
    const opa = findOpa();
    console.log(`opa bench via ${opa}, Authorino's query: ${AUTHORINO_QUERY}, --v0-compatible, best of ${COUNT}`);

    // The cost of `opa bench` itself (input conversion, query set-up) with a one-line policy.
    const floor = opaBench(wrapLikeAuthorino("import rego.v1\nallow if input.request.method == \"GET\"\n"), authorinoInput({ method: "GET" }), AUTHORINO_QUERY, { count: COUNT });
    console.log(`floor (one-rule policy, same input shape): ${(floor / 1000).toFixed(1)} µs/decision\n`);

    console.log(`${pad("policy", 20)}${pad("request", 48)}${pad("verdict", 12)}${pad("ns/decision", 13)}${pad("µs", 8)}target`);
    for (const policy of policies) {
        const rego = generateToolPolicyRego(policy.server);
        const verdicts = evaluateBatch(rego, Object.fromEntries(policy.cases.map((benchCase, index) => [`c${index}`, benchCase.input])));
        const wrapped = wrapLikeAuthorino(rego);
        policy.cases.forEach((benchCase, index) => {
            const verdict = verdicts.get(`c${index}`);
            const ns = opaBench(wrapped, benchCase.input, AUTHORINO_QUERY, { count: COUNT });
            const micros = ns / 1000;
            const mark = micros < policy.targetMicros ? "met" : "missed";
            console.log(
                `${pad(policy.title, 20)}${pad(benchCase.label, 48)}${pad(verdict?.outcome ?? "?", 12)}${pad(ns.toFixed(0), 13)}${pad(micros.toFixed(1), 8)}< ${policy.targetMicros} µs ${mark}`,
            );
        });
    }
    console.log(`\nRego size: seed fetch ${generateToolPolicyRego(seedServer("fetch")).length} B, 1,000 hosts ${generateToolPolicyRego(manyHosts(1000)).length} B`);
}

main();
