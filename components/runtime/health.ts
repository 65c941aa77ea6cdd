// Tool health (security-tooling design, "Health Monitoring": an optional tool that fails silently is
// a security gap). One PrometheusRule per enabled tool alerts when any workload of the tool is not
// fully ready, scaled to zero, or missing. The metrics are kube-state-metrics' (kube_daemonset_*,
// kube_deployment_*), so this needs nothing from the tools themselves.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Tool } from "../../config/profiles";
import {
    FALCO_NAMESPACE,
    GATEWAY_NAMESPACE,
    ISTIO_CNI_NAMESPACE,
    ISTIO_NAMESPACE,
    KUADRANT_NAMESPACE,
    KYVERNO_NAMESPACE,
    MANAGED_BY_LABELS,
    MCP_GATEWAY_NAME,
    OSC_NAMESPACE,
} from "../wellKnown";
import type { Platform } from "../wellKnown";
import { FALCOSIDEKICK_RELEASE, FALCO_RELEASE } from "./values";

export interface MonitoredWorkload {
    readonly tool: string;
    readonly kind: "DaemonSet" | "Deployment";
    readonly namespace: string;
    readonly name: string;
}

export interface ToolHealthArgs {
    /** Where the PrometheusRules live. */
    readonly namespace: string;
    readonly platform: Platform;
    /** The optional tools that are on; each gets its own rule. */
    readonly tools: readonly Tool[];
    /** Namespace of the cilium DaemonSet (config `cilium.namespace`); default kube-system. */
    readonly ciliumNamespace?: string;
    /** Namespace of the kata-deploy release on Kubernetes; default kube-system. */
    readonly kataDeployNamespace?: string;
}

/** How long a workload may be short of ready before the alert fires (covers rolling updates). */
export const HEALTH_ALERT_FOR = "5m";

/** The workloads whose readiness stands for a tool's health, per platform. */
export function monitoredWorkloads(
    platform: Platform,
    tool: Tool,
    options: { readonly ciliumNamespace?: string; readonly kataDeployNamespace?: string } = {},
): MonitoredWorkload[] {
    const ciliumNamespace = options.ciliumNamespace ?? "kube-system";
    const workload = (kind: MonitoredWorkload["kind"], namespace: string, name: string): MonitoredWorkload => ({ tool, kind, namespace, name });
    switch (tool) {
        case "envoy":
            // istiod serves config and certificates to every sidecar; istio-cni sets up the
            // redirection that keeps agent traffic in the mesh (Sail names them the same way).
            return [workload("Deployment", ISTIO_NAMESPACE, "istiod"), workload("DaemonSet", ISTIO_CNI_NAMESPACE, "istio-cni-node")];
        case "opa":
            // Authorino decides every tools/call, Limitador enforces the rate limits (the Kuadrant
            // operator names it `limitador-limitador`), and the MCP gateway broker-router is the
            // Deployment the mcp-gateway controller creates (Kuadrant/mcp-gateway broker_router.go).
            return [
                workload("Deployment", KUADRANT_NAMESPACE, "authorino"),
                workload("Deployment", KUADRANT_NAMESPACE, "limitador-limitador"),
                workload("Deployment", GATEWAY_NAMESPACE, MCP_GATEWAY_NAME),
            ];
        case "cilium":
            return [workload("DaemonSet", ciliumNamespace, "cilium"), workload("Deployment", ciliumNamespace, "cilium-operator")];
        case "kyverno":
            return [workload("Deployment", KYVERNO_NAMESPACE, "kyverno-admission-controller")];
        case "falco":
            return [workload("DaemonSet", FALCO_NAMESPACE, FALCO_RELEASE), workload("Deployment", FALCO_NAMESPACE, FALCOSIDEKICK_RELEASE)];
        case "kata":
            // OpenShift: the sandboxed-containers operator (config/manager/manager.yaml in
            // openshift/sandboxed-containers-operator) reconciles KataConfig; the runtime itself is
            // installed by MachineConfig and has no workload to watch. Kubernetes: the kata-deploy
            // DaemonSet keeps the runtime installed on every node.
            return platform === "openshift"
                ? [workload("Deployment", OSC_NAMESPACE, "controller-manager")]
                : [workload("DaemonSet", options.kataDeployNamespace ?? "kube-system", "kata-deploy")];
    }
}

/** PromQL that is non-empty while the workload is short of ready, scaled to zero, or absent. */
export function notReadyExpression(workload: MonitoredWorkload): string {
    if (workload.kind === "DaemonSet") {
        const selector = `{namespace="${workload.namespace}",daemonset="${workload.name}"}`;
        return (
            `(kube_daemonset_status_number_ready${selector} < kube_daemonset_status_desired_number_scheduled${selector})` +
            ` or (kube_daemonset_status_desired_number_scheduled${selector} == 0)` +
            ` or absent(kube_daemonset_status_desired_number_scheduled${selector})`
        );
    }
    const selector = `{namespace="${workload.namespace}",deployment="${workload.name}"}`;
    return (
        `(kube_deployment_status_replicas_available${selector} < kube_deployment_spec_replicas${selector})` +
        ` or (kube_deployment_spec_replicas${selector} == 0)` +
        ` or absent(kube_deployment_spec_replicas${selector})`
    );
}

export interface PrometheusAlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
}

const TOOL_TITLES: Readonly<Record<Tool, string>> = {
    envoy: "Envoy",
    opa: "Opa",
    cilium: "Cilium",
    kyverno: "Kyverno",
    falco: "Falco",
    kata: "Kata",
};

export function toolAlertRules(platform: Platform, tool: Tool, options: { readonly ciliumNamespace?: string; readonly kataDeployNamespace?: string } = {}): PrometheusAlertRule[] {
    return monitoredWorkloads(platform, tool, options).map((workload) => ({
        alert: `AgentSecurity${TOOL_TITLES[tool]}NotReady`,
        expr: notReadyExpression(workload),
        for: HEALTH_ALERT_FOR,
        labels: { severity: "critical", tool, workload: `${workload.kind}/${workload.namespace}/${workload.name}` },
        annotations: {
            summary: `agent-security tool ${tool} is degraded: ${workload.kind} ${workload.namespace}/${workload.name} is not fully ready`,
            description:
                `The ${workload.kind} ${workload.namespace}/${workload.name} of the optional tool ${tool} has been short of ready, scaled to zero or missing for ${HEALTH_ALERT_FOR}. ` +
                "The mandatory baseline still holds, but the layer this tool adds is down; fail-closed tools also block new agent pods.",
        },
    }));
}

// A PrometheusRule (monitoring.coreos.com/v1) per enabled tool.
export class ToolHealth extends pulumi.ComponentResource {
    public readonly ruleNames: readonly string[];

    constructor(name: string, args: ToolHealthArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:runtime:ToolHealth", name, {}, opts);
        const options = { ciliumNamespace: args.ciliumNamespace, kataDeployNamespace: args.kataDeployNamespace };
        const tools = [...new Set(args.tools)].sort();
        this.ruleNames = tools.map((tool) => `agent-security-${tool}-health`);
        for (const tool of tools) {
            new k8s.apiextensions.CustomResource(
                `${name}-${tool}`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: {
                        name: `agent-security-${tool}-health`,
                        namespace: args.namespace,
                        labels: { ...MANAGED_BY_LABELS, "agent-security.io/tool": tool },
                    },
                    spec: { groups: [{ name: `agent-security.${tool}.health`, rules: toolAlertRules(args.platform, tool, options) }] },
                },
                { parent: this },
            );
        }
        this.registerOutputs({ ruleNames: this.ruleNames });
    }
}
