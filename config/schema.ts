// The one place config is read and validated (design.md section 3). Everything downstream gets the
// frozen, typed result; components never see pulumi.Config.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { chartRepositoryProblem } from "./hosts";
import { imageProblem } from "./images";
import { ISO_4217_CODES } from "./iso4217";
import { normaliseMountPath } from "./paths";
import { PROFILES, PROFILE_MATRIX, STACK_PROFILES, TOOLS, resolveFeatures } from "./profiles";
import type { FeatureSet, Profile, ResolutionIssue } from "./profiles";
import { cpuProblem, memoryProblem } from "./quantities";
import { responderConfigSchema, responderIssues } from "./responder";
import { crossFieldIssues } from "./rules";

export { cpuMillis, memoryBytes } from "./quantities";

export const PROJECT = "agent-security";

// ---------------------------------------------------------------------------------------------
// Value formats shared by several keys
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// A DNS name with at least one dot: the only egress destinations the mesh, Cilium and the tool
// policy can all express the same way (no wildcards, no IP literals).
const FQDN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const REGISTRY = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const TOOL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DURATION = /^[0-9]+(ms|s|m|h)$/;

/** Generous ceilings on list sizes, so a pasted loop cannot make a plan of millions of objects. */
const MAX_AGENTS = 100;
const MAX_SERVERS = 50;
const MAX_LIST = 100;

export { KATA_MIN_MEMORY, MAX_ENV_STRING_BYTES, MAX_ENV_TOTAL_BYTES, imageFromRegistry } from "./rules";

const nonEmpty = (what: string) => z.string({ error: `must be a string (${what})` }).trim().min(1, { error: `must not be empty (${what})` });
const dnsLabel = (what: string) =>
    z.string({ error: `must be a string (${what})` }).regex(DNS_LABEL, {
        error: `must be a DNS label: lower-case letters, digits and '-', at most 63 characters, starting and ending alphanumeric (${what})`,
    });
const fqdn = (what: string) =>
    z.string({ error: `must be a string (${what})` }).regex(FQDN, {
        error: `must be a fully qualified, lower-case DNS name such as api.example.com; no scheme, port, path, wildcard or IP address (${what})`,
    });
