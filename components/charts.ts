// The one place a pinned chart (config/schema.ts ChartPin) becomes `k8s.helm.v4.Chart` arguments,
// so a chart mirror (design.md section 3) is taught once for every layer. Helm addresses an OCI
// chart by its full reference `oci://<registry>/<path>/<name>` with no repository option; an HTTP(S)
// repository goes through `repositoryOpts.repo` with the chart asked for by name.
import type * as k8s from "@pulumi/kubernetes";
import type { ChartPin } from "../config/schema";

export interface ChartSource {
    readonly chart: string;
    readonly version: string;
    readonly repositoryOpts?: { readonly repo: string };
}

export function chartSource(pin: ChartPin): ChartSource {
    if (pin.repo.startsWith("oci://")) {
        return { chart: `${pin.repo.replace(/\/+$/, "")}/${pin.chart}`, version: pin.version };
    }
    return { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}

/** Chart values as plain data; `null` deletes a chart default in Helm's value merge. */
export type HelmValues = { readonly [key: string]: HelmValue };
export type HelmValue = string | number | boolean | null | readonly HelmValue[] | HelmValues;

/** Chart arguments with the version pinned and the namespace explicit. */
export function pinnedChartArgs(pin: ChartPin, release: string, namespace: string, values: Record<string, unknown>): k8s.helm.v4.ChartArgs {
    return { ...chartSource(pin), name: release, namespace, values };
}
