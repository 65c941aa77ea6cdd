// Tool health: a PrometheusRule per enabled tool that alerts while any of the tool's workloads is not
// fully ready, scaled to zero, or missing.
import * as assert from "assert";
import { monitoredWorkloads, notReadyExpression, toolAlertRules } from "../../components/runtime/health";
import { TOOLS } from "../../config/profiles";
import type { Render } from "./support";
import { ofKind, onKubernetes, prodConfig, render } from "./support";

describe("tool health monitoring", () => {
    it("maps every tool to the workloads that carry it, per platform", () => {
        const table = (platform: "openshift" | "kubernetes"): Record<string, string[]> =>
            Object.fromEntries(TOOLS.map((tool) => [tool, monitoredWorkloads(platform, tool).map((workload) => `${workload.kind} ${workload.namespace}/${workload.name}`)]));
        const common = {
            envoy: ["Deployment istio-system/istiod", "DaemonSet istio-cni/istio-cni-node"],
            opa: ["Deployment kuadrant-system/authorino", "Deployment kuadrant-system/limitador-limitador", "Deployment gateway-system/mcp-gateway"],
            cilium: ["DaemonSet kube-system/cilium", "Deployment kube-system/cilium-operator"],
            kyverno: ["Deployment kyverno/kyverno-admission-controller"],
            falco: ["DaemonSet falco/falco", "Deployment falco/falcosidekick"],
        };
        assert.deepStrictEqual(table("openshift"), { ...common, kata: ["Deployment openshift-sandboxed-containers-operator/controller-manager"] });
        assert.deepStrictEqual(table("kubernetes"), { ...common, kata: ["DaemonSet kube-system/kata-deploy"] });
    });

    it("watches cilium in the configured namespace", () => {
        assert.deepStrictEqual(
            monitoredWorkloads("kubernetes", "cilium", { ciliumNamespace: "cilium" }).map((workload) => workload.namespace),
            ["cilium", "cilium"],
        );
    });

    it("alerts on a DaemonSet short of ready, scheduled nowhere, or absent", () => {
        assert.strictEqual(
            notReadyExpression({ tool: "falco", kind: "DaemonSet", namespace: "falco", name: "falco" }),
            '(kube_daemonset_status_number_ready{namespace="falco",daemonset="falco"} < kube_daemonset_status_desired_number_scheduled{namespace="falco",daemonset="falco"})' +
                ' or (kube_daemonset_status_desired_number_scheduled{namespace="falco",daemonset="falco"} == 0)' +
                ' or absent(kube_daemonset_status_desired_number_scheduled{namespace="falco",daemonset="falco"})',
        );
    });

    it("alerts on a Deployment short of available replicas, scaled to zero, or absent", () => {
        assert.strictEqual(
            notReadyExpression({ tool: "kyverno", kind: "Deployment", namespace: "kyverno", name: "kyverno-admission-controller" }),
            '(kube_deployment_status_replicas_available{namespace="kyverno",deployment="kyverno-admission-controller"} < kube_deployment_spec_replicas{namespace="kyverno",deployment="kyverno-admission-controller"})' +
                ' or (kube_deployment_spec_replicas{namespace="kyverno",deployment="kyverno-admission-controller"} == 0)' +
                ' or absent(kube_deployment_spec_replicas{namespace="kyverno",deployment="kyverno-admission-controller"})',
        );
    });

    it("labels each alert with the tool, the workload and a critical severity, firing after 5m", () => {
        for (const rule of toolAlertRules("openshift", "falco")) {
            assert.strictEqual(rule.alert, "AgentSecurityFalcoNotReady");
            assert.strictEqual(rule.for, "5m");
            assert.deepStrictEqual(Object.keys(rule.labels).sort(), ["severity", "tool", "workload"]);
            assert.strictEqual(rule.labels.severity, "critical");
        }
    });

    describe("rendered", () => {
        let prod: Render;
        before(async () => {
            prod = await render("prod", prodConfig());
        });

        it("one group per PrometheusRule whose alerts cover exactly the tool's workloads", () => {
            for (const manifest of ofKind(prod.manifests, "PrometheusRule")) {
                const tool = (manifest.metadata.labels as Record<string, string>)["agent-security.io/tool"]!;
                const groups = (manifest.spec as { groups: { name: string; rules: { expr: string }[] }[] }).groups;
                assert.deepStrictEqual(groups.map((group) => group.name), [`agent-security.${tool}.health`]);
                assert.deepStrictEqual(
                    groups[0]!.rules.map((rule) => rule.expr),
                    monitoredWorkloads("openshift", tool as (typeof TOOLS)[number]).map(notReadyExpression),
                );
            }
        });

        it("uses kata-deploy on Kubernetes", async () => {
            const kube = await render("prod", onKubernetes());
            const kata = ofKind(kube.manifests, "PrometheusRule").find((manifest) => manifest.metadata.name === "agent-security-kata-health");
            assert.match(JSON.stringify(kata?.spec), /daemonset=\\"kata-deploy\\"/);
        });
    });
});
