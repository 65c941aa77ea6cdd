import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../../config/schema";
import { chartSource } from "../charts";
import { KYVERNO_NAMESPACE, MANAGED_BY_LABELS } from "../wellKnown";
import type { Platform } from "../wellKnown";
import { failClosedBinding, failClosedPolicy } from "./failClosed";
import { kyvernoPolicies } from "./policies";
import { KYVERNO_RELEASE, kyvernoValues } from "./values";

export interface KyvernoAdmissionArgs {
    readonly platform: Platform;
    readonly chart: ChartPin;
    readonly validationAction: "Audit" | "Deny";
    readonly approvedRegistries: readonly string[];
    /** Require this runtime class on agent pods (prod with kata on). */
    readonly requiredRuntimeClass?: string;
}

// Kyverno chart + policies.kyverno.io/v1 ValidatingPolicies mirroring the baseline.
export class KyvernoAdmission extends pulumi.ComponentResource {
    public readonly policyNames: readonly string[];

    constructor(name: string, args: KyvernoAdmissionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:admission:KyvernoAdmission", name, {}, opts);
        // Every Kyverno container meets PSA restricted once the OpenShift UID pins are removed.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: KYVERNO_NAMESPACE, labels: { ...MANAGED_BY_LABELS, "pod-security.kubernetes.io/enforce": "restricted" } } },
            { parent: this },
        );
        // The chart installs the policies.kyverno.io CRDs; the policies wait for it.
        const chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                name: KYVERNO_RELEASE,
                ...chartSource(args.chart),
                version: args.chart.version,
                namespace: KYVERNO_NAMESPACE,
                values: kyvernoValues({ platform: args.platform, validationAction: args.validationAction }),
            },
            { parent: this, dependsOn: [namespace] },
        );
        const policies = kyvernoPolicies({
            validationAction: args.validationAction,
            approvedRegistries: args.approvedRegistries,
            requiredRuntimeClass: args.requiredRuntimeClass,
        });
        this.policyNames = policies.map((policy) => policy.metadata.name);
        for (const policy of policies) {
            new k8s.apiextensions.CustomResource(
                `${name}-${policy.metadata.name.replace(/^agent-security-/, "")}`,
                { apiVersion: policy.apiVersion, kind: policy.kind, metadata: policy.metadata, spec: policy.spec },
                { parent: this, dependsOn: [chart] },
            );
        }
        this.registerOutputs({ policyNames: this.policyNames });
    }
}

export interface FailClosedTool {
    readonly tool: string;
    readonly daemonSetNamespace: string;
    readonly daemonSetName: string;
}

export interface FailClosedAdmissionArgs {
    readonly tools: readonly FailClosedTool[];
}

// ValidatingAdmissionPolicy + binding per tool, paramRef the tool's DaemonSet, parameterNotFoundAction Deny.
export class FailClosedAdmission extends pulumi.ComponentResource {
    constructor(name: string, args: FailClosedAdmissionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:admission:FailClosedAdmission", name, {}, opts);
        const tools = [...args.tools].sort((a, b) => a.tool.localeCompare(b.tool));
        for (const tool of tools) {
            const policy = failClosedPolicy(tool);
            const vap = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-${tool.tool}-policy`, policy, { parent: this });
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-${tool.tool}-binding`, failClosedBinding(tool), {
                parent: this,
                dependsOn: [vap],
            });
        }
        this.registerOutputs({});
    }
}
