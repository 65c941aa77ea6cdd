// Shared builders for the tool-policy specs: MCP server configs parsed by the real schema (so the
// tests see what a stack would hand the generator) and requests shaped like Authorino's input.
import { strict as assert } from "assert";
import { readStackConfig, recordUnderMocks } from "../../cli/mockRuntime";
import type { RecordedResource } from "../../cli/mockRuntime";
import { parseConfig } from "../../config/schema";
import type { McpServerConfig } from "../../config/schema";
import { generateToolPolicyRego } from "../../components/gateway/rego";
import { authorinoInput, evaluateBatch } from "../support/opa";
import type { AttributeViews, EvaluateOptions, HttpRequest, Outcome, Verdict } from "../support/opa";
import { loadSchemaValidator } from "../support/schemaValidator";

export const NOW = new Date("2026-08-15T12:00:00Z");

/** The MCP servers of a real stack file (dev holds the seeds' `fetch` and `currency`). */
export function stackServers(stack: "dev" | "ci" | "prod" = "dev"): readonly McpServerConfig[] {
    return parseConfig(readStackConfig(stack), stack, NOW).mcpServers;
}

export function seedServer(name: "fetch" | "currency"): McpServerConfig {
    const server = stackServers("dev").find((candidate) => candidate.name === name);
    assert.ok(server, `Pulumi.dev.yaml has no MCP server ${name}`);
    return server;
}

/** MCP server configs through the real zod schema, with defaults filled in. */
export function parseServers(servers: readonly Record<string, unknown>[]): McpServerConfig[] {
    const raw = { platform: "kubernetes", registries: ["quay.io/agent-security"], mcpServers: servers };
    return [...parseConfig(raw, "dev", NOW).mcpServers];
}

export function parseServer(server: Record<string, unknown>): McpServerConfig {
    const [parsed] = parseServers([server]);
    assert.ok(parsed);
    return parsed;
}

/** A server config around some tools, with the boilerplate filled in. */
export function serverWith(name: string, tools: Record<string, unknown>, extra: Record<string, unknown> = {}): McpServerConfig {
    return parseServer({ name, host: `${name}.mcp.local`, backend: { service: name, port: 8080 }, tools, ...extra });
}

// ---------------------------------------------------------------------------------------------
// Generated configs beyond the seeds (shared by the rule tables and the compile checks)
// ---------------------------------------------------------------------------------------------

export const thermostat = (): McpServerConfig =>
    serverWith(
        "thermostat",
        {
            set_temperature: {
                arguments: {
                    celsius: { type: "number", min: -10, max: 40 },
                    repeat: { type: "number", min: 1, max: 5, integer: true, optional: true },
                    debug: { type: "absent" },
                    label: { type: "string", pattern: "[a-z]{1,8}", maxLength: 5, optional: true },
                    mode: { type: "enum", allow: ["eco", "Comfort", " boost "], deny: ["BOOST"], optional: true },
                },
            },
            status: {},
        },
        { prefix: "th_", extraMethods: ["resources/read"] },
    );

export const weather = (): McpServerConfig =>
    serverWith("weather", {
        fetch: {
            arguments: {
                url: {
                    type: "url",
                    allow: [
                        "https://api.weather.gov/points",
                        "https://api.weather.gov/alerts/active/",
                        "https://example.com:8443/api",
                        "https://docs.example.org",
                        "https://docs.example.org/",
                    ],
                },
            },
        },
    });

export const files = (): McpServerConfig =>
    serverWith("files", {
        read_file: {
            arguments: {
                path: { type: "string", pattern: "/data/[a-z0-9_/]+" },
                source: { type: "enum", allow: ["local", "cache"], optional: true },
                key: { type: "string", pattern: "[a-z]+", optional: true },
            },
            allowUnlistedArguments: true,
        },
        optional_url: { arguments: { url: { type: "url", allow: ["https://httpbin.org"], optional: true } } },
    });

// "x" and "p_x" both listed under prefix "p_": the name "p_x" denotes both tools.
export const ambiguous = (): McpServerConfig =>
    serverWith(
        "ambiguous",
        {
            x: { arguments: { n: { type: "number", max: 10 } } },
            p_x: { arguments: { n: { type: "number", max: 100 } } },
        },
        { prefix: "p_" },
    );

