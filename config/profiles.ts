// The profile matrix of design.md section 2, as the one table the program and the tests read.

export const PROFILES = ["local", "ci", "prod"] as const;
export type Profile = (typeof PROFILES)[number];

export const TOOLS = ["envoy", "opa", "cilium", "kyverno", "falco", "kata"] as const;
export type Tool = (typeof TOOLS)[number];

export type FeatureSet = Readonly<Record<Tool, boolean>>;

export const PROFILE_MATRIX: Readonly<Record<Profile, FeatureSet>> = Object.freeze({
    local: Object.freeze({ envoy: false, opa: false, cilium: false, kyverno: false, falco: false, kata: false }),
    ci: Object.freeze({ envoy: true, opa: true, cilium: false, kyverno: true, falco: false, kata: false }),
    prod: Object.freeze({ envoy: true, opa: true, cilium: true, kyverno: true, falco: true, kata: true }),
});

/**
 * What the Falco responder does with its decisions, per profile: `record` decides and records only,
 * `enforce` recycles and quarantines. Not a config key, so prod cannot be made record-only.
 */
export const RESPONDER_MODE: Readonly<Record<Profile, "record" | "enforce">> = Object.freeze({ local: "record", ci: "record", prod: "enforce" });

/** The stack names whose profile is fixed; any other stack name must state its profile. */
export const STACK_PROFILES: Readonly<Record<string, Profile>> = Object.freeze({
    dev: "local",
    ci: "ci",
    prod: "prod",
});

/**
 * The longest an emergency override may run, from now to its `expires`: a week, long enough for a
 * fix or a rollback, short enough that an exception cannot become the configuration (issue 12).
 */
export const EMERGENCY_OVERRIDE_MAX_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface EmergencyOverride {
    readonly tools: readonly Tool[];
    readonly reason: string;
    readonly ticket: string;
    readonly approvedBy: string;
    /** ISO 8601 instant; an override at or past this instant is void. */
    readonly expires: string;
}

export interface ResolutionIssue {
    /** Key path below the project namespace, for example `emergencyOverride.tools[0]`. */
    readonly path: string;
    readonly message: string;
}

export type Resolution =
    | { readonly ok: true; readonly features: FeatureSet }
    | { readonly ok: false; readonly issues: readonly ResolutionIssue[] };

/**
 * Resolves the feature set of a profile plus the stack's overrides.
 *
 * Prod is special: a tool may only be off there while an unexpired emergency override lists it,
 * and an override may only list tools that are really off, so the audit trail never claims an
 * exception that is not in force. `weakened` names tools that stay installed but enforce nothing
 * (Kyverno in Audit), each with the key that weakens it: in prod they count as off.
 */
export function resolveFeatures(
    profile: Profile,
    overrides: Partial<Record<Tool, boolean>>,
    emergencyOverride: EmergencyOverride | undefined,
    now: Date,
    weakened: Partial<Record<Tool, { readonly path: string; readonly enforcing: string }>> = {},
): Resolution {
    const features: Record<Tool, boolean> = { ...PROFILE_MATRIX[profile] };
    for (const tool of TOOLS) {
        const value = overrides[tool];
        if (value !== undefined) {
            features[tool] = value;
        }
    }
    const issues: ResolutionIssue[] = [];
    if (emergencyOverride !== undefined && profile !== "prod") {
        issues.push({
            path: "emergencyOverride",
            message: `an emergency override only exists for profile prod; this stack's profile is ${profile}, where tools are switched with agent-security:tools`,
        });
    }
    if (profile === "prod") {
        const listed = new Set(emergencyOverride?.tools ?? []);
        const expired = emergencyOverride !== undefined && !(Date.parse(emergencyOverride.expires) > now.getTime());
        if (expired && emergencyOverride !== undefined) {
            issues.push({
                path: "emergencyOverride.expires",
                message: `the emergency override expired at ${emergencyOverride.expires} (now ${now.toISOString()}); renew it with a new approval or turn the tools back on`,
            });
        } else if (emergencyOverride !== undefined && Date.parse(emergencyOverride.expires) - now.getTime() > EMERGENCY_OVERRIDE_MAX_DAYS * DAY_MS) {
            const latest = new Date(now.getTime() + EMERGENCY_OVERRIDE_MAX_DAYS * DAY_MS).toISOString();
            issues.push({
                path: "emergencyOverride.expires",
                message: `${emergencyOverride.expires} is more than ${EMERGENCY_OVERRIDE_MAX_DAYS} days away; an emergency override runs for at most ${EMERGENCY_OVERRIDE_MAX_DAYS} days (now, at the latest ${latest}): renew it with a new approval when it runs out`,
            });
        }
        for (const tool of TOOLS) {
            if (!features[tool] && !listed.has(tool)) {
                issues.push({
                    path: `tools.${tool}`,
                    message: `prod cannot turn ${tool} off without an emergency override: add agent-security:emergencyOverride with tools [${tool}], reason, ticket, approvedBy and a future expires`,
                });
            }
            const weakenedBy = weakened[tool];
            if (features[tool] && weakenedBy !== undefined && !listed.has(tool)) {
                issues.push({
                    path: weakenedBy.path,
                    message: `in prod this leaves ${tool} installed but enforcing nothing, which counts as turning ${tool} off: use ${weakenedBy.enforcing}, or add agent-security:emergencyOverride with tools [${tool}], reason, ticket, approvedBy and expires`,
                });
            }
        }
        (emergencyOverride?.tools ?? []).forEach((tool, index) => {
            if (features[tool] && weakened[tool] === undefined) {
                issues.push({
                    path: `emergencyOverride.tools[${index}]`,
                    message: `${tool} is on, so the override must not list it; list only tools turned off with agent-security:tools.${tool}: false`,
                });
            }
        });
    }
    if (issues.length > 0) {
        return { ok: false, issues };
    }
    return { ok: true, features: Object.freeze(features) };
}

export function enabledTools(features: FeatureSet): Tool[] {
    return TOOLS.filter((tool) => features[tool]);
}
