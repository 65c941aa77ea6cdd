// The real engine's overhead (design.md section 10): wall time of `pulumi preview` of the prod
// profile on plain Kubernetes (every chart) with 10 and 100 generated agents, the policy pack on,
// against the throw-away kube-apiserver (a Helm v4 chart needs a cluster to preview), beside the
// mock-runtime evaluation of the same config, and resources per second for both. Prints figures,
// asserts nothing. Skips with a note where the toolchain or the API server was never built.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "../config/schema";
import { REPO_ROOT, runStack } from "../cli/mockRuntime";
import { startCluster } from "../test/cluster/harness";
import { clusterSkipReason } from "../test/cluster/support";
import { EngineWorkspace, findToolchain, tail } from "../test/e2e/engine";
import { kubernetesProdConfig, writeKubernetesProdPackConfig } from "../test/support/kubernetesProd";

const SIZES = (process.env.BENCH_ENGINE_AGENTS ?? "10,100").split(",").map(Number);

function withAgents(count: number): Record<string, unknown> {
    const raw = structuredClone(kubernetesProdConfig());
    const template = (raw.agents as Record<string, unknown>[])[0] ?? {};
    raw.agents = Array.from({ length: count }, (_, index) => ({
        ...template,
        name: `agent-${String(index).padStart(4, "0")}`,
        mcpServers: index % 2 === 0 ? ["fetch"] : ["currency"],
        egress: [`api-${index % 25}.example.com`, "generativelanguage.googleapis.com"],
    }));
    return raw;
}

async function main(): Promise<void> {
    const toolchain = findToolchain();
    if (!toolchain) {
        console.log("engine bench skipped: no Pulumi toolchain (bash scripts/install-pulumi-toolchain.sh builds it)");
        return;
    }
    const noCluster = clusterSkipReason();
    if (noCluster) {
        console.log(`engine bench skipped: ${noCluster}`);
        return;
    }
    const workspace = new EngineWorkspace(toolchain, "bench");
    const cluster = await startCluster();
    try {
        const mirror = await workspace.chartMirror();
        const env = { KUBECONFIG: cluster.kubeconfigPath };
        const pack = ["--policy-pack", path.join(REPO_ROOT, "policy-pack"), "--policy-pack-config", writeKubernetesProdPackConfig(path.join(workspace.root, "pack.json"))];
        const now = new Date();
        await runStack("prod", withAgents(2), { now });
        console.log("agents  engine s  engine res/s  mock s  mock res/s  engine/mock");
        for (const size of SIZES) {
            const raw = withAgents(size);
            const started = process.hrtime.bigint();
            const mock = await runStack("prod", raw, { now });
            const mockSeconds = Number(process.hrtime.bigint() - started) / 1e9;

            const source = path.join(workspace.root, `Pulumi.prod-${size}.yaml`);
            const config = Object.fromEntries(Object.entries(raw).map(([key, value]) => [`${PROJECT}:${key}`, value]));
            fs.writeFileSync(source, YAML.stringify({ config }, { lineWidth: 0 }));
            const stack = `prod-${size}`;
            const configFile = await workspace.initStack(stack, { [`${PROJECT}:chartRepository`]: mirror }, source);
            const preview = await workspace.run(["preview", "--stack", stack, "--config-file", configFile, ...pack], { env, cwd: REPO_ROOT });
            if (preview.code !== 0) throw new Error(`preview of prod with ${size} agents failed:\n${tail(preview)}`);
            const resources = mock.resources.length;
            console.log(
                [
                    String(size).padStart(6),
                    preview.seconds.toFixed(1).padStart(8),
                    (resources / preview.seconds).toFixed(0).padStart(12),
                    mockSeconds.toFixed(2).padStart(6),
                    (resources / mockSeconds).toFixed(0).padStart(10),
                    (preview.seconds / mockSeconds).toFixed(1).padStart(11),
                ].join("  "),
            );
        }
        console.log("(resources: the program's own registrations, as the mock runtime counts them; the engine also expands charts)");
    } finally {
        await cluster.stop();
        await workspace.dispose();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
