// Runs the pack's policy objects without the Pulumi engine, the way the engine does
// (@pulumi/policy server.ts: analyze per resource, analyzeStack once), over plain resources such
// as manifests read from disk. `npm run check` and the benchmark use it, so they exercise the
// very code the CrossGuard pack runs, exemptions and settings handling included.

import type {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PackSettings } from "./checks/settings";
import { baselinePolicies } from "./policies";

export interface OfflineResource {
    /** Pulumi type token, for example `kubernetes:apps/v1:DeploymentPatch`. */
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly urn: string;
    readonly name: string;
}

export interface Finding {
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    /** The resource blamed; absent for a violation of the stack as a whole. */
    readonly urn?: string;
    readonly message: string;
}

const OPTIONS: PolicyResourceOptions = Object.freeze({
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
});

// Thrown by notApplicable. One preallocated object: a fresh Error per call would capture a stack
// trace for every (policy, resource) pair that does not apply, most of them.
class NotApplicable {}
const NOT_APPLICABLE = new NotApplicable();
function notApplicable(): never {
    throw NOT_APPLICABLE;
}

function typeOf(resourceClass: object): string | undefined {
    const t = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
    return typeof t === "string" ? t : undefined;
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
    return "validateResource" in p && p.validateResource !== undefined;
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return "validateStack" in p && typeof p.validateStack === "function";
}

function levelOf(p: Policies[number], packLevel: EnforcementLevel): EnforcementLevel {
    const level = p.enforcementLevel ?? packLevel;
    return level === "remediate" ? "mandatory" : level;
}

export interface EvaluateOptions {
    readonly policies?: Policies;
    readonly enforcementLevel?: EnforcementLevel;
}

/** Every finding of the pack on `resources`: resource policies per resource, then stack policies. */
export async function evaluate(
    resources: readonly OfflineResource[],
    settings: PackSettings,
    options: EvaluateOptions = {},
): Promise<Finding[]> {
    const policies = options.policies ?? baselinePolicies;
    const packLevel = options.enforcementLevel ?? "mandatory";
    const findings: Finding[] = [];
    const pending: Promise<void>[] = [];
    const getConfig = <T extends object>(): T => settings as unknown as T;

    const settle = (result: Promise<void> | void, policy: string): void => {
        if (result !== undefined && typeof (result as Promise<void>).then === "function") {
            pending.push(
                (result as Promise<void>).catch((e: unknown) => {
                    if (e !== NOT_APPLICABLE) {
                        throw new PolicyError(policy, e);
                    }
                }),
            );
        }
    };

    const resourcePolicies = policies.filter(isResourcePolicy).filter((p) => levelOf(p, packLevel) !== "disabled");
    for (const r of resources) {
        const args: ResourceValidationArgs = {
            type: r.type,
            props: r.props,
            urn: r.urn,
            name: r.name,
            opts: OPTIONS,
            stackTags: new Map(),
            isType: (cls) => typeOf(cls) === r.type,
            asType: (cls) => (typeOf(cls) === r.type ? (r.props as never) : undefined),
            getConfig,
            notApplicable,
        };
        for (const p of resourcePolicies) {
            const enforcementLevel = levelOf(p, packLevel);
            const report = (message: string): void => {
                findings.push({ policy: p.name, enforcementLevel, urn: r.urn, message });
            };
            const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const validate of validations) {
                if (validate === undefined) {
                    continue;
                }
                try {
                    settle(validate(args, report), p.name);
                } catch (e) {
                    if (e !== NOT_APPLICABLE) {
                        throw new PolicyError(p.name, e, r.urn);
                    }
                }
            }
        }
    }

    const stackResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: OPTIONS,
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeOf(cls) === r.type,
        asType: (cls) => (typeOf(cls) === r.type ? (r.props as never) : undefined),
    }));
    for (const p of policies.filter(isStackPolicy)) {
        const enforcementLevel = levelOf(p, packLevel);
        if (enforcementLevel === "disabled") {
            continue;
        }
        const args: StackValidationArgs = { resources: stackResources, stackTags: new Map(), getConfig, notApplicable };
        const report = (message: string, urn?: string): void => {
            findings.push({ policy: p.name, enforcementLevel, urn, message });
        };
        try {
            settle(p.validateStack(args, report), p.name);
        } catch (e) {
            if (e !== NOT_APPLICABLE) {
                throw new PolicyError(p.name, e);
            }
        }
    }
    await Promise.all(pending);
    return findings;
}

/** A policy threw: a bug in the pack or input it cannot handle; never a verdict. */
export class PolicyError extends Error {
    constructor(
        readonly policy: string,
        readonly cause: unknown,
        readonly urn?: string,
    ) {
        super(`policy ${policy} failed${urn === undefined ? "" : ` on ${urn}`}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
}
