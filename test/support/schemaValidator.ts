// Why this exists: a rendered resource that the Kubernetes API server would refuse, or would accept
// after silently pruning a mistyped field, is a bug we want to see in `npm test`, not on a cluster.
// The only trustworthy reference is the upstream schemas themselves (../shared/crds, see
// SOURCES.md), so the tests check every manifest against them instead of against hand-written
// expectations. Those schemas are OpenAPI structural schemas with Kubernetes extensions and Go RE2
// patterns, which a JSON-Schema validator misreads, so they are translated here with the API
// server's rules made stricter where silence would hide a bug: unknown fields are errors (the server
// prunes them), deprecated API versions are errors (project rule), and an apiVersion/kind without a
// schema is an error rather than a skip. CEL rules (`x-kubernetes-validations`) are not evaluated;
// the tests that care assert them explicitly.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import Ajv from "ajv";
import type { ErrorObject, Format, SchemaValidateFunction, ValidateFunction } from "ajv";
import * as YAML from "yaml";
import { re2Engine, re2RegExp, translateRe2 } from "./re2";

export interface SchemaCheck {
  readonly ok: boolean;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

export interface ValidateOptions {
  /** Validate as a Pulumi `*Patch` (partial object) even when `kind` has no `Patch` suffix. */
  readonly patch?: boolean;
}

export interface SchemaValidator {
  /** Picks the schema by apiVersion + kind; a kind `XPatch` is validated as a partial `X`. */
  validate(manifest: Record<string, unknown>, options?: ValidateOptions): SchemaCheck;
  knows(apiVersion: string, kind: string): boolean;
}

type JsonObject = { [key: string]: unknown };

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const DEFAULT_RELATIVE_DIR = "../shared/crds";
const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const CORE_FILE = "api__v1_openapi.json";
const ID_ROOT = "https://schemas.agent-security.invalid/kubernetes";

export interface SchemaAudit {
  readonly crdVersions: number;
  readonly builtinKinds: number;
  /** Upstream RE2 patterns that are checked through a JavaScript translation. */
  readonly translatedPatterns: readonly string[];
  /** Schema parts that cannot be checked (unsupported keyword, untranslatable pattern); should be empty. */
  readonly problems: readonly string[];
}

/** Converts every schema in the folder without compiling it: the "nothing is silently dropped" check. */
export function auditSchemaDir(dir?: string): SchemaAudit {
  const validator = loadSchemaValidator(dir);
  if (!(validator instanceof SupplementedValidator)) throw new Error("unexpected validator implementation");
  return validator.upstream.audit();
}

/** `CRD_SCHEMAS_DIR` (resolved against the working directory) or `../shared/crds` next to the repo. */
export function defaultSchemaDir(): string {
  const fromEnv = process.env.CRD_SCHEMAS_DIR;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.resolve(REPO_ROOT, DEFAULT_RELATIVE_DIR);
}

const validators = new Map<string, SchemaValidator>();

/** One validator per directory; schemas are parsed and compiled lazily on first use. */
export function loadSchemaValidator(dir?: string): SchemaValidator {
  const resolved = path.resolve(dir ?? defaultSchemaDir());
  const cached = validators.get(resolved);
  if (cached) return cached;
  const validator = new SupplementedValidator(new UpstreamSchemaValidator(resolved, describeSource(dir)), SUPPLEMENT_DIR);
  validators.set(resolved, validator);
  return validator;
}

/**
 * Project-written JSON Schemas for kinds the shared folder lacks (each file says why it exists
 * and what it was written from). They only answer for a kind the upstream folder does not know,
 * so an upstream schema, once added to ../shared/crds, always wins.
 */
const SUPPLEMENT_DIR = path.join(REPO_ROOT, "test", "schemas");

class SupplementedValidator implements SchemaValidator {
  private readonly supplements = new Map<string, ValidateFunction>();

  constructor(readonly upstream: UpstreamSchemaValidator, dir: string) {
    if (!fs.existsSync(dir)) return;
    const ajv = new Ajv({ allErrors: true, strict: true });
    for (const file of fs.readdirSync(dir).filter((name) => name.endsWith(".schema.json")).sort()) {
      const schema = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as JsonObject;
      const properties = (schema.properties ?? {}) as { apiVersion?: { const?: string }; kind?: { const?: string } };
      const apiVersion = properties.apiVersion?.const;
      const kind = properties.kind?.const;
      if (apiVersion === undefined || kind === undefined) {
        throw new Error(`${path.join(dir, file)}: a supplementary schema must pin properties.apiVersion.const and properties.kind.const`);
      }
      this.supplements.set(`${apiVersion}/${kind}`, ajv.compile(schema));
    }
  }

  knows(apiVersion: string, kind: string): boolean {
    return this.upstream.knows(apiVersion, kind) || this.supplements.has(`${apiVersion}/${kind}`);
  }

