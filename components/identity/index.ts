import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin, OperatorPin } from "../../config/schema";
import { AGENT_SPIFFE_LABEL, agentSelector } from "../baseline/agentPod";
import { chartSource } from "../charts";
import { OlmOperator } from "../operators";
import type { Platform } from "../wellKnown";
import { MANAGED_BY_LABELS, SPIFFE_CSI_DRIVER, SPIRE_NAMESPACE, ZTWIM_NAMESPACE } from "../wellKnown";
import { AGENT_SPIFFE_ID_TEMPLATE, HELM_SPIRE_CLASS_NAME, SPIRE_CRDS_RELEASE, SPIRE_RELEASE, spireClassName } from "./endpoints";

export * from "./endpoints";

export interface WorkloadIdentityTarget {
    readonly agentName: string;
    readonly namespace: string;
    readonly serviceAccountName: string;
}

export interface IdentityArgs {
    readonly platform: Platform;
    readonly trustDomain: string;
    readonly clusterName: string;
    readonly charts: { readonly spireCrds: ChartPin; readonly spire: ChartPin };
    readonly operator: OperatorPin;
    readonly approval: "Automatic" | "Manual";
    readonly agents: readonly WorkloadIdentityTarget[];
    /**
     * Agents run under Kata with an in-pod spire-agent that attests with its own service account
     * token: the server's k8s_psat allow-list must then name every agent's service account.
     */
    readonly kata?: boolean;
}

/** Privileged Pod Security for the namespace of the SPIRE agent DaemonSet and the CSI driver (hostPath, host PID). */
export const PRIVILEGED_PSA_LABELS = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
} as const;

/** Name of the ClusterSPIFFEID of one agent (cluster-scoped, so namespaced by our prefix). */
export function clusterSpiffeIdName(target: WorkloadIdentityTarget): string {
    return `agent-security-${target.namespace}-${target.agentName}`;
}

/**
 * One ClusterSPIFFEID per agent (spire.spiffe.io/v1alpha1, the only version): its pods in its
 * namespace, identified by service account. The className must match the controller manager's
 * class or the resource is ignored (see endpoints.ts).
 */
export function clusterSpiffeIdSpec(platform: Platform, target: WorkloadIdentityTarget): Record<string, unknown> {
    return {
        className: spireClassName(platform),
        spiffeIDTemplate: AGENT_SPIFFE_ID_TEMPLATE,
        podSelector: { matchLabels: { ...agentSelector(target.agentName), [AGENT_SPIFFE_LABEL]: "true" } },
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": target.namespace } },
        ttl: "1h",
    };
}

/** `<namespace>:<service account>` entries for the k8s_psat allow-list. */
export function psatAllowList(agents: readonly WorkloadIdentityTarget[]): string[] {
    return [...new Set(agents.map((agent) => `${agent.namespace}:${agent.serviceAccountName}`))].sort();
}

/**
 * Values of the `spire` chart (spiffe/helm-charts-hardened 0.30.0, values in ../crds/spire/helm).
 * - trust domain and cluster name from config;
 * - the chart's own ClusterSPIFFEIDs `default` (every pod of every namespace, as a fallback) and
 *   `test-keys` are off, so an agent pod gets exactly the identity of its own ClusterSPIFFEID;
 *   the `oidc-discovery-provider` one stays: it only selects the chart's discovery provider;
 * - the controller manager's class is pinned to the value our ClusterSPIFFEIDs carry;
 * - Helm hooks off: the values call them unfit for `helm template`-style rendering, which is what
 *   `k8s.helm.v4.Chart` does;
 * - under Kata the k8s_psat allow-list keeps the chart's own `spire-agent` (a bare name means the
 *   release namespace, `_helpers.tpl` `spire-server.serviceAccountAllowedList`) and adds every
 *   agent's service account, because the in-pod spire-agents attest with those tokens.
 */
export function spireChartValues(args: Pick<IdentityArgs, "trustDomain" | "clusterName" | "agents" | "kata">): Record<string, unknown> {
    const spireServer: Record<string, unknown> = {
        controllerManager: {
            className: HELM_SPIRE_CLASS_NAME,
            installAndUpgradeHook: { enabled: false },
            deleteHook: { enabled: false },
            identities: { clusterSPIFFEIDs: { default: { enabled: false }, "test-keys": { enabled: false } } },
        },
    };
    if (args.kata) {
        spireServer.nodeAttestor = { k8sPSAT: { serviceAccountAllowList: [`${SPIRE_RELEASE}-agent`, ...psatAllowList(args.agents)] } };
    }
    // No root `chown` init container with an unqualified `busybox` image: the chart adds it only
    // when the pod securityContext names no runAsUser (charts/spire-server/templates/
    // server-resource.yaml `$needsChown`), so the chart's own defaults (1000/1000) are written out.
    spireServer.podSecurityContext = { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 };
    return {
        global: {
            spire: { trustDomain: args.trustDomain, clusterName: args.clusterName },
            installAndUpgradeHooks: { enabled: false },
            deleteHooks: { enabled: false },
        },
        "spire-server": spireServer,
        // The socket is served as spire-agent.sock, the name spiffe-helper uses
        // (components/baseline/spiffe.ts); the alternate-name symlinks come from an extra root init
        // container (cgr.dev/chainguard/bash) that mounts the socket directory
        // (charts/spire-agent/templates/daemonset.yaml `ensure-alternate-names`).
        "spire-agent": { socketAlternate: { names: [] } },
        // The OIDC discovery provider serves JWT-SVID keys to outside relying parties, which nothing
        // here uses, and its pods mount the Workload API socket in non-sidecar containers
        // (charts/spiffe-oidc-discovery-provider/templates/deployment.yaml).
        "spiffe-oidc-discovery-provider": { enabled: false },
    };
}

