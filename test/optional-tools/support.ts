// Shared helpers for the optional-tools specs (issue 5): stack renders under the mock runtime with
// prod-like overrides, and views of the rendered resources.
import { chartsOf, manifestsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { ChartRelease, Manifest, RecordedResource, StackRun } from "../../cli/mockRuntime";
import type { Tool } from "../../config/profiles";

/** The clock every render uses, so emergency overrides expire deterministically. */
export const NOW = new Date("2026-09-01T00:00:00Z");
// Within the week an emergency override may run (config/profiles.ts EMERGENCY_OVERRIDE_MAX_DAYS).
export const OVERRIDE_EXPIRES = "2026-09-07T00:00:00Z";

export type RawConfig = Record<string, unknown>;

export function prodConfig(): RawConfig {
    return structuredClone(readStackConfig("prod"));
}

/** Prod with `tool` turned off the only valid way: an emergency override, and out of failClosed. */
export function prodWithout(tool: Tool, base: RawConfig = prodConfig()): RawConfig {
    const failClosed = ((base.failClosed as string[] | undefined) ?? []).filter((entry) => entry !== tool);
    return {
        ...base,
        tools: { ...((base.tools as Record<string, boolean> | undefined) ?? {}), [tool]: false },
        failClosed,
        emergencyOverride: {
            tools: [tool],
            reason: `issue 5 graceful-degradation test: ${tool} off`,
            ticket: "SEC-1",
            approvedBy: "security-owner@example.com",
            expires: OVERRIDE_EXPIRES,
        },
    };
}

/** The same prod config on vanilla Kubernetes (the other platform branch of every component). */
export function onKubernetes(base: RawConfig = prodConfig()): RawConfig {
    return { ...base, platform: "kubernetes" };
}

export interface Render {
    readonly run: StackRun;
    readonly manifests: readonly Manifest[];
    readonly charts: readonly ChartRelease[];
}

export async function render(stack: string, raw: RawConfig): Promise<Render> {
    const run = await runStack(stack, raw, { now: NOW });
    return { run, manifests: manifestsOf(run.resources), charts: chartsOf(run.resources) };
}

const ISSUE5_COMPONENTS = /^agent-security:(runtime|network|admission):/;

/**
 * Kubernetes resources created by the runtime, network and admission components. Mocks are not told
 * a resource's parent, so children are found by the `${component}-<role>` naming rule instead.
 */
export function issue5Resources(resources: readonly RecordedResource[]): RecordedResource[] {
    const components = resources.filter((resource) => ISSUE5_COMPONENTS.test(resource.type)).map((resource) => `${resource.name}-`);
    return resources.filter((resource) => resource.type.startsWith("kubernetes:") && components.some((prefix) => resource.name.startsWith(prefix)));
}

export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
    return manifests.filter((manifest) => manifest.kind === kind);
}

export function chart(charts: readonly ChartRelease[], release: string): ChartRelease | undefined {
    return charts.find((entry) => entry.release === release);
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every leaf path of a values tree, as dotted keys (arrays are leaves). */
export function leafPaths(value: unknown, prefix: readonly string[] = []): string[][] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix.slice()];
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [prefix.slice()];
    return entries.flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

/** Whether `path` exists as a key chain in a chart's default values (values.yaml). */
export function hasPath(values: unknown, path: readonly string[]): boolean {
    let current: unknown = values;
    for (const key of path) {
        if (current === null || typeof current !== "object" || Array.isArray(current) || !(key in (current as Record<string, unknown>))) return false;
        current = (current as Record<string, unknown>)[key];
    }
    return true;
}
