// The tool policy's Rego (design.md section 7): one module per MCP server, generated from the typed
// config, evaluated by Authorino for every request that reaches the MCP gateway through Istio's
// ext-authz (with the request body). Pure: no Pulumi, no I/O, no clock; the same config gives the
// same bytes, so a preview diff moves only when the config does.
//
// Shape of the output: a fixed, hand-written decision procedure interpreting one generated,
// sorted constant (`_policy`: methods, the router's name for the server, tools and their argument
// rules). The procedure is the same for every server except that it carries only the
// argument-rule comprehensions the server's tools use, so the tests exercise one piece of logic
// against many configs.
//
// What the policy sees, settled from the upstream source (Kuadrant/mcp-gateway v0.9.0, Istio
// 1.30.3; docs/tool-policy.md has the whole account):
//   - The mcp-gateway controller inserts the MCP router's ext_proc filter first on the gateway
//     listener (internal/controller/mcpgatewayextension_controller.go, buildEnvoyFilter:
//     INSERT_FIRST, request body BUFFERED), ahead of Istio's CUSTOM ext_authz
//     (pilot/pkg/networking/core/listener_builder.go). Envoy holds the headers until the router
//     has answered the body phase, so ext_authz sees the request once, as the router rewrote it:
//     `:authority` the server's host, the router's x-mcp-* headers, and for tools/call the body
//     re-serialised by Go's encoding/json (envelope id, jsonrpc, method, params; map keys sorted;
//     `&` `<` `>` as \u0026 \u003c \u003e; numbers through float64) with the bare tool name
//     (internal/routing/router_202511.go routeToolCall, mcp_request.go ToBytes).
//   - Before the first call of a session to a server, the router sends its own initialize and
//     notifications/initialized through the gateway to that server's host, carrying
//     x-mcp-servername and the pending call's x-mcp-toolname (router_202511.go
//     initializeMCPServerSession, internal/clients/clients.go). The policy allows exactly those.
//   - The 2026-07-28 protocol (internal/routing/router_202607.go) routes by the mcp-method and
//     mcp-name headers, has no session set-up, and rewrites mcp-name to the bare name.
//   - Clients' elicitation responses go to the server's host (routeElicitationResponse).
//
// Three facts about how Authorino runs the text decide much of its form
// (Kuadrant/authorino pkg/evaluators/authorization/opa.go, v0.27.0):
//   - `cleanUpRegoDocument` deletes every match of `(\s)*package.*[;\n]+` anywhere in the text,
//     not only a leading module declaration. A comment, a string or a config value containing that
//     word would be cut out (and the policy would fail to compile, or worse, compile differently).
//     The generator writes config strings with a `\u0070` escape for that letter and refuses to
//     return text that still contains the word.
//   - the query is `allow = object.get(data.authorino.authz["<uid>"], "allow", null)`: it
//     evaluates the module's whole virtual document, i.e. every rule, for every request, at a few
//     microseconds per rule. So the text has five rules, each allow clause opens with the test
//     that tells methods apart, and there is no diagnostic rule (`deny_reason`): that would cost on
//     every request, and Authorino shows nothing but "Unauthorized" on a denial anyway (the tests
//     explain verdicts from the outside, see test/support/opa.ts).
//   - the same query is type-checked against the module's document, and OPA types a function in
//     it as a function, which `object.get` refuses ("rego_type_error: object.get: invalid
//     argument(s)"; it appears to slip through only when some other rule's type is unknown, see
//     `unifies`/`causedByNilType` in OPA's v1/ast/check.go). So the text defines no function;
//     disjunctions are separate rule clauses or unions of comprehensions.
import type { ArgumentRule, McpServerConfig, ToolSpec } from "../../config/schema";
import { urlAllowProblem } from "../../config/schema";
import { ISO_4217_CODES } from "./iso4217";
import { mcpServerName, toolPrefix } from "./manifests";

/** JSON-RPC methods every server gets besides `tools/call` and `notifications/*`. */
export const ALWAYS_ALLOWED_METHODS: readonly string[] = Object.freeze(["initialize", "ping", "tools/list"]);
export const NOTIFICATION_PREFIX = "notifications/";
/** HTTP methods of the streamable HTTP transport that carry no JSON-RPC message. */
export const BODYLESS_HTTP_METHODS: readonly string[] = Object.freeze(["DELETE", "GET"]);

// Regular expressions of the policy, Go RE2 syntax. They live here rather than in the Rego text
// so that the text carries them as plain JSON-escaped strings (no raw-string quoting to get wrong).

/**
 * A URL argument, all of it: `https` (any case), `://`, a DNS-shaped host, an optional port of 1-5
 * digits without a leading zero, a path, a query. Path and query use RFC 3986 unreserved
 * characters, sub-delims, `:`, `/`, `?` (query only) and well-formed percent escapes. Nothing else
 * matches, on purpose: `@` (userinfo, anywhere: parsers disagree on where an authority ends), `#`
 * (a fragment is never sent, so it can only hide things), `\` (WHATWG reads it as `/`), `[` `]`
 * (IPv6 literals), whitespace, control and non-ASCII characters; and `https:host`, `https:/host`,
 * `https:///host`, an empty host, an empty port or `:0443`. Groups: host, port, path.
 */
export const URL_SHAPE = String.raw`^(?i:https)://([A-Za-z0-9.-]+)(?::([1-9][0-9]{0,4}))?((?:/(?:[A-Za-z0-9._~:!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)*)(?:\?(?:[A-Za-z0-9._~:/?!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)?$`;
/** A `.` or `..` path segment, also percent-encoded, also followed by `;params`. */
export const DOT_SEGMENT = String.raw`(?i)(?:^|/)(?:\.|%2e){1,2}(?:;[^/]*)?(?:/|$)`;
/** `%2F` / `%5C` (encoded `/` and `\`), refused behind a path prefix. */
export const ENCODED_SEPARATOR = String.raw`(?i)%(?:2f|5c)`;
/**
 * A JSON string with the whitespace after it and, in group 1, the colon that follows when the
 * string is an object key.
 */
