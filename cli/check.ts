// npm run check -- [--config f.json] [--format text|json] <file|dir>...
//
// Evaluates the policy pack (the same policy objects CrossGuard runs, through
// policy-pack/evaluate.ts) on Kubernetes manifests. Contract: design.md section 9.
// Exit 0: no mandatory violation; 1: mandatory violations; 2: unreadable input or bad usage.
//
// YAML is read the way kubectl reads it. kubectl decodes YAML through sigs.k8s.io/yaml, i.e.
// go-yaml v2, which implements YAML 1.1: `0400` is octal (256), `yes`/`on` are true. A YAML 1.2
// reader would see `defaultMode: 0256` as 256 (the required 0400) while the cluster applies
// 0o256, and `privileged: yes` as a string while the cluster reads true. So documents are parsed
// as YAML 1.1, minus the sexagesimal and timestamp types that go-yaml v2 does not resolve.
// *.json files are parsed as strict JSON, where every number is decimal (256 is 0400).

import * as fs from "fs";
import * as path from "path";
import { Document, LineCounter, parseAllDocuments, Tags } from "yaml";
import { CHECK_DEFAULTS, PackSettings, parseFlatSettings, SETTING_KEYS } from "../policy-pack/checks/settings";
import { asArr, asObj, asStr, get } from "../policy-pack/checks/values";
import { typeTokenOf } from "../policy-pack/checks/workload";
import { evaluate, Finding, OfflineResource, PolicyError } from "../policy-pack/evaluate";
import { baselinePolicies } from "../policy-pack/policies";

const USAGE = `usage: npm run check -- [--config settings.json] [--format text|json] <file|dir>...

  --config  pack settings: the flat {profile, platform, approvedRegistries, kataRuntimeClasses}
            object, or a policy-pack/config/<stack>.json file (per-policy CrossGuard shape)
  --format  text (default): one line per violation and a summary; json: an array of
            {policy, enforcementLevel, kind, namespace, name, message}
  Directories are searched recursively for *.yaml, *.yml and *.json.
  Exit 0: no mandatory violation; 1: mandatory violations; 2: unreadable input or bad usage.`;

/** Input that cannot be read; reported as `file:line: message` and exit 2. */
export class InputError extends Error {
    constructor(
        readonly file: string,
        readonly line: number | undefined,
        message: string,
    ) {
        super(message);
    }

    toString(): string {
        return `${this.file}${this.line === undefined ? "" : `:${this.line}`}: ${this.message}`;
    }
}

export interface Manifest {
    readonly file: string;
    readonly line: number;
    readonly doc: Record<string, unknown>;
}

export interface Loaded {
    readonly manifests: Manifest[];
    /** Documents that are not Kubernetes objects (no apiVersion and no kind), such as a values file. */
    readonly skipped: number;
}

// go-yaml v2 resolves neither base-60 numbers (`1:20`) nor timestamps into other types.
const K8S_YAML_TAGS = (tags: Tags): Tags =>
    tags.filter((t) =>
        typeof t === "string"
            ? !["timestamp", "intTime", "floatTime"].includes(t)
            : !(t.tag === "tag:yaml.org,2002:timestamp" || t.format === "TIME"),
    );

