import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../../config/schema";
import { chartSource } from "../charts";
import { SPIRE_NAMESPACE, ZTWIM_NAMESPACE } from "../wellKnown";
import type { Platform } from "../wellKnown";
import { agentEgressPolicy } from "./policy";
import { CILIUM_RELEASE, ciliumValues } from "./values";

export interface CiliumInstallArgs {
    readonly chart: ChartPin;
    /** Release namespace; the cilium DaemonSet lands here (upstream-apis.md section 7: kube-system). */
    readonly namespace?: string;
}

// The Cilium chart, only when cilium.install is true (platform.ts decides).
export class CiliumInstall extends pulumi.ComponentResource {
    constructor(name: string, args: CiliumInstallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:network:CiliumInstall", name, {}, opts);
        new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                name: CILIUM_RELEASE,
                ...chartSource(args.chart),
                version: args.chart.version,
                namespace: args.namespace ?? "kube-system",
                values: ciliumValues(),
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}

export interface AgentEgressPolicyArgs {
    readonly agentName: string;
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly egressHosts: readonly string[];
    readonly platform: Platform;
    readonly mcpGatewayNamespace?: string;
    /** The Istio sidecar is injected: allow istiod (xDS and certificates). */
    readonly mesh?: boolean;
    /**
     * Kata is on: the pod runs its own spire-agent (the CSI socket does not cross the VM boundary,
     * spire#4531), which must reach the SPIRE server.
     */
    readonly kata?: boolean;
}

/** Where the SPIRE server runs: the ZTWIM operand namespace on OpenShift, the spire chart's elsewhere. */
export function spireServerNamespace(platform: Platform): string {
    return platform === "openshift" ? ZTWIM_NAMESPACE : SPIRE_NAMESPACE;
}

// CiliumNetworkPolicy per agent: toFQDNs allowlist + the kube-dns rule; never 169.254.0.0/16.
export class AgentEgressPolicy extends pulumi.ComponentResource {
    public readonly policyName: string;

    constructor(name: string, args: AgentEgressPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:network:AgentEgressPolicy", name, {}, opts);
        const manifest = agentEgressPolicy({
            agentName: args.agentName,
            namespace: args.namespace,
            podLabels: args.podLabels,
            egressHosts: args.egressHosts,
            platform: args.platform,
            mcpGatewayNamespace: args.mcpGatewayNamespace,
            mesh: args.mesh,
            spireServerNamespace: args.kata === true ? spireServerNamespace(args.platform) : undefined,
        });
        this.policyName = manifest.metadata.name;
        new k8s.apiextensions.CustomResource(
            `${name}-policy`,
            { apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: manifest.metadata, spec: manifest.spec },
            { parent: this },
        );
        this.registerOutputs({ policyName: this.policyName });
    }
}
