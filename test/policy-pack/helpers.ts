// Runs policies without the Pulumi CLI (after pulumi/compliance-policies unit-test-helpers).
//
// Props are wrapped with the SDK's unknownCheckingProxy, as the engine does, so a policy that
// reads a value unknown at preview throws UnknownValueError here too. getConfig hands each policy
// only the keys its configSchema declares, with the schema defaults, as the Pulumi CLI does
// (pulumi/pulumi pkg/resource/analyzer/config.go), so a policy that reads an undeclared key fails.

import * as assert from "assert";
import {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
    UnknownValueError,
} from "@pulumi/policy";
import type { PackSettings } from "../../policy-pack/checks/settings";
import { baselinePolicies } from "../../policy-pack/policies";

// The SDK marks the proxy @internal, so its declaration is stripped; this is its real signature.
export const previewProxy = unknownCheckingProxy as <T extends object>(value: T) => T;
export { UnknownValueError };

/** Sentinels the engine sends for values unknown at preview (@pulumi/policy proxy.js). */
export const UNKNOWN = {
    string: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    bool: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    object: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
} as const;

export const KUBERNETES: PackSettings = Object.freeze({
    profile: "local",
    platform: "kubernetes",
    approvedRegistries: ["quay.io/agent-security", "ghcr.io/spiffe"],
    kataRuntimeClasses: ["kata"],
    auditNamespace: "agent-security",
});

export const OPENSHIFT: PackSettings = Object.freeze({ ...KUBERNETES, platform: "openshift" });

export const PROD: PackSettings = Object.freeze({
    profile: "prod",
    platform: "openshift",
    approvedRegistries: ["registry.redhat.io", "quay.io/agent-security", "ghcr.io/spiffe"],
    kataRuntimeClasses: ["kata"],
    auditNamespace: "agent-security",
});

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export class NotApplicableError extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason ?? "not applicable");
}

/** The config the engine would hand `policy`: its declared keys only, schema defaults applied. */
export function configFor(policy: ResourceValidationPolicy | StackValidationPolicy, settings: Partial<PackSettings>): Record<string, unknown> {
    const config: Record<string, unknown> = {};
    const properties = policy.configSchema?.properties ?? {};
    for (const key of Object.keys(properties)) {
        const value = (settings as Record<string, unknown>)[key] ?? properties[key].default;
        if (value !== undefined) {
            config[key] = value;
        }
    }
    return config;
}

export function resourceArgs(
    policy: ResourceValidationPolicy,
    type: string,
    props: object,
    settings: Partial<PackSettings> = KUBERNETES,
): ResourceValidationArgs {
    const proxied = previewProxy(props) as Record<string, unknown>;
    const urn = `urn:pulumi:test::agent-security::${type}::test`;
    return {
        type,
        props: proxied,
        urn,
        name: "test",
        opts: OPTIONS,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => configFor(policy, settings) as T,
        notApplicable,
    };
}

export interface TestResource {
    readonly type: string;
    readonly props: object;
    readonly name?: string;
}

export function urnOf(r: TestResource, index: number): string {
    return `urn:pulumi:test::agent-security::${r.type}::${r.name ?? `r${index}`}`;
}

export function stackArgs(policy: StackValidationPolicy, resources: readonly TestResource[], settings: Partial<PackSettings> = KUBERNETES): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r, i) => ({
        type: r.type,
        props: previewProxy(r.props) as Record<string, unknown>,
        urn: urnOf(r, i),
        name: r.name ?? `r${i}`,
        opts: OPTIONS,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }));
    return {
        resources: policyResources,
        stackTags: new Map(),
        getConfig: <T extends object>() => configFor(policy, settings) as T,
        notApplicable,
    };
}

export const NOT_APPLICABLE = "not applicable";

/** Violation messages, or NOT_APPLICABLE when the policy declared itself not applicable. */
export async function resourceViolations(
    policy: ResourceValidationPolicy,
    type: string,
    props: object,
    settings: Partial<PackSettings> = KUBERNETES,
): Promise<string[] | typeof NOT_APPLICABLE> {
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    try {
        for (const validate of validations) {
            await validate?.(resourceArgs(policy, type, props, settings), (m) => messages.push(m));
        }
    } catch (e) {
        if (e instanceof NotApplicableError) {
            return NOT_APPLICABLE;
        }
        throw e;
    }
    return messages;
}

export interface Reported {
    readonly message: string;
    readonly urn?: string;
}

export async function stackViolations(
    policy: StackValidationPolicy,
    resources: readonly TestResource[],
    settings: Partial<PackSettings> = KUBERNETES,
): Promise<Reported[] | typeof NOT_APPLICABLE> {
    const reported: Reported[] = [];
    try {
        await policy.validateStack(stackArgs(policy, resources, settings), (message, urn) => reported.push({ message, urn }));
    } catch (e) {
        if (e instanceof NotApplicableError) {
            return NOT_APPLICABLE;
        }
        throw e;
    }
    return reported;
}

export function resourcePolicy(name: string): ResourceValidationPolicy {
    const p = baselinePolicies.find((x) => x.name === name);
    assert.ok(p !== undefined && "validateResource" in p, `${name} is a resource policy of the pack`);
    return p as ResourceValidationPolicy;
}

export function stackPolicy(name: string): StackValidationPolicy {
    const p = baselinePolicies.find((x) => x.name === name);
    assert.ok(p !== undefined && "validateStack" in p, `${name} is a stack policy of the pack`);
    return p as StackValidationPolicy;
}

export function assertClean(result: string[] | Reported[] | typeof NOT_APPLICABLE, what: string): void {
    assert.ok(result !== NOT_APPLICABLE, `${what}: the policy declared itself not applicable`);
    assert.deepStrictEqual(result, [], `${what}: expected no violation`);
}

/** At least one violation, and every expected fragment appears in some message. */
export function assertViolates(result: string[] | Reported[] | typeof NOT_APPLICABLE, what: string, ...fragments: string[]): void {
    assert.ok(result !== NOT_APPLICABLE, `${what}: the policy declared itself not applicable`);
    assert.ok(result.length > 0, `${what}: expected a violation`);
    const messages = result.map((r) => (typeof r === "string" ? r : r.message));
    for (const fragment of fragments) {
        assert.ok(
            messages.some((m) => m.includes(fragment)),
            `${what}: no message mentions ${JSON.stringify(fragment)}:\n${messages.join("\n")}`,
        );
    }
}
