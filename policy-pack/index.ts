import { PolicyPack } from "@pulumi/policy";
import { baselinePolicies } from "./policies";

new PolicyPack("agent-security-baseline", {
    description: "agent-security mandatory baseline for AI agent workloads on Kubernetes and OpenShift.",
    enforcementLevel: "mandatory",
    policies: baselinePolicies,
});