export const JSON_STRING_AND_COLON = String.raw`"(?:[^"\\]|\\.)*"[\t\n\r ]*(:?)`;
/**
 * A JSON escape that decodes to a colon (`\u003a`, either case of hex digit): the only way a JSON
 * text yields a colon its text does not show (see the duplicate-key check in the Rego).
 */
export const ESCAPED_COLON = String.raw`\\u003[aA]`;
/** A currency argument: three ASCII letters once trimmed, whatever the case. */
export const CURRENCY_SHAPE = String.raw`^[A-Za-z]{3}$`;

// ---------------------------------------------------------------------------------------------
// The policy model: what the generated data section says, as TypeScript
// ---------------------------------------------------------------------------------------------

export interface UrlAllowEntry {
    readonly host: string;
    readonly port: number;
    /** Path prefix without a trailing `/`; "" allows every path. */
    readonly path: string;
}

export type ArgumentModel =
    | { readonly type: "url"; readonly required: boolean; readonly hosts: Readonly<Record<string, readonly UrlAllowEntry[]>> }
    | { readonly type: "enum" | "currency"; readonly required: boolean; readonly values: readonly string[] }
    | { readonly type: "string"; readonly required: boolean; readonly pattern: string; readonly maxLength?: number }
    | { readonly type: "number"; readonly required: boolean; readonly min?: number; readonly max?: number; readonly integer: boolean }
    | { readonly type: "absent"; readonly required: false };

export interface ToolModel {
    readonly allowUnlisted: boolean;
    readonly arguments: Readonly<Record<string, ArgumentModel>>;
    /** Case-folded names of the listed arguments (see `foldArgumentName`). */
    readonly foldedArguments: readonly string[];
}

export interface ToolPolicyModel {
    readonly server: string;
    /** The registration's tool prefix ("" when the gateway registers none). */
    readonly prefix: string;
    readonly extraMethods: readonly string[];
    readonly tools: Readonly<Record<string, ToolModel>>;
}

/** Thrown for a config the policy cannot express faithfully; the message names the server and key. */
export class ToolPolicyError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ToolPolicyError";
    }
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(byCodeUnits);

/**
 * Host, port and path prefix of a URL allow entry. The entry was validated by the config schema
 * (`urlAllowProblem`); it is checked again because this function is also the policy's definition
 * of an entry, and a malformed one must not turn into a broader rule.
 */
export function parseUrlAllowEntry(entry: string): UrlAllowEntry {
    const problem = urlAllowProblem(entry);
    if (problem) throw new ToolPolicyError(problem);
    const url = new URL(entry);
    const port = url.port === "" ? 443 : Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ToolPolicyError(`"${entry}": port must be 1-65535`);
    }
    // A trailing slash names the same segment prefix as none: "/points/" and "/points" both allow
    // "/points/x". "/" alone is no restriction.
    const path = url.pathname.replace(/\/+$/, "");
    return { host: url.hostname, port, path };
}

/**
 * What Go's `encoding/json` treats as the same struct field name: ASCII case-insensitive, plus the
 * two non-ASCII letters whose simple case folding reaches ASCII (U+017F long s, U+212A Kelvin). The
 * Rego computes the same with `lower(replace(name, "\u017f", "s"))` (Go's `strings.ToLower` maps
 * U+212A to "k").
 */
export function foldArgumentName(name: string): string {
    return name.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
}

/**
 * Config values are upper-cased here (JavaScript), request values by Go's strings.ToUpper in the
 * policy. The two agree on ASCII. On the few letters where they differ ("\u00df" becomes "SS" here
 * and stays itself in Go), the config value "\u00df" admits "ss" and not "\u00df": keep enum
 * values ASCII where that matters.
 */
function normaliseEnumValue(value: string): string {
    return value.trim().toUpperCase();
}

function argumentModel(where: string, rule: ArgumentRule): ArgumentModel {
    switch (rule.type) {
        case "url": {
            const byHost = new Map<string, Map<string, UrlAllowEntry>>();
            for (const entry of rule.allow) {
                const parsed = parseUrlAllowEntry(entry);
                const entries = byHost.get(parsed.host) ?? new Map<string, UrlAllowEntry>();
                entries.set(`${parsed.port} ${parsed.path}`, parsed);
                byHost.set(parsed.host, entries);
            }
            const hosts: Record<string, UrlAllowEntry[]> = {};
            for (const host of sortedUnique(byHost.keys())) {
                const entries = byHost.get(host) ?? new Map<string, UrlAllowEntry>();
                hosts[host] = [...entries.values()].sort((a, b) => a.port - b.port || byCodeUnits(a.path, b.path));
            }
            return { type: "url", required: rule.optional !== true, hosts };
        }
        case "enum": {
            const denied = new Set((rule.deny ?? []).map(normaliseEnumValue));
            const values = sortedUnique(rule.allow.map(normaliseEnumValue)).filter((value) => !denied.has(value));
            if (values.length === 0) throw new ToolPolicyError(`${where}: every allowed value is also denied, so the argument could never be given`);
            return { type: "enum", required: rule.optional !== true, values };
        }
        case "currency": {
            const iso = new Set(ISO_4217_CODES);
            const allowed = rule.allow ? rule.allow.map(normaliseEnumValue) : ISO_4217_CODES;
            const notIso = allowed.filter((code) => !iso.has(code));
            if (notIso.length > 0) throw new ToolPolicyError(`${where}: ${notIso.join(", ")} ${notIso.length === 1 ? "is" : "are"} not ISO 4217 code(s)`);
            const denied = new Set((rule.deny ?? []).map(normaliseEnumValue));
            const values = sortedUnique(allowed).filter((code) => !denied.has(code));
            if (values.length === 0) throw new ToolPolicyError(`${where}: every allowed currency is also denied, so the argument could never be given`);
            return { type: "currency", required: rule.optional !== true, values };
        }
        case "string": {
            // Anchored here, not in Rego: RE2 without the m flag matches `$` only at the very end,
            // so "EUR\n" does not pass for "EUR".
            const pattern = `^(?:${rule.pattern})$`;
            return rule.maxLength === undefined
                ? { type: "string", required: rule.optional !== true, pattern }
                : { type: "string", required: rule.optional !== true, pattern, maxLength: rule.maxLength };
        }
        case "number": {
            for (const [key, bound] of [["min", rule.min], ["max", rule.max]] as const) {
                if (bound !== undefined && !Number.isFinite(bound)) throw new ToolPolicyError(`${where}.${key}: must be a finite number`);
            }
            return {
                type: "number",
                required: rule.optional !== true,
                integer: rule.integer === true,
                ...(rule.min === undefined ? {} : { min: rule.min }),
                ...(rule.max === undefined ? {} : { max: rule.max }),
            };
        }
        case "absent":
            return { type: "absent", required: false };
    }
}

