// prod: every optional tool is on unless a valid, unexpired emergency override turns it off
// (design.md sections 2 and 5). The check reads the audit ConfigMap the program writes, so it
// judges what the stack deploys rather than the program's own reading of its config.

import { asArr, asObj, get, show } from "./values";
import { StackResource, StackViolation } from "./stack";
import { nameOf, namespaceOf } from "./workload";

export const AUDIT_CONFIGMAP = "agent-security-audit";
export const CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap";
export const TOOLS = ["envoy", "opa", "cilium", "kyverno", "falco", "kata"] as const;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

interface Override {
    readonly tools: readonly string[];
}

function parseJson(text: unknown): { value?: unknown; error?: string } {
    if (typeof text !== "string") {
        return { error: `is ${show(text)}, not a JSON string` };
    }
    try {
        return { value: JSON.parse(text) };
    } catch (e) {
        return { error: `is not valid JSON (${(e as Error).message})` };
    }
}

/** Problems that make an override unusable; [] when it is complete and unexpired. */
export function overrideProblems(raw: unknown, now: Date): string[] {
    const o = asObj(raw);
    if (o === undefined) {
        return ["it is not an object"];
    }
    const problems: string[] = [];
    const tools = o.tools;
    if (!Array.isArray(tools) || tools.length === 0 || !asArr(tools).every((t) => typeof t === "string" && t !== "")) {
        problems.push(`tools must be a non-empty list of tool names, got ${show(tools)}`);
    }
    for (const field of ["reason", "ticket", "approvedBy"] as const) {
        const value = o[field];
        if (typeof value !== "string" || value.trim() === "") {
            problems.push(`${field} must be a non-empty string, got ${show(value)}`);
        }
    }
    const expires = o.expires;
    if (typeof expires !== "string" || !ISO_INSTANT.test(expires) || Number.isNaN(Date.parse(expires))) {
        problems.push(`expires must be an ISO 8601 date or instant, got ${show(expires)}`);
    } else if (Date.parse(expires) <= now.getTime()) {
        problems.push(`it expired at ${expires}`);
    }
    return problems;
}

function judgeAuditMap(cm: StackResource, now: Date): string[] {
    const where = `ConfigMap ${namespaceOf(cm.props)}/${AUDIT_CONFIGMAP}`;
    const data = asObj(get(cm.props, "data")) ?? {};
    const out: string[] = [];
    if (data.profile !== "prod") {
        out.push(`${where} records profile ${show(data.profile)}, but the policy pack is configured for prod; the stack and the pack config disagree.`);
    }
    const tools = parseJson(data.tools);
    const flags = asObj(tools.value);
    if (tools.error !== undefined || flags === undefined) {
        out.push(`${where} data.tools ${tools.error ?? "is not a JSON object"}; it must map each tool (${TOOLS.join(", ")}) to true or false.`);
        return out;
    }
    const off: string[] = [];
    for (const tool of TOOLS) {
        const flag = flags[tool];
        if (flag === false) {
            off.push(tool);
        } else if (flag !== true) {
            out.push(`${where} data.tools records ${tool} as ${show(flag)}; every tool must be recorded as true or false.`);
        }
    }
    if (off.length === 0) {
        return out;
    }
    const override = parseJson(data.emergencyOverride ?? "null");
    if (override.error !== undefined) {
        out.push(`${where} data.emergencyOverride ${override.error}; ${off.join(", ")} cannot be off in prod without a valid override.`);
        return out;
    }
    if (override.value === null) {
        for (const tool of off) {
            out.push(`Tool ${tool} is off in prod (${where}) without an emergency override; turn it on or record an override with tools, reason, ticket, approvedBy and expires.`);
        }
        return out;
    }
    const problems = overrideProblems(override.value, now);
    if (problems.length > 0) {
        out.push(`${where} data.emergencyOverride cannot justify turning off ${off.join(", ")}: ${problems.join("; ")}.`);
        return out;
    }
    const listed = (override.value as Override).tools;
    for (const tool of off) {
        if (!listed.includes(tool)) {
            out.push(`Tool ${tool} is off in prod (${where}) but the emergency override lists only ${listed.join(", ")}; add it to the override or turn it on.`);
        }
    }
    return out;
}

export function checkProdToolFlags(resources: readonly StackResource[], auditNamespace: string, now: Date): StackViolation[] {
    const named = resources.filter((r) => r.type === CONFIGMAP_TYPE && nameOf(r.props) === AUDIT_CONFIGMAP);
    const audit = named.filter((r) => namespaceOf(r.props) === auditNamespace);
    if (audit.length === 0) {
        const elsewhere = named.map((r) => namespaceOf(r.props));
        const hint = elsewhere.length > 0 ? ` (found one in ${elsewhere.join(", ")}; set the pack's auditNamespace if the platform namespace moved)` : "";
        return [
            {
                message: `The stack has no ConfigMap ${auditNamespace}/${AUDIT_CONFIGMAP}${hint}; prod must record its resolved tool flags and emergency override there.`,
            },
        ];
    }
    return audit.flatMap((cm) => judgeAuditMap(cm, now).map((message) => ({ message, urn: cm.urn })));
}
