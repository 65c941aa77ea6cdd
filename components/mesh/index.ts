import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin, OperatorPin } from "../../config/schema";
import { pinnedChartArgs } from "../charts";
import { childOptions } from "../gateway/options";
import { platformNamespaceLabels } from "../gateway/namespaces";
import { OlmOperator } from "../operators";
import type { Platform } from "../wellKnown";
import { ISTIO_CNI_NAMESPACE, ISTIO_NAMESPACE } from "../wellKnown";
import { normalizeHosts, peerAuthenticationManifest, serviceEntryManifest, sidecarManifest } from "./agentPolicy";
import { istioCniValues, istioPatchSpec, istiodValues } from "./meshConfig";

export { extAuthzPolicyManifest, EXT_AUTHZ_POLICY_NAME } from "./extAuthz";

/** The Sail `Istio` that OpenShift Service Mesh 3 runs; patched, never created (design.md section 3). */
export const SAIL_ISTIO_NAME = "default";

export interface MeshArgs {
    readonly platform: Platform;
    readonly istioVersion: string;
    readonly extAuthzTimeout: string;
    readonly maxRequestBytes: number;
    /** Register the Authorino ext-authz provider and guard the MCP gateway with it. */
    readonly toolPolicy: boolean;
    readonly charts: { readonly istioBase: ChartPin; readonly istiod: ChartPin; readonly istioCni: ChartPin };
    readonly operator: OperatorPin;
    readonly approval: "Automatic" | "Manual";
}

/**
 * Istio in sidecar mode with REGISTRY_ONLY egress, Istio CNI, and (with the tool policy) the
 * Authorino ext-authz provider.
 *
 * OpenShift: OSSM 3 from OLM, a patch of the existing Sail `Istio` `default`, and an `IstioCNI`.
 * Kubernetes: the istio `base`, `istiod` and `cni` charts. CNI on both platforms: without it every
 * injected pod needs the `istio-init` container with NET_ADMIN as root, which the agents'
 * PSA `restricted` namespaces refuse.
 */
export class Mesh extends pulumi.ComponentResource {
    constructor(name: string, args: MeshArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:mesh:Mesh", name, {}, opts);
        const child = (...dependsOn: pulumi.Resource[]) => childOptions(this, opts, dependsOn);
        const meshArgs = { toolPolicy: args.toolPolicy, extAuthzTimeout: args.extAuthzTimeout, maxRequestBytes: args.maxRequestBytes };

        // The CNI node agent writes the CNI config on the host and sets up pod networking: privileged.
        const cniNamespace = new k8s.core.v1.Namespace(
            `${name}-cni-namespace`,
            { metadata: { name: ISTIO_CNI_NAMESPACE, labels: platformNamespaceLabels("privileged") } },
            child(),
        );

        if (args.platform === "openshift") {
            // The global OperatorGroup of openshift-operators serves this AllNamespaces operator.
            const operator = new OlmOperator(
                `${name}-operator`,
                {
                    namespace: "openshift-operators",
                    createNamespace: false,
                    installMode: "AllNamespaces",
                    createOperatorGroup: false,
                    operator: args.operator,
                    approval: args.approval,
                },
                child(),
            );
            new k8s.apiextensions.CustomResourcePatch(
                `${name}-istio`,
                {
                    apiVersion: "sailoperator.io/v1",
                    kind: "Istio",
                    metadata: {
                        name: SAIL_ISTIO_NAME,
                        // The mesh config is a security control: on a field conflict with another
                        // manager (an admin's `oc patch`), this program's values win.
                        annotations: { "pulumi.com/patchForce": "true" },
                    },
                    spec: istioPatchSpec({ ...meshArgs, istioVersion: args.istioVersion }),
                },
                child(operator),
            );
            new k8s.apiextensions.CustomResource(
                `${name}-istio-cni`,
                {
                    apiVersion: "sailoperator.io/v1",
                    kind: "IstioCNI",
                    metadata: { name: "default" },
                    spec: { version: args.istioVersion, namespace: ISTIO_CNI_NAMESPACE },
                },
                child(operator, cniNamespace),
            );
        } else {
            const istioNamespace = new k8s.core.v1.Namespace(
                `${name}-namespace`,
                { metadata: { name: ISTIO_NAMESPACE, labels: platformNamespaceLabels("restricted") } },
                child(),
            );
            const base = new k8s.helm.v4.Chart(
                `${name}-istio-base`,
                pinnedChartArgs(args.charts.istioBase, "istio-base", ISTIO_NAMESPACE, {}),
                child(istioNamespace),
            );
            new k8s.helm.v4.Chart(
                `${name}-istiod`,
                pinnedChartArgs(args.charts.istiod, "istiod", ISTIO_NAMESPACE, istiodValues(meshArgs)),
                child(istioNamespace, base),
            );
            new k8s.helm.v4.Chart(
                `${name}-istio-cni`,
                pinnedChartArgs(args.charts.istioCni, "istio-cni", ISTIO_CNI_NAMESPACE, istioCniValues()),
                child(cniNamespace, base),
            );
        }
        this.registerOutputs({});
    }
}

export interface AgentMeshPolicyArgs {
    readonly namespace: string;
    /** External hosts the namespace's agents may reach (ServiceEntry + Sidecar egress). */
    readonly egressHosts: readonly string[];
    readonly mcpGatewayNamespace?: string;
}

/** Per agent namespace: Sidecar REGISTRY_ONLY, one ServiceEntry per allowlisted host, STRICT mTLS. */
export class AgentMeshPolicy extends pulumi.ComponentResource {
    constructor(name: string, args: AgentMeshPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:mesh:AgentMeshPolicy", name, {}, opts);
        // The namespace comes from the baseline: `opts.dependsOn` (the AgentNamespace) is passed on.
        const child = childOptions(this, opts);
        const hosts = normalizeHosts(args.egressHosts);
        new k8s.apiextensions.CustomResource(`${name}-sidecar`, sidecarManifest(args.namespace, hosts, args.mcpGatewayNamespace), child);
        for (const host of hosts) {
            new k8s.apiextensions.CustomResource(`${name}-egress-${host}`, serviceEntryManifest(args.namespace, host), child);
        }
        new k8s.apiextensions.CustomResource(`${name}-peer-authentication`, peerAuthenticationManifest(args.namespace), child);
        this.registerOutputs({});
    }
}
