import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT, readStackConfig } from "../../cli/mockRuntime";
import { PROJECT, configSchema, parseConfig } from "../../config/schema";

interface Declaration {
    readonly type?: string;
    readonly description?: string;
}

const project = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    runtime: { name: string };
    config?: unknown;
    template?: { config?: Record<string, Declaration> };
};

describe("Pulumi.yaml", () => {
    it("is the nodejs project agent-security", () => {
        assert.equal(project.name, PROJECT);
        assert.equal(project.runtime.name, "nodejs");
    });

    it("declares every config key of the schema with a type and a description, and nothing else", () => {
        const declared = project.template?.config ?? {};
        const schemaKeys = Object.keys(configSchema.shape).map((key) => `${PROJECT}:${key}`).sort();
        assert.deepEqual(Object.keys(declared).sort(), schemaKeys);
        for (const [key, declaration] of Object.entries(declared)) {
            assert.match(declaration.type ?? "", /^(string|boolean|integer|array|object)$/, `${key} type`);
            assert.ok((declaration.description ?? "").length > 20, `${key} description`);
        }
    });

    it("keeps the typed `config:` block empty, which Pulumi would enforce against object values", () => {
        assert.equal(project.config, undefined);
    });
});

describe("policy pack config per stack", () => {
    interface PackConfig {
        readonly "baseline-apparmor"?: { platform?: string };
        readonly "baseline-approved-registries"?: { approvedRegistries?: string[] };
        readonly "baseline-kata-runtime"?: { profile?: string; kataRuntimeClasses?: string[] };
        readonly "baseline-prod-tool-flags"?: { profile?: string; auditNamespace?: string };
    }
    for (const stack of ["dev", "ci", "prod"] as const) {
        it(`agrees with Pulumi.${stack}.yaml on profile, platform, registries and the audit namespace`, () => {
            const file = path.join(REPO_ROOT, "policy-pack", "config", `${stack}.json`);
            const pack = JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig;
            const cfg = parseConfig(readStackConfig(stack), stack);
            assert.equal(pack["baseline-apparmor"]?.platform, cfg.platform);
            assert.deepEqual(pack["baseline-approved-registries"]?.approvedRegistries, [...cfg.registries]);
            assert.equal(pack["baseline-kata-runtime"]?.profile, cfg.profile);
            assert.equal(pack["baseline-prod-tool-flags"]?.profile, cfg.profile);
            assert.equal(pack["baseline-prod-tool-flags"]?.auditNamespace, cfg.platformNamespace);
        });
    }
});
