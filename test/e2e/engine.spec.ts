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

/** `+ kubernetes:apps/v1:Deployment` lines of a preview: what the engine plans to create. */
function plannedTypes(output: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const match of output.matchAll(/^\s*\+\s+(kubernetes:[A-Za-z0-9.\/-]+:[A-Za-z]+)\s/gm)) {
        const type = match[1] ?? "";
        counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    return counts;
}

describe("the real Pulumi engine", function () {
    this.timeout(900_000);

    describe("pulumi preview of ci and prod with the policy pack over the real charts", () => {
        let workspace: EngineWorkspace;
        before(async function () {
            workspace = new EngineWorkspace(requireToolchain(this), "preview");
        });
        after(async () => workspace?.dispose());

        for (const stack of ["ci", "prod"] as const) {
            it(`previews ${stack}: the pack passes over every chart child`, async () => {
                const mirror = await workspace.chartMirror();
                const configFile = await workspace.initStack(stack, { "agent-security:chartRepository": mirror });
                const kubeconfig = workspace.unreachableKubeconfig();
                const env = { KUBECONFIG: kubeconfig };
                const preview = await workspace.run(["preview", "--stack", stack, "--config-file", configFile, "--diff", ...packArgs(stack)], {
                    env,
                });
                assert.equal(preview.code, 0, tail(preview, 120));
                const output = `${preview.stdout}\n${preview.stderr}`;
                assert.doesNotMatch(output, /mandatory policy violation/i);
                assert.match(output, /agent-security-baseline/);
                const planned = plannedTypes(output);
                // Chart children prove the charts were really expanded, not treated as leaves.
                if (stack === "ci") {
                    assert.ok((planned.get("kubernetes:apps/v1:Deployment") ?? 0) > 3, `expected chart Deployments, got ${JSON.stringify([...planned])}`);
                }
                console.log(`      preview ${stack}: ${preview.seconds.toFixed(1)} s, ${[...planned.values()].reduce((a, b) => a + b, 0)} resources planned`);
            });
        }
    });

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
        before(async function () {
            workspace = new EngineWorkspace(requireToolchain(this), "dev");
            renderDir = path.join(workspace.root, "rendered-dev");
            configFile = await workspace.initStack("dev", {
                "agent-security:chartRepository": await workspace.chartMirror(),
                "agent-security:render": { directory: renderDir },
            });
        });
        after(async () => workspace?.dispose());

        it("renders the dev stack with the pack enforced", async () => {
            const up = await workspace.run(["up", "--yes", "--stack", "dev", "--config-file", configFile, ...packArgs("dev")]);
            assert.equal(up.code, 0, tail(up, 120));
            const files = fs.readdirSync(renderDir, { recursive: true }).map(String).filter((file) => file.endsWith(".yaml"));
            assert.ok(files.length > 10, `expected rendered manifests in ${renderDir}, got ${files.length}`);
            console.log(`      up dev: ${up.seconds.toFixed(1)} s, ${files.length} manifests`);
        });

        it("a second pulumi up changes nothing (--expect-no-changes)", async () => {
            const again = await workspace.run(["up", "--yes", "--expect-no-changes", "--stack", "dev", "--config-file", configFile, ...packArgs("dev")]);
            assert.equal(again.code, 0, tail(again, 120));
        });

        it("pulumi destroy leaves an empty stack", async () => {
            const destroy = await workspace.run(["destroy", "--yes", "--stack", "dev", "--config-file", configFile]);
            assert.equal(destroy.code, 0, tail(destroy, 120));
            const exported = await workspace.run(["stack", "export", "--stack", "dev"]);
            assert.equal(exported.code, 0, tail(exported));
            const deployment = JSON.parse(exported.stdout) as { deployment?: { resources?: readonly unknown[] } };
            assert.deepEqual(deployment.deployment?.resources ?? [], []);
        });
    });
});
