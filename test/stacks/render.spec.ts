import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../cli/mockRuntime";
import { loadSchemaValidator } from "../support/schemaValidator";

const TS_NODE = path.join(REPO_ROOT, "node_modules", ".bin", "ts-node");

function renderCli(args: readonly string[], cwd: string = REPO_ROOT): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(TS_NODE, ["--transpile-only", path.join(REPO_ROOT, "cli", "render.ts"), ...args], { cwd, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readDir(dir: string): Map<string, string> {
    return new Map(fs.readdirSync(dir).sort().map((file) => [file, fs.readFileSync(path.join(dir, file), "utf8")]));
}

describe("npm run render", function () {
    this.timeout(300_000);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-render-"));
    after(() => fs.rmSync(scratch, { recursive: true, force: true }));

    for (const stack of ["dev", "ci", "prod"] as const) {
        describe(`stack ${stack}`, () => {
            const first = path.join(scratch, `${stack}-1`);
            const second = path.join(scratch, `${stack}-2`);
            let files = new Map<string, string>();

            before(() => {
                const run = renderCli(["--stack", stack, "--out", first]);
                assert.equal(run.status, 0, run.stderr);
                assert.match(run.stdout, new RegExp(`rendered stack ${stack}: \\d+ resources`));
                files = readDir(first);
            });

            it("writes one YAML file per resource, named kind-namespace-name, and charts.yaml", () => {
                assert.ok(files.has("charts.yaml"));
                for (const [file, text] of files) {
                    if (file === "charts.yaml") continue;
                    const manifest = YAML.parse(text) as { kind: string; metadata: { name: string; namespace?: string } };
                    const expected = [manifest.kind, manifest.metadata.namespace, manifest.metadata.name].filter(Boolean).join("-");
                    assert.equal(file, `${expected.replace(/[^A-Za-z0-9_.-]/g, "_")}.yaml`);
                }
            });

            it("validates every rendered resource against the upstream schemas", () => {
                const validator = loadSchemaValidator();
                const failures: string[] = [];
                for (const [file, text] of files) {
                    if (file === "charts.yaml") continue;
                    const check = validator.validate(YAML.parse(text) as Record<string, unknown>);
                    if (!check.ok) failures.push(`${file}:\n  ${check.errors.join("\n  ")}`);
                }
                assert.deepEqual(failures, []);
            });

            it("gives identical bytes when rendered twice", () => {
                const run = renderCli(["--stack", stack, "--out", second]);
                assert.equal(run.status, 0, run.stderr);
                assert.deepEqual(readDir(second), files);
            });

            it("pins every chart with a version, repository and namespace", () => {
                const charts = (YAML.parse(files.get("charts.yaml") ?? "") as { charts: { release: string; chart: string; version: string; repo: string; namespace: string }[] }).charts;
                for (const chart of charts) {
                    assert.match(chart.version, /^v?\d+\.\d+\.\d+$/, `${chart.release} version`);
                    assert.match(chart.repo, /^(https|oci):\/\//, `${chart.release} repo`);
                    assert.ok(chart.namespace, `${chart.release} namespace`);
                }
            });
        });
    }

    it("exits 2 with the config error and no stack trace on bad config", () => {
        const project = path.join(scratch, "bad-project");
        fs.mkdirSync(project, { recursive: true });
        const text = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8").replace("agent-security:platform: openshift", "agent-security:platform: openshfit");
        fs.writeFileSync(path.join(project, "Pulumi.prod.yaml"), text);
        const run = renderCli(["--stack", "prod", "--out", path.join(scratch, "bad-out"), "--project", project]);
        assert.equal(run.status, 2, run.stderr + run.stdout);
        assert.match(run.stderr, /agent-security:platform: must be one of: openshift, kubernetes/);
        assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    });

    it("exits 2 for a stack that has no stack file", () => {
        const run = renderCli(["--stack", "staging", "--out", path.join(scratch, "staging")]);
        assert.equal(run.status, 2);
        assert.match(run.stderr, /no stack file .*Pulumi.staging.yaml/);
    });

    it("exits 2 on bad usage", () => {
        const run = renderCli(["--stack"]);
        assert.equal(run.status, 2);
        assert.match(run.stderr, /usage: npm run render/);
    });
});