function toolModel(where: string, tool: ToolSpec): ToolModel {
    const names = sortedUnique(Object.keys(tool.arguments));
    const folded = new Map<string, string>();
    const args: Record<string, ArgumentModel> = {};
    for (const name of names) {
        const key = foldArgumentName(name);
        const clash = folded.get(key);
        if (clash !== undefined) {
            // An MCP server decoding into a struct could not tell the two apart, so their two rules
            // would guard one value.
            throw new ToolPolicyError(`${where}.arguments: "${clash}" and "${name}" differ only in letter case`);
        }
        folded.set(key, name);
        const rule = tool.arguments[name];
        if (rule !== undefined) args[name] = argumentModel(`${where}.arguments.${name}`, rule);
    }
    return { allowUnlisted: tool.allowUnlistedArguments === true, arguments: args, foldedArguments: sortedUnique(folded.keys()) };
}

/** The data the generated Rego carries for one server: sorted, validated, independent of key order. */
export function toolPolicyModel(server: McpServerConfig): ToolPolicyModel {
    const where = `mcpServers[${server.name}]`;
    const extraMethods = sortedUnique(server.extraMethods);
    if (extraMethods.includes("tools/call")) {
        throw new ToolPolicyError(`${where}.extraMethods: tools/call cannot be allowed wholesale; list the tools and their arguments under tools`);
    }
    const toolNames = sortedUnique(Object.keys(server.tools));
    if (toolNames.length === 0) throw new ToolPolicyError(`${where}.tools: must list at least one tool`);
    const tools: Record<string, ToolModel> = {};
    for (const name of toolNames) {
        const tool = server.tools[name];
        if (tool !== undefined) tools[name] = toolModel(`${where}.tools.${name}`, tool);
    }
    return { server: server.name, prefix: toolPrefix(server), extraMethods, tools };
}

// ---------------------------------------------------------------------------------------------
// Rego literals
// ---------------------------------------------------------------------------------------------

/** A Rego set literal; JSON has none. */
export class RegoSet {
    readonly members: readonly string[];
    constructor(members: Iterable<string>) {
        this.members = sortedUnique(members);
    }
}

export type RegoTerm = string | number | boolean | null | RegoSet | readonly RegoTerm[] | { readonly [key: string]: RegoTerm };

const MODULE_KEYWORD = "package";

/**
 * A Rego string literal: JSON escaping (Rego strings use the same escapes), every non-ASCII
 * character as `\uXXXX` so the text is plain ASCII, and the module keyword spelled with an escape
 * so Authorino's clean-up cannot cut it (see the file comment).
 */
export function regoString(value: string): string {
    const json = JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
    return json.split(MODULE_KEYWORD).join("\\u0070ackage");
}

function regoNumber(value: number): string {
    if (!Number.isFinite(value)) throw new ToolPolicyError(`${value} is not a finite number`);
    return JSON.stringify(value);
}

function isScalar(term: RegoTerm): boolean {
    return term === null || typeof term !== "object";
}

function isInline(term: RegoTerm): boolean {
    if (isScalar(term)) return true;
    if (term instanceof RegoSet) return term.members.length <= 8;
    if (Array.isArray(term)) return (term as readonly RegoTerm[]).every(isInline);
    const values = Object.values(term as { readonly [key: string]: RegoTerm });
    return values.length <= 4 && values.every(isScalar);
}

const SET_MEMBERS_PER_LINE = 12;

