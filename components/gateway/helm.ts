// How a pinned chart becomes `k8s.helm.v4.Chart` arguments. Shared by the gateway and mesh layers
// so that an air-gapped mirror (https or oci, design.md section 3) works the same way for every chart.
import type * as k8s from "@pulumi/kubernetes";
import type { ChartPin } from "../../config/schema";

type ChartValues = Record<string, unknown>;

/**
 * Chart arguments with the version pinned and the namespace explicit. Helm addresses an OCI chart
 * as `oci://<registry>/<path>/<name>` with no repository option; an https repository goes through
 * `repositoryOpts.repo`.
 */
export function pinnedChartArgs(pin: ChartPin, release: string, namespace: string, values: ChartValues): k8s.helm.v4.ChartArgs {
    const source = pin.repo.startsWith("oci://")
        ? { chart: `${pin.repo.replace(/\/+$/, "")}/${pin.chart}` }
        : { chart: pin.chart, repositoryOpts: { repo: pin.repo } };
    return { ...source, name: release, version: pin.version, namespace, values };
}
