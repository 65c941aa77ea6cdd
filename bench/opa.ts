// Tool-policy decision latency (design.md section 10): `opa bench` of the generated Rego, wrapped
// and queried exactly as Authorino does (`allow = object.get(data.authorino.authz["<uid>"],
// "allow", null)`, Rego v0 parsing with `import rego.v1`), for the seeds' servers and for a fetch
// server with 1,000 allowlisted hosts, and, in the same run and measured the same way, the seeds'
// original Rego (../shared/seeds: the fetch and currency examples). Two figures per line: `op` is
// opa bench's wall time per decision (input conversion included, as in Authorino), `eval` the
// median of OPA's query-evaluation timer (less sensitive to a busy machine). Prints figures;
// asserts nothing.
//
//   npx ts-node --transpile-only bench/opa.ts        (BENCH_COUNT=3 for the best of three runs)
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateToolPolicyRego } from "../components/gateway/rego";
import type { McpServerConfig } from "../config/schema";
import { authorinoInput, evaluateBatch, findOpa, opaBench, TEST_UID, wrapLikeAuthorino } from "../test/support/opa";
import { rpcBody, seedServer, serverWith, toolCall } from "../test/gateway/fixtures";
import { elicitationResponse, hairpinInitialize, routedToolCall } from "../test/gateway/router";

// The seeds' Rego as Authorino would have to run it. Adapted only where it could not run at all:
// Authorino hands over the body as a string (upstream-apis 3.4), so it is parsed once; v1 keywords;
// the fetch example's approved_url function is written out in the rule, because a function in the
// module fails Authorino's object.get query type check ("rego_type_error: object.get: invalid
// argument(s)"), and its deny set gets the allow rule Authorino reads. Its checks are the
// seeds': string prefixes, a crypto deny list.
const SEED_FETCH_REGO = `import rego.v1

body := json.unmarshal(input.context.request.http.body)

deny contains msg if {
	body.method == "tools/call"
	body.params.name == "fetch_url"
	url := body.params.arguments.url
	not startswith(url, "https://api.weather.gov")
	not startswith(url, "https://httpbin.org")
	msg := "URL not in approved list"
}

allow if count(deny) == 0
`;

const SEED_CURRENCY_REGO = `import rego.v1

blocked_currencies := ["BTC", "ETH", "DOGE", "XRP", "SOL"]

deny if {
	json.unmarshal(input.context.request.http.body).params.arguments.currency_to in blocked_currencies
}

allow if { not deny }
`;

const AUTHORINO_QUERY = `allow = object.get(data.authorino.authz["${TEST_UID}"], "allow", null)`;
const COUNT = Number(process.env.BENCH_COUNT ?? 1);

interface BenchCase {
    readonly label: string;
    readonly input: Record<string, unknown>;
}

interface BenchPolicy {
    readonly title: string;
    readonly server: McpServerConfig;
    /** The Rego to measure; the generated one for the server when absent. */
    readonly rego?: string;
    /** Design target in microseconds per decision. */
    readonly targetMicros: number;
    readonly cases: readonly BenchCase[];
}

function manyHosts(count: number): McpServerConfig {
    const allow = Array.from({ length: count }, (_, i) => `https://host${String(i).padStart(4, "0")}.example.com${i % 3 === 0 ? "/api" : ""}`);
    return serverWith("fetch-1k", { fetch_url: { arguments: { url: { type: "url", allow } } } }, { prefix: "fetch_" });
}

const fetchServer = seedServer("fetch");
const currencyServer = seedServer("currency");
const routedFetch = routedToolCall(fetchServer, "fetch_url", { url: "https://httpbin.org/get" });
const routedFetchDenied = routedToolCall(fetchServer, "fetch_url", { url: "https://malicious.com" });
const routedRate = routedToolCall(currencyServer, "get_exchange_rate", { currency_from: "USD", currency_to: "EUR" });
const routedRateDenied = routedToolCall(currencyServer, "get_exchange_rate", { currency_from: "USD", currency_to: "BTC" });