/** Deterministic Rego text for a term: object keys and set members sorted, tabs for nesting. */
export function regoLiteral(term: RegoTerm, depth = 0): string {
    if (term === null) return "null";
    if (typeof term === "string") return regoString(term);
    if (typeof term === "number") return regoNumber(term);
    if (typeof term === "boolean") return term ? "true" : "false";
    const inner = "\t".repeat(depth + 1);
    const outer = "\t".repeat(depth);
    if (term instanceof RegoSet) {
        if (term.members.length === 0) return "set()";
        const members = term.members.map(regoString);
        if (members.length <= 8) return `{${members.join(", ")}}`;
        const lines: string[] = [];
        for (let i = 0; i < members.length; i += SET_MEMBERS_PER_LINE) lines.push(`${inner}${members.slice(i, i + SET_MEMBERS_PER_LINE).join(", ")},`);
        return `{\n${lines.join("\n")}\n${outer}}`;
    }
    if (Array.isArray(term)) {
        const items = term as readonly RegoTerm[];
        if (items.length === 0) return "[]";
        if (items.every(isInline)) return `[${items.map((item) => regoLiteral(item, depth)).join(", ")}]`;
        return `[\n${items.map((item) => `${inner}${regoLiteral(item, depth + 1)},`).join("\n")}\n${outer}]`;
    }
    const object = term as { readonly [key: string]: RegoTerm };
    const keys = Object.keys(object).sort(byCodeUnits);
    if (keys.length === 0) return "{}";
    const entries = keys.map((key) => `${regoString(key)}: ${regoLiteral(object[key] ?? null, depth + 1)}`);
    if (isInline(term)) return `{${entries.join(", ")}}`;
    return `{\n${entries.map((entry) => `${inner}${entry},`).join("\n")}\n${outer}}`;
}

/** A rule's payload in the generated data: what its type needs, nothing else. */
function rulePayload(rule: Exclude<ArgumentModel, { type: "absent" }>): RegoTerm {
    switch (rule.type) {
        case "url": {
            const hosts: Record<string, RegoTerm> = {};
            // Ports as strings: the URL pattern only admits canonical digits, so comparing the text
            // is exact and needs no to_number per request.
            for (const [host, entries] of Object.entries(rule.hosts)) hosts[host] = entries.map((entry) => ({ path: entry.path, port: String(entry.port) }));
            return { hosts };
        }
        case "enum":
        case "currency":
            return { values: new RegoSet(rule.values) };
        case "string":
            return { pattern: rule.pattern, ...(rule.maxLength === undefined ? {} : { max_length: rule.maxLength }) };
        case "number":
            return { integer: rule.integer, ...(rule.min === undefined ? {} : { min: rule.min }), ...(rule.max === undefined ? {} : { max: rule.max }) };
    }
}

/**
 * One tool's entry in `_policy.tools`: `upstream` (the name the MCP server knows the tool by, which
 * is what the router writes into x-mcp-toolname), `names` (listed arguments), `required` (names
 * that must be present), `rules` (payloads grouped by rule type, then argument name; an `absent`
 * argument is listed but has no payload, so when present it never passes), `folded` (see
 * foldArgumentName) and `allow_unlisted`.
 */
function toolTerm(upstream: string, tool: ToolModel): RegoTerm {
    const rules: Record<string, Record<string, RegoTerm>> = {};
    const required: string[] = [];
    for (const [arg, rule] of Object.entries(tool.arguments)) {
        if (rule.required) required.push(arg);
        if (rule.type === "absent") continue;
        const byType = rules[rule.type] ?? {};
        byType[arg] = rulePayload(rule);
        rules[rule.type] = byType;
    }
    return {
        allow_unlisted: tool.allowUnlisted,
        folded: new RegoSet(tool.foldedArguments),
        names: new RegoSet(Object.keys(tool.arguments)),
        required: new RegoSet(required),
        rules,
        upstream,
    };
}

/**
 * The `_policy` constant of one server: `methods` (allowed besides tools/call and notifications),
 * `responses` (client responses to the server's elicitation requests are allowed: true here),
 * `router` (the `x-mcp-servername` the MCP router sets on its own session-initialising requests
 * for this server, `<namespace>/<registration>`), `server` (for the reader), `tools` keyed by the
 * server's own tool names, which is how the router's rewritten body names them (see toolTerm).
 */
export function policyTerm(model: ToolPolicyModel): RegoTerm {
    const tools: Record<string, RegoTerm> = {};
    for (const [name, tool] of Object.entries(model.tools)) tools[name] = toolTerm(name, tool);
    return {
        methods: new RegoSet([...ALWAYS_ALLOWED_METHODS, ...model.extraMethods]),
        responses: true,
        router: mcpServerName({ name: model.server }),
        server: model.server,
        tools,
    };
}

// ---------------------------------------------------------------------------------------------
// The gateway's public host
// ---------------------------------------------------------------------------------------------

/** A tool as a client names it at the gateway's public host, and where that name leads. */
export interface GatewayToolModel {
    readonly server: string;
    /** The server's own name for the tool (the router strips the prefix to get it). */
    readonly upstream: string;
    readonly tool: ToolModel;
}

export interface GatewayPolicyModel {
    /** Registration prefix to server name; no prefix is a prefix of another (see gatewayPolicyModel). */
    readonly prefixes: Readonly<Record<string, string>>;
    /** Keyed by the client-facing name `<prefix><tool>`, sorted. */
    readonly tools: Readonly<Record<string, GatewayToolModel>>;
}

/**
 * The data of the policy at the gateway's public host: every server's tools under their
 * client-facing names, each server's rules built by toolPolicyModel (so exactly the rules its own
 * AuthConfig enforces).
 *
 * Prefixes must be prefix-free: when one server's prefix starts another's (`a_` and `a_b_`, or two
 * equal ones), `a_b_x` is both `a_`'s tool `b_x` and `a_b_`'s tool `x`, and which server runs it is
 * the router's choice, not visible here. Requiring every interpretation to pass is not enough: an
 * interpretation naming a tool the config does not list (the router could pick that server, whose
 * real tool this policy has never seen) would have to deny too, and a config with that hazard is
 * better refused at preview than made to deny at run time. So the config is refused, naming both
 * servers. Prefix-free prefixes give every client-facing name at most one server and tool.
 */
