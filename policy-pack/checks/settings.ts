// Pack settings: the flat shape of design.md section 8, read from CrossGuard policy config (per
// policy, only the keys that policy declares) or from `npm run check --config` (all keys).

import type { PolicyConfigSchema } from "@pulumi/policy";
import { parseRegistryEntry } from "./images";
import { asArr, asObj, show } from "./values";

export const PROFILES = ["local", "ci", "prod"] as const;
export const PLATFORMS = ["kubernetes", "openshift"] as const;
export type Profile = (typeof PROFILES)[number];
export type Platform = (typeof PLATFORMS)[number];

export interface PackSettings {
    readonly profile: Profile;
    readonly platform: Platform;
    /** `host[:port]` or `host[:port]/path`; an image matches on exact host and `/`-prefix path. */
    readonly approvedRegistries: readonly string[];
    readonly kataRuntimeClasses: readonly string[];
    /** Namespace of the `agent-security-audit` ConfigMap (the program's platform namespace). */
    readonly auditNamespace: string;
}

export type SettingKey = keyof PackSettings;

export const SETTING_KEYS: readonly SettingKey[] = [
    "profile",
    "platform",
    "approvedRegistries",
    "kataRuntimeClasses",
    "auditNamespace",
];

type JSONSchema = PolicyConfigSchema["properties"][string];

// Keys without a default are required: a missing profile or platform must not silently select
// the laxer branch (no Kata and prod-flag checks, no AppArmor), and there is no safe registry list.
const SCHEMAS: Readonly<Record<SettingKey, JSONSchema>> = {
    profile: {
        type: "string",
        enum: [...PROFILES],
        description: "The stack's profile: local (dev), ci or prod. prod adds the Kata and tool-flag rules.",
    },
    platform: {
        type: "string",
        enum: [...PLATFORMS],
        description: "kubernetes requires AppArmor RuntimeDefault/Localhost; openshift forbids AppArmor fields.",
    },
    approvedRegistries: {
        type: "array",
        items: { type: "string", minLength: 1 },
        description: "Approved image registries, host[:port] optionally followed by a /path prefix.",
    },
    kataRuntimeClasses: {
        type: "array",
        items: { type: "string", minLength: 1 },
        minItems: 1,
        default: ["kata"],
        description: "RuntimeClass names that run pods in a Kata sandbox.",
    },
    auditNamespace: {
        type: "string",
        minLength: 1,
        default: "agent-security",
        description: "Namespace of the agent-security-audit ConfigMap written by the program.",
    },
};

const DEFAULTS: Partial<PackSettings> = { kataRuntimeClasses: ["kata"], auditNamespace: "agent-security" };

/** The CrossGuard configSchema for a policy that reads `keys`. */
export function configSchemaFor(keys: readonly SettingKey[]): PolicyConfigSchema {
    const properties: Record<string, JSONSchema> = {};
    for (const key of keys) {
        properties[key] = SCHEMAS[key];
    }
    return { properties, required: keys.filter((k) => DEFAULTS[k] === undefined) };
}

export interface SettingsResult<K extends SettingKey> {
    readonly settings?: Pick<PackSettings, K>;
    readonly errors: readonly string[];
}

function stringList(key: string, value: unknown, errors: string[]): string[] {
    if (!Array.isArray(value)) {
        errors.push(`${key} must be an array of strings, got ${show(value)}.`);
        return [];
    }
    const result: string[] = [];
    asArr(value).forEach((item, i) => {
        if (typeof item !== "string" || item === "") {
            errors.push(`${key}[${i}] must be a non-empty string, got ${show(item)}.`);
        } else {
            result.push(item);
        }
    });
    return result;
}

function readKey(key: SettingKey, raw: unknown, errors: string[]): unknown {
    const value = raw === undefined ? DEFAULTS[key] : raw;
    if (value === undefined) {
        errors.push(`${key} is required.`);
        return undefined;
    }
    switch (key) {
        case "profile":
            if (!(PROFILES as readonly unknown[]).includes(value)) {
                errors.push(`profile must be one of ${PROFILES.join(", ")}, got ${show(value)}.`);
            }
            return value;
        case "platform":
            if (!(PLATFORMS as readonly unknown[]).includes(value)) {
                errors.push(`platform must be one of ${PLATFORMS.join(", ")}, got ${show(value)}.`);
            }
            return value;
        case "approvedRegistries": {
            const list = stringList(key, value, errors);
            list.forEach((entry, i) => {
                const parsed = parseRegistryEntry(entry);
                if ("error" in parsed) {
                    errors.push(`approvedRegistries[${i}] ${show(entry)} ${parsed.error}`);
                }
            });
            return list;
        }
        case "kataRuntimeClasses": {
            const list = stringList(key, value, errors);
            if (Array.isArray(value) && value.length === 0) {
                errors.push("kataRuntimeClasses must list at least one RuntimeClass.");
            }
            return list;
        }
        case "auditNamespace":
            if (typeof value !== "string" || value === "") {
                errors.push(`auditNamespace must be a non-empty string, got ${show(value)}.`);
            }
            return value;
    }
}

/**
 * Reads the settings `keys` from a config object. Keys outside `keys` are ignored (CrossGuard
 * hands each policy its own entry; the check CLI hands every policy the full flat object).
 */
export function readSettings<K extends SettingKey>(config: unknown, keys: readonly K[]): SettingsResult<K> {
    const o = asObj(config) ?? {};
    const errors: string[] = [];
    const settings: Partial<Record<SettingKey, unknown>> = {};
    for (const key of keys) {
        settings[key] = readKey(key, o[key], errors);
    }
    return errors.length > 0 ? { errors } : { settings: settings as Pick<PackSettings, K>, errors };
}

/** The flat `--config` file of `npm run check`: all keys, unknown keys are errors. */
export function parseFlatSettings(config: unknown): SettingsResult<SettingKey> {
    const o = asObj(config);
    if (o === undefined) {
        return { errors: [`the settings must be a JSON object with keys ${SETTING_KEYS.join(", ")}.`] };
    }
    const unknownKeys = Object.keys(o).filter((k) => !(SETTING_KEYS as readonly string[]).includes(k));
    const result = readSettings(o, SETTING_KEYS);
    if (unknownKeys.length === 0) {
        return result;
    }
    const extra = unknownKeys.map((k) => `unknown key ${show(k)}; allowed keys are ${SETTING_KEYS.join(", ")}.`);
    return { errors: [...result.errors, ...extra] };
}

/** Defaults of `npm run check` without --config (design.md section 9). */
export const CHECK_DEFAULTS: PackSettings = {
    profile: "local",
    platform: "kubernetes",
    approvedRegistries: [],
    kataRuntimeClasses: ["kata"],
    auditNamespace: "agent-security",
};
