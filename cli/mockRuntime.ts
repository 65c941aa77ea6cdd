// Runs the program under Pulumi's mock runtime: no engine, no cluster, no CLI. Shared by
// `npm run render`, the tests and the benchmarks so all three see the same resources.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { PROJECT, parseConfig } from "../config/schema";
import type { AgentSecurityConfig } from "../config/schema";
import { buildPlatform } from "../platform";
import type { PlatformOutputs } from "../platform";

export const REPO_ROOT = path.resolve(__dirname, "..");

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    /**
     * The URN without the parent-type chain (mocks are not told the parent). Stricter than the
     * engine's: two resources of one type and name clash here even under different parents.
     */
    readonly urn: string;
    readonly inputs: Record<string, unknown>;
    readonly provider?: string;
}

export interface StackRun {
    readonly config: AgentSecurityConfig;
    readonly outputs: PlatformOutputs;
    readonly resources: readonly RecordedResource[];
}

export class StackFileError extends Error {}

/** A stack file larger than this is not a hand-written stack file. */
export const MAX_STACK_FILE_BYTES = 1024 * 1024;
/** Deeper than any stack file needs (the tool policy's rules sit about ten levels down). */
export const MAX_STACK_FILE_DEPTH = 64;

/** The `agent-security:` keys of `Pulumi.<stack>.yaml`, without the namespace prefix. */
export function readStackConfig(stack: string, dir: string = REPO_ROOT): Record<string, unknown> {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const shown = path.relative(process.cwd(), file) || file;
    if (!fs.existsSync(file)) {
        throw new StackFileError(`no stack file ${shown}: known stacks are dev, ci and prod`);
    }
    const text = fs.readFileSync(file, "utf8");
    if (Buffer.byteLength(text, "utf8") > MAX_STACK_FILE_BYTES) {
        throw new StackFileError(`${shown}: is larger than ${MAX_STACK_FILE_BYTES} bytes; a stack file holds config, not data`);
    }
    const parsed = parseStackYaml(text, shown);
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
        throw new StackFileError(`${shown}: must be a mapping with a config: key, not ${Array.isArray(parsed) ? "a list" : `a ${typeof parsed}`}`);
    }
    const config = (parsed as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new StackFileError(`${shown}: config: must be a mapping of keys such as agent-security:platform`);
    }
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        // defineProperty: a key spelled `__proto__` must stay a key (and be refused as unknown),
        // not replace the object's prototype.
        if (key.startsWith(`${PROJECT}:`)) Object.defineProperty(raw, key.slice(PROJECT.length + 1), { value, enumerable: true, writable: true, configurable: true });
    }
    return raw;
}

/**
 * YAML to plain data, with every way a hostile file can hurt the reader turned into one error
 * that names the file: syntax errors, alias bombs (the yaml library's maxAliasCount throws a
 * ReferenceError), nesting deep enough to overflow the parser's stack (a RangeError without a
 * key), and merge keys or custom tags, which a stack file never needs.
 */
function parseStackYaml(text: string, shown: string): unknown {
    let document: YAML.Document.Parsed;
    try {
        document = YAML.parseDocument(text, { prettyErrors: true, merge: false, uniqueKeys: true, schema: "core", customTags: [] });
    } catch (error) {
        throw new StackFileError(`${shown}: ${hostileYamlMessage(error)}`);
    }
    if (document.errors.length > 0) {
        const first = document.errors[0];
        const line = first?.linePos?.[0]?.line ?? 0;
        // The parser reports its own stack overflow as a syntax error, with a screenful of brackets.
        if (first?.message.includes("Maximum call stack size exceeded")) throw new StackFileError(`${shown}:${line}: ${hostileYamlMessage(new RangeError())}`);
        throw new StackFileError(`${shown}:${line}: ${first?.message ?? "invalid YAML"}`);
    }
    let value: unknown;
    try {
        value = document.toJS({ maxAliasCount: 50 });
    } catch (error) {
        throw new StackFileError(`${shown}: ${hostileYamlMessage(error)}`);
    }
    const depth = nestingDepth(value, 0);
    if (depth > MAX_STACK_FILE_DEPTH) {
        throw new StackFileError(`${shown}: is nested more than ${MAX_STACK_FILE_DEPTH} levels deep; no stack config key needs that`);
    }
    return value;
}

