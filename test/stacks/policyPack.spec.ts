import { strict as assert } from "assert";
import * as path from "path";
import { REPO_ROOT, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { RecordedResource, StackRun } from "../../cli/mockRuntime";
import { loadSettings } from "../../cli/check";
import { evaluate } from "../../policy-pack/evaluate";
import type { Finding } from "../../policy-pack/evaluate";

const NOW = new Date("2026-11-23T12:00:00Z");

async function packFindings(stack: "dev" | "ci" | "prod", resources: readonly RecordedResource[]): Promise<Finding[]> {
    const settings = loadSettings(path.join(REPO_ROOT, "policy-pack", "config", `${stack}.json`));
    const findings = await evaluate(
        resources.map((resource) => ({ type: resource.type, props: resource.inputs, urn: resource.urn, name: resource.name })),
        settings,
    );
    return findings.filter((finding) => finding.enforcementLevel === "mandatory");
}

interface PodTemplateDeployment {
    spec: { template: { spec: { runtimeClassName?: string; containers: { name: string; env?: unknown[]; securityContext?: Record<string, unknown> }[] } } };
}

/** The stack's resources with one agent Deployment replaced by a mutated copy. */
function withBrokenAgent(run: StackRun, agentName: string, mutate: (deployment: PodTemplateDeployment) => void): RecordedResource[] {
    let mutated = false;
    const resources = run.resources.map((resource) => {
        const metadata = resource.inputs.metadata as { name?: string } | undefined;
        if (resource.type !== "kubernetes:apps/v1:Deployment" || metadata?.name !== agentName) return resource;
        const inputs = structuredClone(resource.inputs);
        mutate(inputs as unknown as PodTemplateDeployment);
        mutated = true;
        return { ...resource, inputs };
    });
    assert.ok(mutated, `no Deployment ${agentName} in the stack`);
    return resources;
}

describe("every stack passes its own policy pack", function () {
    this.timeout(120_000);
    const runs = new Map<string, StackRun>();
    before(async () => {
        for (const stack of ["dev", "ci", "prod"] as const) runs.set(stack, await runStack(stack, readStackConfig(stack), { now: NOW }));
    });

    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`${stack}: zero mandatory violations over every resource the program registers`, async () => {
            const run = runs.get(stack);
            assert.ok(run);
            const findings = await packFindings(stack, run.resources);
            assert.deepEqual(findings.map((finding) => `${finding.policy} ${finding.urn ?? ""}: ${finding.message}`), []);
        });
    }

    const BREAKAGES: readonly { readonly policy: string; readonly stack: "dev" | "prod"; readonly mutate: (d: PodTemplateDeployment) => void }[] = [
        { policy: "baseline-no-privileged", stack: "dev", mutate: (d) => { const c = d.spec.template.spec.containers[0]; if (c) c.securityContext = { ...c.securityContext, privileged: true }; } },
        { policy: "baseline-no-secret-env", stack: "dev", mutate: (d) => { const c = d.spec.template.spec.containers[0]; if (c) c.env = [...(c.env ?? []), { name: "GEMINI_API_KEY", valueFrom: { secretKeyRef: { name: "gemini-api-key", key: "api-key" } } }]; } },
        { policy: "baseline-read-only-root-filesystem", stack: "dev", mutate: (d) => { const c = d.spec.template.spec.containers[0]; if (c) c.securityContext = { ...c.securityContext, readOnlyRootFilesystem: false }; } },
        { policy: "baseline-kata-runtime", stack: "prod", mutate: (d) => { delete d.spec.template.spec.runtimeClassName; } },
    ];
    for (const breakage of BREAKAGES) {
        it(`fails a deliberately broken copy of currency-agent in ${breakage.stack} with ${breakage.policy}`, async () => {
            const run = runs.get(breakage.stack);
            assert.ok(run);
            const findings = await packFindings(breakage.stack, withBrokenAgent(run, "currency-agent", breakage.mutate));
            assert.deepEqual([...new Set(findings.map((finding) => finding.policy))], [breakage.policy]);
        });
    }
});
