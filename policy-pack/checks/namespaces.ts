// Every namespace a workload lands in is created by the same stack and isolated: Pod Security
// Admission `restricted`, a default-deny NetworkPolicy, and quotas (design.md section 6,
// baseline). Patches are left out: they change objects that already exist, in namespaces this
// stack does not own (the Pulumi Patch resources refuse to create a missing object).

import { asArr, asObj, asStr, get, show } from "./values";
import { byNamespace, indexByNamespace, listWorkloads, placedWorkloads, PlacedWorkload, Skip, StackResource, StackViolation } from "./stack";
import { nameOf } from "./workload";

export const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
export const NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const LIMIT_RANGE_TYPE = "kubernetes:core/v1:LimitRange";
export const RESOURCE_QUOTA_TYPE = "kubernetes:core/v1:ResourceQuota";

export const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";
export const PSA_ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";

function namespacesByName(resources: readonly StackResource[]): Map<string, StackResource[]> {
    const index = new Map<string, StackResource[]>();
    for (const r of resources) {
        if (r.type !== NAMESPACE_TYPE) {
            continue;
        }
        const name = nameOf(r.props);
        if (name !== undefined) {
            index.set(name, [...(index.get(name) ?? []), r]);
        }
    }
    return index;
}

/** Runs `judge` once per namespace that holds workloads; blames the Namespace or the first workload. */
function perNamespace(
    resources: readonly StackResource[],
    skip: Skip,
    judge: (namespace: string, workloads: PlacedWorkload[]) => string[],
): StackViolation[] {
    const namespaces = namespacesByName(resources);
    const out: StackViolation[] = [];
    for (const [namespace, workloads] of byNamespace(placedWorkloads(resources, skip, false))) {
        const urn = namespaces.get(namespace)?.[0]?.urn ?? workloads[0].urn;
        for (const message of judge(namespace, workloads)) {
            out.push({ message, urn });
        }
    }
    return out;
}

export function checkNamespacePodSecurity(resources: readonly StackResource[], skip: Skip): StackViolation[] {
    const namespaces = namespacesByName(resources);
    return perNamespace(resources, skip, (namespace, workloads) => {
        const found = namespaces.get(namespace) ?? [];
        if (found.length === 0) {
            return [
                `Namespace "${namespace}" is not created by this stack, but ${listWorkloads(workloads)} ${workloads.length === 1 ? "runs" : "run"} in it; every workload namespace must be a Namespace resource of the stack labelled ${PSA_ENFORCE}: restricted.`,
            ];
        }
        const out: string[] = [];
        for (const ns of found) {
            const label = (key: string) => asStr(get(ns.props, "metadata", "labels", key));
            const enforce = label(PSA_ENFORCE);
            if (enforce !== "restricted") {
                const has = enforce === undefined ? `has no label ${PSA_ENFORCE}` : `has label ${PSA_ENFORCE} ${show(enforce)}`;
                out.push(`Namespace "${namespace}" ${has}; it must be "restricted" for ${listWorkloads(workloads)}.`);
            }
            const version = label(PSA_ENFORCE_VERSION);
            if (version !== undefined && version !== "latest") {
                out.push(`Namespace "${namespace}" pins ${PSA_ENFORCE_VERSION} to ${show(version)}; leave it out or use "latest" so new restrictions apply.`);
            }
        }
        return out;
    });
}

function isEmptySelector(selector: unknown): boolean {
    if (selector === undefined) {
        return true;
    }
    const o = asObj(selector);
    if (o === undefined) {
        return false;
    }
    const labels = asObj(o.matchLabels);
    return (labels === undefined || Object.keys(labels).length === 0) && asArr(o.matchExpressions).length === 0;
}

function isDefaultDeny(policy: StackResource): boolean {
    const spec = asObj(policy.props.spec);
    if (spec === undefined) {
        return false;
    }
    const types = asArr(spec.policyTypes);
    return (
        isEmptySelector(spec.podSelector) &&
        types.includes("Ingress") &&
        types.includes("Egress") &&
        asArr(spec.ingress).length === 0 &&
        asArr(spec.egress).length === 0 &&
        (spec.ingress === undefined || Array.isArray(spec.ingress)) &&
        (spec.egress === undefined || Array.isArray(spec.egress))
    );
}

/** Rules without peers allow every source or destination and undo the default deny. */
function openRules(policy: StackResource): string[] {
    const out: string[] = [];
    const name = nameOf(policy.props) ?? "(unnamed)";
    for (const [direction, peers] of [["ingress", "from"], ["egress", "to"]] as const) {
        asArr(get(policy.props, "spec", direction)).forEach((rule, i) => {
            if (asArr(get(rule, peers)).length === 0) {
                out.push(`NetworkPolicy "${name}" has spec.${direction}[${i}] without "${peers}", which allows every peer and undoes the default deny; name the peers.`);
            }
        });
    }
    return out;
}

export function checkDefaultDenyNetwork(resources: readonly StackResource[], skip: Skip): StackViolation[] {
    const policies = indexByNamespace(resources, [NETWORK_POLICY_TYPE]);
    return perNamespace(resources, skip, (namespace, workloads) => {
        const inNamespace = policies.get(namespace) ?? [];
        const out: string[] = [];
        if (!inNamespace.some(isDefaultDeny)) {
            out.push(
                `Namespace "${namespace}" has no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules) for ${listWorkloads(workloads)}.`,
            );
        }
        for (const p of inNamespace) {
            out.push(...openRules(p).map((m) => `In namespace "${namespace}", ${m}`));
        }
        return out;
    });
}

function hasQuantity(value: unknown): boolean {
    return (typeof value === "string" && value !== "") || (typeof value === "number" && value > 0);
}

export function checkNamespaceQuotas(resources: readonly StackResource[], skip: Skip): StackViolation[] {
    const limitRanges = indexByNamespace(resources, [LIMIT_RANGE_TYPE]);
    const quotas = indexByNamespace(resources, [RESOURCE_QUOTA_TYPE]);
    return perNamespace(resources, skip, (namespace, workloads) => {
        const out: string[] = [];
        const hasDefaults = (limitRanges.get(namespace) ?? []).some((lr) =>
            asArr(get(lr.props, "spec", "limits")).some(
                (limit) =>
                    get(limit, "type") === "Container" &&
                    hasQuantity(get(limit, "default", "cpu")) &&
                    hasQuantity(get(limit, "default", "memory")),
            ),
        );
        if (!hasDefaults) {
            out.push(`Namespace "${namespace}" has no LimitRange with a type Container limit whose default sets cpu and memory (needed for ${listWorkloads(workloads)}).`);
        }
        const hasQuota = (quotas.get(namespace) ?? []).some(
            (q) => hasQuantity(get(q.props, "spec", "hard", "limits.cpu")) && hasQuantity(get(q.props, "spec", "hard", "limits.memory")),
        );
        if (!hasQuota) {
            out.push(`Namespace "${namespace}" has no ResourceQuota with spec.hard limits.cpu and limits.memory (needed for ${listWorkloads(workloads)}).`);
        }
        return out;
    });
}
