// What every workload must declare to be admitted: limits, approved images, a GA apiVersion.

import { checkSupportedApiVersion } from "../checks/api-versions";
import { checkApprovedImages } from "../checks/images";
import { checkResourceLimits } from "../checks/limits";
import { parseResourceType, POD_KINDS } from "../checks/workload";
import { resourcePolicy, workloadPolicy } from "./define";

export const resourceLimits = workloadPolicy({
    name: "baseline-resource-limits",
    description: "Every app and init container sets cpu and memory limits (ephemeral containers cannot have resources).",
    check: checkResourceLimits,
});

export const approvedRegistries = workloadPolicy({
    name: "baseline-approved-registries",
    description:
        "Every container image and image volume comes from an approved registry: exact host[:port] and a path prefix matched by whole segments. Images without a registry are rejected.",
    settings: ["approvedRegistries"],
    check: (w, s) => checkApprovedImages(w, s.approvedRegistries),
});

export const supportedApiVersions = resourcePolicy({
    name: "baseline-supported-api-versions",
    description: "Pod-bearing kinds use their GA apiVersion (v1, apps/v1, batch/v1); deprecated and removed versions are rejected.",
    check: (type) => {
        const rt = parseResourceType(type);
        return rt !== undefined && POD_KINDS[rt.kind] !== undefined ? checkSupportedApiVersion(type) : undefined;
    },
});

export const workloadHygienePolicies = [resourceLimits, approvedRegistries, supportedApiVersions];
