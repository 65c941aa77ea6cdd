// CPU and memory limits on every container that runs for the pod's lifetime or before it (init).
// Ephemeral containers are exempt: the API forbids `resources` on them.

import { asObj, get, setsField, show } from "./values";
import { containersOf, describe, Workload } from "./workload";

// Kubernetes quantity grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go), numbers allowed too.
const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;

/** Why `value` is not a usable limit, or undefined when it is one. */
export function limitProblem(value: unknown): string | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) && value > 0 ? undefined : `is ${show(value)}, which is not a positive quantity`;
    }
    if (typeof value !== "string" || !QUANTITY.test(value)) {
        return `is ${show(value)}, which is not a Kubernetes quantity`;
    }
    const magnitude = Number.parseFloat(value.replace(/[^0-9.eE+-].*$/, ""));
    // A zero limit is no limit at all for the runtime, so it does not count.
    return magnitude > 0 ? undefined : `is ${show(value)}, which is not a positive quantity`;
}

export function checkResourceLimits(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w, ["containers", "initContainers"])) {
        const limits = get(c.spec, "resources", "limits");
        for (const resource of ["cpu", "memory"] as const) {
            const value = asObj(limits)?.[resource];
            if (value === undefined) {
                if (!w.patch) {
                    out.push(`${describe(c)} ${setsField(`resources.limits.${resource}`, value)}; every container needs cpu and memory limits.`);
                }
                continue;
            }
            const problem = limitProblem(value);
            if (problem !== undefined) {
                out.push(`${describe(c)} resources.limits.${resource} ${problem}; every container needs cpu and memory limits.`);
            }
        }
    }
    return out;
}
