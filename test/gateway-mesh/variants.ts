// The stack configs the gateway and mesh specs render: the real stack files, plus ci with one of
// the two flags turned off. Read without the mock runtime so the pure specs need no program.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "../../config/schema";

export const NOW = new Date("2026-11-23T12:00:00Z");

export type Variant = "ci" | "prod" | "dev" | "envoyOnly" | "opaOnly";

/** The stack file a variant starts from, and the flag overrides applied to it. */
export const VARIANTS: Readonly<Record<Variant, { readonly stack: "ci" | "prod" | "dev"; readonly tools?: Readonly<Record<string, boolean>> }>> = {
    ci: { stack: "ci" },
    prod: { stack: "prod" },
    dev: { stack: "dev" },
    envoyOnly: { stack: "ci", tools: { opa: false } },
    opaOnly: { stack: "ci", tools: { envoy: false } },
};

/** The `agent-security:` keys of `Pulumi.<stack>.yaml` (as cli/mockRuntime's readStackConfig). */
function stackFile(stack: string): Record<string, unknown> {
    const file = path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    const parsed = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed.config ?? {})) {
        if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
    }
    return raw;
}

export function variantConfig(variant: Variant): Record<string, unknown> {
    const { stack, tools } = VARIANTS[variant];
    const raw = stackFile(stack);
    if (tools) raw.tools = { ...((raw.tools as Record<string, boolean> | undefined) ?? {}), ...tools };
    return raw;
}