const policies: readonly BenchPolicy[] = [
    {
        title: "seed fetch",
        server: fetchServer,
        targetMicros: 50,
        cases: [
            { label: "routed tools/call httpbin.org (allowed)", input: routedFetch },
            { label: "routed tools/call malicious.com (denied)", input: routedFetchDenied },
            { label: "router's initialize for fetch_url (allowed)", input: hairpinInitialize(fetchServer, "fetch_url") },
            { label: "elicitation response (allowed)", input: elicitationResponse(fetchServer, { action: "accept", content: { x: 1 } }) },
            { label: "tools/call fetch_url httpbin.org (allowed)", input: toolCall("fetch_url", { url: "https://httpbin.org/get" }, { "x-mcp-toolname": "fetch_url", "x-mcp-method": "tools/call" }) },
            { label: "tools/call fetch_url malicious.com (denied)", input: toolCall("fetch_url", { url: "https://malicious.com" }) },
            { label: "tools/call with a duplicate key (denied)", input: authorinoInput({ method: "POST", body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://evil.com","url":"https://httpbin.org/get"}}}' }) },
            { label: "tools/list (allowed)", input: authorinoInput({ method: "POST", body: rpcBody("tools/list") }) },
            { label: "GET event stream (allowed)", input: authorinoInput({ method: "GET" }) },
        ],
    },
    {
        title: "seed currency",
        server: currencyServer,
        targetMicros: 50,
        cases: [
            { label: "routed get_exchange_rate USD->EUR (allowed)", input: routedRate },
            { label: "routed get_exchange_rate USD->BTC (denied)", input: routedRateDenied },
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
    {
        title: "seeds' Rego: fetch",
        server: fetchServer,
        rego: SEED_FETCH_REGO,
        targetMicros: 50,
        cases: [
            { label: "routed tools/call httpbin.org (allowed)", input: routedFetch },
            { label: "routed tools/call malicious.com (denied)", input: routedFetchDenied },
            { label: "tools/list (allowed)", input: authorinoInput({ method: "POST", body: rpcBody("tools/list") }) },
            { label: "GET event stream (no deny: allowed)", input: authorinoInput({ method: "GET" }) },
        ],
    },
    {
        title: "seeds' Rego: currency",
        server: currencyServer,
        rego: SEED_CURRENCY_REGO,
        targetMicros: 50,
        cases: [
            { label: "routed get_exchange_rate USD->EUR (allowed)", input: routedRate },
            { label: "routed get_exchange_rate USD->BTC (denied)", input: routedRateDenied },
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
    console.log(`floor (one-rule policy, same input shape): op ${(floor.nsPerOp / 1000).toFixed(1)} µs, eval ${(floor.evalMedianNs / 1000).toFixed(1)} µs\n`);

    console.log(`${pad("policy", 24)}${pad("request", 50)}${pad("verdict", 10)}${pad("op µs", 9)}${pad("eval µs", 9)}target (op)`);
    for (const policy of policies) {
        const rego = policy.rego ?? generateToolPolicyRego(policy.server);
        const wrapped = wrapLikeAuthorino(rego);
        // The generated policies' verdicts come from the test harness; the seeds' text has none of
        // its rules, so its verdict is read off opa eval below.
        const verdicts = policy.rego === undefined ? evaluateBatch(rego, Object.fromEntries(policy.cases.map((benchCase, index) => [`c${index}`, benchCase.input]))) : undefined;
        policy.cases.forEach((benchCase, index) => {
            const verdict = verdicts ? (verdicts.get(`c${index}`)?.outcome ?? "?") : seedVerdict(wrapped, benchCase.input);
            const figures = opaBench(wrapped, benchCase.input, AUTHORINO_QUERY, { count: COUNT });
            const micros = figures.nsPerOp / 1000;
            const mark = micros < policy.targetMicros ? "met" : "missed";
            console.log(
                `${pad(policy.title, 24)}${pad(benchCase.label, 50)}${pad(verdict, 10)}${pad(micros.toFixed(1), 9)}${pad((figures.evalMedianNs / 1000).toFixed(1), 9)}< ${policy.targetMicros} µs ${mark}`,
            );
        });
    }
    console.log(`\nRego size: seed fetch ${generateToolPolicyRego(fetchServer).length} B, 1,000 hosts ${generateToolPolicyRego(manyHosts(1000)).length} B`);
}

/** allow/deny of the seeds' Rego for one input, through the real opa and Authorino's query. */
function seedVerdict(wrapped: string, input: unknown): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-seed-"));
    try {
        fs.writeFileSync(path.join(dir, "p.rego"), wrapped);
        fs.writeFileSync(path.join(dir, "i.json"), JSON.stringify(input));
        const run = spawnSync(findOpa(), ["eval", "--v0-compatible", "-f", "raw", "-d", path.join(dir, "p.rego"), "-i", path.join(dir, "i.json"), `object.get(data.authorino.authz["${TEST_UID}"], "allow", null)`], { encoding: "utf8" });
        return run.stdout.trim() === "true" ? "allow" : "deny";
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main();
