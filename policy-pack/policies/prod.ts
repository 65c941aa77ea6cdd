// Rules that only the prod profile turns on (design.md sections 2 and 5).

import { checkKataRuntime } from "../checks/kata";
import { checkProdToolFlags } from "../checks/prod-flags";
import { stackPolicy } from "./define";

// One stack policy covers both ways a pod becomes an agent pod (its own label, its namespace's
// label): policy names are unique in a pack, and only a stack policy sees the Namespace.
export const kataRuntime = stackPolicy({
    name: "baseline-kata-runtime",
    description:
        "On prod, agent pods (pod label agent-security.io/role: agent, or a namespace labelled agent-security.io/agents: \"true\") set a Kata runtimeClassName.",
    settings: ["profile", "kataRuntimeClasses"],
    check: (resources, s, skip) => (s.profile === "prod" ? checkKataRuntime(resources, s.kataRuntimeClasses, skip) : undefined),
});

export const prodToolFlags = stackPolicy({
    name: "baseline-prod-tool-flags",
    description:
        "On prod, the agent-security-audit ConfigMap records every optional tool as on, or off under a complete, unexpired emergency override that lists it.",
    settings: ["profile", "auditNamespace"],
    check: (resources, s) => (s.profile === "prod" ? checkProdToolFlags(resources, s.auditNamespace, new Date()) : undefined),
});

export const prodPolicies = [kataRuntime, prodToolFlags];
