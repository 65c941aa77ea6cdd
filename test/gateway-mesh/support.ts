// Renders the stacks the gateway and mesh specs share, once each, and picks out what those two
// layers own.
import { runStack } from "../../cli/mockRuntime";
import type { ChartRelease, RecordedResource, StackRun } from "../../cli/mockRuntime";
import { chartsOf } from "../../cli/mockRuntime";
import { NOW, VARIANTS, variantConfig } from "./variants";
import type { Variant } from "./variants";

export { NOW, variantConfig } from "./variants";
export type { Variant } from "./variants";

const runs = new Map<Variant, StackRun>();

/** Mock-runtime runs share global Pulumi state, so they are made one after another and cached. */
export async function render(variant: Variant): Promise<StackRun> {
    const cached = runs.get(variant);
    if (cached) return cached;
    const run = await runStack(VARIANTS[variant].stack, variantConfig(variant), { now: NOW });
    runs.set(variant, run);
    return run;
}

/**
 * The kinds the gateway and mesh layers render and nobody else does. (Under the mock runtime URNs
 * carry no parent chain, so ownership is told by kind; the colleagues' AuthConfigs, OLM objects and
 * namespaces are checked by their own specs.)
 */
export const OWN_KINDS = [
    "Kuadrant", "Gateway", "HTTPRoute", "ReferenceGrant", "MCPGatewayExtension", "MCPServerRegistration", "AuthPolicy", "RateLimitPolicy",
    "AuthorizationPolicy", "Istio", "IstioCNI", "Sidecar", "ServiceEntry", "PeerAuthentication",
];

export interface Rendered {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
    readonly spec?: Record<string, unknown>;
    /** Rendered by a Pulumi `*Patch` resource (a partial object applied to an existing one). */
    readonly patch: boolean;
    readonly type: string;
}

export function asRendered(resource: RecordedResource): Rendered | undefined {
    const inputs = resource.inputs as Record<string, unknown>;
    if (typeof inputs.apiVersion !== "string" || typeof inputs.kind !== "string") return undefined;
    return { ...(inputs as unknown as Omit<Rendered, "patch" | "type">), patch: resource.type.endsWith("Patch"), type: resource.type };
}

export function ownManifests(run: StackRun): Rendered[] {
    return run.resources
        .map(asRendered)
        .filter((manifest): manifest is Rendered => manifest !== undefined && OWN_KINDS.includes(manifest.kind));
}

export function ofKind(run: StackRun, kind: string, namespace?: string): Rendered[] {
    return run.resources
        .map(asRendered)
        .filter((manifest): manifest is Rendered => manifest !== undefined && manifest.kind === kind && (namespace === undefined || manifest.metadata.namespace === namespace));
}

export function oneOf(run: StackRun, kind: string, name: string, namespace?: string): Rendered {
    const found = ofKind(run, kind, namespace).filter((manifest) => manifest.metadata.name === name);
    if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? ""}/${name}, found ${found.length}`);
    return found[0] as Rendered;
}

export function chart(run: StackRun, release: string): ChartRelease {
    const found = chartsOf(run.resources).filter((release_) => release_.release === release);
    if (found.length !== 1) throw new Error(`expected one chart release ${release}, found ${found.length}`);
    return found[0] as ChartRelease;
}

export function componentsOfType(run: StackRun, type: string): RecordedResource[] {
    return run.resources.filter((resource) => resource.type === type);
}

/** Reads a nested value by dotted path; undefined when any step is missing. */
export function at(value: unknown, path: string): unknown {
    let cursor: unknown = value;
    for (const key of path.split(".")) {
        if (cursor === null || typeof cursor !== "object") return undefined;
        cursor = (cursor as Record<string, unknown>)[key];
    }
    return cursor;
}