function firstLine(message: string): string {
    return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** Kubernetes objects in one document: a List is expanded, an array is a list of documents. */
function objectsOf(value: unknown, file: string, line: number, out: Manifest[]): number {
    if (value === null || value === undefined) {
        return 0;
    }
    if (Array.isArray(value)) {
        return value.reduce<number>((skipped, item) => skipped + objectsOf(item, file, line, out), 0);
    }
    const o = asObj(value);
    if (o === undefined) {
        return 1;
    }
    const kind = o.kind;
    const apiVersion = o.apiVersion;
    if (kind === undefined && apiVersion === undefined) {
        return 1;
    }
    if (typeof kind !== "string" || kind === "" || typeof apiVersion !== "string" || apiVersion === "") {
        throw new InputError(file, line, "the document has no string apiVersion and kind, so it is not a Kubernetes object.");
    }
    if (kind.endsWith("List") && Array.isArray(o.items)) {
        return asArr(o.items).reduce<number>((skipped, item) => skipped + objectsOf(item, file, line, out), 0);
    }
    out.push({ file, line, doc: o as Record<string, unknown> });
    return 0;
}

/** Line of a JSON.parse error, from V8's "(line L column C)" or "at position P". */
function jsonErrorLine(text: string, message: string): number | undefined {
    const line = /\(line (\d+) column \d+\)/.exec(message);
    if (line !== null) {
        return Number(line[1]);
    }
    const position = /at position (\d+)/.exec(message);
    return position === null ? undefined : text.slice(0, Number(position[1])).split("\n").length;
}

function parseJson(text: string, file: string): unknown {
    try {
        return JSON.parse(text);
    } catch (e) {
        const message = (e as Error).message;
        throw new InputError(file, jsonErrorLine(text, message), `JSON syntax error: ${message}`);
    }
}

/**
 * Parses one file's text into Kubernetes objects: YAML (multi-document) or, for *.json, strict
 * JSON (a single value; an array or a List holds several objects).
 */
export function parseManifests(text: string, file: string): Loaded {
    const manifests: Manifest[] = [];
    if (file.toLowerCase().endsWith(".json")) {
        const skipped = objectsOf(parseJson(text, file), file, 1, manifests);
        return { manifests, skipped };
    }
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(text, { version: "1.1", customTags: K8S_YAML_TAGS, lineCounter, prettyErrors: true, uniqueKeys: true });
    let skipped = 0;
    for (const doc of docs as Document.Parsed[]) {
        const error = doc.errors[0];
        if (error !== undefined) {
            const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
            throw new InputError(file, line, `YAML syntax error: ${firstLine(error.message)}`);
        }
        const start = doc.contents?.range?.[0] ?? doc.range[0];
        const line = lineCounter.linePos(start).line;
        if (doc.directives?.yaml.explicit === true && doc.directives.yaml.version !== "1.1") {
            // A %YAML 1.2 directive would switch this reader to decimal `0400`; kubectl refuses it.
            throw new InputError(file, line, `the document declares %YAML ${doc.directives.yaml.version}; Kubernetes tools read YAML 1.1 only.`);
        }
        let value: unknown;
        try {
            value = doc.toJS({ maxAliasCount: 100 });
        } catch (e) {
            throw new InputError(file, line, `cannot read the document: ${(e as Error).message}`);
        }
        skipped += objectsOf(value, file, line, manifests);
    }
    return { manifests, skipped };
}

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];

/** Files named on the command line, directories expanded recursively in sorted order. */
export function collectFiles(paths: readonly string[]): string[] {
    const files: string[] = [];
    const seen = new Set<string>();
    const walk = (p: string, explicit: boolean): void => {
        let stat: fs.Stats;
        try {
            stat = fs.statSync(p);
        } catch (e) {
            throw new InputError(p, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
        }
        const real = fs.realpathSync(p);
        if (seen.has(real)) {
            return;
        }
        seen.add(real);
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(p).sort()) {
                walk(path.join(p, entry), false);
            }
        } else if (explicit || MANIFEST_EXTENSIONS.includes(path.extname(p).toLowerCase())) {
            files.push(p);
        }
    };
    for (const p of paths) {
        walk(p, true);
    }
    return files;
}

export function loadFiles(files: readonly string[]): Loaded {
    const manifests: Manifest[] = [];
    let skipped = 0;
    for (const file of files) {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw new InputError(file, undefined, `cannot read: ${(e as Error).message}`);
        }
        const loaded = parseManifests(text, file);
        manifests.push(...loaded.manifests);
        skipped += loaded.skipped;
    }
    return { manifests, skipped };
}

