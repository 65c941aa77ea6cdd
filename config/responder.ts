// `agent-security:responder`: the Falco responder's image, replicas, breaker limits and actions
// (issue 14). The mode (record or enforce) is not config: the profile decides it
// (profiles.ts RESPONDER_MODE), so prod cannot be switched to record-only by a stack edit.
import { z } from "zod";
import { imageProblem, prodImageProblem } from "./images";
import type { Profile } from "./profiles";

const FALCO_PRIORITIES = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"] as const;
const RESPONDER_ACTIONS = ["record", "recycle", "quarantine"] as const;
const action = z.enum(RESPONDER_ACTIONS, { error: `must be one of: ${RESPONDER_ACTIONS.join(", ")}` });

export const responderConfigSchema = z.strictObject({
    image: z
        .string({ error: "must be a string (an image reference)" })
        .superRefine((value, ctx) => {
            const problem = imageProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        })
        .optional(),
    replicas: z
        .number({ error: "must be an integer from 2 to 5" })
        .int({ error: "must be an integer from 2 to 5" })
        .min(2, { error: "must be at least 2: the PodDisruptionBudget keeps one replica answering during a drain" })
        .max(5, { error: "must be an integer from 2 to 5" })
        .default(2),
    breaker: z
        .strictObject({
            maxRecycles: z.number().int().min(1, { error: "must be an integer from 1 to 100" }).max(100, { error: "must be an integer from 1 to 100" }).default(3),
            windowSeconds: z.number().int().min(60, { error: "must be 60 to 86400 seconds" }).max(86_400, { error: "must be 60 to 86400 seconds" }).default(600),
        })
        .prefault({}),
    actions: z
        .strictObject({
            /** By Falco rule name; wins over the priority. */
            rules: z.record(z.string().min(1).max(256), action).default({}),
            /** By Falco priority when the rule is not listed. */
            priorities: z
                .partialRecord(z.enum(FALCO_PRIORITIES, { error: `must be a Falco priority: ${FALCO_PRIORITIES.join(", ")}` }), action)
                .default({ emergency: "recycle", alert: "recycle", critical: "recycle" }),
            default: action.default("record"),
        })
        .prefault({}),
});
export type ResponderConfig = z.infer<typeof responderConfigSchema>;

export interface ResponderIssue {
    /** Key path below the project namespace. */
    readonly path: string;
    readonly message: string;
}

/**
 * Rules across keys: an image is required whenever Falco is on (the webhook would otherwise post
 * into nothing), prod pins it by digest, and it comes from an approved registry (host[:port] exact,
 * path by `/` prefix, as for agent images).
 */
export function responderIssues(
    responder: ResponderConfig,
    context: { readonly profile: Profile; readonly falco: boolean; readonly registries: readonly string[] },
): ResponderIssue[] {
    const issues: ResponderIssue[] = [];
    const image = responder.image;
    if (image === undefined) {
        if (context.falco) {
            issues.push({ path: "responder.image", message: "is required while falco is on: the Falco responder answers falcosidekick's webhook (for example quay.io/agent-security/falco-responder:0.1.0)" });
        }
        return issues;
    }
    if (context.profile === "prod") {
        const problem = prodImageProblem(image);
        if (problem) issues.push({ path: "responder.image", message: problem });
    }
    if (!context.registries.some((registry) => image.startsWith(`${registry}/`))) {
        issues.push({ path: "responder.image", message: `"${image}" is not from an approved registry; approved: ${context.registries.join(", ")}` });
    }
    return issues;
}
