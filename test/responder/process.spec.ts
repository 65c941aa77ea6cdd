// The responder as a real process on 127.0.0.1 under a real HTTP client; its Kubernetes calls go
// to the recorded fake API server (test/responder/fakeCluster.ts) over HTTP.
import { strict as assert } from "assert";
import * as net from "node:net";
import { agents, payload, seedCluster, settings } from "./support";
import { loadPodName } from "./fakeClusterMain";
import { alertRequest, loadRun, post, startLoadResponder, startResponder } from "./harness";
import type { LoadResponder, RunningResponder } from "./harness";

const AGENTS = agents(4);
const AGENT = AGENTS[0]!;
const POD = `${AGENT.name}-7d9f8-0`;

describe("falco-responder process (127.0.0.1, real HTTP)", function () {
    this.timeout(60_000);
    let responder: RunningResponder;

    before(async () => {
        responder = await startResponder(settings({ agents: AGENTS }), (cluster) => seedCluster(cluster, AGENTS, 6));
    });
    after(async () => {
        await responder?.stop();
    });

    const send = (body: string, headers: Record<string, string> = {}) =>
        post(`${responder.url}/falco`, body, { ...alertRequest(responder.webhookToken, body), ...headers });

    it("refuses a missing or wrong token with 401 and changes nothing", async () => {
        const body = JSON.stringify(payload(AGENT.namespace, POD));
        const before = responder.records.length;
        const noToken = await post(`${responder.url}/falco`, body, { "Content-Type": "application/json" });
        const wrong = await send(body, { Authorization: `Bearer ${responder.webhookToken}x` });
        const basic = await send(body, { Authorization: `Basic ${Buffer.from(`falco:${responder.webhookToken}`).toString("base64")}` });
        assert.deepEqual([noToken.status, wrong.status, basic.status], [401, 401, 401]);
        assert.equal(responder.records.length, before, "nothing recorded");
        assert.equal(responder.cluster.deletions.length, 0);
        assert.ok(responder.cluster.pods.has(`${AGENT.namespace}/${POD}`));
    });

    it("answers malformed alerts with a 400 that names the field and never echoes the value", async () => {
        const notJson = await send("{\"uuid\":");
        assert.equal(notJson.status, 400);
        const secret = "sk-live-hunter2";
        const bad = await send(JSON.stringify({ ...payload(AGENT.namespace, POD), priority: secret, rule: 7 }));
        assert.equal(bad.status, 400);
        const details = (JSON.parse(bad.body) as { details: string[] }).details.join("\n");
        assert.match(details, /^priority: must be one of/m);
        assert.match(details, /^rule: must be a string/m);
        assert.ok(!bad.body.includes(secret), "the received value is not echoed");
        assert.ok(!responder.output().includes(secret), "nor logged");
        const array = await send("[]");
        assert.equal(array.status, 400);
    });

    it("refuses oversized bodies with 413, whether declared or streamed", async () => {
        const big = JSON.stringify(payload(AGENT.namespace, POD, { output: "x".repeat(70 * 1024) }));
        assert.equal((await send(big)).status, 413);
        const chunked = await new Promise<number>((resolve, reject) => {
            const url = new URL(`${responder.url}/falco`);
            const socket = net.connect(Number(url.port), url.hostname, () => {
                socket.write(`POST /falco HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${responder.webhookToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
                const chunk = "y".repeat(16 * 1024);
                for (let i = 0; i < 6; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
            });
            let answer = "";
            socket.on("data", (data: Buffer) => (answer += data.toString("utf8")));
            socket.on("error", () => undefined);
            socket.on("close", () => resolve(Number(/^HTTP\/1\.1 ([0-9]{3})/.exec(answer)?.[1] ?? 0)));
            setTimeout(() => reject(new Error("no answer to the chunked upload")), 10_000);
        });
        assert.equal(chunked, 413);
    });

    it("refuses a body that is not declared as JSON with 415", async () => {
        const body = JSON.stringify(payload(AGENT.namespace, POD));
        assert.equal((await send(body, { "Content-Type": "text/plain" })).status, 415);
    });

    it("cuts off a client that never finishes its headers, and keeps serving others meanwhile", async () => {
        const url = new URL(responder.url);
        const started = Date.now();
        const closed = new Promise<number>((resolve) => {
            const socket = net.connect(Number(url.port), url.hostname, () => socket.write("POST /falco HTTP/1.1\r\nHost: x\r\n"));
            const drip = setInterval(() => socket.write("X-Slow: 1\r\n"), 500);
            socket.on("error", () => undefined);
            socket.on("close", () => {
                clearInterval(drip);
                resolve(Date.now() - started);
            });
        });
        const health = await new Promise<number>((resolve) => {
            const socket = net.connect(Number(url.port), url.hostname, () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            let answer = "";
            socket.on("data", (data: Buffer) => (answer += data.toString("utf8")));
            socket.on("close", () => resolve(Number(/^HTTP\/1\.1 ([0-9]{3})/.exec(answer)?.[1] ?? 0)));
        });
        assert.equal(health, 200);
        const after = await closed;
        assert.ok(after < 8000, `slow client closed after ${after} ms (headers timeout 5 s)`);
    });

    it("acts on a valid alert and logs neither the output line nor the command line", async () => {
        const body = JSON.stringify(payload(AGENT.namespace, POD));
        const answer = await send(body);
        assert.equal(answer.status, 200);
        assert.equal((JSON.parse(answer.body) as { outcome: string }).outcome, "recycled");
        assert.equal(responder.cluster.deletions.length, 1);
        assert.ok(!responder.output().includes("gemini-api-key"), "the alert's file and command line stay out of the log");
    });

    it("a host event and an alert for a non-agent pod are recorded and not acted on", async () => {
        responder.cluster.addPod(AGENT.namespace, "sidecar-debug", { labels: { app: "debug" }, serviceAccountName: "default" });
        const host = JSON.parse((await send(JSON.stringify(payload(AGENT.namespace, POD, { output_fields: { "proc.name": "sshd" } })))).body) as { outcome: string };
        const other = JSON.parse((await send(JSON.stringify(payload(AGENT.namespace, "sidecar-debug")))).body) as { outcome: string };
        assert.deepEqual([host.outcome, other.outcome], ["host-event", "not-agent"]);
        assert.ok(responder.cluster.pods.has(`${AGENT.namespace}/sidecar-debug`));
    });
});

describe("falco-responder process under bounded load", function () {
    this.timeout(120_000);
    const LOAD_AGENTS = agents(50);
    let responder: LoadResponder;

    before(async () => {
        responder = await startLoadResponder(settings({ agents: LOAD_AGENTS }), 40);
    });
    after(async () => {
        await responder?.stop();
    });

    it("takes 2,000 alerts at 1,000/s over 50 identities: every alert answered and recorded, exactly 3 recycles and 1 trip per identity", async () => {
        const result = await loadRun(responder, { rate: 1000, seconds: 2, agents: LOAD_AGENTS, podOf: (agent, n) => loadPodName(LOAD_AGENTS[agent]!.name, n) });
        assert.deepEqual(result.statuses, { 200: 2000 });
        for (let wait = 0; wait < 100 && responder.records.length < 2000; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(new Set(responder.records.map((record) => record.uuid)).size, 2000, "every alert recorded once");
        for (const entry of LOAD_AGENTS) {
            const mine = responder.records.filter((record) => record.identity === `${entry.namespace}/${entry.serviceAccount}`);
            const count = (outcome: string) => mine.filter((record) => record.outcome === outcome).length;
            assert.deepEqual([count("recycled"), count("tripped"), count("suppressed")], [3, 1, 36], entry.name);
        }
        const summary = await responder.summary();
        assert.equal(summary.deletions.length, 150, "exactly the allowed recycles reached the API server");
        assert.equal(new Set(summary.deletions).size, 150);
        assert.deepEqual([...summary.scaledToZero].sort(), LOAD_AGENTS.map((entry) => `${entry.namespace}/${entry.deployment}`).sort());
        assert.equal(summary.events, 50);
    });
});