  validate(manifest: Record<string, unknown>, options?: ValidateOptions): SchemaCheck {
    const { apiVersion, kind } = manifest;
    const supplement = typeof apiVersion === "string" && typeof kind === "string" && !this.upstream.knows(apiVersion, kind)
      ? this.supplements.get(`${apiVersion}/${kind}`)
      : undefined;
    if (!supplement) return this.upstream.validate(manifest, options);
    const ok = supplement(manifest) === true;
    return {
      ok,
      errors: ok ? [] : formatErrors(supplement.errors ?? []).map((error) => `${apiVersion} ${kind} (project schema): ${error}`),
      warnings: [`${apiVersion} ${kind} validated against the project's supplementary schema in test/schemas`],
    };
  }
}

function describeSource(dir: string | undefined): string {
  if (dir !== undefined) return "the dir argument";
  const fromEnv = process.env.CRD_SCHEMAS_DIR;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return `CRD_SCHEMAS_DIR=${fromEnv}`;
  return `the default ${DEFAULT_RELATIVE_DIR} relative to the repo root ${REPO_ROOT}`;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Index of the schema folder

interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly deprecated: boolean;
  readonly deprecationWarning: string | undefined;
  readonly schema: unknown;
}

interface Crd {
  readonly file: string;
  readonly group: string;
  readonly kind: string;
  readonly scope: string;
  readonly versions: readonly CrdVersion[];
}

interface CrdSource {
  readonly file: string;
  readonly text: string;
  parsed?: Crd;
}

interface BuiltinSource {
  readonly file: string;
  readonly definition: string;
}

interface OpenApiFile {
  readonly file: string;
  readonly schemas: JsonObject;
}

const CRD_KIND_LINE = /^kind:[ \t]*["']?CustomResourceDefinition["']?[ \t]*$/m;
const DOC_SEPARATOR = /^---[ \t]*(?:#.*)?$/m;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function unquote(raw: string): string | undefined {
  const v = raw.trim();
  const m = /^"([^"\\]*)"$|^'([^']*)'$|^([^"'#\s][^#\s]*)$/.exec(v);
  if (!m) return undefined;
  return m[1] ?? m[2] ?? m[3];
}

// Controller-gen and Istio CRDs put `spec.group` and `spec.names.kind` at fixed indentation, so the
// index reads them from the text and full YAML parsing (about 1 s for the whole folder) happens
// only for the CRDs a test uses. Anything unusual falls back to a real parse, and every parse is
// checked against the index.
function headerOf(text: string): { group: string; kind: string } | undefined {
  const spec = /^spec:[ \t]*\n((?:(?:[ \t].*)?\n)*)/m.exec(text.endsWith("\n") ? text : `${text}\n`);
  if (!spec) return undefined;
  const block = spec[1];
  const group = /^ {2}group:(.*)$/m.exec(block);
  const names = /^ {2}names:[ \t]*\n((?:(?: {4}.*|[ \t]*)\n)*)/m.exec(block);
  const kind = names ? /^ {4}kind:(.*)$/m.exec(names[1]) : null;
  const g = group ? unquote(group[1]) : undefined;
  const k = kind ? unquote(kind[1]) : undefined;
  if (g === undefined || k === undefined || !/^[a-z0-9.-]+$/.test(g) || !/^[A-Za-z0-9]+$/.test(k)) return undefined;
  return { group: g, kind: k };
}

function parseYaml(text: string, file: string): unknown {
  try {
    return YAML.parse(text, { logLevel: "error" }) as unknown;
  } catch (e) {
    throw new Error(`${file}: YAML parse error: ${(e as Error).message}`);
  }
}

function crdFromDocument(doc: unknown, file: string): Crd | undefined {
  if (!isObject(doc) || doc.kind !== "CustomResourceDefinition" || !isObject(doc.spec)) return undefined;
  const spec = doc.spec;
  const names = isObject(spec.names) ? spec.names : {};
  if (typeof spec.group !== "string" || typeof names.kind !== "string" || !Array.isArray(spec.versions)) {
    throw new Error(`${file}: CustomResourceDefinition without spec.group, spec.names.kind or spec.versions`);
  }
  const versions: CrdVersion[] = [];
  for (const v of spec.versions as unknown[]) {
    if (!isObject(v) || typeof v.name !== "string") throw new Error(`${file}: ${names.kind} has a version without a name`);
    const schema = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    versions.push({
      name: v.name,
      served: v.served === true,
      deprecated: v.deprecated === true,
      deprecationWarning: typeof v.deprecationWarning === "string" ? v.deprecationWarning : undefined,
      schema,
    });
  }
  return { file, group: spec.group, kind: names.kind, scope: typeof spec.scope === "string" ? spec.scope : "Namespaced", versions };
}

