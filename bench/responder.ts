// Falco responder throughput and decision latency (design.md section 10: over 1,000 alerts/s on
// 2 cores, p99 decision under 50 ms with API calls excluded, zero alerts lost). The responder runs
// as a real process on 127.0.0.1; its Kubernetes calls go to the recorded fake API server over HTTP
// (a third process on 127.0.0.1, test/responder/fakeClusterMain.ts), so "API calls" here are
// loopback round trips to that fake. Each alert names a fresh pod (the worst case: no pod-cache hit).
// Environment: BENCH_RESPONDER_RATE (default 1000), BENCH_RESPONDER_SECONDS (default 10).
import * as os from "node:os";
import { loadPodName } from "../test/responder/fakeClusterMain";
import { loadRun, percentile, startLoadResponder } from "../test/responder/harness";
import { agents, settings } from "../test/responder/support";

async function main(): Promise<void> {
    const rate = Number(process.env.BENCH_RESPONDER_RATE ?? 1000);
    const seconds = Number(process.env.BENCH_RESPONDER_SECONDS ?? 10);
    const identities = agents(50);
    const podsPerAgent = Math.ceil((rate * seconds) / identities.length);
    const responder = await startLoadResponder(settings({ agents: identities }), podsPerAgent);
    try {
        const result = await loadRun(responder, { rate, seconds, agents: identities, podOf: (agent, n) => loadPodName(identities[agent]!.name, n) });
        for (let wait = 0; wait < 250 && responder.records.length < result.sent; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
        const records = responder.records;
        const decision = records.map((record) => record.decisionMs);
        const api = records.map((record) => record.apiMs);
        const lock = records.map((record) => record.lockWaitMs);
        const outcomes: Record<string, number> = {};
        for (const record of records) outcomes[record.outcome] = (outcomes[record.outcome] ?? 0) + 1;
        const uniqueRecorded = new Set(records.map((record) => record.uuid)).size;
        const perIdentityOk = identities.every((entry) => {
            const mine = records.filter((record) => record.identity === `${entry.namespace}/${entry.serviceAccount}`);
            return mine.filter((record) => record.outcome === "recycled").length === 3 && mine.filter((record) => record.outcome === "tripped").length === 1;
        });
        const fixed = (value: number) => value.toFixed(2);
        console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((value) => value.toFixed(1)).join(" ")} (responder, fake API server and load generator share them)`);
        console.log(`responder: ${result.sent} alerts at a target of ${rate}/s for ${seconds}s over ${identities.length} identities (breaker 3 per 600s)`);
        console.log(`  throughput        ${result.alertsPerSecond.toFixed(0)} alerts/s answered (wall ${result.seconds.toFixed(2)} s)`);
        console.log(`  HTTP statuses     ${JSON.stringify(result.statuses)}`);
        console.log(`  decision latency  p50 ${fixed(percentile(decision, 50))} ms, p99 ${fixed(percentile(decision, 99))} ms (API calls and identity-lock waits excluded)`);
        console.log(`  API time/alert    p50 ${fixed(percentile(api, 50))} ms, p99 ${fixed(percentile(api, 99))} ms; lock wait p99 ${fixed(percentile(lock, 99))} ms`);
        console.log(`  end to end (HTTP) p50 ${fixed(result.httpP50)} ms, p99 ${fixed(result.httpP99)} ms`);
        console.log(`  outcomes          ${JSON.stringify(outcomes)}`);
        console.log(`  recorded          ${uniqueRecorded}/${result.sent} alerts (lost: ${result.sent - uniqueRecorded})`);
        const summary = await responder.summary();
        console.log(`  breaker           ${summary.deletions.length} pods deleted (allowed ${identities.length * 3}); exactly 3 recycles + 1 trip per identity: ${perIdentityOk ? "yes" : "NO"}`);
    } finally {
        await responder.stop();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
