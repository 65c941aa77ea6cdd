// The recorded fake API server as its own process on 127.0.0.1, for load runs: the load generator
// and the fake then do not share one event loop, so the figures measure the responder. Seeded from
// a JSON file (agents, pods per agent, API token); `GET /_fake/summary` reports what happened.
import * as fs from "node:fs";
import type { AgentEntry } from "../../responder/src/settings";
import { FakeCluster, serveFakeCluster } from "./fakeCluster";
import { agentPodLabels, seedCluster } from "./support";

export interface FakeSeed {
    readonly agents: readonly AgentEntry[];
    readonly podsPerAgent: number;
    readonly apiToken: string;
}

/** Pod names of a load run: `<agent>-load-<n>`. */
export function loadPodName(agent: string, n: number): string {
    return `${agent}-load-${n}`;
}

async function main(): Promise<void> {
    const seed = JSON.parse(fs.readFileSync(process.argv[2] ?? "", "utf8")) as FakeSeed;
    const cluster = new FakeCluster();
    cluster.recordRequests = false;
    seedCluster(cluster, seed.agents, 0);
    for (const entry of seed.agents) {
        for (let n = 0; n < seed.podsPerAgent; n++) cluster.addPod(entry.namespace, loadPodName(entry.name, n), { labels: agentPodLabels(entry.name), serviceAccountName: entry.serviceAccount });
    }
    const served = await serveFakeCluster(cluster, seed.apiToken, () => ({
        deletions: cluster.deletions.map((deletion) => `${deletion.namespace}/${deletion.name}`),
        scaledToZero: [...cluster.deployments].filter(([, deployment]) => deployment.replicas === 0).map(([key]) => key),
        events: cluster.events.length,
    }));
    process.stdout.write(`fake API server listening on ${served.url}\n`);
    process.on("SIGTERM", () => void served.close().then(() => process.exit(0)));
}

if (require.main === module) void main();