// Kubernetes API version priority: GA > beta > alpha, then the higher number
// (k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings).
function versionRank(name: string): [number, number, number] {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(name);
  if (!m) return [-1, 0, 0];
  const stage = m[2] === undefined ? 2 : m[2] === "beta" ? 1 : 0;
  return [stage, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
}

function compareVersionPriority(a: string, b: string): number {
  const ra = versionRank(a);
  const rb = versionRank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
  return a.localeCompare(b);
}

// ---------------------------------------------------------------------------------------------
// OpenAPI structural schema -> JSON Schema for ajv

// Keywords that carry no constraint a JSON-Schema validator can check (CEL, SSA merge hints,
// docs). Anything not listed here or handled below makes the conversion fail loudly.
const ANNOTATION_KEYWORDS = new Set([
  "description", "default", "example", "title", "externalDocs", "readOnly", "writeOnly", "deprecated",
  "x-kubernetes-validations", "x-kubernetes-map-type", "x-kubernetes-group-version-kind",
  "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy", "x-kubernetes-unions",
  "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource",
  "x-kubernetes-list-map-keys",
]);
const COPIED_KEYWORDS = new Set([
  "maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems", "uniqueItems",
  "maxProperties", "minProperties", "multipleOf",
]);

const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w))+$|^[-+]?0$/;
const FORMATS: Readonly<Record<string, Format>> = {
  int32: { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 },
  int64: { type: "number", validate: (n: number) => Number.isInteger(n) },
  float: { type: "number", validate: (n: number) => Number.isFinite(n) },
  double: { type: "number", validate: (n: number) => Number.isFinite(n) },
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  "date-time": /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$/,
  duration: (s: string) => GO_DURATION.test(s) || /^\d+\s*[a-zA-Zµ]+$/.test(s),
  ipv4: (s: string) => net.isIPv4(s),
  ipv6: (s: string) => net.isIPv6(s),
  cidr: (s: string) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
    if (!m) return false;
    const bits = net.isIPv4(m[1]) ? 32 : net.isIPv6(m[1]) ? 128 : -1;
    return bits > 0 && Number(m[2]) <= bits;
  },
  hostname: /^(?=.{1,253}$)[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/,
  uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
  mac: /^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/,
  email: /^[^@\s]+@[^@\s]+$/,
  // Go's url.Parse and IDNA accept nearly anything; checking them here would only invent errors.
  uri: true,
  "idn-hostname": true,
  password: true,
};

