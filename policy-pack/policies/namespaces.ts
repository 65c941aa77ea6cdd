// Namespace isolation, checked across resources (design.md sections 6 and 8).

import { checkDefaultDenyNetwork, checkNamespacePodSecurity, checkNamespaceQuotas } from "../checks/namespaces";
import { stackPolicy } from "./define";

export const namespacePodSecurity = stackPolicy({
    name: "baseline-namespace-pod-security",
    description:
        "Every namespace a workload lands in is a Namespace of the stack labelled pod-security.kubernetes.io/enforce: restricted, with enforce-version absent or latest.",
    check: (resources, _settings, skip) => checkNamespacePodSecurity(resources, skip),
});

export const defaultDenyNetwork = stackPolicy({
    name: "baseline-default-deny-network",
    description:
        "Every namespace a workload lands in has a default-deny NetworkPolicy for ingress and egress, and no NetworkPolicy rule there allows every peer.",
    check: (resources, _settings, skip) => checkDefaultDenyNetwork(resources, skip),
});

export const namespaceQuotas = stackPolicy({
    name: "baseline-namespace-quotas",
    description:
        "Every namespace a workload lands in has a LimitRange with Container cpu and memory defaults and a ResourceQuota on limits.cpu and limits.memory.",
    check: (resources, _settings, skip) => checkNamespaceQuotas(resources, skip),
});

export const namespacePolicies = [namespacePodSecurity, defaultDenyNetwork, namespaceQuotas];
