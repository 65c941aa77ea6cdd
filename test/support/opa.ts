// The real `opa` binary, driven the way Authorino drives it (Kuadrant/authorino
// pkg/evaluators/authorization/opa.go, v0.27.0): the same clean-up of the text, the same wrapper,
// the same query (`allow = object.get(data.authorino.authz["<uid>"], "allow", null)`, which
// evaluates the module's whole virtual document), and a grant only for a boolean `true`.
//
// Speed: `opa eval` costs ~100 ms to start, so cases are evaluated in batches, one process for a
// whole table: a second module (`harness`) maps every case through the policy with
// `with input as`, and returns, besides the verdict, the policy's intermediate rules (`_req`,
// `_rpc`, `_call`), so a test can tell WHY a request was denied (a denial for the wrong reason is a
// test passing by accident).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const OPA_VERSION = "1.22.2";
/** The uid Authorino derives from the AuthConfig; any string does for the tests. */
export const TEST_UID = "x";

let cachedBinary: string | undefined;

function versionOf(binary: string): string | undefined {
    const run = spawnSync(binary, ["version"], { encoding: "utf8" });
    if (run.status !== 0) return undefined;
    return /^Version:\s*(\S+)/m.exec(run.stdout)?.[1];
}

/**
 * `OPA_BIN`, then `opa` on PATH, then `$(go env GOPATH)/bin/opa`. Missing is an error, never a skip:
 * a policy suite that silently does not run is worse than a red one.
 */