const repositoryUrl = (oci: boolean) =>
    z.string({ error: "must be a string (a chart repository URL)" }).superRefine((value, ctx) => {
        const problem = chartRepositoryProblem(value, { oci });
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
const port = (what: string) =>
    z
        .number({ error: `must be a port number 1-65535 (${what})` })
        .int({ error: `must be a whole port number 1-65535 (${what})` })
        .min(1, { error: `must be a port number 1-65535 (${what}); 0 is not a port` })
        .max(65535, { error: `must be a port number 1-65535 (${what})` });

// ---------------------------------------------------------------------------------------------
// Tool policy (design.md section 7): the argument rules a tools/call must satisfy
// ---------------------------------------------------------------------------------------------

const urlAllowEntry = z.string({ error: "must be a string (an https URL prefix)" }).superRefine((value, ctx) => {
    const problem = urlAllowProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
    // WHATWG URL keeps an explicit ":0", which no server listens on; the policy refuses it too.
    else if (new URL(value).port === "0") ctx.addIssue({ code: "custom", message: `"${value}" names port 0; the port must be 1-65535, or left out for 443` });
});

/** Why a URL allowlist entry is unacceptable, or undefined when it is fine. */
export function urlAllowProblem(value: string): string | undefined {
    if (!value.startsWith("https://")) {
        return `"${value}" is not allowed: entries must be https:// URLs (scheme https, a DNS host, optional port and path prefix)`;
    }
    if (!URL.canParse(value)) return `"${value}" is not a URL`;
    const url = new URL(value);
    if (url.username || url.password) return `"${value}" must not carry user info`;
    if (url.search || url.hash || value.includes("?") || value.includes("#")) return `"${value}" must not carry a query or fragment`;
    if (value.includes("\\")) return `"${value}" must not contain backslashes`;
    const authority = value.slice("https://".length).split("/")[0] ?? "";
    const host = authority.replace(/:[0-9]+$/, "");
    if (!FQDN.test(host)) return `"${value}" must name a lower-case DNS host (no IP literal, wildcard or upper case)`;
    return undefined;
}

const optionalFlag = z.boolean({ error: "must be true or false" }).optional();

const argumentRule = z.discriminatedUnion(
    "type",
    [
        z.strictObject({
            type: z.literal("url"),
            allow: z.array(urlAllowEntry, { error: "must be a list of https URLs" }).min(1, { error: "must list at least one URL" }),
            optional: optionalFlag,
        }),
        z.strictObject({
            type: z.literal("enum"),
            allow: z.array(nonEmpty("an allowed value")).min(1, { error: "must list at least one value" }),
            deny: z.array(nonEmpty("a denied value")).optional(),
            optional: optionalFlag,
        }),
        z.strictObject({
            type: z.literal("currency"),
            allow: z
                .array(
                    z.string({ error: "must be a three-letter ISO 4217 code such as EUR" }).refine((code) => ISO_4217_CODES.includes(code.trim().toUpperCase()), {
                        error: "must be an ISO 4217 currency code such as EUR, USD or JPY (crypto tickers are not ISO 4217 codes)",
                    }),
                )
                .min(1, { error: "must list at least one currency code, or be left out to allow every ISO 4217 code" })
                .optional(),
            deny: z.array(z.string().regex(/^[A-Za-z]{2,10}$/, { error: "must be a currency or token code of 2-10 letters" })).optional(),
            optional: optionalFlag,
        }),
        z.strictObject({
            type: z.literal("string"),
            pattern: z.string({ error: "must be a regular expression (RE2 syntax), matched against the whole value" }).refine(isValidPattern, {
                error: "must be a valid regular expression (RE2 syntax, matched against the whole value)",
            }),
            maxLength: z.number({ error: "must be a positive whole number" }).int({ error: "must be a positive whole number" }).positive({ error: "must be a positive whole number" }).optional(),
            optional: optionalFlag,
        }),
        z
            .strictObject({
                type: z.literal("number"),
                min: z.number({ error: "must be a number" }).optional(),
                max: z.number({ error: "must be a number" }).optional(),
                integer: optionalFlag,
                optional: optionalFlag,
            })
            .refine((rule) => rule.min === undefined || rule.max === undefined || rule.min <= rule.max, {
                error: "min must not be greater than max",
                path: ["min"],
            }),
        z.strictObject({ type: z.literal("absent") }),
    ],
    { error: "type must be one of: url, enum, currency, string, number, absent" },
);
export type ArgumentRule = z.infer<typeof argumentRule>;

function isValidPattern(pattern: string): boolean {
    // RE2 has no look-around or back-references; refusing them here keeps the Rego regex.match
    // semantics and ours identical.
    if (/\(\?[=!<]|\\[1-9]/.test(pattern)) return false;
    try {
        new RegExp(pattern, "u");
        return true;
    } catch {
        return false;
    }
}

const rateLimit = z.strictObject({
    limit: z.number({ error: "must be a positive integer" }).int().positive({ error: "must be a positive integer" }),
    // Limitador's pattern in the RateLimitPolicy CRD: up to four <1-5 digits><unit> groups.
    window: z.string().regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, { error: "must be a duration such as 10s, 1m or 1h30m (at most 5 digits per unit)" }),
});

const toolSpec = z.strictObject({
    arguments: z.record(z.string().regex(TOOL_NAME, { error: "argument names use letters, digits, '_', '.', '-'" }), argumentRule).default({}),
    // Unlisted arguments are denied unless a tool says otherwise: extra arguments are how a
    // permitted tool gets talked into a forbidden action (headers, proxies, file paths).
    allowUnlistedArguments: z.boolean({ error: "must be true or false" }).default(false),
    rateLimit: rateLimit.optional(),
});
export type ToolSpec = z.infer<typeof toolSpec>;

const JSON_RPC_METHOD = /^[a-z][a-zA-Z/_]*$/;

const mcpServer = z.strictObject({
    name: dnsLabel("the MCP server name"),
    host: fqdn("the host the gateway routes on"),
    prefix: z.string().regex(/^[a-z][a-z0-9_]{0,30}_$/, { error: "must be lower-case letters, digits and '_', ending with '_' (for example fetch_)" }).optional(),
    backend: z
        .strictObject({
            service: dnsLabel("the MCP server's Service"),
            namespace: dnsLabel("the MCP server's namespace").optional(),
            port: port("the MCP server's Service port"),
            path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, { error: "must be an absolute path such as /mcp" }).default("/mcp"),
        }),
    extraMethods: z
        .array(
            z
                .string({ error: "must be a JSON-RPC method name such as resources/list" })
                .regex(JSON_RPC_METHOD, { error: "must be a JSON-RPC method name such as resources/list" })
                .refine((method) => method !== "tools/call", { error: "tools/call cannot be allowed wholesale; list the tools and their arguments under tools" }),
        )
        .max(MAX_LIST, { error: `must list at most ${MAX_LIST} methods` })
        .default([]),
    tools: z
        .record(z.string().regex(TOOL_NAME, { error: "tool names use letters, digits, '_', '.', '-'" }), toolSpec)
        .refine((tools) => Object.keys(tools).length > 0, { error: "must list at least one tool" }),
});
export type McpServerConfig = z.infer<typeof mcpServer>;

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

const agent = z.strictObject({
    name: dnsLabel("the agent name"),
    namespace: dnsLabel("the agent namespace").optional(),
    image: z.string({ error: "must be a string (an image reference)" }).superRefine((value, ctx) => {
        const problem = imageProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    replicas: z
        .number({ error: "must be a whole number from 1 to 20" })
        .int({ error: "must be a whole number from 1 to 20" })
        .min(1, { error: "must be a whole number from 1 to 20" })
        .max(20, { error: "must be a whole number from 1 to 20" })
        .default(1),
    port: z
        .number({ error: "must be a port number 1024-65535" })
        .int({ error: "must be a whole port number 1024-65535" })
        .min(1024, { error: "must be 1024-65535: agents run without NET_BIND_SERVICE" })
        .max(65535, { error: "must be a port number 1024-65535" })
        .optional(),
    egress: z.array(fqdn("an egress host")).max(MAX_LIST, { error: `must list at most ${MAX_LIST} hosts` }).default([]),
    mcpServers: z.array(dnsLabel("an MCP server name")).max(MAX_SERVERS, { error: `must list at most ${MAX_SERVERS} MCP servers` }).default([]),
    secrets: z
        .array(
            z.strictObject({
                name: dnsLabel("the Secret name"),
                // Kubernetes' own rule for a Secret data key (IsConfigMapKey), which is also the
                // file name under the Secret's directory: "." and ".." would name a directory.
                key: z
                    .string({ error: "must be a Secret data key (letters, digits, '-', '_', '.')" })
                    .regex(/^[-._a-zA-Z0-9]{1,253}$/, { error: "must be a Secret data key: 1-253 letters, digits, '-', '_' or '.'" })
                    .refine((key) => key !== "." && key !== ".." && !key.startsWith(".."), {
                        error: "must be a Secret data key that is a file name: not \".\" or \"..\", and not starting with \"..\"",
                    }),
            }),
        )
        .max(MAX_LIST, { error: `must list at most ${MAX_LIST} secrets` })
        .default([]),
    env: z
        .record(
            z.string().regex(ENV_NAME, {
                error: "is not a valid environment variable name: letters, digits and '_', not starting with a digit (for example LOG_LEVEL)",
            }),
            z.string({ error: "must be a plain string value (quote numbers and booleans)" }),
        )
        .default({}),
    writablePaths: z
        .array(
            z.string({ error: "must be an absolute path such as /tmp" }).transform((value, ctx) => {
                const normalised = normaliseMountPath(value);
                if (normalised.ok) return normalised.path;
                ctx.addIssue({ code: "custom", message: normalised.problem });
                return z.NEVER;
            }),
        )
        .max(20, { error: "must list at most 20 paths" })
        .default(["/tmp"]),
    resources: z.strictObject({
        cpu: z.string({ error: "must be a string quantity such as \"500m\" or \"1\"" }).superRefine((value, ctx) => {
            const problem = cpuProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
        memory: z.string({ error: "must be a string quantity such as \"2Gi\"" }).superRefine((value, ctx) => {
            const problem = memoryProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
    }),
});
export type AgentConfig = z.infer<typeof agent>;

// ---------------------------------------------------------------------------------------------
// Charts and operators: repositories and versions are config so an air-gapped mirror works
// ---------------------------------------------------------------------------------------------

export interface ChartPin {
    readonly chart: string;
    readonly repo: string;
    readonly version: string;
}

export const DEFAULT_CHARTS = {
    kuadrantOperator: { chart: "kuadrant-operator", repo: "https://kuadrant.io/helm-charts/", version: "1.5.2" },
    mcpGateway: { chart: "mcp-gateway", repo: "oci://ghcr.io/kuadrant/charts", version: "0.9.0" },
    istioBase: { chart: "base", repo: "https://istio-release.storage.googleapis.com/charts", version: "1.30.3" },
    istiod: { chart: "istiod", repo: "https://istio-release.storage.googleapis.com/charts", version: "1.30.3" },
    istioCni: { chart: "cni", repo: "https://istio-release.storage.googleapis.com/charts", version: "1.30.3" },
    kataDeploy: { chart: "kata-deploy", repo: "oci://ghcr.io/kata-containers/kata-deploy-charts", version: "4.1.0" },
    spireCrds: { chart: "spire-crds", repo: "https://spiffe.github.io/helm-charts-hardened/", version: "0.6.0" },
    spire: { chart: "spire", repo: "https://spiffe.github.io/helm-charts-hardened/", version: "0.30.0" },
    falco: { chart: "falco", repo: "https://falcosecurity.github.io/charts", version: "9.1.0" },
    falcosidekick: { chart: "falcosidekick", repo: "https://falcosecurity.github.io/charts", version: "0.14.0" },
    cilium: { chart: "cilium", repo: "https://helm.cilium.io/", version: "1.20.0" },
    kyverno: { chart: "kyverno", repo: "https://kyverno.github.io/kyverno/", version: "3.9.0" },
} as const satisfies Record<string, ChartPin>;
export type ChartName = keyof typeof DEFAULT_CHARTS;
const CHART_NAMES = Object.keys(DEFAULT_CHARTS) as ChartName[];

const chartOverride = z.strictObject({
    repo: repositoryUrl(true).optional(),
    version: z.string().regex(/^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$/, { error: "must be an exact semantic version such as 1.5.2 (no ranges)" }).optional(),
});

export interface OperatorPin {
    readonly package: string;
    readonly channel: string;
    readonly source: string;
    readonly sourceNamespace: string;
}

export const DEFAULT_OPERATORS = {
    sandboxedContainers: { package: "sandboxed-containers-operator", channel: "stable", source: "redhat-operators", sourceNamespace: "openshift-marketplace" },
    connectivityLink: { package: "rhcl-operator", channel: "stable", source: "redhat-operators", sourceNamespace: "openshift-marketplace" },
    serviceMesh: { package: "servicemeshoperator3", channel: "stable", source: "redhat-operators", sourceNamespace: "openshift-marketplace" },
    workloadIdentity: {
        package: "openshift-zero-trust-workload-identity-manager",
        channel: "stable-v1",
        source: "redhat-operators",
        sourceNamespace: "openshift-marketplace",
    },
} as const satisfies Record<string, OperatorPin>;
export type OperatorName = keyof typeof DEFAULT_OPERATORS;
const OPERATOR_NAMES = Object.keys(DEFAULT_OPERATORS) as OperatorName[];

const operatorOverride = z.strictObject({
    channel: nonEmpty("an OLM channel").optional(),
    source: dnsLabel("a CatalogSource name").optional(),
    sourceNamespace: dnsLabel("the CatalogSource namespace").optional(),
});

const toolName = z.enum(TOOLS, { error: `must be one of: ${TOOLS.join(", ")}` });

// ---------------------------------------------------------------------------------------------
// The stack config: every top-level key of the `agent-security:` namespace
// ---------------------------------------------------------------------------------------------

const FAIL_CLOSED_TOOLS = ["falco", "cilium"] as const;
export type FailClosedTool = (typeof FAIL_CLOSED_TOOLS)[number];

export const configSchema = z.strictObject({
    profile: z.enum(PROFILES, { error: `must be one of: ${PROFILES.join(", ")}` }).optional(),
    platform: z.enum(["openshift", "kubernetes"], { error: "must be one of: openshift, kubernetes" }),
    platformNamespace: dnsLabel("the namespace of the platform's own objects").default("agent-security"),
    tools: z.partialRecord(toolName, z.boolean({ error: "must be true or false" })).default({}),
    emergencyOverride: z
        .strictObject({
            tools: z.array(toolName).min(1, { error: "must list at least one tool" }),
            reason: nonEmpty("why the tools are off"),
            ticket: z.string().regex(/^[A-Z][A-Z0-9]+-[0-9]+$/, { error: "must be a ticket key such as SEC-1234" }),
            approvedBy: z.email({ error: "must be the approver's e-mail address" }),
            expires: z.iso.datetime({ offset: true, error: "must be an ISO 8601 instant such as 2026-12-01T00:00:00Z" }),
        })
        .optional(),
    failClosed: z.array(z.enum(FAIL_CLOSED_TOOLS, { error: `must be one of: ${FAIL_CLOSED_TOOLS.join(", ")}` })).default([]),
    registries: z
        .array(z.string().regex(REGISTRY, { error: "must be a registry host with optional port and path, such as quay.io/agent-security (no scheme, tag or trailing slash)" }))
        .min(1, { error: "must list at least one approved registry" }),
    // One mirror for every chart (air-gapped clusters, issue 10): an HTTP Helm repository whose
    // index.yaml serves every pinned chart by name. A chart's own charts.<key>.repo still wins.
    chartRepository: repositoryUrl(false).optional(),
    charts: z.partialRecord(z.enum(CHART_NAMES as [ChartName, ...ChartName[]], { error: `must be one of: ${CHART_NAMES.join(", ")}` }), chartOverride).default({}),
    operators: z
        .partialRecord(z.enum(OPERATOR_NAMES as [OperatorName, ...OperatorName[]], { error: `must be one of: ${OPERATOR_NAMES.join(", ")}` }), operatorOverride)
        .default({}),
    operatorApproval: z.enum(["Automatic", "Manual"], { error: "must be one of: Automatic, Manual" }).default("Manual"),
    render: z.strictObject({ directory: nonEmpty("a directory for rendered YAML") }).optional(),
    mesh: z
        .strictObject({
            mode: z.enum(["sidecar", "ambient"], { error: "must be one of: sidecar, ambient" }).default("sidecar"),
            istioVersion: z.string().regex(/^v1\.[0-9]+(\.[0-9]+|-latest)$/, { error: "must be a Sail Istio version such as v1.30.3 or v1.30-latest" }).default("v1.30.3"),
            extAuthzTimeout: z.string().regex(DURATION, { error: "must be a duration such as 2s or 500ms" }).default("2s"),
            maxRequestBytes: z.number().int().min(1024).max(8 * 1024 * 1024, { error: "must be an integer from 1024 to 8388608" }).default(65536),
        })
        .prefault({}),
    gateway: z
        .strictObject({
            className: dnsLabel("a GatewayClass name").optional(),
            publicHost: fqdn("the MCP gateway's public host").default("mcp.agents.example.com"),
            internalDomain: fqdn("the wildcard domain MCP servers are routed on").default("mcp.local"),
        })
        .prefault({}),
    identity: z
        .strictObject({
            trustDomain: fqdn("the SPIFFE trust domain").default("agents.example.com"),
            clusterName: dnsLabel("the cluster name").default("agents"),
        })
        .prefault({}),
    kata: z
        .strictObject({
            labelNodes: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: "must be a node name" })).default([]),
        })
        .prefault({}),
    falco: z
        .strictObject({
            webhookUrl: z
                .string()
                .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { error: "must be an http:// or https:// URL" })
                .optional(),
            minimumPriority: z
                .enum(["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"], {
                    error: "must be one of: emergency, alert, critical, error, warning, notice, informational, debug",
                })
                .default("warning"),
        })
        .prefault({}),
    responder: responderConfigSchema.prefault({}),
    cilium: z
        .strictObject({
            install: z.boolean({ error: "must be true or false" }).default(false),
            namespace: dnsLabel("the namespace of the cilium DaemonSet").default("kube-system"),
        })
        .prefault({}),
    kyverno: z.strictObject({ validationAction: z.enum(["Audit", "Deny"], { error: "must be one of: Audit, Deny" }).optional() }).prefault({}),
    monitoring: z.boolean({ error: "must be true or false" }).default(false),
    mcpServers: z.array(mcpServer).max(MAX_SERVERS, { error: `must list at most ${MAX_SERVERS} MCP servers` }).default([]),
    agents: z.array(agent).max(MAX_AGENTS, { error: `must list at most ${MAX_AGENTS} agents` }).default([]),
});

export type ParsedConfig = z.infer<typeof configSchema>;

export interface AgentSecurityConfig extends Omit<ParsedConfig, "profile" | "charts" | "operators" | "emergencyOverride"> {
    readonly stack: string;
    readonly profile: Profile;
    readonly features: FeatureSet;
    readonly charts: Readonly<Record<ChartName, ChartPin>>;
    readonly operators: Readonly<Record<OperatorName, OperatorPin>>;
    readonly emergencyOverride: ParsedConfig["emergencyOverride"] | undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors a person can act on
// ---------------------------------------------------------------------------------------------

export interface ConfigIssue {
    /** Full key, for example `agent-security:agents[1].resources.memory`. */
    readonly key: string;
    readonly message: string;
}

export class ConfigError extends Error {
    constructor(readonly issues: readonly ConfigIssue[]) {
        super(issues.map((issue) => `${issue.key}: ${issue.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

// Keys people reach for when they want to weaken a baseline control. They do not exist, and the
// error says so instead of a bare "unknown key".
const BASELINE_WORDS =
    /^(baseline|hardening|seccomp|apparmor|appArmor|capabilities|readOnlyRootFilesystem|readOnlyRootFs|runAsNonRoot|runAsRoot|runAsUser|allowPrivilegeEscalation|privileged|securityContext|podSecurity|podSecurityStandard|pss|hostNetwork|hostPID|hostIPC|hostPath|shareProcessNamespace|secretsAsEnv|secretEnv|envSecrets|spiffeSidecar|spireSidecar|automountServiceAccountToken|networkPolicy|defaultDeny|resourceQuota|limitRange|disableBaseline|skipBaseline)$/i;

function keyPath(path: readonly PropertyKey[]): string {
    let out = PROJECT;
    path.forEach((segment, index) => {
        if (typeof segment === "number") out += `[${segment}]`;
        else out += `${index === 0 ? ":" : "."}${String(segment)}`;
    });
    return out;
}

function allowedKeysAt(path: readonly PropertyKey[]): string[] | undefined {
    let schema: z.core.$ZodType = configSchema;
    for (const segment of path) {
        schema = unwrap(schema);
        const def = schema._zod.def;
        if (def.type === "object" && typeof segment === "string") {
            const shape = (def as z.core.$ZodObjectDef).shape;
            const child = shape[segment];
            if (!child) return undefined;
            schema = child;
        } else if (def.type === "array" && typeof segment === "number") {
            schema = (def as z.core.$ZodArrayDef).element;
        } else if (def.type === "record") {
            schema = (def as z.core.$ZodRecordDef).valueType;
        } else {
            return undefined;
        }
    }
    schema = unwrap(schema);
    const def = schema._zod.def;
    if (def.type === "object") return Object.keys((def as z.core.$ZodObjectDef).shape);
    if (def.type === "record") {
        const keyDef = unwrap((def as z.core.$ZodRecordDef).keyType)._zod.def;
        if (keyDef.type === "enum") return Object.values((keyDef as z.core.$ZodEnumDef).entries).map(String);
    }
    return undefined;
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
    let current = schema;
    for (;;) {
        const def = current._zod.def;
        if (def.type === "optional" || def.type === "default" || def.type === "prefault" || def.type === "nullable") {
            current = (def as z.core.$ZodOptionalDef).innerType;
        } else if (def.type === "pipe") {
            current = (def as z.core.$ZodPipeDef).in;
        } else {
            return current;
        }
    }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let cursor = raw;
    for (const segment of path) {
        if (cursor === null || typeof cursor !== "object") return undefined;
        cursor = (cursor as Record<PropertyKey, unknown>)[segment];
    }
    return cursor;
}

function unknownKeyIssue(path: readonly PropertyKey[], key: string): ConfigIssue {
    const allowed = allowedKeysAt(path);
    const allowedText = allowed ? `; allowed keys here: ${allowed.join(", ")}` : "";
    return {
        key: keyPath([...path, key]),
        message: BASELINE_WORDS.test(key)
            ? `is not a config key: the mandatory baseline (hardening, file secrets, SPIRE sidecar isolation, platform policy) is always on and has no switch${allowedText}`
            : `is not a known key${allowedText}`,
    };
}

/** A value's kind as a person would say it. */
function kindOf(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "null";
    if (typeof value === "object") return "a mapping (key: value)";
    if (typeof value === "boolean") return "true or false";
    return `a ${typeof value}`;
}

const EXPECTED: Readonly<Record<string, string>> = { array: "a list", object: "a mapping (key: value)", boolean: "true or false", number: "a number", string: "a string" };

/** zod's own wording ("Too small: expected number to be >=1") in words a stack author reads. */
function libraryMessage(issue: z.core.$ZodIssue): string | undefined {
    if (issue.code === "too_small" || issue.code === "too_big") {
        const bound = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
        const side = issue.code === "too_small" ? "at least" : "at most";
        if (issue.origin === "array") return `must list ${side} ${bound} entries`;
        if (issue.origin === "string") return `must be ${side} ${bound} characters long`;
        return `must be ${side} ${bound}`;
    }
    if (issue.code === "invalid_value") return `must be one of: ${issue.values.map(String).join(", ")}`;
    if (issue.code === "not_multiple_of") return `must be a multiple of ${String(issue.divisor)}`;
    return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigIssue[] {
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((key) => unknownKeyIssue(issue.path, key));
    }
    if (issue.code === "invalid_key" && issue.path.length > 0) {
        const key = issue.path[issue.path.length - 1];
        const parent = issue.path.slice(0, -1);
        // A record with enumerated keys (tools, charts, operators) reports an unknown key; a record
        // whose keys follow a pattern (env names, tool names) reports why this key does not.
        const own = issue.issues.find((inner) => !inner.message.startsWith("Invalid"));
        if (allowedKeysAt(parent) === undefined && own !== undefined) return [{ key: keyPath(issue.path), message: own.message }];
        return [unknownKeyIssue(parent, String(key))];
    }
    if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined) {
        return [{ key: keyPath(issue.path), message: "is required" }];
    }
    if (issue.code === "invalid_type") {
        const got = kindOf(valueAt(raw, issue.path));
        const message = issue.message.startsWith("Invalid input") ? `must be ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}` : issue.message;
        return [{ key: keyPath(issue.path), message: `${message}; got ${got}` }];
    }
    const library = issue.message.startsWith("Too ") || issue.message.startsWith("Invalid") ? libraryMessage(issue) : undefined;
    return [{ key: keyPath(issue.path), message: library ?? issue.message }];
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/**
 * Validates the raw `agent-security:` config of a stack (keys without the namespace prefix).
 * Pure: the caller supplies the stack name and the clock, so tests can pin both.
 */
export function parseConfig(raw: Readonly<Record<string, unknown>>, stack: string, now: Date = new Date()): AgentSecurityConfig {
    const parsed = configSchema.safeParse(raw);
    if (!parsed.success) {
        throw new ConfigError(parsed.error.issues.flatMap((issue) => describeIssue(issue, raw)));
    }
    const cfg = parsed.data;
    const issues: ConfigIssue[] = [];
    const at = (path: string, message: string) => issues.push({ key: `${PROJECT}:${path}`, message });

    const expected = STACK_PROFILES[stack];
    let profile: Profile;
    // A custom stack without a profile gets that one message, not the checks of a guessed profile.
    let toolsKnown = true;
    if (expected !== undefined) {
        if (cfg.profile !== undefined && cfg.profile !== expected) {
            at("profile", `stack ${stack} must use profile ${expected}, not ${cfg.profile} (stacks dev, ci, prod map to local, ci, prod)`);
        }
        profile = expected;
    } else if (cfg.profile === undefined) {
        at("profile", `is required for stack ${stack}: one of ${PROFILES.join(", ")} (only dev, ci and prod imply their profile)`);
        profile = "prod";
        toolsKnown = false;
    } else {
        profile = cfg.profile;
    }

    // Kyverno in Audit blocks nothing at admission, so in prod it counts as turning Kyverno off.
    const weakened = cfg.kyverno.validationAction === "Audit" ? { kyverno: { path: "kyverno.validationAction", enforcing: "Deny" } } : {};
    const resolution = resolveFeatures(profile, cfg.tools, cfg.emergencyOverride, now, weakened);
    // With a resolution error the matrix plus the overrides still decides which other checks apply,
    // so one mistake yields one message, not a cascade.
    const features: FeatureSet = resolution.ok ? resolution.features : { ...PROFILE_MATRIX[profile], ...cfg.tools };
    if (!resolution.ok && toolsKnown) {
        resolution.issues.forEach((issue: ResolutionIssue) => at(issue.path, issue.message));
    }
    // With a resolution error the tools' state is already reported; one mistake, one message.
    crossFieldIssues(cfg, { profile: toolsKnown ? profile : undefined, features, toolsKnown: toolsKnown && resolution.ok }, at);
    if (toolsKnown && resolution.ok) {
        responderIssues(cfg.responder, { profile, falco: features.falco, registries: cfg.registries }).forEach((issue) => at(issue.path, issue.message));
    }

    if (issues.length > 0) throw new ConfigError(issues);

    const charts = resolveCharts(cfg.chartRepository, cfg.charts);
    const operators = Object.fromEntries(
        OPERATOR_NAMES.map((name) => [name, { ...DEFAULT_OPERATORS[name], ...definedOnly(cfg.operators[name] ?? {}) }]),
    ) as Record<OperatorName, OperatorPin>;

    return deepFreeze({
        ...cfg,
        stack,
        profile,
        features,
        charts,
        operators,
        emergencyOverride: cfg.emergencyOverride,
    });
}

/**
 * Every chart's pin: the default, then the chart's own `charts.<key>.repo` and `version`, then the
 * stack's mirror (`chartRepository`) for the repository of every chart. The mirror wins over a
 * per-chart repo: it says "nothing comes from outside", and the committed stack files name the
 * upstream repos, so a per-chart repo winning would let the first chart reach out of an air gap.
 * Versions stay per chart: the mirror serves the pinned versions.
 */
export function resolveCharts(mirror: string | undefined, overrides: ParsedConfig["charts"]): Record<ChartName, ChartPin> {
    return Object.fromEntries(
        CHART_NAMES.map((name) => [name, { ...DEFAULT_CHARTS[name], ...definedOnly(overrides[name] ?? {}), ...(mirror === undefined ? {} : { repo: mirror }) }]),
    ) as Record<ChartName, ChartPin>;
}

function definedOnly<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
    }
    return value;
}

/**
 * Reads the stack's `agent-security:` keys from the Pulumi runtime. Structured values arrive as
 * JSON text; scalars as plain text.
 */
export function readRawConfig(): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    const prefix = `${PROJECT}:`;
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        // defineProperty: a key spelled `__proto__` stays a key (refused as unknown), not a prototype.
        Object.defineProperty(raw, key, { value: decodeConfigValue(text), enumerable: true, writable: true, configurable: true });
    }
    return raw;
}

function decodeConfigValue(text: string): unknown {
    if (text === "true") return true;
    if (text === "false") return false;
    const first = text.trimStart()[0];
    if (first === "{" || first === "[" || /^-?[0-9]+(\.[0-9]+)?$/.test(text)) {
        try {
            return JSON.parse(text);
        } catch {
            return text;
        }
    }
    return text;
}

export function loadConfig(now: Date = new Date()): AgentSecurityConfig {
    return parseConfig(readRawConfig(), pulumi.getStack(), now);
}