/** Pulumi-shaped resources for the evaluator; `*Patch` kinds become the Pulumi Patch types. */
export function toResources(manifests: readonly Manifest[]): OfflineResource[] {
    return manifests.map((m, i) => {
        const type = typeTokenOf(m.doc.apiVersion as string, m.doc.kind as string);
        return {
            type,
            props: m.doc,
            urn: `urn:pulumi:check::manifests::${type}::${i}`,
            name: asStr(get(m.doc, "metadata", "name")) ?? `${m.file}:${m.line}`,
        };
    });
}

/**
 * Reads `--config`: the flat settings object, or a CrossGuard policy config file (policy name ->
 * settings) whose entries must agree. Enforcement levels other than mandatory are refused: the
 * baseline has no switch.
 */
export function loadSettings(file: string): PackSettings {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new InputError(file, undefined, `cannot read: ${(e as Error).message}`);
    }
    const o = asObj(parseJson(text, file));
    if (o === undefined) {
        throw new InputError(file, undefined, "the settings must be a JSON object.");
    }
    const keys = Object.keys(o);
    const policyNames = new Set(baselinePolicies.map((p) => p.name));
    const flat = keys.length === 0 || keys.some((k) => (SETTING_KEYS as readonly string[]).includes(k));
    let settings: unknown = o;
    if (!flat) {
        const merged: Record<string, unknown> = {};
        for (const key of keys) {
            if (key !== "all" && !policyNames.has(key)) {
                throw new InputError(file, undefined, `"${key}" is neither a setting (${SETTING_KEYS.join(", ")}) nor a policy of the pack.`);
            }
            const entry = o[key];
            const level = typeof entry === "string" ? entry : get(entry, "enforcementLevel");
            if (level !== undefined && level !== "mandatory") {
                throw new InputError(file, undefined, `"${key}" sets enforcementLevel ${JSON.stringify(level)}; the baseline is mandatory and cannot be lowered.`);
            }
            for (const [k, v] of Object.entries(asObj(entry) ?? {})) {
                if (k === "enforcementLevel") {
                    continue;
                }
                if (k in merged && JSON.stringify(merged[k]) !== JSON.stringify(v)) {
                    throw new InputError(file, undefined, `policies disagree on ${k}: ${JSON.stringify(merged[k])} and ${JSON.stringify(v)} (in "${key}").`);
                }
                merged[k] = v;
            }
        }
        settings = merged;
    }
    const result = parseFlatSettings(settings);
    if (result.settings === undefined) {
        throw new InputError(file, undefined, `invalid settings: ${result.errors.join(" ")}`);
    }
    return result.settings;
}

interface Options {
    readonly config?: string;
    readonly format: "text" | "json";
    readonly paths: string[];
    readonly help: boolean;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Options {
    let config: string | undefined;
    let format: "text" | "json" = "text";
    let help = false;
    const paths: string[] = [];
    let onlyPaths = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (onlyPaths || !arg.startsWith("-") || arg === "-") {
            paths.push(arg);
            continue;
        }
        if (arg === "--") {
            onlyPaths = true;
            continue;
        }
        if (arg === "-h" || arg === "--help") {
            help = true;
            continue;
        }
        const eq = arg.indexOf("=");
        const flag = eq === -1 ? arg : arg.slice(0, eq);
        if (flag !== "--config" && flag !== "--format") {
            throw new UsageError(`unknown option ${arg}`);
        }
        let value: string | undefined;
        if (eq !== -1) {
            value = arg.slice(eq + 1);
        } else {
            value = argv[i + 1];
            i++;
        }
        if (value === undefined || value === "") {
            throw new UsageError(`${flag} needs a value`);
        }
        if (flag === "--config") {
            config = value;
        } else if (value === "text" || value === "json") {
            format = value;
        } else {
            throw new UsageError(`--format must be text or json, got ${JSON.stringify(value)}`);
        }
    }
    if (!help && paths.length === 0) {
        throw new UsageError("no file or directory given");
    }
    return { config, format, paths, help };
}

