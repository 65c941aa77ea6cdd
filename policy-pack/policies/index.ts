// The pack's policies in one list, shared by policy-pack/index.ts and `npm run check`.

import type { Policies } from "@pulumi/policy";
import { hostIsolationPolicies } from "./host-isolation";
import { namespacePolicies } from "./namespaces";
import { podHardeningPolicies } from "./pod-hardening";
import { prodPolicies } from "./prod";
import { secretPolicies } from "./secrets";
import { workloadHygienePolicies } from "./workload-hygiene";

export const baselinePolicies: Policies = [
    ...podHardeningPolicies,
    ...hostIsolationPolicies,
    ...secretPolicies,
    ...workloadHygienePolicies,
    ...namespacePolicies,
    ...prodPolicies,
];