export function gatewayPolicyModel(servers: readonly McpServerConfig[]): GatewayPolicyModel {
    if (servers.length === 0) throw new ToolPolicyError("gateway tool policy: needs at least one MCP server");
    const models = [...servers].sort((a, b) => byCodeUnits(a.name, b.name)).map(toolPolicyModel);
    const prefixes: Record<string, string> = {};
    const seen = new Set<string>();
    for (const model of models) {
        if (seen.has(model.server)) throw new ToolPolicyError(`mcpServers[${model.server}]: listed twice`);
        seen.add(model.server);
    }
    for (const [i, a] of models.entries()) {
        for (const b of models.slice(i + 1)) {
            const [shorter, longer] = a.prefix.length <= b.prefix.length ? [a, b] : [b, a];
            if (longer.prefix.startsWith(shorter.prefix)) {
                throw new ToolPolicyError(
                    `mcpServers[${shorter.server}] and mcpServers[${longer.server}]: tool prefix "${shorter.prefix}" ${shorter.prefix === longer.prefix ? "equals" : "starts"} "${longer.prefix}", so a client-facing tool name could belong to either server; give them prefixes where neither starts the other`,
                );
            }
        }
        prefixes[a.prefix] = a.server;
    }
    const byName = new Map<string, GatewayToolModel>();
    for (const model of models) {
        for (const [upstream, tool] of Object.entries(model.tools)) {
            const name = `${model.prefix}${upstream}`;
            // Unreachable with prefix-free prefixes; checked so that a future change to the check
            // above cannot make one server's rules silently replace another's.
            const clash = byName.get(name);
            if (clash !== undefined) throw new ToolPolicyError(`mcpServers[${clash.server}] and mcpServers[${model.server}]: both expose the tool name ${name}`);
            byName.set(name, { server: model.server, upstream, tool });
        }
    }
    const tools: Record<string, GatewayToolModel> = {};
    for (const name of sortedUnique(byName.keys())) {
        const tool = byName.get(name);
        if (tool !== undefined) tools[name] = tool;
    }
    const sortedPrefixes: Record<string, string> = {};
    for (const prefix of sortedUnique(Object.keys(prefixes))) sortedPrefixes[prefix] = prefixes[prefix] ?? "";
    return { prefixes: sortedPrefixes, tools };
}

/**
 * The `_policy` constant at the public host, in the per-server shape so that the same decision
 * procedure reads it: `tools` keyed by client-facing names (nothing is stripped, so a bare
 * `<tool>`, which could be any server's, names nothing), `methods` only the always-allowed ones
 * (why: GATEWAY_HEADER), `router` null and `responses` false: the router sends its
 * session-initialising requests and the clients' elicitation responses to a server's host, never
 * to this one (see the file comment). `servers` (prefix to server) is for the reader; no rule
 * reads it.
 */
export function gatewayPolicyTerm(model: GatewayPolicyModel): RegoTerm {
    const tools: Record<string, RegoTerm> = {};
    for (const [name, entry] of Object.entries(model.tools)) tools[name] = toolTerm(entry.upstream, entry.tool);
    return {
        methods: new RegoSet(ALWAYS_ALLOWED_METHODS),
        responses: false,
        router: null,
        servers: { ...model.prefixes },
        tools,
    };
}

// ---------------------------------------------------------------------------------------------
// The generated text
// ---------------------------------------------------------------------------------------------

const rx = regoString;

const HEADER_COMMON = `# Authorino puts its own module declaration and \`default allow = false\` in front of this text and
# grants a request only when \`allow\` is true. A request is allowed through one of the \`allow\`
# clauses below or not at all; nothing is allowed because a deny rule failed to match.
#
# Authorino's query (object.get on the module's document) evaluates every rule of the module for
# every request and is type-checked against all of them: hence few rules, each clause starting
# with its cheapest discriminating test, and no functions (a function fails that type check unless
# another rule's type happens to be unknown).
`;

const SERVER_HEADER = `import rego.v1

# agent-security tool policy for one MCP server. Generated by components/gateway/rego.ts from the
# stack's mcpServers config; regenerate instead of editing. Contract: design.md section 7.
#
# What reaches this host (Kuadrant/mcp-gateway v0.9.0, Istio 1.30.3): the MCP router's ext_proc
# runs first on the gateway listener with a buffered body, so this check sees the request as the
# router rewrote it: every tools/call the server executes, with the server's own (bare) tool name
# and the router's re-serialised body; the router's own initialize and notifications/initialized
# that open the server session before a session's first call; clients' elicitation responses.
#
${HEADER_COMMON}`;

// The decision procedure below is the per-server one, unchanged; only the data differs. Why this
// AuthConfig exists: Authorino picks an AuthConfig by the request's host, and what the router
// hands to the broker (initialize, tools/list, ping, notifications, the broker's own tools, tools
// no server has) keeps the public host.
const GATEWAY_HEADER = `import rego.v1

# agent-security tool policy for the MCP gateway's public host: requests the MCP router has not
# handed to one MCP server (broker traffic). Generated by components/gateway/rego.ts from the
# stack's mcpServers config; regenerate instead of editing. Contract: design.md section 7.
#
# Same decision procedure as each server's policy, over different data: the tools of every server
# under their client-facing names (<prefix><tool>; the generator refuses prefixes where one starts
# another, so a name belongs to at most one server), each with exactly its server's rules, so a
# bare <tool> names nothing. Methods: only those every server allows. A server's extraMethods are
# not allowed here: at this host the broker or the router decides which server (if any) answers,
# and that choice is not visible in the request, so allowing one server's method would allow it
# towards all of them. No router session set-up and no elicitation responses: the router sends
# those to a server's host.
#
${HEADER_COMMON}`;

