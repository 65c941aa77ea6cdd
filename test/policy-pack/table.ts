// Table-driven policy tests: one mutation of the hardened fixture per case, in every pod-bearing
// kind, and both verdicts in each test (the untouched fixture passes, the mutated one gets the
// expected verdict). A mutation that must pass is run through every resource policy of the pack,
// so "legal" means legal for the whole baseline, not just for the policy under test.

import type { PackSettings, Platform } from "../../policy-pack/checks/settings";
import { baselinePolicies } from "../../policy-pack/policies";
import { clone, hardenedTemplate, POD_KIND_TYPES, POD_KINDS, PodKind, PodTemplate, wrap } from "./fixtures";
import { assertClean, assertViolates, KUBERNETES, OPENSHIFT, resourcePolicy, resourceViolations } from "./helpers";
import type { ResourceValidationPolicy } from "@pulumi/policy";

export interface Case {
    /** Behaviour under test, completing "rejects ..." or "accepts ...". */
    readonly name: string;
    readonly expect: "reject" | "accept";
    readonly mutate: (t: PodTemplate) => void;
    /** Fragments the violation message must contain (the container and the field). */
    readonly mentions?: readonly string[];
    readonly settings?: PackSettings;
}

export function reject(name: string, mutate: (t: PodTemplate) => void, ...mentions: string[]): Case {
    return { name, expect: "reject", mutate, mentions };
}

export function accept(name: string, mutate: (t: PodTemplate) => void, settings?: PackSettings): Case {
    return { name, expect: "accept", mutate, settings };
}

const resourcePolicies = baselinePolicies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);

async function violationsOfPack(kind: PodKind, props: object, settings: PackSettings): Promise<string[]> {
    const all: string[] = [];
    for (const p of resourcePolicies) {
        const result = await resourceViolations(p, POD_KIND_TYPES[kind], props, settings);
        if (result !== "not applicable") {
            all.push(...result.map((m) => `${p.name}: ${m}`));
        }
    }
    return all;
}

export function policyTable(policyName: string, cases: readonly Case[], platform: Platform = "kubernetes"): void {
    const policy = resourcePolicy(policyName);
    const baseSettings = platform === "kubernetes" ? KUBERNETES : OPENSHIFT;
    describe(`${policyName} (${platform})`, () => {
        for (const kind of POD_KINDS) {
            it(`passes the hardened ${kind}`, async () => {
                assertClean(await resourceViolations(policy, POD_KIND_TYPES[kind], wrap(kind, hardenedTemplate(platform)), baseSettings), kind);
            });
        }
        for (const c of cases) {
            const settings = c.settings ?? baseSettings;
            for (const kind of POD_KINDS) {
                it(`${c.expect === "reject" ? "rejects" : "accepts"} ${c.name} (${kind})`, async () => {
                    const base = hardenedTemplate(platform);
                    assertClean(await resourceViolations(policy, POD_KIND_TYPES[kind], wrap(kind, base), settings), `unmutated ${kind}`);
                    const mutated = clone(base);
                    c.mutate(mutated);
                    if (c.expect === "reject") {
                        assertViolates(await resourceViolations(policy, POD_KIND_TYPES[kind], wrap(kind, mutated), settings), c.name, ...(c.mentions ?? []));
                    } else {
                        assertClean(await violationsOfPack(kind, wrap(kind, mutated), settings), c.name);
                    }
                });
            }
        }
    });
}
