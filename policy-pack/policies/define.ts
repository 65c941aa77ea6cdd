// Builders that turn pure checks into CrossGuard policies.
//
// @pulumi/policy is imported for types only: the policies are plain objects, so `npm run check`
// runs them without loading the SDK's gRPC server, and the engine (or the check CLI) supplies
// the args. Enforcement is the pack's (mandatory); no policy lowers it.

import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { configSchemaFor, PackSettings, readSettings, SettingKey } from "../checks/settings";
import type { Skip, StackResource } from "../checks/stack";
import { Obj } from "../checks/values";
import { Workload, workloadOf } from "../checks/workload";
import { isExempt } from "../exemptions";

type Settings<K extends SettingKey> = Pick<PackSettings, K>;

interface Common<K extends SettingKey> {
    readonly name: string;
    readonly description: string;
    /** Pack settings the policy reads; they become its configSchema. */
    readonly settings?: readonly K[];
}

function settingsOf<K extends SettingKey>(
    policy: string,
    keys: readonly K[],
    args: { getConfig<T extends object>(): T },
    report: ReportViolation,
): Settings<K> | undefined {
    const result = readSettings(args.getConfig<Record<string, unknown>>(), keys);
    if (result.settings === undefined) {
        // Fail closed: a pack without its settings must not pass workloads it cannot judge.
        report(`The policy pack config for ${policy} is invalid: ${result.errors.join(" ")}`);
    }
    return result.settings;
}

export interface WorkloadPolicySpec<K extends SettingKey> extends Common<K> {
    readonly check: (w: Workload, settings: Settings<K>) => string[];
    /** Non-workload resources the policy also judges (for example PersistentVolume). */
    readonly other?: (type: string, props: Obj) => string[] | undefined;
}

/** A resource policy over every pod-bearing kind, through the one pod-spec extractor. */
export function workloadPolicy<K extends SettingKey = never>(spec: WorkloadPolicySpec<K>): ResourceValidationPolicy {
    const keys = spec.settings ?? [];
    return {
        name: spec.name,
        description: spec.description,
        ...(keys.length > 0 ? { configSchema: configSchemaFor(keys) } : {}),
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const props = args.props as Obj;
            const w = workloadOf(args.type, props);
            if (w === undefined) {
                const messages = spec.other?.(args.type, props);
                if (messages === undefined) {
                    args.notApplicable("The resource carries no pod.");
                }
                messages.forEach((m) => report(m));
                return;
            }
            if (isExempt(spec.name, w)) {
                args.notApplicable(`The workload is exempt from ${spec.name} (policy-pack/exemptions.ts).`);
            }
            const settings = settingsOf(spec.name, keys, args, report);
            if (settings !== undefined) {
                spec.check(w, settings).forEach((m) => report(m));
            }
        },
    };
}

export interface ResourcePolicySpec extends Common<never> {
    readonly check: (type: string, props: Obj) => string[] | undefined;
}

/** A resource policy over any resource; `check` returns undefined when it does not apply. */
export function resourcePolicy(spec: ResourcePolicySpec): ResourceValidationPolicy {
    return {
        name: spec.name,
        description: spec.description,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const messages = spec.check(args.type, args.props as Obj);
            if (messages === undefined) {
                args.notApplicable("The policy does not apply to this resource type.");
            }
            messages.forEach((m) => report(m));
        },
    };
}

export interface StackPolicySpec<K extends SettingKey> extends Common<K> {
    readonly check: (resources: readonly StackResource[], settings: Settings<K>, skip: Skip) => { message: string; urn?: string }[] | undefined;
}

function stackResource(r: PolicyResource): StackResource {
    return { type: r.type, props: r.props as Obj, urn: r.urn };
}

/** A stack policy; `check` returns undefined when it does not apply (for example outside prod). */
export function stackPolicy<K extends SettingKey = never>(spec: StackPolicySpec<K>): StackValidationPolicy {
    const keys = spec.settings ?? [];
    const skip: Skip = (w) => isExempt(spec.name, w);
    return {
        name: spec.name,
        description: spec.description,
        ...(keys.length > 0 ? { configSchema: configSchemaFor(keys) } : {}),
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const settings = settingsOf(spec.name, keys, args, report);
            if (settings === undefined) {
                return;
            }
            const violations = spec.check(args.resources.map(stackResource), settings, skip);
            if (violations === undefined) {
                args.notApplicable();
            }
            for (const v of violations) {
                report(v.message, v.urn);
            }
        },
    };
}