const DECISION_HEAD = `
# ---------------------------------------------------------------------------------------------
# The decision
# ---------------------------------------------------------------------------------------------

# Streamable HTTP: GET opens the server's event stream and DELETE ends the session. Neither carries
# a JSON-RPC message, so neither may carry a body, and neither names a tool.
allow if {
	_req.method in ${regoLiteral(new RegoSet(BODYLESS_HTTP_METHODS))}
	_req.body == ""
	not _req.headers["x-mcp-toolname"]
	not _req.headers["mcp-name"]
}

# Headers that name what a request is: x-mcp-method and x-mcp-toolname (the MCP router's, which
# the RateLimitPolicy and the AuthPolicy key on), mcp-method and mcp-name (the stateless
# protocol revision's, which the router routes that protocol by). A header that disagrees with the body
# would get a request counted, routed or authorised as one thing and executed as another, so every
# clause requires each of them absent or equal to what the body says; a tool name header only
# where the clause says which.

# initialize, ping, tools/list and (in a server's policy) the server's extraMethods; then every
# notification (no tool call, no answer). A method-naming header of the stateless protocol revision
# must name what the body names (prompts/get: params.name; resources/read: params.uri).
allow if {
	_rpc.method in _policy.methods
	object.get(_req.headers, "x-mcp-method", _rpc.method) == _rpc.method
	object.get(_req.headers, "mcp-method", _rpc.method) == _rpc.method
	not _req.headers["x-mcp-toolname"]
	count([name |
		name := _req.headers["mcp-name"]
		params := object.get(_rpc, "params", {})
		not name in {object.get(params, "name", null), object.get(params, "uri", null)}
	]) == 0
}

allow if {
	startswith(_rpc.method, ${rx(NOTIFICATION_PREFIX)})
	object.get(_req.headers, "x-mcp-method", _rpc.method) == _rpc.method
	object.get(_req.headers, "mcp-method", _rpc.method) == _rpc.method
	not _req.headers["x-mcp-toolname"]
	not _req.headers["mcp-name"]
}

# The MCP router's own session set-up (Kuadrant/mcp-gateway internal/routing/router_202511.go,
# initializeMCPServerSession; internal/clients/clients.go): before the first call of a gateway
# session to this server it sends initialize, then notifications/initialized, back through the
# gateway with the client's headers plus x-mcp-servername (this server's registration) and
# x-mcp-toolname (the bare tool the pending call names). Only the router gets such a request to
# this host with that x-mcp-servername: on initialize it lets one through only when its signed
# router-key checks out, and everything else it hands to the broker it marks
# "x-mcp-servername: mcpBroker" (routeBrokerPassthrough). So: the router's method header equal to
# the body's, this server's registration, a listed tool (a call to any other is denied anyway),
# and none of the stateless revision's headers (it has no such step).
allow if {
	_rpc.method in {"initialize", "notifications/initialized"}
	_req.headers["x-mcp-servername"] == _policy.router
	_req.headers["x-mcp-method"] == _rpc.method
	_policy.tools[_req.headers["x-mcp-toolname"]]
	not _req.headers["mcp-method"]
	not _req.headers["mcp-name"]
}

# A client's answer to the server's elicitation request, which the router forwards here with the
# server's request id (routeElicitationResponse): a response, never a request, so no method and
# no params, and nothing but the elicitation result members. Its content is what the user typed;
# no argument rule applies to it (docs/tool-policy.md).
allow if {
	_policy.responses
	_rpc.result.action in {"accept", "cancel", "decline"}
	count(object.keys(_rpc.result) - {"_meta", "action", "content"}) == 0
	is_object(object.get(_rpc.result, "content", {}))
	is_object(object.get(_rpc.result, "_meta", {}))
	not _req.headers["x-mcp-method"]
	not _req.headers["x-mcp-toolname"]
	not _req.headers["mcp-method"]
	not _req.headers["mcp-name"]
}

# tools/call: the body names a listed tool; the router's x-mcp-toolname (if any) names the same
# tool, as the server knows it; the stateless revision's mcp-name (if any) is the body's name, which the
# router checked against the client's before rewriting both (router_202607.go,
# validateAndRewriteBody). Then every required argument is present, every listed argument present
# passes its rule, and an unlisted argument is there only if the tool takes unlisted arguments and
# it is not a case variant of a listed one (Go's encoding/json matches struct fields
# case-insensitively, with Unicode simple folding: U+017F reads as "s", U+212A as "k"; an MCP
# server in Go would take "URL" for "url").
allow if {
	_rpc.method == "tools/call"
	object.get(_req.headers, "x-mcp-method", "tools/call") == "tools/call"
	object.get(_req.headers, "mcp-method", "tools/call") == "tools/call"
	spec := _call.spec
	object.get(_req.headers, "x-mcp-toolname", spec.upstream) == spec.upstream
	object.get(_req.headers, "mcp-name", _call.name) == _call.name
	arguments := _call.arguments
	present := object.keys(arguments)
	count(spec.required - present) == 0
`;

