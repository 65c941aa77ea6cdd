// prod: agent pods run in a Kata sandbox. A pod is an agent pod when its template carries the
// agent role label or when it lands in a namespace the stack labels as an agent namespace, so this
// is a stack-level check (a resource policy cannot see the Namespace's labels).

import { asStr, get, show } from "./values";
import { labelOf, placedWorkloads, Skip, StackResource, StackViolation } from "./stack";
import { NAMESPACE_TYPE } from "./namespaces";
import { nameOf } from "./workload";

export const AGENT_ROLE_LABEL = "agent-security.io/role";
export const AGENT_NAMESPACE_LABEL = "agent-security.io/agents";
const NAMESPACE_PATCH_TYPE = "kubernetes:core/v1:NamespacePatch";

/** Namespaces labelled as agent namespaces, by a Namespace or a NamespacePatch of the stack. */
export function agentNamespaces(resources: readonly StackResource[]): Set<string> {
    const names = new Set<string>();
    for (const r of resources) {
        if (r.type !== NAMESPACE_TYPE && r.type !== NAMESPACE_PATCH_TYPE) {
            continue;
        }
        const name = nameOf(r.props);
        if (name !== undefined && get(r.props, "metadata", "labels", AGENT_NAMESPACE_LABEL) === "true") {
            names.add(name);
        }
    }
    return names;
}

export function checkKataRuntime(resources: readonly StackResource[], kataRuntimeClasses: readonly string[], skip: Skip): StackViolation[] {
    const agentNs = agentNamespaces(resources);
    const out: StackViolation[] = [];
    for (const p of placedWorkloads(resources, skip, true)) {
        const w = p.workload;
        const byLabel = get(w.podMeta, "labels", AGENT_ROLE_LABEL) === "agent";
        const byNamespace = agentNs.has(p.namespace);
        if (!byLabel && !byNamespace) {
            continue;
        }
        const why = byLabel ? `its pod label ${AGENT_ROLE_LABEL}: agent` : `namespace "${p.namespace}" is labelled ${AGENT_NAMESPACE_LABEL}: "true"`;
        const runtimeClass = w.pod.runtimeClassName;
        if (runtimeClass === undefined) {
            if (!w.patch) {
                out.push({
                    urn: p.urn,
                    message: `${labelOf(p)} is an agent pod (${why}) but sets no ${w.podPath}.runtimeClassName; prod agents must use a Kata runtime class (${kataRuntimeClasses.join(", ")}).`,
                });
            }
        } else if (!kataRuntimeClasses.includes(asStr(runtimeClass) ?? "")) {
            out.push({
                urn: p.urn,
                message: `${labelOf(p)} is an agent pod (${why}) but sets ${w.podPath}.runtimeClassName ${show(runtimeClass)}; prod agents must use a Kata runtime class (${kataRuntimeClasses.join(", ")}).`,
            });
        }
    }
    return out;
}
