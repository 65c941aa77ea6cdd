// The responder as a real process on 127.0.0.1, talking to the recorded fake API server over HTTP,
// and a load generator for it. Shared by the process spec and bench/responder.ts. Every server
// listens on 127.0.0.1 only; `stop()` ends the child by its PID and the fake by closing it.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { AlertRecord } from "../../responder/src/responder";
import type { ResponderSettings } from "../../responder/src/settings";
import { FakeCluster, serveFakeCluster } from "./fakeCluster";
import { payload } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");

export interface RunningResponder {
    readonly url: string;
    readonly webhookToken: string;
    readonly cluster: FakeCluster;
    readonly records: AlertRecord[];
    /** Everything the process wrote to stdout and stderr, for "nothing secret was logged" checks. */
    readonly output: () => string;
    readonly pid: number;
    stop(): Promise<void>;
}

interface Spawned {
    readonly url: string;
    readonly records: AlertRecord[];
    readonly output: () => string;
    readonly pid: number;
    stop(): Promise<void>;
}

function spawnNode(args: readonly string[], env: Record<string, string>, ready: RegExp, onStdout?: (line: string) => void): Promise<Spawned> {
    const child: ChildProcess = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json"), ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const records: AlertRecord[] = [];
    let text = "";
    let pending = "";
    let stderr = "";
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
        const timer = setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
        }, 5000);
        await exited;
        clearTimeout(timer);
    };
    return new Promise<Spawned>((resolve, reject) => {
        const timer = setTimeout(() => void stop().then(() => reject(new Error(`${args[0]} did not start: ${stderr}`))), 60_000);
        const check = () => {
            const match = ready.exec(text + stderr);
            if (match) {
                clearTimeout(timer);
                resolve({ url: `http://${match[1]}`, records, output: () => text + stderr, pid: child.pid ?? -1, stop });
            }
        };
        child.stdout?.on("data", (chunk: Buffer) => {
            text += chunk.toString("utf8");
            pending += chunk.toString("utf8");
            const lines = pending.split("\n");
            pending = lines.pop() ?? "";
            for (const line of lines) if (line.trim()) (onStdout ?? ((json: string) => records.push(JSON.parse(json) as AlertRecord)))(line);
            check();
        });
        child.stderr?.on("data", (chunk: Buffer) => {
            stderr += chunk.toString("utf8");
            check();
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`${args[0]} exited with ${code}: ${stderr}`));
        });
    });
}

function tokenFiles(settings: ResponderSettings): { dir: string; webhookToken: string; apiToken: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "falco-responder-"));
    const webhookToken = `whk-${randomBytes(24).toString("hex")}`;
    const apiToken = `api-${randomBytes(16).toString("hex")}`;
    fs.writeFileSync(path.join(dir, "settings.json"), JSON.stringify(settings));
    fs.writeFileSync(path.join(dir, "token"), webhookToken, { mode: 0o400 });
    fs.writeFileSync(path.join(dir, "api-token"), apiToken, { mode: 0o400 });
    return { dir, webhookToken, apiToken };
}

function responderEnv(dir: string, kubeServer: string): Record<string, string> {
    return {
        RESPONDER_SETTINGS_FILE: path.join(dir, "settings.json"),
        RESPONDER_TOKEN_FILE: path.join(dir, "token"),
        RESPONDER_LISTEN: "127.0.0.1:0",
        RESPONDER_KUBE_SERVER: kubeServer,
        RESPONDER_KUBE_TOKEN_FILE: path.join(dir, "api-token"),
        RESPONDER_RETRY_BASE_MS: "50",
    };
}

const RESPONDER_MAIN = path.join("responder", "src", "main.ts");
const RESPONDER_READY = /listening on (127\.0\.0\.1:[0-9]+)/;