const LIGHT_OBJECT_META: JsonObject = {
  type: "object",
  properties: {
    name: { type: "string" },
    generateName: { type: "string" },
    namespace: { type: "string" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
    finalizers: { type: "array", items: { type: "string" } },
  },
};

interface ConvertContext {
  readonly partial: boolean;
  /** CRD semantics: the API server enforces `x-kubernetes-list-type` uniqueness. */
  readonly crd: boolean;
  /** Absolute `$id` of the definitions that `#/components/schemas/...` refs point into. */
  readonly refBase: string | undefined;
  readonly objectMeta: () => JsonObject;
  readonly problems: string[];
  /** Collects the RE2 patterns whose JavaScript form differs (for the audit). */
  readonly translated?: Set<string>;
}

function requiresFields(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(requiresFields);
  if (!isObject(schema)) return false;
  return Object.entries(schema).some(([k, v]) => k === "required" || requiresFields(v));
}

function isIntOrStringPair(branches: unknown): boolean {
  if (!Array.isArray(branches) || branches.length !== 2) return false;
  const types = branches.map((b) => (isObject(b) && Object.keys(b).length === 1 ? b.type : undefined)).sort();
  return types[0] === "integer" && types[1] === "string";
}

function childPath(at: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
}

/**
 * Converts one structural-schema node. `inBranch` is true below oneOf/anyOf/allOf/not: structural
 * schemas use those only to require fields, so unknown-field strictness would reject every object.
 */
function convert(node: unknown, ctx: ConvertContext, at: string, inBranch: boolean): JsonObject {
  if (node === true || (isObject(node) && Object.keys(node).length === 0)) return {};
  if (!isObject(node)) {
    ctx.problems.push(`${at || "(root)"}: schema is not an object`);
    return {};
  }
  const out: JsonObject = {};
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = node["x-kubernetes-int-or-string"] === true || node.format === "int-or-string";
  const nullable = node.nullable === true;

  for (const key of Object.keys(node)) {
    if (ANNOTATION_KEYWORDS.has(key) || COPIED_KEYWORDS.has(key)) continue;
    if (["type", "nullable", "enum", "format", "pattern", "properties", "additionalProperties", "items", "required",
      "allOf", "anyOf", "oneOf", "not", "$ref", "x-kubernetes-list-type", "exclusiveMinimum", "exclusiveMaximum"].includes(key)) continue;
    ctx.problems.push(`${at || "(root)"}: unsupported schema keyword "${key}"`);
  }
  for (const key of COPIED_KEYWORDS) if (node[key] !== undefined) out[key] = node[key];

  let types: string[] | undefined;
  if (typeof node.type === "string") types = [node.type];
  else if (node.type !== undefined) ctx.problems.push(`${at || "(root)"}: type must be a string`);
  if (intOrString) types = ["integer", "string"];
  if (nullable && types) types.push("null");
  if (types) out.type = types.length === 1 ? types[0] : types;

  if (Array.isArray(node.enum)) out.enum = nullable && !node.enum.includes(null) ? [...node.enum, null] : node.enum;

  if (typeof node.format === "string" && !intOrString && node.format in FORMATS) out.format = node.format;

  if (typeof node.pattern === "string") {
    try {
      re2RegExp(node.pattern);
      out.pattern = node.pattern; // ajv compiles it through re2Engine
      const t = translateRe2(node.pattern);
      if (t.source !== node.pattern || t.flags !== "") ctx.translated?.add(node.pattern);
    } catch (e) {
      ctx.problems.push(`${at || "(root)"}: ${(e as Error).message}`);
    }
  }

  for (const [key, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
    const v = node[key];
    if (typeof v === "number") out[key] = v;
    else if (v === true && typeof node[bound] === "number") {
      out[key] = node[bound]; // OpenAPI 3.0 boolean form
      delete out[bound];
    }
  }

  if (isObject(node.properties)) {
    const props: JsonObject = {};
    for (const [name, sub] of Object.entries(node.properties)) props[name] = convert(sub, ctx, childPath(at, name), inBranch);
    out.properties = props;
  }
  if (node["x-kubernetes-embedded-resource"] === true) {
    const props = isObject(out.properties) ? out.properties : {};
    props.apiVersion ??= { type: "string" };
    props.kind ??= { type: "string" };
    props.metadata = props.metadata === undefined ? ctx.objectMeta() : { allOf: [ctx.objectMeta(), props.metadata] };
    out.properties = props;
  }
  if (typeof node.additionalProperties === "boolean") out.additionalProperties = node.additionalProperties;
  else if (node.additionalProperties !== undefined) out.additionalProperties = convert(node.additionalProperties, ctx, `${at}{*}`, inBranch);
  else if (!inBranch && !preserve && out.properties !== undefined) out.additionalProperties = false;

  if (node.items !== undefined) {
    if (Array.isArray(node.items)) ctx.problems.push(`${at || "(root)"}: tuple items are not supported`);
    else out.items = convert(node.items, ctx, `${at}[*]`, inBranch);
  }
  if (Array.isArray(node.required) && !ctx.partial) out.required = node.required;

  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const branches = node[key];
    if (!Array.isArray(branches)) continue;
    if (intOrString && key === "anyOf" && isIntOrStringPair(branches)) continue; // already in `type`
    // Patches are partial: presence rules ("exactly one of a, b") cannot hold for them.
    if (ctx.partial && key !== "allOf" && requiresFields(branches)) continue;
    out[key] = branches.map((b, i) => convert(b, ctx, `${at}|${key}[${i}]`, true));
  }
  if (node.not !== undefined && !(ctx.partial && requiresFields(node.not))) out.not = convert(node.not, ctx, `${at}|not`, true);

  if (typeof node.$ref === "string") {
    const m = /^#\/components\/schemas\/([A-Za-z0-9._-]+)$/.exec(node.$ref);
    if (!m || ctx.refBase === undefined) ctx.problems.push(`${at || "(root)"}: unsupported $ref ${node.$ref}`);
    else out.$ref = `${ctx.refBase}#/definitions/${m[1]}`;
  }

  if (ctx.crd && typeof node["x-kubernetes-list-type"] === "string") {
    out["x-kubernetes-list-type"] = node["x-kubernetes-list-type"];
    if (Array.isArray(node["x-kubernetes-list-map-keys"])) out["x-kubernetes-list-map-keys"] = node["x-kubernetes-list-map-keys"];
  }
  return out;
}

function onlyTypeObject(schema: unknown): boolean {
  return isObject(schema) && Object.keys(schema).every((k) => k === "type" || k === "description") && schema.type === "object";
}

/** CRD root: the API server supplies apiVersion/kind/metadata even where the CRD omits them (Istio). */
function convertCrdRoot(raw: unknown, ctx: ConvertContext): JsonObject {
  const root = convert(raw, ctx, "", false);
  const props: JsonObject = isObject(root.properties) ? { ...root.properties } : {};
  props.apiVersion = { type: "string" };
  props.kind = { type: "string" };
  const rawMeta = isObject(raw) && isObject(raw.properties) ? raw.properties.metadata : undefined;
  props.metadata = rawMeta === undefined || onlyTypeObject(rawMeta)
    ? ctx.objectMeta()
    : { allOf: [ctx.objectMeta(), convert(rawMeta, ctx, ".metadata", true)] };
  root.properties = props;
  root.type = "object";
  const preserve = isObject(raw) && raw["x-kubernetes-preserve-unknown-fields"] === true;
  if (root.additionalProperties === undefined && !preserve) root.additionalProperties = false;
  return root;
}

// The API server rejects duplicates in `set` lists and duplicate keys in `map` lists.
const listTypeKeyword: SchemaValidateFunction = function listType(schema, data, parentSchema, dataCxt) {
  if (!Array.isArray(data)) return true;
  const keys = parentSchema?.["x-kubernetes-list-map-keys"];
  const keyOf = (item: unknown): string | undefined => {
    if (schema === "set") return JSON.stringify(item);
    if (schema === "map" && Array.isArray(keys) && isObject(item)) return JSON.stringify(keys.map((k: string) => item[k] ?? null));
    return undefined;
  };
  const seen = new Map<string, number>();
  const errors: Partial<ErrorObject>[] = [];
  data.forEach((item, i) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      errors.push({
        instancePath: `${dataCxt?.instancePath ?? ""}/${i}`,
        keyword: "x-kubernetes-list-type",
        message: schema === "map"
          ? `duplicate entry ${(keys as string[]).map((k) => `${k}=${short(isObject(item) ? item[k] : undefined)}`).join(", ")} (same as item ${first}; x-kubernetes-list-type: map)`
          : `duplicate item ${key} (same as item ${first}; x-kubernetes-list-type: set)`,
        params: { duplicateOf: first },
      });
    }
  });
  listTypeKeyword.errors = errors;
  return errors.length === 0;
};

