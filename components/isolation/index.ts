import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin, OperatorPin } from "../../config/schema";
import { OlmOperator } from "../operators";
import type { Platform } from "../wellKnown";
import { KATA_RUNTIME_CLASS, MANAGED_BY_LABELS, OSC_NAMESPACE } from "../wellKnown";
import { chartSource } from "../charts";

export interface IsolationArgs {
    readonly platform: Platform;
    readonly chart: ChartPin;
    readonly operator: OperatorPin;
    readonly approval: "Automatic" | "Manual";
    /** Nodes to label for Kata with a NodePatch; empty leaves nodes alone. */
    readonly labelNodes: readonly string[];
}

/** The label OSC's MachineConfigPool `kata-oc` selects (openshift/sandboxed-containers-operator). */
export const OPENSHIFT_KATA_NODE_LABEL = "node-role.kubernetes.io/kata-oc";
/** Our node label on Kubernetes; kata-deploy installs only on nodes carrying it when nodes are listed. */
export const KUBERNETES_KATA_NODE_LABEL = "agent-security.io/kata";
export const KATA_DEPLOY_NAMESPACE = "kube-system";
export const KATACONFIG_NAME = "cluster-kataconfig";
/** kata-deploy 4.x default shim on every architecture (the Go-runtime shims are deprecated). */
export const KATA_DEFAULT_SHIM = "qemu-runtime-rs";

export function kataNodeLabel(platform: Platform): { key: string; value: string } {
    return platform === "openshift" ? { key: OPENSHIFT_KATA_NODE_LABEL, value: "" } : { key: KUBERNETES_KATA_NODE_LABEL, value: "true" };
}

/**
 * KataConfig (kataconfiguration.openshift.io/v1, cluster-scoped). The pool selector limits Kata
 * to nodes an admin (or `labelNodes`) labelled `kata-oc`: enabling the extension reboots every
 * selected node, so "all workers" is never the default. `checkNodeEligibility` is required by the
 * schema; true would add an NFD label requirement this program does not install.
 */
export function kataConfigSpec(): Record<string, unknown> {
    return {
        checkNodeEligibility: false,
        logLevel: "info",
        kataConfigPoolSelector: { matchLabels: { [OPENSHIFT_KATA_NODE_LABEL]: "" } },
    };
}

/**
 * kata-deploy values (kata-containers 4.1.0 `tools/packaging/kata-deploy/helm-chart/kata-deploy/values.yaml`).
 * A RuntimeClass named plain `kata` exists only with `runtimeClasses.createDefault: true`; it
 * resolves to `defaultShim.<arch>`. Only that shim is installed (`shims.disableAll` + one enabled):
 * every extra shim is another hypervisor and RuntimeClass an agent pod could be pointed at.
 */
export function kataDeployValues(labelNodes: readonly string[]): Record<string, unknown> {
    return {
        runtimeClasses: { enabled: true, createDefault: true, defaultName: KATA_RUNTIME_CLASS },
        shims: { disableAll: true, [KATA_DEFAULT_SHIM]: { enabled: true } },
        ...(labelNodes.length > 0 ? { nodeSelector: { [KUBERNETES_KATA_NODE_LABEL]: "true" } } : {}),
    };
}

// OSC Subscription + KataConfig (OpenShift) or the kata-deploy chart (Kubernetes).
export class Isolation extends pulumi.ComponentResource {
    public readonly runtimeClassName: string = KATA_RUNTIME_CLASS;

    constructor(name: string, args: IsolationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:isolation:Isolation", name, {}, opts);

        const label = kataNodeLabel(args.platform);
        const nodePatches = [...new Set(args.labelNodes)].sort().map(
            (node) =>
                new k8s.core.v1.NodePatch(
                    `${name}-node-${node}`,
                    { metadata: { name: node, labels: { [label.key]: label.value } } },
                    { parent: this },
                ),
        );

        if (args.platform === "openshift") {
            // OSC supports OwnNamespace/SingleNamespace only (CSV installModes).
            const operator = new OlmOperator(
                `${name}-osc`,
                {
                    namespace: OSC_NAMESPACE,
                    createNamespace: true,
                    installMode: "OwnNamespace",
                    createOperatorGroup: true,
                    operator: args.operator,
                    approval: args.approval,
                },
                { parent: this },
            );
            // The operator creates RuntimeClass `kata` (handler kata, podFixed overhead, node
            // selector on kata-oc) itself; rendering one here would fight it.
            new k8s.apiextensions.CustomResource(
                `${name}-kataconfig`,
                {
                    apiVersion: "kataconfiguration.openshift.io/v1",
                    kind: "KataConfig",
                    metadata: { name: KATACONFIG_NAME, labels: { ...MANAGED_BY_LABELS } },
                    spec: kataConfigSpec(),
                },
                { parent: this, dependsOn: [operator.subscription, ...nodePatches] },
            );
        } else {
            const source = chartSource(args.chart);
            new k8s.helm.v4.Chart(
                `${name}-kata-deploy`,
                {
                    name: "kata-deploy",
                    chart: source.chart,
                    version: source.version,
                    ...(source.repositoryOpts ? { repositoryOpts: { repo: source.repositoryOpts.repo } } : {}),
                    namespace: KATA_DEPLOY_NAMESPACE,
                    values: kataDeployValues(args.labelNodes),
                },
                { parent: this, dependsOn: nodePatches },
            );
        }

        this.registerOutputs({ runtimeClassName: this.runtimeClassName });
    }
}
