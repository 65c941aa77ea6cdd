// Evaluates a CRD's own CEL rules (`x-kubernetes-validations`) against a rendered object, with the
// rule text taken from ../shared/crds. A JSON-Schema validator skips these rules; the API server
// does not. Transition rules (those reading `oldSelf`) do not apply on create and are skipped.
import * as fs from "fs";
import * as path from "path";
import { evaluate } from "@marcbachmann/cel-js";
import * as YAML from "yaml";
import { defaultSchemaDir } from "../support/schemaValidator";

type Schema = {
    readonly properties?: Record<string, Schema>;
    readonly items?: Schema;
    readonly additionalProperties?: Schema | boolean;
    readonly "x-kubernetes-validations"?: readonly { readonly rule: string; readonly message?: string }[];
};

interface Crd {
    readonly kind: string;
    readonly spec: {
        readonly group: string;
        readonly names: { readonly kind: string };
        readonly versions: readonly { readonly name: string; readonly schema?: { readonly openAPIV3Schema?: Schema } }[];
    };
}

// The folders of the CRDs the gateway and mesh layers render.
const FOLDERS = ["kuadrant", "mcp-gateway", "gateway-api", "istio", "sail-operator", "authorino"];

let index: Map<string, Schema> | undefined;

function schemas(): Map<string, Schema> {
    if (index) return index;
    index = new Map();
    const root = defaultSchemaDir();
    for (const folder of FOLDERS) {
        const dir = path.join(root, folder);
        for (const file of fs.readdirSync(dir)) {
            if (!file.endsWith(".yaml")) continue;
            for (const document of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
                const crd = document.toJS() as Crd | null;
                if (!crd || crd.kind !== "CustomResourceDefinition") continue;
                for (const version of crd.spec.versions) {
                    const schema = version.schema?.openAPIV3Schema;
                    if (schema) index.set(`${crd.spec.group}/${version.name}:${crd.spec.names.kind}`, schema);
                }
            }
        }
    }
    return index;
}

export interface CelReport {
    /** `path: message` of every rule that evaluated to false. */
    readonly failures: string[];
    /** Messages (or rule text) of the rules that were evaluated. */
    readonly evaluated: string[];
    /** Rules that could not be evaluated here, with the reason. */
    readonly skipped: string[];
}

/** CEL integers are int64: JSON integers become BigInt so `0 < self` compares like the API server. */
function toCel(value: unknown): unknown {
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    if (Array.isArray(value)) return value.map(toCel);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toCel(inner)]));
    return value;
}

function walk(schema: Schema, value: unknown, where: string, report: CelReport): void {
    if (value === undefined) return;
    for (const { rule, message } of schema["x-kubernetes-validations"] ?? []) {
        const label = message ?? rule;
        if (/\boldSelf\b/.test(rule)) {
            report.skipped.push(`${where}: ${label} (transition rule)`);
            continue;
        }
        try {
            const result = evaluate(rule, { self: toCel(value) });
            report.evaluated.push(label);
            if (result !== true) report.failures.push(`${where}: ${label}`);
        } catch (error) {
            report.skipped.push(`${where}: ${label} (${error instanceof Error ? error.message : String(error)})`);
        }
    }
    if (Array.isArray(value)) {
        if (schema.items) value.forEach((item, i) => walk(schema.items as Schema, item, `${where}[${i}]`, report));
        return;
    }
    if (value === null || typeof value !== "object") return;
    const object = value as Record<string, unknown>;
    for (const [key, inner] of Object.entries(object)) {
        const child = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (child) walk(child, inner, `${where}.${key}`, report);
    }
}

/** Evaluates every CEL rule of the object's CRD schema that applies to the fields it sets. */
export function checkCelRules(manifest: { readonly apiVersion: string; readonly kind: string }): CelReport {
    const schema = schemas().get(`${manifest.apiVersion}:${manifest.kind}`);
    if (!schema) throw new Error(`no CRD schema for ${manifest.apiVersion} ${manifest.kind}`);
    const report: CelReport = { failures: [], evaluated: [], skipped: [] };
    walk(schema, manifest, manifest.kind, report);
    return report;
}