export interface Row {
    readonly policy: string;
    readonly enforcementLevel: string;
    readonly kind: string;
    readonly namespace: string;
    readonly name: string;
    readonly message: string;
}

export function toRows(findings: readonly Finding[], resources: readonly OfflineResource[]): Row[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return findings.map((f) => {
        const r = f.urn === undefined ? undefined : byUrn.get(f.urn);
        return {
            policy: f.policy,
            enforcementLevel: f.enforcementLevel,
            kind: asStr(r?.props.kind) ?? "",
            namespace: asStr(get(r?.props, "metadata", "namespace")) ?? "",
            name: asStr(get(r?.props, "metadata", "name")) ?? "",
            message: f.message,
        };
    });
}

function plural(n: number, noun: string): string {
    return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function textLine(row: Row): string {
    const subject = row.kind === "" ? "(stack)" : `${row.kind} ${row.namespace === "" ? "" : `${row.namespace}/`}${row.name}`;
    return `[${row.enforcementLevel}] ${row.policy} ${subject}: ${row.message}`;
}

export interface Io {
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
}

export async function runCheck(argv: readonly string[], io: Io): Promise<number> {
    let options: Options;
    try {
        options = parseArgs(argv);
    } catch (e) {
        io.err(`check: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    if (options.help) {
        io.out(USAGE);
        return 0;
    }
    let settings: PackSettings;
    let loaded: Loaded;
    let files: string[];
    try {
        settings = options.config === undefined ? CHECK_DEFAULTS : loadSettings(options.config);
        files = collectFiles(options.paths);
        loaded = loadFiles(files);
    } catch (e) {
        if (e instanceof InputError) {
            io.err(`check: ${e.toString()}`);
            return 2;
        }
        throw e;
    }
    if (options.config === undefined) {
        // An empty registry list approves nothing, exactly as in the pack: without a list the
        // check cannot tell a mirror from a typo-squatted host, so it does not guess.
        io.err(
            "check: no --config given; using profile local, platform kubernetes, approvedRegistries [] " +
                "(every image is rejected until registries are configured), kataRuntimeClasses [kata].",
        );
    }
    const resources = toResources(loaded.manifests);
    if (resources.length === 0) {
        io.err(`check: warning: no Kubernetes objects found in ${options.paths.join(", ")}.`);
    }
    let findings: Finding[];
    try {
        findings = await evaluate(resources, settings);
    } catch (e) {
        if (e instanceof PolicyError) {
            const index = e.urn === undefined ? -1 : resources.findIndex((r) => r.urn === e.urn);
            const where = index === -1 ? "" : ` (${loaded.manifests[index].file}:${loaded.manifests[index].line})`;
            io.err(`check: cannot evaluate${where}: ${e.message}`);
            return 2;
        }
        throw e;
    }
    const rows = toRows(findings, resources);
    const mandatory = rows.filter((r) => r.enforcementLevel === "mandatory").length;
    if (options.format === "json") {
        io.out(JSON.stringify(rows, null, 2));
    } else {
        for (const row of rows) {
            io.out(textLine(row));
        }
        const skipped = loaded.skipped > 0 ? ` (${loaded.skipped} non-Kubernetes documents skipped)` : "";
        const counts =
            rows.length === 0
                ? "no violations"
                : `${mandatory} mandatory and ${plural(rows.length - mandatory, "advisory violation")}`;
        io.out(`check: ${counts} in ${plural(resources.length, "resource")} from ${plural(files.length, "file")}${skipped}.`);
    }
    return mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
    runCheck(process.argv.slice(2), {
        out: (text) => process.stdout.write(`${text}\n`),
        err: (text) => process.stderr.write(`${text}\n`),
    }).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 2;
        },
    );
}
