// The program under the real Pulumi engine, with the policy pack and the real upstream charts
// (design.md section 11, "Real engine"). Skips with a reason where the toolchain was never built;
// .ci/run builds it and sets AGENT_SECURITY_REQUIRE_ENGINE=1, so CI cannot skip.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../cli/mockRuntime";
import { EngineWorkspace, findToolchain, packArgs, tail } from "./engine";

const toolchain = findToolchain();

function requireToolchain(context: Mocha.Context): string {
    if (toolchain) return toolchain;
    if (process.env.AGENT_SECURITY_REQUIRE_ENGINE === "1") {
        throw new Error("AGENT_SECURITY_REQUIRE_ENGINE=1 but no Pulumi toolchain was found (run scripts/install-pulumi-toolchain.sh)");
    }
    console.log("    (skipped: no Pulumi toolchain; build it with bash scripts/install-pulumi-toolchain.sh)");
    context.skip();
}

describe("the real Pulumi engine", function () {
    this.timeout(900_000);

    describe("a deliberately broken agent", () => {
        let workspace: EngineWorkspace;
        let project: string;
        before(async function () {
            workspace = new EngineWorkspace(requireToolchain(this), "broken");
            project = path.join(workspace.root, "broken-agent");
            fs.mkdirSync(project);
            fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
            fs.writeFileSync(
                path.join(project, "Pulumi.yaml"),
                YAML.stringify({ name: "broken-agent", runtime: { name: "nodejs", options: { typescript: true } }, main: "index.ts" }),
            );
            fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs" } }));
            // An agent Deployment as someone in a hurry writes it: privileged, root, no limits.
            fs.writeFileSync(
                path.join(project, "index.ts"),
                [
                    'import * as k8s from "@pulumi/kubernetes";',
                    `const provider = new k8s.Provider("render", { renderYamlToDirectory: ${JSON.stringify(path.join(workspace.root, "rendered"))} });`,
                    'new k8s.apps.v1.Deployment("broken-agent", {',
                    '    metadata: { name: "broken-agent", namespace: "fetch-agent" },',
                    "    spec: {",
                    '        selector: { matchLabels: { app: "broken-agent" } },',
                    "        template: {",
                    '            metadata: { labels: { app: "broken-agent", "agent-security.io/role": "agent" } },',
                    '            spec: { containers: [{ name: "agent", image: "quay.io/agent-security/fetch-agent:1.0.0", securityContext: { privileged: true } }] },',
                    "        },",
                    "    },",
                    "}, { provider });",
                    "",
                ].join("\n"),
            );
        });
        after(async () => workspace?.dispose());

        it("fails the preview and names the policies it broke", async () => {
            const init = await workspace.run(["stack", "init", "ci"], { cwd: project });
            assert.equal(init.code, 0, tail(init));
            const preview = await workspace.run(["preview", "--stack", "ci", ...packArgs("ci")], { cwd: project });
            const output = `${preview.stdout}\n${preview.stderr}`;
            assert.notEqual(preview.code, 0, tail(preview));
            for (const policy of ["baseline-no-privileged", "baseline-resource-limits", "baseline-read-only-root-filesystem"]) {
                assert.match(output, new RegExp(policy), `${policy} missing from:\n${tail(preview)}`);
            }
            assert.match(output, /mandatory/);
        });
    });

    describe("pulumi up of dev: render, no changes on the second run, destroy leaves an empty stack", () => {
        let workspace: EngineWorkspace;
        let configFile: string;
        let renderDir: string;
        let env: Record<string, string>;
        before(async function () {
            workspace = new EngineWorkspace(requireToolchain(this), "dev");
            renderDir = path.join(workspace.root, "rendered-dev");
            configFile = await workspace.initStack("dev", {
                "agent-security:chartRepository": await workspace.chartMirror(),
                "agent-security:render": { directory: renderDir },
            });
            env = await workspace.renderEnv();
        });
        after(async () => workspace?.dispose());

        it("renders the dev stack with the pack enforced", async () => {
            const up = await workspace.run(["up", "--yes", "--stack", "dev", "--config-file", configFile, ...packArgs("dev")], { env });
            assert.equal(up.code, 0, tail(up, 120));
            const files = fs.readdirSync(renderDir, { recursive: true }).map(String).filter((file) => file.endsWith(".yaml"));
            assert.ok(files.length > 10, `expected rendered manifests in ${renderDir}, got ${files.length}`);
            console.log(`      up dev: ${up.seconds.toFixed(1)} s, ${files.length} manifests`);
        });

        it("a second pulumi up changes nothing (--expect-no-changes)", async () => {
            const again = await workspace.run(["up", "--yes", "--expect-no-changes", "--stack", "dev", "--config-file", configFile, ...packArgs("dev")], { env });
            assert.equal(again.code, 0, tail(again, 120));
        });

        it("pulumi destroy leaves an empty stack", async () => {
            const destroy = await workspace.run(["destroy", "--yes", "--stack", "dev", "--config-file", configFile], { env });
            assert.equal(destroy.code, 0, tail(destroy, 120));
            const exported = await workspace.run(["stack", "export", "--stack", "dev"]);
            assert.equal(exported.code, 0, tail(exported));
            const deployment = JSON.parse(exported.stdout) as { deployment?: { resources?: readonly unknown[] } };
            assert.deepEqual(deployment.deployment?.resources ?? [], []);
        });
    });
});