const RULES_INTRO = `	rules := spec.rules

	# Argument rules, one set of passing argument names per rule type. A field only some rule types
	# have is read with object.get: the type checker knows _policy's exact shape, and a server
	# without, say, a string rule would otherwise fail to compile here.

`;
/** The argument-rule comprehension of each rule type; a server gets only the ones its tools use. */
const RULE_BLOCKS: Readonly<Record<Exclude<ArgumentRule["type"], "absent">, { readonly variable: string; readonly text: string }>> = {
    url: {
        variable: "urls_ok",
        text: `	# URLs are parsed, never prefix-matched as text. The pattern admits https (any case), "://",
	# a DNS-shaped host, an optional port without leading zeros, then path and query in RFC 3986
	# characters with well-formed percent escapes; so no "@" anywhere (userinfo: parsers
	# disagree on where an authority ends), no "#" (a fragment is never sent and can only hide
	# things), no "\\" (WHATWG reads it as "/"), no "[" "]" (IPv6 literals), no whitespace,
	# control or non-ASCII character, and no "https:host", "https:/host", "https:///host",
	# empty host or empty port. The host is looked up lower-cased in the allowlist (a map: the
	# cost does not grow with the list), and config admits only lower-case DNS names there, so
	# IP literals in any notation, trailing dots and percent-encoded hosts never match. The port
	# (compared as written, which the pattern keeps canonical) is the entry's, 443 unless it
	# names one. The path holds no "." or ".." segment (also percent-encoded, also followed by
	# ";params", which some servers strip before resolving) and matches the entry's prefix by
	# whole segments: /points allows /points and /points/x, not /pointsx. Behind a prefix an
	# encoded "/" or "\\" is refused: a server that decodes before routing would see other
	# segments than this check did.
	urls_ok := {name |
		some name, rule in object.get(rules, "url", {})
		url := arguments[name]
		is_string(url)
		parts := regex.find_all_string_submatch_n(${rx(URL_SHAPE)}, url, 1)[0]
		path := parts[3]
		not regex.match(${rx(DOT_SEGMENT)}, path)
		some allowed in object.get(object.get(rule, "hosts", {}), lower(parts[1]), [])
		allowed.port == object.get({"": "443"}, parts[2], parts[2])
		startswith(concat("", [path, "/"]), concat("", [allowed.path, "/"]))
		count([path | allowed.path != ""; regex.match(${rx(ENCODED_SEPARATOR)}, path)]) == 0
	}

`,
    },
    enum: {
        variable: "enums_ok",
        text: `	# Enums compare after trimming and upper-casing; anything but a string is refused.
	enums_ok := {name |
		some name, rule in object.get(rules, "enum", {})
		value := arguments[name]
		is_string(value)
		upper(trim_space(value)) in object.get(rule, "values", set())
	}

`,
    },
    currency: {
        variable: "currencies_ok",
        text: `	# The ISO 4217 codes the rule allows (its allow list, minus its deny list). The shape check
	# keeps letters that upper-case to ASCII ("\\u017f" becomes "S") from passing as a code.
	currencies_ok := {name |
		some name, rule in object.get(rules, "currency", {})
		value := arguments[name]
		is_string(value)
		code := trim_space(value)
		regex.match(${rx(CURRENCY_SHAPE)}, code)
		upper(code) in object.get(rule, "values", set())
	}

`,
    },
    string: {
        variable: "strings_ok",
        text: `	# The pattern is anchored by the generator; the length counts Unicode code points.
	strings_ok := {name |
		some name, rule in object.get(rules, "string", {})
		value := arguments[name]
		is_string(value)
		count(value) <= object.get(rule, "max_length", count(value))
		regex.match(object.get(rule, "pattern", "^$"), value)
	}

`,
    },
    number: {
        variable: "numbers_ok",
        text: `	# JSON numbers only ("5" is a string); bounds inclusive.
	numbers_ok := {name |
		some name, rule in object.get(rules, "number", {})
		value := arguments[name]
		is_number(value)
		value >= object.get(rule, "min", value)
		value <= object.get(rule, "max", value)
		count([value | object.get(rule, "integer", false); floor(value) != value]) == 0
	}

`,
    },
};

const TOOL_CALL_TAIL = `	count((present & spec.names) - passing) == 0

	unlisted := present - spec.names
	count([name | some name in unlisted; not spec.allow_unlisted]) == 0
	count([name | some name in unlisted; lower(replace(name, "\\u017f", "s")) in spec.folded]) == 0
}

`;

