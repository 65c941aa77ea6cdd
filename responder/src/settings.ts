// The responder's own settings: a JSON file the Pulumi component writes into a ConfigMap
// (components/response) and the process reads once at start. Validated with zod so a bad file
// stops the process with a message instead of a responder that acts on the wrong pods.
import { z } from "zod";
import { PRIORITIES } from "./payload";
import type { Priority } from "./payload";

export const ACTIONS = ["record", "recycle", "quarantine"] as const;
export type Action = (typeof ACTIONS)[number];

export const MODES = ["record", "enforce"] as const;
export type Mode = (typeof MODES)[number];

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsLabel = z.string().regex(DNS_LABEL, { error: "must be a DNS label" });
const action = z.enum(ACTIONS, { error: `must be one of: ${ACTIONS.join(", ")}` });

export const actionPolicySchema = z.strictObject({
    /** Action for a rule name; wins over the priority. */
    rules: z.record(z.string().min(1).max(256), action).default({}),
    /** Action for a priority when the rule is not listed. */
    priorities: z.partialRecord(z.enum(PRIORITIES), action).default({}),
    /** Action when neither the rule nor the priority is listed. */
    default: action.default("record"),
});
export type ActionPolicy = z.infer<typeof actionPolicySchema>;

export const breakerSettingsSchema = z.strictObject({
    maxRecycles: z.number().int().min(1).max(100).default(3),
    windowSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(600),
});
export type BreakerSettings = z.infer<typeof breakerSettingsSchema>;

export const agentEntrySchema = z.strictObject({
    namespace: dnsLabel,
    /** The agent's name: pod label `agent-security.io/agent` and its Deployment's name. */
    name: dnsLabel,
    serviceAccount: dnsLabel,
    deployment: dnsLabel,
});
export type AgentEntry = z.infer<typeof agentEntrySchema>;

export const responderSettingsSchema = z.strictObject({
    mode: z.enum(MODES),
    trustDomain: z.string().regex(/^[a-z0-9._-]{1,255}$/, { error: "must be a SPIFFE trust domain" }),
    /** Namespace of the breaker state ConfigMaps and the audit ConfigMap. */
    stateNamespace: dnsLabel,
    auditConfigMap: dnsLabel,
    breaker: breakerSettingsSchema.prefault({}),
    actions: actionPolicySchema.prefault({}),
    agents: z.array(agentEntrySchema),
    maxBodyBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
});
export type ResponderSettings = z.infer<typeof responderSettingsSchema>;

export function parseSettings(text: string): ResponderSettings {
    const parsed = responderSettingsSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
        throw new Error(`responder settings: ${parsed.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ")}`);
    }
    return parsed.data;
}

/** The configured action for an alert: rule name first, then priority, then the default. */
export function actionFor(policy: ActionPolicy, rule: string, priority: Priority): Action {
    // Own properties only: a rule named `constructor` must not find Object.prototype's.
    const byRule = Object.hasOwn(policy.rules, rule) ? policy.rules[rule] : undefined;
    const byPriority = Object.hasOwn(policy.priorities, priority) ? policy.priorities[priority] : undefined;
    return byRule ?? byPriority ?? policy.default;
}