// Authorino deletes `(\s)*package.*[;\n]+` anywhere in the text; config values with that word
// must survive (the generator escapes them) and keep their meaning.
export const packaging = (): McpServerConfig =>
    serverWith(
        "package-registry",
        {
            npm_package_info: {
                arguments: {
                    name: { type: "string", pattern: "package|module;x" },
                    kind: { type: "enum", allow: ["package", "module"] },
                },
            },
        },
        { prefix: "package_", extraMethods: ["resources/package"] },
    );

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export function rpcBody(method: string, params?: unknown, id: number | string = 1): string {
    return JSON.stringify(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
}

export function toolCallBody(name: string, args?: unknown): string {
    return rpcBody("tools/call", args === undefined ? { name } : { name, arguments: args });
}

export function post(body: string, headers: Record<string, string> = {}, views: AttributeViews = "both"): Record<string, unknown> {
    return authorinoInput({ method: "POST", body, headers }, views);
}

export function request(http: HttpRequest, views: AttributeViews = "both"): Record<string, unknown> {
    return authorinoInput(http, views);
}

export function toolCall(name: string, args?: unknown, headers: Record<string, string> = {}): Record<string, unknown> {
    return post(toolCallBody(name, args), headers);
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

export interface PolicyCase {
    /** The test title: the behaviour, e.g. "denies fetch_url when the host only starts with an allowed host". */
    readonly name: string;
    readonly input: Record<string, unknown>;
    /**
     * The expected outcome. `denied` asserts a denial without its reason, for public-host cases
     * whose reason test/support/opa.ts cannot name (its explanation assumes the router's header
     * names a key of `_policy.tools`; at the public host the keys are client-facing names and the
     * header carries the upstream one); such a case comes with a control case that differs only in
     * what is under test and is allowed.
     */
    readonly expect: Outcome | "denied";
}

/** One `it` per case; all cases of the table go through one `opa eval` (in `before`). */
export function verdictTable(title: string, rego: () => string, cases: readonly PolicyCase[], options: EvaluateOptions = {}): void {
    describe(title, function () {
        let verdicts: Map<string, Verdict> | undefined;
        before(function () {
            const inputs: Record<string, unknown> = {};
            cases.forEach((testCase, index) => {
                inputs[`c${index}`] = testCase.input;
            });
            verdicts = evaluateBatch(rego(), inputs, options);
        });
        const titles = new Set<string>();
        cases.forEach((testCase, index) => {
            assert.ok(!titles.has(testCase.name), `duplicate case title: ${testCase.name}`);
            titles.add(testCase.name);
            it(testCase.name, function () {
                const verdict = verdicts?.get(`c${index}`);
                assert.ok(verdict, "no verdict");
                if (testCase.expect === "allow") {
                    assert.equal(verdict.allow, true, `expected allow === true, got ${JSON.stringify(verdict.allow)} (${verdict.outcome})`);
                } else {
                    assert.equal(verdict.allowed, false, "expected a denial");
                    assert.equal(verdict.allow, false, "a denial is Authorino's default false, not some other value");
                    if (testCase.expect !== "denied") assert.equal(verdict.outcome, testCase.expect, "denied, but for another reason than expected");
                }
            });
        });
    });
}

/** A table of one MCP server's policy. */
export function policyTable(title: string, server: () => McpServerConfig, cases: readonly PolicyCase[], options: EvaluateOptions = {}): void {
    verdictTable(title, () => generateToolPolicyRego(server()), cases, options);
}

// ---------------------------------------------------------------------------------------------
// The ToolPolicy component's AuthConfigs
// ---------------------------------------------------------------------------------------------

export interface AuthConfigSpec {
    readonly hosts: readonly string[];
    readonly authentication: Record<string, { readonly anonymous?: Record<string, never> }>;
    readonly authorization: Record<string, { readonly opa: { readonly rego: string; readonly allValues: boolean; readonly version?: string } }>;
}

export function specOf(manifest: unknown): AuthConfigSpec {
    return (manifest as { readonly spec: AuthConfigSpec }).spec;
}

export function assertValid(manifest: Record<string, unknown>): void {
    const check = loadSchemaValidator().validate(manifest);
    assert.ok(check.ok, `${String(manifest.kind)} ${JSON.stringify(manifest.metadata)}: ${check.errors.join("; ")}`);
}

/** A component alone under Pulumi's mocks, recording what it registers. */
export async function underMocks(build: () => void): Promise<RecordedResource[]> {
    return (await recordUnderMocks("dev", build)).resources;
}
