// Each optional tool of issue 5 renders only when its flag (and, for the Cilium chart, install) is on.
import * as assert from "assert";
import { readStackConfig } from "../../cli/mockRuntime";
import { FALCO_NAMESPACE, KYVERNO_NAMESPACE } from "../../components/wellKnown";
import type { Render } from "./support";
import { chart, issue5Resources, ofKind, onKubernetes, prodConfig, prodWithout, render } from "./support";

/**
 * The baseline's own secrets-as-files policy (components/baseline/secretsPolicy.ts) exists in every
 * stack with agents; these specs are about the optional tools' admission objects.
 */
const withoutBaselinePolicies = <T extends { metadata: { name: string } }>(manifests: readonly T[]): T[] =>
    manifests.filter((manifest) => !manifest.metadata.name.startsWith("agent-security-secrets-as-files-"));
const names = (manifests: readonly { metadata: { name: string } }[]): string[] => manifests.map((manifest) => manifest.metadata.name).sort();

describe("optional tools: each renders only when its flag is on", () => {
    let prod: Render;
    before(async () => {
        prod = await render("prod", prodConfig());
    });

    describe("prod (every tool on)", () => {
        it("installs falco 9.1.0 and falcosidekick 0.14.0 as separate pinned releases in namespace falco", () => {
            const falco = chart(prod.charts, "falco");
            const sidekick = chart(prod.charts, "falcosidekick");
            assert.deepStrictEqual(
                falco && { chart: falco.chart, version: falco.version, repo: falco.repo, namespace: falco.namespace },
                { chart: "falco", version: "9.1.0", repo: "https://falcosecurity.github.io/charts", namespace: FALCO_NAMESPACE },
            );
            assert.deepStrictEqual(
                sidekick && { chart: sidekick.chart, version: sidekick.version, namespace: sidekick.namespace },
                { chart: "falcosidekick", version: "0.14.0", namespace: FALCO_NAMESPACE },
            );
            assert.ok(ofKind(prod.manifests, "Namespace").some((ns) => ns.metadata.name === FALCO_NAMESPACE));
        });

        it("renders one CiliumNetworkPolicy per agent", () => {
            assert.deepStrictEqual(names(ofKind(prod.manifests, "CiliumNetworkPolicy")), ["currency-agent-egress", "fetch-agent-egress"]);
        });

        it("does not install the Cilium chart while cilium.install is false", () => {
            assert.strictEqual(chart(prod.charts, "cilium"), undefined);
        });

        it("installs kyverno 3.9.0 in namespace kyverno with the baseline ValidatingPolicies, Kata included", () => {
            const kyverno = chart(prod.charts, "kyverno");
            assert.deepStrictEqual(
                kyverno && { chart: kyverno.chart, version: kyverno.version, namespace: kyverno.namespace },
                { chart: "kyverno", version: "3.9.0", namespace: KYVERNO_NAMESPACE },
            );
            assert.deepStrictEqual(names(ofKind(prod.manifests, "ValidatingPolicy")), [
                "agent-security-approved-registries",
                "agent-security-kata-runtime",
                "agent-security-no-host-mounts",
                "agent-security-no-host-namespaces",
                "agent-security-no-privileged",
                "agent-security-resource-limits",
            ]);
        });

        it("enforces (Deny, failurePolicy Fail) as the prod config asks", () => {
            for (const policy of ofKind(prod.manifests, "ValidatingPolicy")) {
                const spec = policy.spec as { validationActions: string[]; failurePolicy: string };
                assert.deepStrictEqual([spec.validationActions, spec.failurePolicy], [["Deny"], "Fail"], policy.metadata.name);
            }
        });

        it("renders a fail-closed policy and binding for exactly the tools in failClosed", () => {
            assert.deepStrictEqual(names(withoutBaselinePolicies(ofKind(prod.manifests, "ValidatingAdmissionPolicy"))), ["agent-security-require-cilium-ready", "agent-security-require-falco-ready"]);
            assert.deepStrictEqual(names(withoutBaselinePolicies(ofKind(prod.manifests, "ValidatingAdmissionPolicyBinding"))), [
                "agent-security-require-cilium-ready",
                "agent-security-require-falco-ready",
            ]);
        });

        it("renders one PrometheusRule per enabled tool in the platform namespace", () => {
            const rules = ofKind(prod.manifests, "PrometheusRule");
            assert.deepStrictEqual(names(rules), ["cilium", "envoy", "falco", "kata", "kyverno", "opa"].map((tool) => `agent-security-${tool}-health`));
            assert.ok(rules.every((rule) => rule.metadata.namespace === "agent-security"));
        });

        it("reports every Kata agent as not covered by Falco", () => {
            assert.deepStrictEqual(prod.run.outputs.falcoCoverage, { covered: [], notCovered: ["fetch-agent", "currency-agent"] });
        });
    });

    describe("with one tool off by emergency override", () => {
        it("falco off: no Falco charts, namespace, fail-closed policy, health rule or coverage output", async () => {
            const off = await render("prod", prodWithout("falco"));
            assert.strictEqual(chart(off.charts, "falco"), undefined);
            assert.strictEqual(chart(off.charts, "falcosidekick"), undefined);
            assert.ok(!ofKind(off.manifests, "Namespace").some((ns) => ns.metadata.name === FALCO_NAMESPACE));
            assert.deepStrictEqual(names(withoutBaselinePolicies(ofKind(off.manifests, "ValidatingAdmissionPolicy"))), ["agent-security-require-cilium-ready"]);
            assert.ok(!names(ofKind(off.manifests, "PrometheusRule")).includes("agent-security-falco-health"));
            assert.strictEqual(off.run.outputs.falcoCoverage, null);
        });

        it("cilium off: no CiliumNetworkPolicy, fail-closed policy or health rule for Cilium", async () => {
            const off = await render("prod", prodWithout("cilium"));
            assert.deepStrictEqual(ofKind(off.manifests, "CiliumNetworkPolicy"), []);
            assert.deepStrictEqual(names(withoutBaselinePolicies(ofKind(off.manifests, "ValidatingAdmissionPolicy"))), ["agent-security-require-falco-ready"]);
            assert.ok(!names(ofKind(off.manifests, "PrometheusRule")).includes("agent-security-cilium-health"));
        });

        it("kyverno off: no Kyverno chart, namespace, ValidatingPolicy or health rule", async () => {
            const off = await render("prod", prodWithout("kyverno"));
            assert.strictEqual(chart(off.charts, "kyverno"), undefined);
            assert.ok(!ofKind(off.manifests, "Namespace").some((ns) => ns.metadata.name === KYVERNO_NAMESPACE));
            assert.deepStrictEqual(ofKind(off.manifests, "ValidatingPolicy"), []);
            assert.ok(!names(ofKind(off.manifests, "PrometheusRule")).includes("agent-security-kyverno-health"));
        });

        it("kata off: Kyverno drops the Kata runtime policy and Falco covers every agent", async () => {
            const off = await render("prod", prodWithout("kata"));
            assert.ok(!names(ofKind(off.manifests, "ValidatingPolicy")).includes("agent-security-kata-runtime"));
            assert.deepStrictEqual(off.run.outputs.falcoCoverage, { covered: ["fetch-agent", "currency-agent"], notCovered: [] });
        });
    });

    it("installs the Cilium chart (1.20.0, cilium.namespace) only when cilium.install is true", async () => {
        const installed = await render("prod", { ...prodConfig(), cilium: { install: true } });
        const cilium = chart(installed.charts, "cilium");
        assert.deepStrictEqual(
            cilium && { chart: cilium.chart, version: cilium.version, repo: cilium.repo, namespace: cilium.namespace },
            { chart: "cilium", version: "1.20.0", repo: "https://helm.cilium.io/", namespace: "kube-system" },
        );
    });

    it("renders no fail-closed policy when failClosed is empty and no PrometheusRule when monitoring is off", async () => {
        const quiet = await render("prod", { ...prodConfig(), failClosed: [], monitoring: false });
        assert.deepStrictEqual(withoutBaselinePolicies(ofKind(quiet.manifests, "ValidatingAdmissionPolicy")), []);
        assert.deepStrictEqual(withoutBaselinePolicies(ofKind(quiet.manifests, "ValidatingAdmissionPolicyBinding")), []);
        assert.deepStrictEqual(ofKind(quiet.manifests, "PrometheusRule"), []);
    });

    it("dev (local profile) renders none of the runtime, network or admission components or resources", async () => {
        const dev = await render("dev", readStackConfig("dev"));
        assert.deepStrictEqual(dev.run.resources.filter((resource) => /^agent-security:(runtime|network|admission):/.test(resource.type)), []);
        assert.deepStrictEqual(issue5Resources(dev.run.resources), []);
        for (const kind of ["CiliumNetworkPolicy", "ValidatingPolicy", "ValidatingAdmissionPolicy", "PrometheusRule"]) assert.deepStrictEqual(withoutBaselinePolicies(ofKind(dev.manifests, kind)), [], kind);
        assert.deepStrictEqual(
            dev.charts.filter((entry) => ["cilium", "falco", "falcosidekick", "kyverno"].includes(entry.release)),
            [],
        );
        assert.ok(issue5Resources(prod.run.resources).length > 0, "the same filter finds the prod resources");
    });

    it("ci renders Kyverno only, in Audit mode, without the Kata policy", async () => {
        const ci = await render("ci", readStackConfig("ci"));
        assert.deepStrictEqual(
            ci.charts.map((entry) => entry.release).filter((release) => ["cilium", "falco", "falcosidekick", "kyverno"].includes(release)),
            ["kyverno"],
        );
        assert.deepStrictEqual(ofKind(ci.manifests, "CiliumNetworkPolicy"), []);
        const policies = ofKind(ci.manifests, "ValidatingPolicy");
        assert.ok(policies.length > 0 && !names(policies).includes("agent-security-kata-runtime"));
        for (const policy of policies) {
            const spec = policy.spec as { validationActions: string[]; failurePolicy: string };
            assert.deepStrictEqual([spec.validationActions, spec.failurePolicy], [["Audit"], "Ignore"], policy.metadata.name);
        }
    });

    it("on Kubernetes the same flags render the same tools (platform only changes their contents)", async () => {
        const kube = await render("prod", onKubernetes());
        assert.deepStrictEqual(
            kube.charts.map((entry) => entry.release).filter((release) => ["cilium", "falco", "falcosidekick", "kyverno"].includes(release)).sort(),
            ["falco", "falcosidekick", "kyverno"],
        );
        assert.strictEqual(ofKind(kube.manifests, "CiliumNetworkPolicy").length, 2);
        assert.strictEqual(withoutBaselinePolicies(ofKind(kube.manifests, "ValidatingAdmissionPolicy")).length, 2);
    });
});