const REQUEST = `# ---------------------------------------------------------------------------------------------
# The request as Authorino describes it
# ---------------------------------------------------------------------------------------------

# Authorino's well-known attributes (input.request) are the source; the deprecated Envoy view
# (input.context.request.http) stands in for an attribute the well-known view lacks. When both
# views carry an attribute, the values must be equal, or _req is undefined, and every allow clause
# needs _req.
_req := {"method": method, "body": body, "headers": headers} if {
	well_known := object.get(input, "request", {})
	envoy := object.get(input, ["context", "request", "http"], {})

	method := object.get(well_known, "method", object.get(envoy, "method", null))
	object.get(envoy, "method", method) == method
	is_string(method)

	# Authorino omits an empty body.
	body := object.get(well_known, "body", object.get(envoy, "body", ""))
	object.get(envoy, "body", body) == body
	is_string(body)

	headers := object.get(well_known, "headers", object.get(envoy, "headers", {}))
	object.get(envoy, "headers", headers) == headers
	is_object(headers)

	# Header names are lower-case in both views: Envoy lower-cases them before ext_authz, and
	# Authorino passes them on as they come.

	# With Istio's packAsBytes the body arrives base64-encoded in raw_body, which this policy does
	# not read; such a request must not pass as bodyless.
	object.get(well_known, "raw_body", "") == ""
	object.get(envoy, "raw_body", "") == ""
}

# One JSON-RPC 2.0 message in a POST body: a request, a notification, or a response (only an
# elicitation response is ever allowed, see above).
_rpc := message if {
	_req.method == "POST"

	# Envoy marks a body it cut at maxRequestBytes (allowPartialMessage: true); a cut body is
	# refused even when the cut happens to leave valid JSON behind. The router's re-serialised
	# body is longer than the client's (docs/tool-policy.md: sizing maxRequestBytes).
	lower(object.get(_req.headers, "x-envoy-auth-partial-body", "false")) != "true"

	# Undefined unless the text is exactly one JSON value: empty, truncated, two concatenated
	# values or a byte order mark all fail here. Arrays (batches) fail is_object.
	message := json.unmarshal(_req.body)
	is_object(message)

	# The envelope, exactly: a request or notification (method, with or without id and params) or
	# a response (id and result). Nothing else, which also refuses case variants ("Method") that a
	# case-insensitive decoder downstream (Go's encoding/json) would read as envelope members, a
	# response that carries a method, and an error response.
	object.keys(message) in {
		{"jsonrpc", "method"}, {"id", "jsonrpc", "method"}, {"jsonrpc", "method", "params"},
		{"id", "jsonrpc", "method", "params"}, {"id", "jsonrpc", "result"},
	}
	message.jsonrpc == "2.0"
	is_string(object.get(message, "method", ""))
	type_name(object.get(message, "id", 0)) in {"number", "string"}
	is_object(object.get(message, "params", {}))
	is_object(object.get(message, "result", {}))

	# OPA's decoder keeps the last of duplicate keys; a router or MCP server on the path may keep
	# the first and act on a message this policy never saw. So every key written in the text must
	# survive in the parsed value. The text parsed already, so outside strings it has exactly one
	# colon per written key; json.marshal writes one per parsed key and never escapes a colon.
	# Inside strings, a raw colon decodes to one colon, and only an escaped colon (\\u003a, either
	# case of hex digit) decodes to a colon the text does not show. Hence, counting all colons:
	# without duplicates the text has at most as many as the re-encoded value; with a duplicate and
	# no escaped colon it has more (an extra key, and the dropped members' strings only add). The
	# router's own escapes (\\u0026, \\u003c, \\u003e) do not matter to that count.
	strings.count(_req.body, ":") <= strings.count(json.marshal(message), ":")

	# The exact count, only for a text with an escaped colon, where it alone decides: replacing
	# every JSON string (scanned in order, so never from inside one), with the whitespace after it,
	# by the colon that follows it if any, leaves one colon per written key. Escaped spellings of
	# one key ("m\\u0065thod") count as duplicates too.
	count([keys_written |
		regex.match(${rx(ESCAPED_COLON)}, _req.body)
		keys_written := strings.count(regex.replace(_req.body, ${rx(JSON_STRING_AND_COLON)}, "$1"), ":")
		keys_parsed := sum([count(node) | walk(message, [_, node]); is_object(node)])
		keys_written != keys_parsed
	]) == 0
}

# A tools/call's name, the listed tool it names and its arguments. The name is compared byte for
# byte with the listed names: at a server's host the router has rewritten it to the server's own
# name (router_202511.go routeToolCall, ReWriteToolName; router_202607.go validateAndRewriteBody),
# so the client-facing <prefix><tool> never reaches a server's host from the router and names
# nothing here. No arguments member counts as no arguments, which passes only when no rule requires
# one.
_call := {"name": name, "spec": spec, "arguments": arguments} if {
	_rpc.method == "tools/call"
	params := _rpc.params
	count(object.keys(params) - {"_meta", "arguments", "name"}) == 0
	is_object(object.get(params, "_meta", {}))
	name := params.name
	spec := _policy.tools[name]
	arguments := object.get(params, "arguments", {})
	is_object(arguments)
}
`;

/**
 * The tools/call decision, with only the rule-type comprehensions the policy's tools use: every
 * comprehension costs on every tool call, and OPA evaluates them whether or not a tool has such a
 * rule. The rest of the text is the same for every policy.
 */
function toolCallText(tools: readonly ToolModel[]): string {
    const used = new Set<string>();
    for (const tool of tools) for (const rule of Object.values(tool.arguments)) used.add(rule.type);
    const types = (Object.keys(RULE_BLOCKS) as (keyof typeof RULE_BLOCKS)[]).filter((type) => used.has(type));
    const blocks = types.map((type) => RULE_BLOCKS[type]);
    const passing = blocks.length === 0 ? "set()" : blocks.map((block) => block.variable).join(" | ");
    const rules = blocks.length === 0 ? "" : `${RULES_INTRO}${blocks.map((block) => block.text).join("")}`;
    return `${DECISION_HEAD}${rules}\tpassing := ${passing}\n${TOOL_CALL_TAIL}`;
}

/**
 * The whole module: header, the `_policy` constant, the decision procedure, the request parsing.
 * Every policy goes through here, so the per-server and the gateway policies share all the logic.
 */
function moduleText(header: string, policy: RegoTerm, tools: readonly ToolModel[], subject: string): string {
    const text = `${header}
# ---------------------------------------------------------------------------------------------
# Configuration (generated, sorted)
# ---------------------------------------------------------------------------------------------

_policy := ${regoLiteral(policy)}
${toolCallText(tools)}${REQUEST}`;
    if (text.includes(MODULE_KEYWORD)) {
        // regoString escapes config values, so only a generator bug gets here.
        throw new ToolPolicyError(`generated Rego for ${subject} contains the word "${MODULE_KEYWORD}", which Authorino would cut out`);
    }
    return text;
}

/** The Rego module for one MCP server: `import rego.v1` first, no module declaration, no default. */
export function generateToolPolicyRego(server: McpServerConfig): string {
    const model = toolPolicyModel(server);
    return moduleText(SERVER_HEADER, policyTerm(model), Object.values(model.tools), model.server);
}

/**
 * The Rego module for the gateway's public host (see gatewayPolicyModel and GATEWAY_HEADER): the
 * same procedure as generateToolPolicyRego over every server's tools, named `<prefix><tool>`.
 * Throws ToolPolicyError for no servers, a server listed twice, or prefixes where one starts
 * another.
 */
export function generateGatewayToolPolicyRego(servers: readonly McpServerConfig[]): string {
    const model = gatewayPolicyModel(servers);
    return moduleText(GATEWAY_HEADER, gatewayPolicyTerm(model), Object.values(model.tools).map((entry) => entry.tool), "the gateway's public host");
}