export function findOpa(): string {
    if (cachedBinary !== undefined) return cachedBinary;
    const candidates: string[] = [];
    if (process.env.OPA_BIN) candidates.push(process.env.OPA_BIN);
    candidates.push("opa");
    try {
        const gopath = execFileSync("go", ["env", "GOPATH"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        if (gopath) candidates.push(path.join(gopath, "bin", "opa"));
    } catch {
        // no Go toolchain: PATH and OPA_BIN are the only places left
    }
    for (const candidate of candidates) {
        const version = versionOf(candidate);
        if (version !== undefined) {
            if (version !== OPA_VERSION) {
                process.stderr.write(`test/support/opa: using opa ${version} at ${candidate}; the pinned version is ${OPA_VERSION}\n`);
            }
            cachedBinary = candidate;
            return candidate;
        }
    }
    throw new Error(
        `the opa binary was not found (looked at: ${candidates.join(", ")}). Install the pinned version with ` +
            "`bash scripts/install-opa.sh` (or point OPA_BIN at an opa binary); the tool-policy tests need the real OPA.",
    );
}

/** What Authorino's `cleanUpRegoDocument` does to the text, followed by its `policyTemplate`. */
export function wrapLikeAuthorino(rego: string, uid: string = TEST_UID): string {
    const cleaned = rego.replace(/(\s)*package.*[;\n]+/g, "");
    return `package authorino.authz["${uid}"]\ndefault allow = false\n${cleaned}`;
}

export interface OpaCheckResult {
    readonly ok: boolean;
    readonly output: string;
}

function withTempDir<T>(use: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-opa-"));
    try {
        return use(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * `opa check` of one module: `--v0-compatible` is how Kuadrant v1.5.2's Authorino parses. Strict
 * by default (unused variables and imports, shadowed or deprecated built-ins are errors), which
 * Authorino does not demand but which keeps the generated text clean.
 */
export function opaCheck(text: string, options: { readonly v0Compatible: boolean; readonly strict?: boolean }): OpaCheckResult {
    const opa = findOpa();
    return withTempDir((dir) => {
        const file = path.join(dir, "policy.rego");
        fs.writeFileSync(file, text);
        const args = ["check", `--strict=${options.strict ?? true}`, ...(options.v0Compatible ? ["--v0-compatible"] : []), file];
        const run = spawnSync(opa, args, { encoding: "utf8" });
        return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
    });
}

// ---------------------------------------------------------------------------------------------
// Authorino's authorization JSON
// ---------------------------------------------------------------------------------------------

export interface HttpRequest {
    readonly method: string;
    /** The body text as Envoy forwards it; "" or undefined for none (Authorino then omits it). */
    readonly body?: string;
    /** Extra or overriding headers (lower-case names). */
    readonly headers?: Readonly<Record<string, string>>;
    readonly host?: string;
    readonly path?: string;
}

/** Which views of the request the JSON carries: Authorino fills both; the fallback cases use one. */
export type AttributeViews = "both" | "well-known" | "context";

/**
 * The authorization JSON Authorino hands to OPA for an Istio ext-authz CheckRequest with the body
 * (pkg/service/auth_pipeline.go `authorizationJSON`: the deprecated Envoy `context` plus the
 * well-known attributes). Envoy sends header names lower-case and adds
 * `x-envoy-auth-partial-body` when it forwards the body.
 */
export function authorinoInput(request: HttpRequest, views: AttributeViews = "both"): Record<string, unknown> {
    const host = request.host ?? "fetch-mcp.mcp.local";
    const urlPath = request.path ?? "/mcp";
    const headers: Record<string, string> = {
        ":authority": host,
        ":method": request.method,
        ":path": urlPath,
        "content-type": "application/json",
        "x-envoy-auth-partial-body": "false",
        ...request.headers,
    };
    const body = request.body ?? "";
    const withBody = <T extends object>(attributes: T): T & { body?: string } => (body === "" ? attributes : { ...attributes, body });
    const wellKnown = withBody({ host, method: request.method, path: urlPath, url_path: urlPath, scheme: "http", protocol: "HTTP/1.1", headers });
    const context = { request: { http: withBody({ id: "1", method: request.method, headers, path: urlPath, host, scheme: "http", protocol: "HTTP/1.1" }) } };
    const source = { address: "10.0.0.7", port: 40000 };
    return {
        ...(views === "context" ? {} : { request: wellKnown }),
        ...(views === "well-known" ? {} : { context: { ...context, source: { address: { socketAddress: { address: "10.0.0.7", portValue: 40000 } } } } }),
        source,
        destination: { address: "10.0.0.8", port: 8080 },
        auth: { identity: { anonymous: true } },
    };
}

// ---------------------------------------------------------------------------------------------
// Batched evaluation
// ---------------------------------------------------------------------------------------------

/**
 * Why a request was denied, read off the policy's rules (`_req`, `_rpc`, `_call`, `_policy` in
 * components/gateway/rego.ts) and the request itself:
 * - `request`: method/body/headers missing or malformed, or the well-known and deprecated views
 *   disagree, or a raw_body is present;
 * - `http-method`: neither POST nor GET/DELETE;
 * - `bodyless`: GET/DELETE with a body (or with a tool-name header, which only a tool call has);
 * - `partial-body`: Envoy says it cut the body;
 * - `json-rpc`: the POST body is not exactly one acceptable JSON-RPC 2.0 message;
 * - `rpc-method`: the JSON-RPC method is not allowed;
 * - `response`: a JSON-RPC response that is not an allowed elicitation response;
 * - `tool`: tools/call of a name that is no listed tool;
 * - `params`: tools/call with malformed params (extra members, arguments not an object, ...);
 * - `arguments`: a listed tool whose argument rules do not all hold;
 * - `toolname-header` / `method-header` / `name-header`: x-mcp-toolname, x-mcp-method or
 *   mcp-method, or mcp-name disagrees with the body (or a tool name header where none belongs);
 * - `hairpin`: an initialize or notifications/initialized with x-mcp-toolname that is not the
 *   router's session set-up for this server (wrong or missing x-mcp-servername, x-mcp-method,
 *   an unlisted tool, or a 2026-07-28 header).
 */
export type DenyReason =
    | "request"
    | "http-method"
    | "bodyless"
    | "partial-body"
    | "json-rpc"
    | "rpc-method"
    | "response"
    | "tool"
    | "params"
    | "arguments"
    | "toolname-header"
    | "method-header"
    | "name-header"
    | "hairpin";

export type Outcome = "allow" | DenyReason;

export interface Verdict {
    /** Strictly what Authorino grants on: the `allow` binding is the boolean true. */
    readonly allowed: boolean;
    /** The raw `allow` value (false, true, or anything a broken policy might produce). */
    readonly allow: unknown;
    readonly outcome: Outcome;
}

// The policy document is read with exactly Authorino's expression, so the harness module also
// proves that Authorino's query type-checks against the policy (it does not once the module has a
// function, see rego.ts).
const HARNESS = `package harness

import rego.v1

results[id] := verdict if {
	some id, request in input.cases
	verdict := _verdict with input as request
}

_verdict := {
	"allow": object.get(data.authorino.authz["${TEST_UID}"], "allow", null),
	"req": object.get(data.authorino.authz["${TEST_UID}"], "_req", null),
	"rpc": object.get(data.authorino.authz["${TEST_UID}"], "_rpc", null),
	"call": object.get(data.authorino.authz["${TEST_UID}"], "_call", null),
}

policy := object.get(data.authorino.authz["${TEST_UID}"], "_policy", null)
`;

interface PolicyData {
    readonly methods: readonly string[];
    readonly router: string | null;
    readonly responses: boolean;
    readonly tools: Readonly<Record<string, { readonly upstream: string }>>;
}

interface RawVerdict {
    readonly allow: unknown;
    readonly req: { readonly method: string; readonly body: string; readonly headers: Readonly<Record<string, string>> } | null;
    readonly rpc: { readonly method?: string; readonly params?: Record<string, unknown>; readonly result?: unknown } | null;
    readonly call: { readonly name: string } | null;
}

const has = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

function explain(raw: RawVerdict, policy: PolicyData): Outcome {
    if (raw.allow === true) return "allow";
    const req = raw.req;
    if (req === null) return "request";
    if (req.method === "GET" || req.method === "DELETE") return "bodyless";
    if (req.method !== "POST") return "http-method";
    if (String(req.headers["x-envoy-auth-partial-body"] ?? "false").toLowerCase() === "true") return "partial-body";
    const rpc = raw.rpc;
    if (rpc === null) return "json-rpc";
    if (rpc.method === undefined) return "response";
    const method = rpc.method;
    const header = (name: string): string | undefined => req.headers[name];
    const methodHeadersAgree = [header("x-mcp-method"), header("mcp-method")].every((value) => value === undefined || value === method);
    if (method !== "tools/call") {
        const allowedMethod = policy.methods.includes(method) || method.startsWith("notifications/");
        if (!allowedMethod) return "rpc-method";
        if (header("x-mcp-toolname") !== undefined && (method === "initialize" || method === "notifications/initialized")) return "hairpin";
        if (!methodHeadersAgree) return "method-header";
        if (header("x-mcp-toolname") !== undefined) return "toolname-header";
        if (header("mcp-name") !== undefined) return "name-header";
        throw new Error(`policy denied an allowed method with consistent headers: ${JSON.stringify(raw)}`);
    }
    if (!methodHeadersAgree) return "method-header";
    if (raw.call === null) {
        const name = rpc.params?.name;
        if (typeof name !== "string") return "params";
        if (!has(policy.tools, name)) return "tool";
        return "params";
    }
    const spec = policy.tools[raw.call.name];
    if (spec === undefined) throw new Error(`_call names an unlisted tool: ${JSON.stringify(raw.call)}`);
    if (header("x-mcp-toolname") !== undefined && header("x-mcp-toolname") !== spec.upstream) return "toolname-header";
    if (header("mcp-name") !== undefined && header("mcp-name") !== raw.call.name) return "name-header";
    return "arguments";
}

export interface EvaluateOptions {
    /** Parse as Kuadrant v1.5.2's Authorino does (v0 + `import rego.v1`); false parses as Rego v1. */
    readonly v0Compatible?: boolean;
}

/**
 * Evaluates many Authorino inputs against one generated policy in a single `opa eval`. Returns the
 * verdict per case id. An evaluation error (which Authorino would turn into a denial) fails loudly:
 * the policy must never error.
 */
export function evaluateBatch(rego: string, cases: Readonly<Record<string, unknown>>, options: EvaluateOptions = {}): Map<string, Verdict> {
    const opa = findOpa();
    return withTempDir((dir) => {
        const policyFile = path.join(dir, "policy.rego");
        const harnessFile = path.join(dir, "harness.rego");
        const inputFile = path.join(dir, "input.json");
        fs.writeFileSync(policyFile, wrapLikeAuthorino(rego));
        fs.writeFileSync(harnessFile, HARNESS);
        fs.writeFileSync(inputFile, JSON.stringify({ cases }));
        const args = ["eval", "--format", "json", ...(options.v0Compatible === false ? [] : ["--v0-compatible"]), "-d", policyFile, "-d", harnessFile, "-i", inputFile, "data.harness"];
        const run = spawnSync(opa, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
        if (run.status !== 0) throw new Error(`opa eval failed (${run.status}): ${run.stderr}${run.stdout}`);
        const parsed = JSON.parse(run.stdout) as {
            result?: { expressions?: { value?: { results?: Record<string, RawVerdict>; policy?: PolicyData } }[] }[];
        };
        const value = parsed.result?.[0]?.expressions?.[0]?.value;
        const results = value?.results ?? {};
        const policy = value?.policy;
        if (!policy) throw new Error(`the policy has no _policy document: ${run.stdout.slice(0, 500)}`);
        const verdicts = new Map<string, Verdict>();
        for (const id of Object.keys(cases)) {
            const raw = results[id];
            if (raw === undefined) throw new Error(`opa returned no verdict for case ${id}`);
            verdicts.set(id, { allowed: raw.allow === true, allow: raw.allow, outcome: explain(raw, policy) });
        }
        return verdicts;
    });
}

export interface BenchFigures {
    /** Wall time per decision as `opa bench` reports it (T/N): input conversion included. */
    readonly nsPerOp: number;
    /** Median of OPA's own query-evaluation timer over the iterations: less noise from the rest. */
    readonly evalMedianNs: number;
}

/** `opa bench` of one query; used by bench/opa.ts. With `count` > 1 the run with the lowest median is kept. */
export function opaBench(wrapped: string, input: unknown, query: string, options: { readonly v0Compatible?: boolean; readonly count?: number } = {}): BenchFigures {
    const opa = findOpa();
    return withTempDir((dir) => {
        const policyFile = path.join(dir, "policy.rego");
        const inputFile = path.join(dir, "input.json");
        fs.writeFileSync(policyFile, wrapped);
        fs.writeFileSync(inputFile, JSON.stringify(input));
        const args = [
            "bench",
            "--format",
            "json",
            "--count",
            String(options.count ?? 1),
            ...(options.v0Compatible === false ? [] : ["--v0-compatible"]),
            "-d",
            policyFile,
            "-i",
            inputFile,
            query,
        ];
        const run = spawnSync(opa, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        if (run.status !== 0) throw new Error(`opa bench failed (${run.status}): ${run.stderr}${run.stdout}`);
        return benchFigures(run.stdout);
    });
}

function benchFigures(output: string): BenchFigures {
    // `--count N` prints N JSON documents one after the other.
    const figures: BenchFigures[] = [];
    const decoder = /\{[\s\S]*?\n\}/g;
    for (const match of output.match(decoder) ?? []) {
        const document = JSON.parse(match) as { N?: number; T?: number; Extra?: Record<string, number> };
        const median = document.Extra?.["histogram_timer_rego_query_eval_ns_median"];
        if (typeof document.N === "number" && typeof document.T === "number" && document.N > 0 && typeof median === "number") {
            figures.push({ nsPerOp: document.T / document.N, evalMedianNs: median });
        }
    }
    if (figures.length === 0) throw new Error(`no benchmark figure in opa bench output: ${output.slice(0, 500)}`);
    return figures.reduce((best, figure) => (figure.evalMedianNs < best.evalMedianNs ? figure : best));
}

/**
 * Rules of the module that take arguments (functions), from `opa parse`. Authorino's
 * `object.get(data.authorino.authz["<uid>"], "allow", null)` does not type-check against a module
 * with a function (OPA types the module's document with the function in it), so there must be none.
 */
export function functionsOf(text: string, options: { readonly v0Compatible: boolean } = { v0Compatible: true }): string[] {
    const opa = findOpa();
    return withTempDir((dir) => {
        const file = path.join(dir, "policy.rego");
        fs.writeFileSync(file, text);
        const run = spawnSync(opa, ["parse", "--format", "json", ...(options.v0Compatible ? ["--v0-compatible"] : []), file], {
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (run.status !== 0) throw new Error(`opa parse failed: ${run.stderr}${run.stdout}`);
        const module = JSON.parse(run.stdout) as { rules?: { head?: { name?: string; ref?: { value?: unknown }[]; args?: unknown[] } }[] };
        return (module.rules ?? [])
            .filter((rule) => (rule.head?.args?.length ?? 0) > 0)
            .map((rule) => rule.head?.name ?? JSON.stringify(rule.head?.ref?.map((part) => part.value)));
    });
}
