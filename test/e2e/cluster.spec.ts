// `pulumi up` against a real kube-apiserver (issue 13): the ci stack and a prod-shaped stack on
// plain Kubernetes go through preview (policy pack over every chart child), up, a second up that
// must change nothing, and destroy, which must leave nothing of ours behind. The real engine, the
// real charts from ../shared/charts, the upstream CRDs of ../shared/crds for the kinds the stack
// uses but does not install itself (Gateway API: a cluster prerequisite, as on any cluster).
//
// Harness-only differences from a real cluster, each because nothing runs pods here: readiness
// waits are skipped (test/e2e/skipReadinessWaits.ts, the provider's documented switches, never in
// the committed program). No chart webhook had to be removed: every webhook the charts install
// either fails open until its server is up (istiod's validator) or is registered later by its
// controller (Kyverno), which never runs here.
import { strict as assert } from "assert";
import * as path from "path";
import type { KubeClient, KubeObject } from "../../cli/kube";
import { REPO_ROOT, readStackConfig } from "../../cli/mockRuntime";
import { kubernetesProdConfig, writeKubernetesProdPackConfig } from "../support/kubernetesProd";
import { startCluster } from "../cluster/harness";
import type { Cluster } from "../cluster/harness";
import { crdsFor, installCrds, renderStack, writeStackFile } from "../cluster/stack";
import { clusterSkipReason } from "../cluster/support";
import { EngineWorkspace, findToolchain, packArgs, tail } from "./engine";
import type { EngineResult } from "./engine";

/** CRD names a preview plans to create (chart children are `<release>:<crd name>`). */
export function plannedCrdNames(output: string): Set<string> {
    const names = new Set<string>();
    for (const match of output.matchAll(/kubernetes:apiextensions\.k8s\.io\/v1:CustomResourceDefinition\s+(?:\S+:)?([a-z0-9.-]+\.[a-z0-9.-]+)\s/g)) {
        names.add(match[1] ?? "");
    }
    return names;
}

/** Everything on the server that is not namespaced, by kind, for the before/after comparison. */
const CLUSTER_SCOPED = [
    ["v1", "Namespace"],
    ["apiextensions.k8s.io/v1", "CustomResourceDefinition"],
    ["rbac.authorization.k8s.io/v1", "ClusterRole"],
    ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding"],
    ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"],
    ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"],
    ["admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"],
    ["admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"],
    ["node.k8s.io/v1", "RuntimeClass"],
    ["scheduling.k8s.io/v1", "PriorityClass"],
] as const;

/** Namespaced kinds checked in the namespaces that exist before up (a stack may put objects there, e.g. cilium in kube-system). */
const NAMESPACED = [
    ["v1", "ServiceAccount"],
    ["v1", "ConfigMap"],
    ["v1", "Secret"],
    ["v1", "Service"],
    ["apps/v1", "Deployment"],
    ["apps/v1", "DaemonSet"],
    ["rbac.authorization.k8s.io/v1", "Role"],
    ["rbac.authorization.k8s.io/v1", "RoleBinding"],
] as const;

/**
 * Names of every cluster-scoped object of the kinds above and every namespaced one in the
 * namespaces that exist (not Terminating: a namespace on its way out takes its contents with it).
 */
async function serverInventory(client: KubeClient): Promise<Set<string>> {
    const names = new Set<string>();
    const liveNamespaces: string[] = [];
    for (const [apiVersion, kind] of CLUSTER_SCOPED) {
        for (const object of await client.list(apiVersion, kind)) {
            if (kind === "Namespace") {
                if ((object.status as { phase?: string } | undefined)?.phase === "Terminating") continue;
                liveNamespaces.push(object.metadata.name);
            }
            names.add(`${kind}/${object.metadata.name}`);
        }
    }
    for (const namespace of liveNamespaces) {
        for (const [apiVersion, kind] of NAMESPACED) {
            for (const object of await client.list(apiVersion, kind, namespace)) names.add(`${kind}/${namespace}/${object.metadata.name}`);
        }
    }
    return names;
}

