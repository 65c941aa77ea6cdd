// The falcosidekick webhook body (falcosecurity/falcosidekick types/types.go `FalcoPayload`): uuid,
// output, priority, rule, time, output_fields, source, tags, hostname. Facts that shaped the schema:
// - `priority` is falcosidekick's PriorityType marshalled as its name ("Critical", "Warning", ...);
//   Falco itself writes the same names, so the comparison is case-insensitive.
// - `output_fields` values are strings, numbers, booleans or null (Falco 0.41+ mixes types, e.g.
//   `evt.time` is an integer); only `k8s.ns.name` and `k8s.pod.name` are read here.
// - `output` carries the command line and file names of the event, which can hold secrets, so it
//   is validated for size only and never logged or echoed.
import { z } from "zod";

export const PRIORITIES = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Default body limit: a Falco alert is a few KiB; anything far larger is not one. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const fieldValue = z.union([z.string().max(16 * 1024), z.number(), z.boolean(), z.null()]);

const priority = z
    .string({ error: "must be a string" })
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(PRIORITIES, { error: `must be one of: ${PRIORITIES.join(", ")} (any case)` }));

export const falcoPayloadSchema = z.object({
    uuid: z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9-]{1,64}$/, { error: "must be a UUID" }),
    output: z.string({ error: "must be a string" }).max(32 * 1024, { error: "must be at most 32768 characters" }),
    priority,
    rule: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).max(256, { error: "must be at most 256 characters" }),
    time: z.string({ error: "must be a string" }).refine((value) => !Number.isNaN(Date.parse(value)), { error: "must be an RFC 3339 time" }),
    output_fields: z.record(z.string().max(256), fieldValue, { error: "must be an object of scalar fields" }),
    source: z.string({ error: "must be a string" }).max(64).optional(),
    tags: z.array(z.string().max(128), { error: "must be a list of strings" }).max(64).optional(),
    hostname: z.string({ error: "must be a string" }).max(253).optional(),
});
export type FalcoPayload = z.infer<typeof falcoPayloadSchema>;
/** The body as falcosidekick sends it (priority in any case). */
export type FalcoPayloadInput = z.input<typeof falcoPayloadSchema>;

/** The alert as the responder uses it: the payload reduced to what decides and what is recorded. */
export interface Alert {
    readonly uuid: string;
    readonly rule: string;
    readonly priority: Priority;
    readonly time: string;
    readonly source?: string;
    readonly hostname?: string;
    /** The pod the event happened in; absent for host events. */
    readonly pod?: { readonly namespace: string; readonly name: string };
    /**
     * The pod's `agent-security.io/agent` label as Falco saw it (the agent rules print it). Used only
     * to answer "breaker already open" without an API call; never to act.
     */
    readonly agentHint?: string;
}

/** The output field of components/runtime/rules.ts COMMON_OUTPUT that carries the agent label. */
export const AGENT_LABEL_FIELD = "k8s.pod.label[agent-security.io/agent]";

export type ParseResult = { readonly ok: true; readonly alert: Alert } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Parses a request body. Error messages name the field and what is allowed, never the received
 * value (it may be a secret the alert captured).
 */
export function parseAlert(body: string): ParseResult {
    let json: unknown;
    try {
        json = JSON.parse(body);
    } catch {
        return { ok: false, errors: ["body: must be a JSON object"] };
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) return { ok: false, errors: ["body: must be a JSON object"] };
    const parsed = falcoPayloadSchema.safeParse(json);
    if (!parsed.success) {
        const errors = parsed.error.issues.slice(0, 10).map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join(".") : "body"}: ${safeMessage(issue)}`);
        return { ok: false, errors };
    }
    const payload = parsed.data;
    const namespace = payload.output_fields["k8s.ns.name"];
    const name = payload.output_fields["k8s.pod.name"];
    const pod =
        typeof namespace === "string" && typeof name === "string" && DNS_LABEL.test(namespace) && DNS_SUBDOMAIN.test(name)
            ? { namespace, name }
            : undefined;
    const hint = payload.output_fields[AGENT_LABEL_FIELD];
    return {
        ok: true,
        alert: {
            uuid: payload.uuid,
            rule: payload.rule,
            priority: payload.priority,
            time: payload.time,
            ...(payload.source !== undefined ? { source: payload.source } : {}),
            ...(payload.hostname !== undefined ? { hostname: payload.hostname } : {}),
            ...(pod ? { pod } : {}),
            ...(pod && typeof hint === "string" && DNS_LABEL.test(hint) ? { agentHint: hint } : {}),
        },
    };
}

function safeMessage(issue: z.core.$ZodIssue): string {
    switch (issue.code) {
        case "invalid_type":
            // zod's default text names the received type only, but custom messages above are
            // preferred; fall back to the expected type.
            return issue.message.startsWith("Invalid input") ? `must be a ${issue.expected}` : issue.message;
        case "too_big":
            return `is too large (maximum ${String(issue.maximum)})`;
        case "unrecognized_keys":
            return "has unknown keys";
        default:
            return issue.message;
    }
}