function hostileYamlMessage(error: unknown): string {
    if (error instanceof RangeError) return `is nested too deeply to read (more than the parser's stack allows); no stack config key needs that`;
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
        return "uses too many YAML aliases (*name), which expands like an alias bomb; write the values out or use fewer aliases";
    }
    return `could not be read as YAML: ${error instanceof Error ? error.message : String(error)}`;
}

/** Iterative, so a deep value cannot overflow the stack while it is measured. */
function nestingDepth(value: unknown, start: number): number {
    let deepest = start;
    const pending: [unknown, number][] = [[value, start]];
    while (pending.length > 0) {
        const [current, depth] = pending.pop() as [unknown, number];
        if (current === null || typeof current !== "object") continue;
        deepest = Math.max(deepest, depth + 1);
        if (deepest > MAX_STACK_FILE_DEPTH) return deepest;
        for (const child of Object.values(current)) pending.push([child, depth + 1]);
    }
    return deepest;
}

/** Pulumi keeps structured config as JSON text; scalars as plain text. */
function toPulumiConfig(raw: Readonly<Record<string, unknown>>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(raw).map(([key, value]) => [`${PROJECT}:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts `specialSigKey` / `specialSecretSig`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * Mocks receive secret inputs still wrapped (`{<sig>: <secret sig>, value}`); the SDK's Secret class
 * marks every `data`/`stringData` secret. The recorded manifest shows the value, as the provider's
 * renderYamlToDirectory does, so Secrets validate like any other resource.
 */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, child]) => [key, unwrapSecrets(child)]));
}

function isKubernetesResource(type: string): boolean {
    return type.startsWith("kubernetes:") && !type.startsWith("pulumi:providers:");
}

/**
 * Evaluates a stack config under mocks and returns every registered resource. Validation errors
 * surface as ConfigError before any resource exists: nothing is half-applied.
 */
export async function runStack(
    stack: string,
    raw: Readonly<Record<string, unknown>>,
    options: { readonly now?: Date; readonly preview?: boolean } = {},
): Promise<StackRun> {
    const config = parseConfig(raw, stack, options.now ?? new Date());
    const { result: outputs, resources } = await recordUnderMocks(stack, () => buildPlatform(config), {
        preview: options.preview,
        config: toPulumiConfig(raw),
    });
    return { config, outputs, resources };
}

/**
 * Runs `build` under Pulumi's mocks and returns what it returned plus every resource it
 * registered, once the registrations have drained. Components can be tested alone with it.
 */
export async function recordUnderMocks<T>(
    stack: string,
    build: () => T,
    options: { readonly preview?: boolean; readonly config?: Record<string, string> } = {},
): Promise<{ readonly result: T; readonly resources: RecordedResource[] }> {
    const resources: RecordedResource[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
                const inputs = unwrapSecrets(structuredClone(args.inputs)) as Record<string, unknown>;
                resources.push({ type: args.type, name: args.name, urn: `urn:pulumi:${stack}::${PROJECT}::${args.type}::${args.name}`, inputs, provider: args.provider });
                const state: Record<string, unknown> = { ...inputs };
                // Mimic the provider's auto-naming deterministically, so outputs that read
                // metadata.name resolve (the program sets explicit names wherever it matters).
                if (isKubernetesResource(args.type)) {
                    const metadata = (state.metadata ?? {}) as Record<string, unknown>;
                    state.metadata = { ...metadata, name: metadata.name ?? args.name };
                }
                return { id: `${args.name}-id`, state };
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
                return args.inputs;
            },
        },
        PROJECT,
        stack,
        options.preview ?? false,
    );
    pulumi.runtime.setAllConfig(options.config ?? {});
    const result = await withPlainStackTraces(async () => {
        const built = build();
        await waitForRegistrations();
        return built;
    });
    return { result, resources };
}

/**
 * The SDK formats a stack trace for every promise and every resource it registers
 * (runtime/debuggable.js, Resource.callsites in resource.js). Under ts-node, source-map-support
 * rewrites each of those traces, which made evaluation ~5 ms per resource; V8's own formatting
 * is enough here because mocks record no source positions.
 */
async function withPlainStackTraces<T>(work: () => Promise<T>): Promise<T> {
    const mapped = Error.prepareStackTrace;
    delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    try {
        return await work();
    } finally {
        Error.prepareStackTrace = mapped;
    }
}

async function waitForRegistrations(): Promise<void> {
    // The SDK's own drain of outstanding RPCs; registrations under mocks go through it too.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };
    await settings.waitForRPCs();
}

export async function runStackFile(stack: string, options: { readonly now?: Date; readonly dir?: string } = {}): Promise<StackRun> {
    return runStack(stack, readStackConfig(stack, options.dir), options);
}

// ---------------------------------------------------------------------------------------------
// Manifests and charts out of recorded resources
// ---------------------------------------------------------------------------------------------

export interface Manifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
    readonly [key: string]: unknown;
}

export interface ChartRelease {
    readonly release: string;
    readonly chart: string;
    readonly version: string;
    readonly repo: string;
    readonly namespace: string;
    readonly values: Record<string, unknown>;
}

const HELM_CHART_TYPE = "kubernetes:helm.sh/v4:Chart";

export function chartsOf(resources: readonly RecordedResource[]): ChartRelease[] {
    return resources
        .filter((resource) => resource.type === HELM_CHART_TYPE)
        .map((resource) => {
            const inputs = resource.inputs as {
                name?: string;
                chart?: string;
                version?: string;
                namespace?: string;
                repositoryOpts?: { repo?: string };
                values?: Record<string, unknown>;
            };
            return {
                release: inputs.name ?? resource.name,
                chart: inputs.chart ?? "",
                version: inputs.version ?? "",
                repo: inputs.repositoryOpts?.repo ?? (inputs.chart?.startsWith("oci://") ? inputs.chart : ""),
                namespace: inputs.namespace ?? "",
                values: inputs.values ?? {},
            };
        });
}

/** Kubernetes objects (including *Patch kinds) as the API server would receive them. */
export function manifestsOf(resources: readonly RecordedResource[]): Manifest[] {
    const out: Manifest[] = [];
    for (const resource of resources) {
        if (!isKubernetesResource(resource.type) || resource.type === HELM_CHART_TYPE) continue;
        const inputs = resource.inputs;
        if (typeof inputs.apiVersion !== "string" || typeof inputs.kind !== "string") continue;
        const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
        // A patch of an existing object (DeploymentPatch, NodePatch, a CustomResourcePatch of the
        // Sail Istio) keeps its Patch kind on file, so `check` and reviewers never mistake it for
        // a complete object (design.md section 9).
        const isPatch = resource.type.endsWith("Patch") && !inputs.kind.endsWith("Patch");
        out.push({
            ...inputs,
            apiVersion: inputs.apiVersion,
            kind: isPatch ? `${inputs.kind}Patch` : inputs.kind,
            metadata: { ...metadata, name: typeof metadata.name === "string" ? metadata.name : resource.name },
        });
    }
    return out;
}

export function manifestFileName(manifest: Manifest): string {
    const namespace = manifest.metadata.namespace;
    const parts = namespace ? [manifest.kind, namespace, manifest.metadata.name] : [manifest.kind, manifest.metadata.name];
    return `${parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_")}.yaml`;
}

export function toYaml(value: unknown): string {
    return YAML.stringify(value, { sortMapEntries: false, lineWidth: 0 });
}
