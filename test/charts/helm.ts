// Renders the chart children a stack installs, the way pulumi-kubernetes' helm.v4.Chart does, from
// the local chart repository (../shared/charts). The provider runs `helm template` with
// `DisableHooks = true`, `IncludeCRDs = !skipCrds` and reads only `release.Manifest`
// (pulumi/pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go), so hooks and test pods are
// never created: `--no-hooks --include-crds` is the same set of objects.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ChartRelease } from "../../cli/mockRuntime";
import { REPO_ROOT } from "../../cli/mockRuntime";
import { parseManifests, Manifest } from "../../cli/check";

/** The Kubernetes version the children are rendered for; the README of ../shared/charts asks for it. */
export const KUBE_VERSION = "1.35.0";

export const CHARTS_DIR = process.env.AGENT_SECURITY_CHARTS_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "charts");

/** `helm` on PATH or in ~/go/bin (scripts/install-helm.sh), or undefined. */
export function findHelm(): string | undefined {
    const candidates = [
        ...(process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "").map((d) => path.join(d, "helm")),
        path.join(process.env.GOBIN ?? path.join(os.homedir(), "go", "bin"), "helm"),
    ];
    return candidates.find((file) => {
        try {
            fs.accessSync(file, fs.constants.X_OK);
            return fs.statSync(file).isFile();
        } catch {
            return false;
        }
    });
}

/** The archive of a release's chart in CHARTS_DIR: `<name>-<version>.tgz`, for OCI references too. */
export function chartArchive(release: ChartRelease, dir: string = CHARTS_DIR): string {
    const name = release.chart.replace(/\/+$/, "").split("/").pop() ?? release.chart;
    return path.join(dir, `${name}-${release.version}.tgz`);
}

/** `helm template` of one release with the values the stack passes; the objects as the pack sees them. */
export function templateRelease(helm: string, release: ChartRelease, dir: string = CHARTS_DIR): Manifest[] {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-chart-"));
    try {
        const values = path.join(work, "values.json");
        fs.writeFileSync(values, JSON.stringify(release.values));
        const out = execFileSync(
            helm,
            [
                "template",
                release.release,
                chartArchive(release, dir),
                "--namespace",
                release.namespace,
                "--values",
                values,
                "--kube-version",
                KUBE_VERSION,
                "--include-crds",
                "--no-hooks",
            ],
            { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HELM_CACHE_HOME: work, HELM_CONFIG_HOME: work, HELM_DATA_HOME: work } },
        );
        // The provider applies the release namespace to namespaced objects that do not name one
        // (provider/pkg/provider/yaml/v2 Normalize); cluster-scoped kinds keep none.
        return parseManifests(out, `${release.release} (${path.basename(chartArchive(release, dir))})`).manifests.map((m) => withNamespace(m, release.namespace));
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

const CLUSTER_SCOPED = new Set([
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "PriorityClass",
    "RuntimeClass",
    "CSIDriver",
    "StorageClass",
    "PersistentVolume",
    "APIService",
    "ClusterSPIFFEID",
    "ClusterStaticEntry",
    "ClusterFederatedTrustDomain",
    "SecurityContextConstraints",
    "ClusterPolicy",
    "ClusterCleanupPolicy",
    "ValidatingPolicy",
    "MutatingPolicy",
    "GeneratingPolicy",
    "ImageValidatingPolicy",
    "DeletingPolicy",
]);

function withNamespace(m: Manifest, namespace: string): Manifest {
    const doc = m.doc as { kind?: unknown; metadata?: Record<string, unknown> };
    if (typeof doc.kind !== "string" || CLUSTER_SCOPED.has(doc.kind)) return m;
    const metadata = doc.metadata ?? {};
    if (typeof metadata.namespace === "string" && metadata.namespace !== "") return m;
    return { ...m, doc: { ...m.doc, metadata: { ...metadata, namespace } } };
}
