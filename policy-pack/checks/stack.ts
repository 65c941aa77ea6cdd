// Shared vocabulary of the stack-level (cross-resource) checks.

import { nameOf, namespaceOf, Workload, workloadOf } from "./workload";
import { Obj } from "./values";

export interface StackResource {
    readonly type: string;
    readonly props: Obj;
    readonly urn: string;
}

export interface StackViolation {
    readonly message: string;
    /** The resource to blame; absent when the stack as a whole is at fault. */
    readonly urn?: string;
}

export interface PlacedWorkload {
    readonly workload: Workload;
    readonly urn: string;
    readonly namespace: string;
}

/**
 * `Deployment agents/currency-agent`, for messages only: the name is read when a message is
 * written, so an unrelated name unknown at preview does not downgrade a passing policy.
 */
export function labelOf(p: PlacedWorkload): string {
    const w = p.workload;
    return `${w.patch ? `${w.kind}Patch` : w.kind} ${p.namespace}/${nameOf(w.props) ?? "(unnamed)"}`;
}

/** Predicate a policy passes in to skip its exempt workloads. */
export type Skip = (w: Workload) => boolean;

export function placedWorkloads(resources: readonly StackResource[], skip: Skip, includePatches: boolean): PlacedWorkload[] {
    const result: PlacedWorkload[] = [];
    for (const r of resources) {
        const w = workloadOf(r.type, r.props);
        if (w === undefined || (w.patch && !includePatches) || skip(w)) {
            continue;
        }
        result.push({ workload: w, urn: r.urn, namespace: namespaceOf(r.props) });
    }
    return result;
}

export function byNamespace(workloads: readonly PlacedWorkload[]): Map<string, PlacedWorkload[]> {
    const groups = new Map<string, PlacedWorkload[]>();
    for (const p of workloads) {
        const list = groups.get(p.namespace);
        if (list === undefined) {
            groups.set(p.namespace, [p]);
        } else {
            list.push(p);
        }
    }
    return groups;
}

/** Resources of one Kubernetes kind (any of the given type tokens), indexed by namespace. */
export function indexByNamespace(resources: readonly StackResource[], types: readonly string[]): Map<string, StackResource[]> {
    const index = new Map<string, StackResource[]>();
    for (const r of resources) {
        if (!types.includes(r.type)) {
            continue;
        }
        const ns = namespaceOf(r.props);
        const list = index.get(ns);
        if (list === undefined) {
            index.set(ns, [r]);
        } else {
            list.push(r);
        }
    }
    return index;
}

export function listWorkloads(workloads: readonly PlacedWorkload[]): string {
    const labels = workloads.map(labelOf);
    return labels.length <= 3 ? labels.join(", ") : `${labels.slice(0, 3).join(", ")} and ${labels.length - 3} more`;
}
