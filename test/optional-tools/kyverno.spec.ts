// The Kyverno release values: keys the 3.9.0 chart knows, HA when enforcing, OpenShift-compatible UIDs.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { kyvernoValues } from "../../components/admission/values";
import { defaultSchemaDir } from "../support/schemaValidator";
import { hasPath, leafPaths } from "./support";

const DEFAULTS = YAML.parse(fs.readFileSync(path.join(defaultSchemaDir(), "kyverno", "helm", "kyverno", "values.yaml"), "utf8")) as unknown;

describe("Kyverno chart values", () => {
    for (const platform of ["openshift", "kubernetes"] as const) {
        for (const validationAction of ["Deny", "Audit"] as const) {
            it(`${platform}/${validationAction}: sets only keys the kyverno 3.9.0 chart has`, () => {
                for (const keys of leafPaths(kyvernoValues({ platform, validationAction }))) {
                    // The kyverno-api subchart (its CRDs) has two values, both free-form maps:
                    // labels and annotations (kyverno-3.9.0.tgz charts/kyverno-api/values.yaml).
                    if (keys[0] === "kyverno-api") assert.ok(["labels", "annotations"].includes(String(keys[1])) && keys.length === 3, keys.join("."));
                    else assert.ok(hasPath(DEFAULTS, keys), keys.join("."));
                }
            });
        }
    }

    it("runs three admission controllers when enforcing (failurePolicy Fail) and one when auditing", () => {
        const replicas = (validationAction: "Deny" | "Audit"): unknown =>
            (kyvernoValues({ platform: "kubernetes", validationAction }).admissionController as Record<string, unknown>).replicas;
        assert.deepStrictEqual([replicas("Deny"), replicas("Audit")], [3, 1]);
    });

    it("removes every fixed runAsUser/runAsGroup of the chart on OpenShift, and none elsewhere", () => {
        const fixedUidPaths = leafPaths(DEFAULTS)
            .filter((keys) => keys[keys.length - 1] === "runAsUser" || keys[keys.length - 1] === "runAsGroup")
            .map((keys) => keys.join("."))
            .sort();
        const nulled = (platform: "openshift" | "kubernetes"): string[] =>
            leafPaths(kyvernoValues({ platform, validationAction: "Deny" }))
                .filter((keys) => keys[keys.length - 1] === "runAsUser" || keys[keys.length - 1] === "runAsGroup")
                .map((keys) => keys.join("."))
                .sort();
        assert.ok(fixedUidPaths.length > 0);
        assert.deepStrictEqual(nulled("openshift"), fixedUidPaths);
        assert.deepStrictEqual(nulled("kubernetes"), []);
    });
});
