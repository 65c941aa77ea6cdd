// Pod-bearing kinds only in their GA apiVersion (design.md section 6: a deprecated apiVersion is
// a bug). Older versions are removed from current API servers, and their defaults differ (for
// example extensions/v1beta1 Deployments had no default selector).

import { parseResourceType, POD_KINDS } from "./workload";

export function checkSupportedApiVersion(type: string): string[] {
    const rt = parseResourceType(type);
    if (rt === undefined) {
        return [];
    }
    const podKind = POD_KINDS[rt.kind];
    if (podKind === undefined || rt.apiVersion === podKind.current) {
        return [];
    }
    const kind = rt.patch ? `${rt.kind}Patch` : rt.kind;
    return [`${kind} uses apiVersion ${rt.apiVersion}, which is deprecated or removed; use ${podKind.current}.`];
}
