import { strict as assert } from "assert";
import { readStackConfig } from "../../cli/mockRuntime";
import { parseConfig } from "../../config/schema";
import { PROFILE_MATRIX, TOOLS, resolveFeatures } from "../../config/profiles";
import type { FeatureSet, Tool } from "../../config/profiles";

const NOW = new Date("2026-11-23T12:00:00Z");

// design.md section 2, copied by hand from the document on purpose: if the code's table drifts
// from the document, this test is where it shows.
//   | flag    | local (dev) | ci (ci) | prod (prod) |
//   | envoy   | off         | on      | on          |
//   | opa     | off         | on      | on          |
//   | cilium  | off         | off     | on          |
//   | kyverno | off         | on      | on          |
//   | falco   | off         | off     | on          |
//   | kata    | off         | off     | on          |
const DESIGN_TABLE: Readonly<Record<"dev" | "ci" | "prod", FeatureSet>> = {
    dev: { envoy: false, opa: false, cilium: false, kyverno: false, falco: false, kata: false },
    ci: { envoy: true, opa: true, cilium: false, kyverno: true, falco: false, kata: false },
    prod: { envoy: true, opa: true, cilium: true, kyverno: true, falco: true, kata: true },
};

describe("profile matrix", () => {
    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`resolves Pulumi.${stack}.yaml to design.md's ${stack} column`, () => {
            const cfg = parseConfig(readStackConfig(stack), stack, NOW);
            assert.deepEqual({ ...cfg.features }, DESIGN_TABLE[stack]);
        });
    }

    it("keeps the code's table equal to the document's", () => {
        assert.deepEqual({ ...PROFILE_MATRIX.local }, DESIGN_TABLE.dev);
        assert.deepEqual({ ...PROFILE_MATRIX.ci }, DESIGN_TABLE.ci);
        assert.deepEqual({ ...PROFILE_MATRIX.prod }, DESIGN_TABLE.prod);
    });

    it("lets local and ci switch any tool either way without an override", () => {
        for (const profile of ["local", "ci"] as const) {
            for (const tool of TOOLS) {
                for (const value of [true, false]) {
                    const resolution = resolveFeatures(profile, { [tool]: value }, undefined, NOW);
                    assert.ok(resolution.ok);
                    if (resolution.ok) assert.equal(resolution.features[tool], value);
                }
            }
        }
    });

    it("refuses every single prod tool turned off without an override, naming the tool", () => {
        for (const tool of TOOLS) {
            const resolution = resolveFeatures("prod", { [tool]: false }, undefined, NOW);
            assert.ok(!resolution.ok);
            if (!resolution.ok) assert.deepEqual(resolution.issues.map((issue) => issue.path), [`tools.${tool}`]);
        }
    });

    it("accepts prod with exactly the overridden tools off and no others", () => {
        const off: Tool[] = ["cilium", "falco"];
        const resolution = resolveFeatures(
            "prod",
            { falco: false, cilium: false },
            { tools: off, reason: "r", ticket: "SEC-1", approvedBy: "a@example.com", expires: "2026-11-28T00:00:00Z" },
            NOW,
        );
        assert.ok(resolution.ok);
        if (resolution.ok) assert.deepEqual(TOOLS.filter((tool) => !resolution.features[tool]), off);
    });

    it("refuses an override that covers one tool while two are off", () => {
        const resolution = resolveFeatures(
            "prod",
            { falco: false, kata: false },
            { tools: ["falco"], reason: "r", ticket: "SEC-1", approvedBy: "a@example.com", expires: "2026-11-28T00:00:00Z" },
            NOW,
        );
        assert.ok(!resolution.ok);
        if (!resolution.ok) assert.deepEqual(resolution.issues.map((issue) => issue.path), ["tools.kata"]);
    });
});
