// Program evaluation under the mock runtime: the prod stack with N generated agents.
// Prints seconds and resources per run; asserts nothing (design.md section 10: target < 5 s for
// 100 agents, growing linearly).
import { readStackConfig, runStack } from "../cli/mockRuntime";

const SIZES = (process.env.BENCH_AGENTS ?? "10,100,1000").split(",").map(Number);

function withAgents(count: number): Record<string, unknown> {
    const raw = structuredClone(readStackConfig("prod"));
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
    const now = new Date();
    // One warm-up run: module loading and JIT are not what this measures.
    await runStack("prod", withAgents(2), { now });
    console.log("agents  seconds  resources  resources/s");
    for (const size of SIZES) {
        const raw = withAgents(size);
        const started = process.hrtime.bigint();
        const run = await runStack("prod", raw, { now });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        console.log(`${String(size).padStart(6)}  ${seconds.toFixed(2).padStart(7)}  ${String(run.resources.length).padStart(9)}  ${(run.resources.length / seconds).toFixed(0).padStart(11)}`);
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