/**
 * CRD groups the stack uses that none of its charts ship, and who puts them on a real cluster;
 * the harness installs them from ../shared/crds in their place.
 */
const NOT_SHIPPED_BY_CHARTS: Readonly<Record<string, string>> = {
    "gateway.networking.k8s.io": "Gateway API, installed before any Gateway implementation (a cluster prerequisite)",
    "monitoring.coreos.com": "the Prometheus operator (built into OpenShift; a prerequisite on Kubernetes)",
    "cilium.io": "cilium-operator, which registers its CRDs when it starts (the chart ships none)",
};

function requireEngineAndCluster(context: Mocha.Context): string {
    const toolchain = findToolchain();
    const clusterProblem = clusterSkipReason();
    const missing = [toolchain ? undefined : "no Pulumi toolchain (bash scripts/install-pulumi-toolchain.sh)", clusterProblem].filter(Boolean).join("; ");
    if (!missing && toolchain) return toolchain;
    if (process.env.AGENT_SECURITY_REQUIRE_ENGINE === "1" && !toolchain) throw new Error(`AGENT_SECURITY_REQUIRE_ENGINE=1 but ${missing}`);
    console.log(`      (skipped: ${missing})`);
    context.skip();
}

function output(result: EngineResult): string {
    return `${result.stdout}\n${result.stderr}`;
}

interface Variant {
    readonly title: string;
    readonly stack: string;
    readonly raw: () => Record<string, unknown>;
    /** Writes the pack config for this shape to `file` and returns it; the committed one by default. */
    readonly packConfig?: (file: string) => string;
    /** Kinds (apiVersion:Kind) the up must have created on the server, with a namespace when namespaced. */
    readonly expectOnServer: readonly (readonly [string, string, string | undefined, string])[];
}

const VARIANTS: readonly Variant[] = [
    {
        title: "ci (Pulumi.ci.yaml)",
        stack: "ci",
        raw: () => readStackConfig("ci"),
        expectOnServer: [
            ["v1", "Namespace", undefined, "fetch-agent"],
            ["gateway.networking.k8s.io/v1", "Gateway", "gateway-system", "mcp-gateway"],
            ["apps/v1", "Deployment", "istio-system", "istiod"],
            ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", undefined, "agent-security-secrets-as-files-fetch-agent"],
        ],
    },
    {
        title: "prod-shaped on plain Kubernetes (Pulumi.prod.yaml, platform: kubernetes)",
        stack: "prod",
        raw: kubernetesProdConfig,
        packConfig: writeKubernetesProdPackConfig,
        expectOnServer: [
            ["v1", "Namespace", undefined, "fetch-agent"],
            ["apps/v1", "DaemonSet", "falco", "falco"],
            ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", undefined, "agent-security-require-falco-ready"],
        ],
    },
];