// ---------------------------------------------------------------------------------------------
// Error messages

function dottedPath(instancePath: string): string {
  if (instancePath === "") return "(root)";
  let out = "";
  for (const raw of instancePath.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function short(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function describe(schema: unknown): string {
  if (!isObject(schema)) return short(schema);
  const parts: string[] = [];
  if (Array.isArray(schema.required)) parts.push(`{${schema.required.join(", ")}}`);
  if (schema.type !== undefined) parts.push(Array.isArray(schema.type) ? schema.type.join("|") : String(schema.type));
  if (Array.isArray(schema.enum)) parts.push(`one of ${short(schema.enum)}`);
  if (typeof schema.format === "string") parts.push(`format ${schema.format}`);
  if (isObject(schema.properties)) {
    for (const [k, v] of Object.entries(schema.properties)) {
      const d = describe(v);
      if (d !== "anything") parts.push(`${k}: ${d}`);
    }
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) parts.push(`(${branches.map(describe).join(key === "anyOf" ? " or " : " xor ")})`);
  }
  if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.map(describe));
  if (schema.not !== undefined) parts.push(`not ${describe(schema.not)}`);
  return parts.length === 0 ? "anything" : parts.join(" and ");
}

function formatError(e: ErrorObject): string {
  const where = dottedPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `${where}: missing required field "${String(p.missingProperty)}"`;
    case "additionalProperties": {
      const props = isObject(e.parentSchema) && isObject(e.parentSchema.properties) ? Object.keys(e.parentSchema.properties) : [];
      const allowed = props.length > 40 ? `${props.slice(0, 40).join(", ")}, ...` : props.join(", ");
      return `${where}: unknown field "${String(p.additionalProperty)}" (allowed: ${allowed || "none"})`;
    }
    case "type":
      return `${where}: must be ${String(p.type).split(",").join(" or ")}, got ${jsonType(e.data)} ${short(e.data)}`;
    case "enum":
      return `${where}: must be one of ${short(p.allowedValues)}, got ${short(e.data)}`;
    case "pattern":
      return `${where}: ${short(e.data)} does not match the pattern ${String(p.pattern)}`;
    case "format":
      return `${where}: ${short(e.data)} is not a valid ${String(p.format)}`;
    case "oneOf": {
      const alternatives = Array.isArray(e.schema) ? e.schema.map(describe).join(" | ") : "";
      const passing = p.passingSchemas;
      return Array.isArray(passing)
        ? `${where}: must match exactly one of: ${alternatives}; it matches alternatives ${passing.map((i: number) => i + 1).join(" and ")}`
        : `${where}: must match exactly one of: ${alternatives}`;
    }
    case "anyOf":
      return `${where}: must match at least one of: ${Array.isArray(e.schema) ? e.schema.map(describe).join(" | ") : ""}`;
    case "not":
      return `${where}: must not match ${describe(e.schema)}`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/** One message per problem: a failed oneOf/anyOf is summarized instead of listing every branch. */
function formatErrors(errors: readonly ErrorObject[]): string[] {
  const combinators = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf" || e.keyword === "not");
  const inBranch = (e: ErrorObject): boolean =>
    combinators.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && e.instancePath.startsWith(c.instancePath));
  return [...new Set(errors.filter((e) => !inBranch(e)).map(formatError))];
}

// ---------------------------------------------------------------------------------------------
// The validator

type Target =
  | { readonly source: "crd"; readonly crd: Crd; readonly version: CrdVersion; readonly partial: boolean }
  | { readonly source: "builtin"; readonly builtin: BuiltinSource; readonly partial: boolean };

type Lookup = Target | { readonly source: "none"; readonly error: string };

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

class UpstreamSchemaValidator implements SchemaValidator {
  private readonly crds = new Map<string, CrdSource>();
  private readonly duplicates = new Map<string, string[]>();
  private readonly builtins = new Map<string, BuiltinSource>();
  private readonly openApiFiles = new Map<string, OpenApiFile>();
  private readonly definitionIds = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction | Error>();
  private readonly ajv: Ajv;

  constructor(private readonly dir: string, source: string) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(
        `schema directory ${dir} does not exist (from ${source}); set CRD_SCHEMAS_DIR to the folder that holds the ` +
        "upstream CRD YAML files and kubernetes/*_openapi.json (see ../shared/crds/SOURCES.md)",
      );
    }
    for (const file of listFiles(dir)) {
      const rel = path.relative(dir, file);
      const base = path.basename(file);
      if (/\.ya?ml$/.test(base) && !/^values\.ya?ml$/.test(base)) this.indexYaml(file);
      else if (base.endsWith(".json") && path.dirname(rel) === "kubernetes") this.indexOpenApi(file);
    }
    if (this.crds.size === 0 && this.builtins.size === 0) {
      throw new Error(`schema directory ${dir} (from ${source}) holds no CustomResourceDefinition and no kubernetes/*.json OpenAPI file`);
    }
    this.ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      allowUnionTypes: true,
      validateSchema: false, // the converter emits only the keywords it knows; meta-validation costs seconds
      addUsedSchema: false,
      formats: FORMATS,
      code: { regExp: re2Engine, optimize: false },
    });
    this.ajv.addKeyword({ keyword: "x-kubernetes-list-type", type: "array", schemaType: "string", errors: true, validate: listTypeKeyword });
    this.ajv.addKeyword({ keyword: "x-kubernetes-list-map-keys", schemaType: "array" });
  }

  knows(apiVersion: string, kind: string): boolean {
    return this.lookup(apiVersion, kind, false).source !== "none";
  }

  validate(manifest: Record<string, unknown>, options: ValidateOptions = {}): SchemaCheck {
    if (!isObject(manifest)) return { ok: false, errors: ["manifest is not an object"], warnings: [] };
    const { apiVersion, kind } = manifest;
    if (typeof apiVersion !== "string" || apiVersion === "" || typeof kind !== "string" || kind === "") {
      return { ok: false, errors: [`manifest needs string apiVersion and kind, got apiVersion ${short(apiVersion)} kind ${short(kind)}`], warnings: [] };
    }
    const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "(no metadata.name)";
    const label = `${apiVersion} ${kind} ${name}`;
    const target = this.lookup(apiVersion, kind, options.patch === true);
    if (target.source === "none") return { ok: false, errors: [target.error], warnings: [] };

    const errors: string[] = [];
    const warnings: string[] = [];
    if (target.source === "crd") this.checkVersion(target.crd, target.version, label, metadata, errors, warnings);
    if (target.partial && typeof metadata.name !== "string") {
      errors.push(`${label}: a Patch must set metadata.name (it updates an existing object by name)`);
    }
    const fn = this.validatorFor(target);
    if (!fn(manifest)) errors.push(...formatErrors(fn.errors ?? []).map((m) => `${label}: ${m}`));
    return { ok: errors.length === 0, errors, warnings };
  }

  private checkVersion(crd: Crd, version: CrdVersion, label: string, metadata: JsonObject, errors: string[], warnings: string[]): void {
    const where = path.relative(this.dir, crd.file);
    const served = crd.versions.filter((v) => v.served).map((v) => v.name).sort(compareVersionPriority);
    const preferred = served.find((v) => !crd.versions.find((x) => x.name === v)?.deprecated);
    const instead = preferred === undefined ? "" : `; render ${crd.group}/${preferred}`;
    if (!version.served) errors.push(`${label}: version ${version.name} is not served by the CRD in ${where}${instead}`);
    if (version.deprecated) {
      errors.push(`${label}: version ${version.name} is deprecated by the CRD in ${where}: ${version.deprecationWarning ?? "deprecated: true (no deprecationWarning text)"}${instead}`);
    } else if (version.served && preferred !== undefined && preferred !== version.name) {
      warnings.push(`${label}: legacy version; the CRD in ${where} also serves the preferred ${crd.group}/${preferred}`);
    }
    if (crd.scope === "Cluster" && metadata.namespace !== undefined) {
      warnings.push(`${label}: ${crd.kind} is cluster-scoped, metadata.namespace is ignored`);
    }
    for (const other of this.duplicates.get(`${crd.group}/${crd.kind}`) ?? []) {
      warnings.push(`${label}: ${crd.group}/${crd.kind} is also defined in ${path.relative(this.dir, other)}; using ${where}`);
    }
  }

  private lookup(apiVersion: string, kind: string, forcePatch: boolean): Lookup {
    // Pulumi names patch resources `<Kind>Patch` (type token kubernetes:apps/v1:DeploymentPatch,
    // CustomResourcePatch -> kubernetes:<apiVersion>:<Kind>Patch) while the object keeps `<Kind>`.
    const exact = this.lookupExact(apiVersion, kind, forcePatch);
    if (exact.source !== "none" || !kind.endsWith("Patch") || kind === "Patch") return exact;
    const base = this.lookupExact(apiVersion, kind.slice(0, -"Patch".length), true);
    return base.source !== "none" ? base : exact;
  }

  private lookupExact(apiVersion: string, kind: string, partial: boolean): Lookup {
    const { group, version } = splitApiVersion(apiVersion);
    const source = this.crds.get(`${group}/${kind}`);
    if (source) {
      const crd = this.parse(source);
      const v = crd.versions.find((x) => x.name === version);
      if (!v || v.schema === undefined) {
        const known = crd.versions.filter((x) => x.schema !== undefined).map((x) => x.name).join(", ");
        return { source: "none", error: `no schema for ${apiVersion} ${kind}: the CRD in ${path.relative(this.dir, crd.file)} has versions ${known}` };
      }
      return { source: "crd", crd, version: v, partial };
    }
    const builtin = this.builtins.get(`${apiVersion} ${kind}`);
    if (builtin) return { source: "builtin", builtin, partial };
    return {
      source: "none",
      error: `no schema for ${apiVersion} ${kind} in ${this.dir} (no CRD for group "${group}" kind ${kind}, and no kubernetes/*.json defines it)`,
    };
  }

  private indexYaml(file: string): void {
    const text = fs.readFileSync(file, "utf8");
    if (!CRD_KIND_LINE.test(text)) return;
    const simpleSeparators = !/^---[ \t]*[^\s#]/m.test(text) && !/^\.\.\.[ \t]*$/m.test(text);
    if (simpleSeparators) {
      for (const doc of text.split(DOC_SEPARATOR)) {
        if (!CRD_KIND_LINE.test(doc)) continue;
        const header = headerOf(doc);
        if (header) this.addCrd(header.group, header.kind, { file, text: doc });
        else this.addParsed(file, parseYaml(doc, file));
      }
      return;
    }
    for (const doc of YAML.parseAllDocuments(text, { logLevel: "error" })) {
      if (doc.errors.length > 0) throw new Error(`${file}: YAML parse error: ${doc.errors[0].message}`);
      this.addParsed(file, doc.toJS() as unknown);
    }
  }

  private addParsed(file: string, doc: unknown): void {
    const crd = crdFromDocument(doc, file);
    if (crd) this.addCrd(crd.group, crd.kind, { file, text: "", parsed: crd });
  }

  private addCrd(group: string, kind: string, source: CrdSource): void {
    const key = `${group}/${kind}`;
    if (this.crds.has(key)) this.duplicates.set(key, [...(this.duplicates.get(key) ?? []), source.file]);
    else this.crds.set(key, source);
  }

  private parse(source: CrdSource): Crd {
    if (source.parsed) return source.parsed;
    const crd = crdFromDocument(parseYaml(source.text, source.file), source.file);
    const header = headerOf(source.text);
    if (!crd || !header || crd.group !== header.group || crd.kind !== header.kind) {
      throw new Error(`${source.file}: the CRD index read ${header?.group}/${header?.kind} but the document parses as ${crd?.group}/${crd?.kind}`);
    }
    source.parsed = crd;
    return crd;
  }

  private indexOpenApi(file: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    } catch (e) {
      throw new Error(`${file}: JSON parse error: ${(e as Error).message}`);
    }
    const schemas = isObject(doc) && isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : undefined;
    if (!schemas) throw new Error(`${file}: not an OpenAPI v3 document (no components.schemas)`);
    this.openApiFiles.set(file, { file, schemas });
    for (const [definition, schema] of Object.entries(schemas)) {
      const gvks = isObject(schema) ? schema["x-kubernetes-group-version-kind"] : undefined;
      if (!Array.isArray(gvks)) continue;
      for (const gvk of gvks) {
        if (!isObject(gvk) || typeof gvk.version !== "string" || typeof gvk.kind !== "string") continue;
        const apiVersion = typeof gvk.group === "string" && gvk.group !== "" ? `${gvk.group}/${gvk.version}` : gvk.version;
        const key = `${apiVersion} ${gvk.kind}`;
        if (!this.builtins.has(key)) this.builtins.set(key, { file, definition });
      }
    }
  }

  /** Registers the converted `components.schemas` of one OpenAPI file with ajv; returns its `$id`. */
  private definitions(file: string, partial: boolean): string {
    const key = `${partial ? "partial" : "full"} ${file}`;
    const existing = this.definitionIds.get(key);
    if (existing) return existing;
    const openApi = this.openApiFiles.get(file);
    if (!openApi) throw new Error(`${file} is not an indexed OpenAPI file`);
    const id = `${ID_ROOT}/${partial ? "partial" : "full"}/${path.basename(file)}`;
    const problems: string[] = [];
    const definitions = convertDefinitions(openApi, id, partial, problems);
    failOnProblems(`${path.relative(this.dir, file)}${partial ? " (partial)" : ""}`, problems);
    this.ajv.addSchema({ $id: id, definitions });
    this.definitionIds.set(key, id);
    return id;
  }

  /** Converts every schema in the folder (no compiling) and reports what cannot be checked. */
  audit(): SchemaAudit {
    const problems: string[] = [];
    const translated = new Set<string>();
    let crdVersions = 0;
    for (const source of this.crds.values()) {
      const crd = this.parse(source);
      for (const version of crd.versions) {
        if (version.schema === undefined) continue;
        crdVersions++;
        for (const partial of [false, true]) {
          const found: string[] = [];
          convertCrdRoot(version.schema, { partial, crd: true, refBase: undefined, objectMeta: () => LIGHT_OBJECT_META, problems: found, translated });
          const where = `${path.relative(this.dir, crd.file)} ${crd.group}/${version.name} ${crd.kind}${partial ? " (partial)" : ""}`;
          problems.push(...found.map((p) => `${where}: ${p}`));
        }
      }
    }
    for (const openApi of this.openApiFiles.values()) {
      for (const partial of [false, true]) {
        const found: string[] = [];
        convertDefinitions(openApi, `${ID_ROOT}/audit`, partial, found, translated);
        problems.push(...found.map((p) => `${path.relative(this.dir, openApi.file)}${partial ? " (partial)" : ""}: ${p}`));
      }
    }
    return { crdVersions, builtinKinds: this.builtins.size, translatedPatterns: [...translated].sort(), problems };
  }

  private objectMetaFor(partial: boolean): () => JsonObject {
    return () => {
      const files = [...this.openApiFiles.values()].filter((f) => f.schemas[OBJECT_META] !== undefined);
      const core = files.find((f) => path.basename(f.file) === CORE_FILE) ?? files[0];
      if (!core) return LIGHT_OBJECT_META;
      return { $ref: `${this.definitions(core.file, partial)}#/definitions/${OBJECT_META}` };
    };
  }

  private validatorFor(target: Target): ValidateFunction {
    const key = target.source === "crd"
      ? `crd ${target.crd.group}/${target.version.name}/${target.crd.kind} ${target.partial}`
      : `builtin ${target.builtin.file}#${target.builtin.definition} ${target.partial}`;
    const hit = this.compiled.get(key);
    if (hit instanceof Error) throw hit;
    if (hit) return hit;
    try {
      let schema: JsonObject;
      if (target.source === "crd") {
        const problems: string[] = [];
        const where = `${path.relative(this.dir, target.crd.file)} ${target.crd.group}/${target.version.name} ${target.crd.kind}`;
        schema = convertCrdRoot(target.version.schema, {
          partial: target.partial, crd: true, refBase: undefined, objectMeta: this.objectMetaFor(target.partial), problems,
        });
        failOnProblems(where, problems);
      } else {
        schema = { $ref: `${this.definitions(target.builtin.file, target.partial)}#/definitions/${target.builtin.definition}` };
      }
      const fn = this.ajv.compile(schema);
      this.compiled.set(key, fn);
      return fn;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.compiled.set(key, error);
      throw error;
    }
  }
}

function convertDefinitions(openApi: OpenApiFile, id: string, partial: boolean, problems: string[], translated?: Set<string>): JsonObject {
  const definitions: JsonObject = {};
  for (const [name, schema] of Object.entries(openApi.schemas)) {
    const found: string[] = [];
    const ctx: ConvertContext = {
      partial, crd: false, refBase: id, objectMeta: () => ({ $ref: `${id}#/definitions/${OBJECT_META}` }), problems: found, translated,
    };
    definitions[name] = convert(schema, ctx, "", false);
    problems.push(...found.map((p) => `${name}${p.startsWith("(root)") ? p.slice("(root)".length) : p}`));
  }
  return definitions;
}

function failOnProblems(where: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new Error(`cannot check ${where} faithfully against its schema:\n  - ${problems.join("\n  - ")}`);
}
