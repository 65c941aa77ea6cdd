// Where a pinned chart comes from, in the shape k8s.helm.v4.Chart takes. Shared by the runtime,
// network and admission components; chart repositories are config so a mirror works (design.md 3).
import type { ChartPin } from "../../config/schema";

export interface ChartSource {
    readonly chart: string;
    readonly repositoryOpts?: { readonly repo: string };
}

/** An https repository goes to `repositoryOpts.repo`; an OCI registry becomes `oci://.../<chart>`. */
export function chartSource(pin: ChartPin): ChartSource {
    return pin.repo.startsWith("oci://")
        ? { chart: `${pin.repo.replace(/\/+$/, "")}/${pin.chart}` }
        : { chart: pin.chart, repositoryOpts: { repo: pin.repo } };
}

/** Chart values as plain data; `null` deletes a chart default in Helm's value merge. */
export type HelmValues = { readonly [key: string]: HelmValue };
export type HelmValue = string | number | boolean | null | readonly HelmValue[] | HelmValues;
