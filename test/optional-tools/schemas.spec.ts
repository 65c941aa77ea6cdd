// Every resource the runtime, network and admission components render validates against the
// upstream schemas in ../shared/crds (test/support/schemaValidator.ts: unknown fields, unknown kinds
// and deprecated versions are errors). PrometheusRule has no schema there; it is checked against the
// hand-written subset in test/schemas/ (see the note in that file).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { readStackConfig } from "../../cli/mockRuntime";
import { manifestsOf } from "../../cli/mockRuntime";
import type { Manifest } from "../../cli/mockRuntime";
import { loadSchemaValidator } from "../support/schemaValidator";
import type { RawConfig } from "./support";
import { issue5Resources, onKubernetes, prodConfig, render } from "./support";

const PROMETHEUS_RULE_SCHEMA = JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "schemas", "monitoring.coreos.com_prometheusrules.schema.json"), "utf8"),
) as Record<string, unknown>;

const validatePrometheusRule = new Ajv({ allErrors: true }).compile(PROMETHEUS_RULE_SCHEMA);

function check(manifest: Manifest): string[] {
    if (manifest.apiVersion === "monitoring.coreos.com/v1" && manifest.kind === "PrometheusRule") {
        return validatePrometheusRule(JSON.parse(JSON.stringify(manifest))) ? [] : (validatePrometheusRule.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ""}`);
    }
    const result = loadSchemaValidator().validate(manifest as unknown as Record<string, unknown>);
    return result.ok ? [] : [...result.errors];
}

const STACKS: readonly (readonly [string, string, () => RawConfig])[] = [
    ["prod on OpenShift", "prod", prodConfig],
    ["prod on Kubernetes", "prod", () => onKubernetes()],
    ["prod with the Cilium chart", "prod", () => ({ ...prodConfig(), cilium: { install: true } })],
    ["ci", "ci", () => readStackConfig("ci")],
];

describe("optional tools: rendered resources validate against the upstream schemas", () => {
    for (const [label, stack, config] of STACKS) {
        it(`${label}: every runtime, network and admission resource is valid`, async () => {
            const rendered = await render(stack, config());
            const manifests = manifestsOf(issue5Resources(rendered.run.resources));
            assert.ok(manifests.length > 0, "the stack renders resources of issue 5");
            const problems = manifests.flatMap((manifest) => check(manifest).map((error) => `${manifest.kind} ${manifest.metadata.namespace ?? ""}/${manifest.metadata.name}: ${error}`));
            assert.deepStrictEqual(problems, []);
        });
    }

    it("renders only GA / storage versions: cilium.io/v2, policies.kyverno.io/v1, admissionregistration.k8s.io/v1, monitoring.coreos.com/v1, v1", async () => {
        const rendered = await render("prod", prodConfig());
        const versions = [...new Set(manifestsOf(issue5Resources(rendered.run.resources)).map((manifest) => `${manifest.apiVersion} ${manifest.kind}`))].sort();
        assert.deepStrictEqual(versions, [
            "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
            "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding",
            "cilium.io/v2 CiliumNetworkPolicy",
            "monitoring.coreos.com/v1 PrometheusRule",
            "policies.kyverno.io/v1 ValidatingPolicy",
            "v1 Namespace",
            // falcosidekick's webhook-auth config file (the Falco responder's token).
            "v1 Secret",
        ]);
    });

    describe("the hand-written PrometheusRule schema", () => {
        const valid = {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: "agent-security-falco-health", namespace: "agent-security" },
            spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "up == 0", for: "5m", labels: { severity: "critical" }, annotations: { summary: "s" } }] }] },
        };
        it("accepts a minimal rule", () => assert.ok(validatePrometheusRule(valid), JSON.stringify(validatePrometheusRule.errors)));
        it("refuses a mistyped field (the API server would prune it silently)", () => {
            const typo = structuredClone(valid) as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
            typo.spec.groups[0]!.rules[0]!.expression = "up == 0";
            assert.strictEqual(validatePrometheusRule(typo), false);
        });
        it("refuses a malformed duration", () => {
            const bad = structuredClone(valid) as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
            bad.spec.groups[0]!.rules[0]!.for = "5 minutes";
            assert.strictEqual(validatePrometheusRule(bad), false);
        });
    });
});
