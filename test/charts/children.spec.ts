// Under a real `pulumi preview` the pack sees every object a helm.v4.Chart renders, not the chart
// as a leaf (the mock runtime's view). This renders every chart each stack installs with the very
// values the stack passes, from the real upstream charts in ../shared/charts, and runs the pack
// over the children together with the rest of the stack: zero mandatory violations, so each chart
// child is either hardened through its values or named in policy-pack/exemptions.ts.
//
// Needs `helm` (scripts/install-helm.sh puts it in ~/go/bin); without it the spec says so and skips.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Manifest } from "../../cli/check";
import { chartsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { ChartRelease, StackRun } from "../../cli/mockRuntime";
import { dropPinnedIds } from "../../components/gateway/transforms";
import type { PackSettings } from "../../policy-pack/checks/settings";
import { evaluate } from "../../policy-pack/evaluate";
import type { OfflineResource } from "../../policy-pack/evaluate";
import { typeTokenOf } from "../../policy-pack/checks/workload";
import { kubernetesProdConfig, kubernetesProdPackSettings, packSettingsOf } from "../support/kubernetesProd";
import { CHARTS_DIR, chartArchive, findHelm, templateRelease } from "./helm";

const NOW = new Date("2026-11-23T12:00:00Z");

interface Variant {
    readonly name: string;
    readonly stack: "dev" | "ci" | "prod";
    readonly config: () => Record<string, unknown>;
    readonly settings: () => PackSettings;
}

const settingsOf = packSettingsOf;

const VARIANTS: readonly Variant[] = [
    { name: "dev", stack: "dev", config: () => readStackConfig("dev"), settings: () => settingsOf("dev") },
    { name: "ci", stack: "ci", config: () => readStackConfig("ci"), settings: () => settingsOf("ci") },
    { name: "prod", stack: "prod", config: () => readStackConfig("prod"), settings: () => settingsOf("prod") },
    {
        name: "prod on kubernetes (every chart)",
        stack: "prod",
        config: kubernetesProdConfig,
        settings: kubernetesProdPackSettings,
    },
];


/** The chart transforms the program passes to helm.v4.Chart (components/gateway/index.ts). */
function transformed(run: StackRun, release: ChartRelease, m: Manifest): Record<string, unknown> {
    if (run.config.platform !== "openshift" || release.release !== "mcp-gateway") return m.doc;
    const type = typeTokenOf(String(m.doc.apiVersion), String(m.doc.kind));
    const result = dropPinnedIds({ type, name: "child", props: m.doc, opts: {} } as Parameters<typeof dropPinnedIds>[0]);
    return (result?.props as Record<string, unknown> | undefined) ?? m.doc;
}

function describeFinding(resources: readonly OfflineResource[], policy: string, urn: string | undefined, message: string): string {
    const r = resources.find((x) => x.urn === urn);
    return `${policy} ${r === undefined ? "(stack)" : r.name}: ${message}`;
}

describe("chart children of every stack pass the policy pack", function () {
    this.timeout(600_000);
    const helm = findHelm();

    before(function () {
        if (helm === undefined) {
            process.stdout.write("      helm not found on PATH or in ~/go/bin: chart children not checked (bash scripts/install-helm.sh)\n");
            this.skip();
        }
        if (!fs.existsSync(CHARTS_DIR)) {
            process.stdout.write(`      no chart repository at ${CHARTS_DIR}: chart children not checked\n`);
            this.skip();
        }
    });

    for (const variant of VARIANTS) {
        it(`${variant.name}: zero mandatory violations over the stack and every chart child it installs`, async () => {
            assert.ok(helm !== undefined);
            const run = await runStack(variant.stack, variant.config(), { now: NOW });
            const releases = chartsOf(run.resources);
            const resources: OfflineResource[] = run.resources.map((r) => ({ type: r.type, props: r.inputs, urn: r.urn, name: r.name }));
            for (const release of releases) {
                assert.ok(fs.existsSync(chartArchive(release)), `${release.release}: no ${path.basename(chartArchive(release))} in ${CHARTS_DIR}`);
                templateRelease(helm, release).forEach((m, i) => {
                    const doc = transformed(run, release, m);
                    const type = typeTokenOf(String(doc.apiVersion), String(doc.kind));
                    const meta = (doc.metadata ?? {}) as { name?: string; namespace?: string };
                    resources.push({
                        type,
                        props: doc,
                        urn: `urn:pulumi:${variant.stack}::agent-security::chart$${release.release}$${type}::${i}`,
                        name: `${release.release}: ${String(doc.kind)} ${meta.namespace ?? ""}/${meta.name ?? ""}`,
                    });
                });
            }
            const findings = (await evaluate(resources, variant.settings())).filter((f) => f.enforcementLevel === "mandatory");
            assert.deepEqual(findings.map((f) => describeFinding(resources, f.policy, f.urn, f.message)), []);
        });
    }

    it("renders children at all: the kubernetes prod variant has the Falco DaemonSet and the istiod Deployment", async () => {
        assert.ok(helm !== undefined);
        const run = await runStack("prod", kubernetesProdConfig(), { now: NOW });
        const kinds = chartsOf(run.resources).flatMap((r) => templateRelease(helm, r).map((m) => `${String(m.doc.kind)}/${String((m.doc.metadata as { name?: string }).name)}`));
        for (const expected of ["DaemonSet/falco", "Deployment/istiod", "DaemonSet/istio-cni-node", "DaemonSet/cilium"]) {
            assert.ok(kinds.includes(expected), `${expected} among ${kinds.length} children`);
        }
    });
});
