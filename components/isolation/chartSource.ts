// How a pinned chart (config/schema.ts ChartPin) is handed to `k8s.helm.v4.Chart`: OCI charts are
// addressed by their full reference, HTTP repositories through `repositoryOpts.repo`. Pure, and
// shared by the isolation and identity installs.
import type { ChartPin } from "../../config/schema";

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