/**
 * ZTWIM custom resources (operator.openshift.io/v1alpha1, cluster-scoped singletons named
 * `cluster`). SpireServer requires caSubject, datastore, jwtIssuer and persistence in the CRD
 * (branch release-1.0.0); the values here are the CRD defaults written out. Trust domain and
 * cluster name are set once on ZeroTrustWorkloadIdentityManager and inherited (both immutable).
 */
export function ztwimResources(args: Pick<IdentityArgs, "trustDomain" | "clusterName">): { kind: string; spec: Record<string, unknown> }[] {
    return [
        { kind: "ZeroTrustWorkloadIdentityManager", spec: { trustDomain: args.trustDomain, clusterName: args.clusterName } },
        {
            kind: "SpireServer",
            spec: {
                caSubject: { commonName: args.trustDomain, organization: "agent-security" },
                datastore: { databaseType: "sqlite3", connectionString: "/run/spire/data/datastore.sqlite3" },
                jwtIssuer: `https://oidc-discovery.${args.trustDomain}`,
                persistence: { size: "1Gi", accessMode: "ReadWriteOnce" },
            },
        },
        { kind: "SpireAgent", spec: { nodeAttestor: { k8sPSATEnabled: "true" }, workloadAttestors: { k8sEnabled: "true" } } },
        { kind: "SpiffeCSIDriver", spec: { pluginName: SPIFFE_CSI_DRIVER } },
    ];
}

// SPIRE (ZTWIM on OpenShift, spire-crds + spire charts on Kubernetes), ClusterSPIFFEID per agent.
export class Identity extends pulumi.ComponentResource {
    public readonly className: string;

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:identity:Identity", name, {}, opts);
        this.className = spireClassName(args.platform);
        let installed: pulumi.Resource[];

        if (args.platform === "openshift") {
            const operator = new OlmOperator(
                `${name}-ztwim`,
                {
                    namespace: ZTWIM_NAMESPACE,
                    createNamespace: true,
                    // AllNamespaces so identities work cluster-wide (upstream-apis.md section 1).
                    installMode: "AllNamespaces",
                    createOperatorGroup: true,
                    operator: args.operator,
                    approval: args.approval,
                    // The CSI driver and agent DaemonSet need hostPath (kagenti/kagenti
                    // charts/rossoctl-deps/templates/spire-operator.yaml labels it the same way).
                    namespaceLabels: PRIVILEGED_PSA_LABELS,
                },
                { parent: this },
            );
            installed = ztwimResources(args).map(
                (resource) =>
                    new k8s.apiextensions.CustomResource(
                        `${name}-${resource.kind.toLowerCase()}`,
                        {
                            apiVersion: "operator.openshift.io/v1alpha1",
                            kind: resource.kind,
                            metadata: { name: "cluster", labels: { ...MANAGED_BY_LABELS } },
                            spec: resource.spec,
                        },
                        { parent: this, dependsOn: [operator.subscription] },
                    ),
            );
        } else {
            const namespace = new k8s.core.v1.Namespace(
                `${name}-namespace`,
                { metadata: { name: SPIRE_NAMESPACE, labels: { ...MANAGED_BY_LABELS, "agent-security.io/agents": "false", ...PRIVILEGED_PSA_LABELS } } },
                { parent: this },
            );
            const crdsSource = chartSource(args.charts.spireCrds);
            const crds = new k8s.helm.v4.Chart(
                `${name}-spire-crds`,
                {
                    name: SPIRE_CRDS_RELEASE,
                    chart: crdsSource.chart,
                    version: crdsSource.version,
                    ...(crdsSource.repositoryOpts ? { repositoryOpts: { repo: crdsSource.repositoryOpts.repo } } : {}),
                    namespace: SPIRE_NAMESPACE,
                },
                { parent: this, dependsOn: [namespace] },
            );
            const spireSource = chartSource(args.charts.spire);
            installed = [
                new k8s.helm.v4.Chart(
                    `${name}-spire`,
                    {
                        name: SPIRE_RELEASE,
                        chart: spireSource.chart,
                        version: spireSource.version,
                        ...(spireSource.repositoryOpts ? { repositoryOpts: { repo: spireSource.repositoryOpts.repo } } : {}),
                        namespace: SPIRE_NAMESPACE,
                        values: spireChartValues(args),
                    },
                    { parent: this, dependsOn: [namespace, crds] },
                ),
            ];
        }

        for (const target of [...args.agents].sort((a, b) => clusterSpiffeIdName(a).localeCompare(clusterSpiffeIdName(b)))) {
            new k8s.apiextensions.CustomResource(
                `${name}-spiffeid-${target.namespace}-${target.agentName}`,
                {
                    apiVersion: "spire.spiffe.io/v1alpha1",
                    kind: "ClusterSPIFFEID",
                    metadata: { name: clusterSpiffeIdName(target), labels: { ...MANAGED_BY_LABELS } },
                    spec: clusterSpiffeIdSpec(args.platform, target),
                },
                { parent: this, dependsOn: installed },
            );
        }

        this.registerOutputs({ className: this.className });
    }
}