for (const variant of VARIANTS) {
    describe(`pulumi up against a real API server: ${variant.title}`, function () {
        this.timeout(1_200_000);
        let workspace: EngineWorkspace;
        let cluster: Cluster;
        let project: string;
        let configFile: string;
        let baseline: Set<string>;
        let env: Record<string, string>;
        let pack: string[];
        const run = (args: readonly string[]): Promise<EngineResult> => workspace.run(args, { cwd: project, env, timeoutMs: 900_000 });

        before(async function () {
            const toolchain = requireEngineAndCluster(this);
            workspace = new EngineWorkspace(toolchain, `up-${variant.stack}`);
            cluster = await startCluster();
            env = { KUBECONFIG: cluster.kubeconfigPath };
            project = workspace.harnessProject();
            pack = variant.packConfig
                ? ["--policy-pack", path.join(REPO_ROOT, "policy-pack"), "--policy-pack-config", variant.packConfig(path.join(workspace.root, "pack-config.json"))]
                : packArgs(variant.stack);
            const source = writeStackFile(path.join(workspace.root, "stack-source"), variant.stack, variant.raw());
            configFile = await workspace.initStack(variant.stack, { "agent-security:chartRepository": await workspace.chartMirror() }, source);
        });
        after(async () => {
            await cluster?.stop();
            await workspace?.dispose();
        });

        it("previews with the policy pack over every chart child, then installs the CRDs the stack does not ship", async () => {
            const preview = await run(["preview", "--stack", variant.stack, "--config-file", configFile, ...pack]);
            assert.equal(preview.code, 0, tail(preview, 120));
            assert.doesNotMatch(output(preview), /mandatory policy violation|advisory policy violation/i);
            assert.match(output(preview), /agent-security-baseline@v/);
            const shipped = plannedCrdNames(output(preview));
            assert.ok(shipped.size > 10, `the charts' CRDs are planned (got ${shipped.size})`);
            const { manifests } = await renderStack(variant.stack, variant.raw());
            const prerequisites = crdsFor(manifests).filter((crd) => !shipped.has(crd.metadata.name));
            for (const crd of prerequisites) {
                assert.ok(crd.spec.group in NOT_SHIPPED_BY_CHARTS, `${crd.metadata.name}: no chart of the stack ships it and it is not a known prerequisite`);
            }
            await installCrds(cluster.client, prerequisites);
            baseline = await serverInventory(cluster.client);
            console.log(`      preview ${variant.stack}: ${preview.seconds.toFixed(1)} s; ${shipped.size} CRDs from charts, ${prerequisites.length} installed first`);
        });

        it("pulumi up creates the stack on the server with the pack enforced", async () => {
            const up = await run(["up", "--yes", "--stack", variant.stack, "--config-file", configFile, ...pack]);
            assert.equal(up.code, 0, tail(up, 120));
            for (const [apiVersion, kind, namespace, name] of variant.expectOnServer) {
                assert.ok(await cluster.client.get(apiVersion, kind, namespace, name), `${kind} ${namespace ?? ""}/${name} after up`);
            }
            console.log(`      up ${variant.stack}: ${up.seconds.toFixed(1)} s`);
        });

        it("a second pulumi up changes nothing (--expect-no-changes)", async () => {
            const again = await run(["up", "--yes", "--expect-no-changes", "--stack", variant.stack, "--config-file", configFile, ...pack]);
            assert.equal(again.code, 0, tail(again, 120));
        });

        it("pulumi destroy leaves nothing of ours on the server", async () => {
            const destroy = await run(["destroy", "--yes", "--stack", variant.stack, "--config-file", configFile]);
            assert.equal(destroy.code, 0, tail(destroy, 120));
            const exported = await run(["stack", "export", "--stack", variant.stack]);
            const resources = (JSON.parse(exported.stdout) as { deployment?: { resources?: readonly KubeObject[] } }).deployment?.resources ?? [];
            assert.deepEqual(resources, []);
            // The baseline was taken after the prerequisite CRDs and before up: anything of ours is new.
            const remaining = await serverInventory(cluster.client);
            const left = [...remaining].filter((name) => !baseline.has(name));
            // Helm never deletes what its chart marks `helm.sh/resource-policy: keep`: CRDs (istio
            // base, spire-crds), whose deletion would delete every custom resource of that kind in
            // the cluster, and kata-deploy's RBAC, which its post-delete cleanup job needs. The
            // provider honours the mark; everything left must carry it.
            const kept: string[] = [];
            for (const entry of left) {
                const [kind = "", ...rest] = entry.split("/");
                const apiVersion = [...CLUSTER_SCOPED, ...NAMESPACED].find(([, known]) => known === kind)?.[0];
                const [namespace, name] = rest.length === 2 ? [rest[0], rest[1]] : [undefined, rest[0]];
                const object = apiVersion && name ? await cluster.client.get(apiVersion, kind, namespace, name) : undefined;
                if (object?.metadata.annotations?.["helm.sh/resource-policy"] === "keep") kept.push(entry);
            }
            assert.deepEqual(left.filter((name) => !kept.includes(name)), [], "objects the stack created and destroy left behind");
            console.log(`      destroy ${variant.stack}: ${destroy.seconds.toFixed(1)} s; ${kept.length} objects kept by their chart's helm.sh/resource-policy: keep`);
            assert.ok(!remaining.has("Namespace/fetch-agent"));
        });
    });
}
