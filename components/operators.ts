import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { OperatorPin } from "../config/schema";
import { AGENTS_NAMESPACE_LABEL, MANAGED_BY_LABELS } from "./wellKnown";

export interface OlmOperatorArgs {
    /** Namespace the operator is installed into. */
    readonly namespace: string;
    /** Create the namespace (false for namespaces that ship with OpenShift, such as openshift-operators). */
    readonly createNamespace: boolean;
    /** AllNamespaces install mode (no targetNamespaces) or OwnNamespace (targetNamespaces: [namespace]). */
    readonly installMode: "AllNamespaces" | "OwnNamespace";
    /** false where the namespace already has an OperatorGroup (openshift-operators has the global one). */
    readonly createOperatorGroup: boolean;
    readonly operator: OperatorPin;
    readonly approval: "Automatic" | "Manual";
    /** Extra labels on a created namespace (for example Pod Security levels an operand needs). */
    readonly namespaceLabels?: Readonly<Record<string, string>>;
}

export interface OperatorGroupSpec {
    targetNamespaces?: string[];
    upgradeStrategy: "Default";
}

/**
 * OperatorGroup spec for an install mode (operators.coreos.com/v1; v1alpha2 is legacy). The
 * mode must be one the operator's CSV `installModes` lists (upstream-apis.md section 1).
 */
export function operatorGroupSpec(namespace: string, installMode: OlmOperatorArgs["installMode"]): OperatorGroupSpec {
    return installMode === "OwnNamespace" ? { targetNamespaces: [namespace], upgradeStrategy: "Default" } : { upgradeStrategy: "Default" };
}

export interface SubscriptionSpec {
    name: string;
    channel: string;
    source: string;
    sourceNamespace: string;
    installPlanApproval: "Automatic" | "Manual";
}

export function subscriptionSpec(operator: OperatorPin, approval: OlmOperatorArgs["approval"]): SubscriptionSpec {
    return {
        name: operator.package,
        channel: operator.channel,
        source: operator.source,
        sourceNamespace: operator.sourceNamespace,
        installPlanApproval: approval,
    };
}

/**
 * Labels of an operator namespace: ours, and explicitly not an agent namespace, so the agent
 * rules (ClusterSPIFFEIDs, Kyverno and admission policies, Falco) that select
 * `agent-security.io/agents: "true"` can never match it.
 */
export function operatorNamespaceLabels(extra?: Readonly<Record<string, string>>): Record<string, string> {
    return { ...MANAGED_BY_LABELS, [AGENTS_NAMESPACE_LABEL]: "false", ...(extra ?? {}) };
}

// OLM Namespace + OperatorGroup + Subscription. With `approval: Manual` (the prod default) the
// operator, and therefore its CRDs, only appear once someone approves the InstallPlan; custom
// resources that depend on `subscription` fail until then, which is the point of Manual.
export class OlmOperator extends pulumi.ComponentResource {
    /** Others `dependsOn` this so their custom resources come after the operator's subscription. */
    public readonly subscription: k8s.apiextensions.CustomResource;
    public readonly namespaceName: string;

    constructor(name: string, args: OlmOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:operators:OlmOperator", name, {}, opts);
        this.namespaceName = args.namespace;
        const before: pulumi.Resource[] = [];

        if (args.createNamespace) {
            before.push(
                new k8s.core.v1.Namespace(
                    `${name}-namespace`,
                    { metadata: { name: args.namespace, labels: operatorNamespaceLabels(args.namespaceLabels) } },
                    { parent: this },
                ),
            );
        }
        if (args.createOperatorGroup) {
            // One OperatorGroup per namespace: OLM refuses to install into a namespace with two.
            before.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-operator-group`,
                    {
                        apiVersion: "operators.coreos.com/v1",
                        kind: "OperatorGroup",
                        metadata: { name: args.namespace, namespace: args.namespace, labels: { ...MANAGED_BY_LABELS } },
                        spec: operatorGroupSpec(args.namespace, args.installMode),
                    },
                    { parent: this, dependsOn: [...before] },
                ),
            );
        }
        this.subscription = new k8s.apiextensions.CustomResource(
            `${name}-subscription`,
            {
                apiVersion: "operators.coreos.com/v1alpha1",
                kind: "Subscription",
                metadata: { name: args.operator.package, namespace: args.namespace, labels: { ...MANAGED_BY_LABELS } },
                spec: subscriptionSpec(args.operator, args.approval),
            },
            { parent: this, dependsOn: before },
        );

        this.registerOutputs({ namespaceName: this.namespaceName });
    }
}