/** The responder process against the fake API server in this process (functional tests). */
export async function startResponder(settings: ResponderSettings, seed: (cluster: FakeCluster) => void): Promise<RunningResponder> {
    const { dir, webhookToken, apiToken } = tokenFiles(settings);
    const cluster = new FakeCluster();
    cluster.recordRequests = false;
    seed(cluster);
    const fake = await serveFakeCluster(cluster, apiToken);
    try {
        const child = await spawnNode([RESPONDER_MAIN], responderEnv(dir, fake.url), RESPONDER_READY);
        return {
            ...child,
            webhookToken,
            cluster,
            stop: async () => {
                await child.stop();
                await fake.close();
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    } catch (error) {
        await fake.close();
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
    }
}

export interface FakeSummary {
    readonly deletions: readonly string[];
    readonly scaledToZero: readonly string[];
    readonly events: number;
}

export interface LoadResponder extends Omit<RunningResponder, "cluster"> {
    summary(): Promise<FakeSummary>;
}

/** The responder process against the fake API server in a third process (load runs and the bench). */
export async function startLoadResponder(settings: ResponderSettings, podsPerAgent: number): Promise<LoadResponder> {
    const { dir, webhookToken, apiToken } = tokenFiles(settings);
    const seedFile = path.join(dir, "seed.json");
    fs.writeFileSync(seedFile, JSON.stringify({ agents: settings.agents, podsPerAgent, apiToken }));
    const fake = await spawnNode([path.join("test", "responder", "fakeClusterMain.ts"), seedFile], {}, /fake API server listening on http:\/\/(127\.0\.0\.1:[0-9]+)/, () => undefined);
    let child: Spawned;
    try {
        child = await spawnNode([RESPONDER_MAIN], responderEnv(dir, fake.url), RESPONDER_READY);
    } catch (error) {
        await fake.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        throw error;
    }
    return {
        ...child,
        webhookToken,
        summary: async () => {
            const response = await new Promise<string>((resolve, reject) => {
                const target = new URL(`${fake.url}/_fake/summary`);
                http.get({ hostname: target.hostname, port: target.port, path: target.pathname, headers: { Authorization: `Bearer ${apiToken}` } }, (res) => {
                    let body = "";
                    res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
                    res.on("end", () => resolve(body));
                }).on("error", reject);
            });
            return JSON.parse(response) as FakeSummary;
        },
        stop: async () => {
            await child.stop();
            await fake.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

export interface HttpResult {
    readonly status: number;
    readonly body: string;
    readonly ms: number;
}

export function post(url: string, body: string | Buffer, headers: Record<string, string>, agent?: http.Agent): Promise<HttpResult> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
        const target = new URL(url);
        const req = http.request({ hostname: target.hostname, port: target.port, path: target.pathname, method: "POST", headers, ...(agent ? { agent } : {}) }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
        });
        req.on("error", reject);
        req.end(body);
    });
}

export function alertRequest(token: string, body: string): Record<string, string> {
    return { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) };
}

export interface LoadResult {
    readonly sent: number;
    readonly statuses: Record<string, number>;
    readonly seconds: number;
    readonly alertsPerSecond: number;
    readonly httpP50: number;
    readonly httpP99: number;
}

export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Posts `rate` alerts per second for `seconds`, round-robin over the agents, each alert naming a
 * fresh pod of its agent (`podOf(agent, n)` must exist in the fake). Waits for every answer.
 */
export async function loadRun(
    responder: Pick<RunningResponder, "url" | "webhookToken">,
    options: { readonly rate: number; readonly seconds: number; readonly agents: readonly { namespace: string; name: string }[]; readonly podOf: (agent: number, n: number) => string },
): Promise<LoadResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const total = options.rate * options.seconds;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const inflight: Promise<void>[] = [];
    const perAgent = new Array<number>(options.agents.length).fill(0);
    const started = performance.now();
    const tickMs = 10;
    const perTick = Math.max(1, Math.round((options.rate * tickMs) / 1000));
    let sent = 0;
    while (sent < total) {
        const due = started + (sent / perTick) * tickMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        for (let i = 0; i < perTick && sent < total; i++, sent++) {
            const index = sent % options.agents.length;
            const target = options.agents[index]!;
            const n = perAgent[index]!++;
            const body = JSON.stringify(payload(target.namespace, options.podOf(index, n), {}, target.name));
            inflight.push(
                post(`${responder.url}/falco`, body, alertRequest(responder.webhookToken, body), agent).then(
                    (result) => {
                        latencies.push(result.ms);
                        statuses[String(result.status)] = (statuses[String(result.status)] ?? 0) + 1;
                    },
                    () => {
                        statuses.error = (statuses.error ?? 0) + 1;
                    },
                ),
            );
        }
    }
    await Promise.all(inflight);
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return { sent, statuses, seconds, alertsPerSecond: sent / seconds, httpP50: percentile(latencies, 50), httpP99: percentile(latencies, 99) };
}
