// The real Pulumi engine, driven the way a platform engineer drives it: the CLI, the Node.js
// language host and the providers built by scripts/install-pulumi-toolchain.sh, a file backend,
// the committed stack files untouched (offline runs get a generated copy through --config-file),
// and the real upstream charts from ../shared/charts served on 127.0.0.1.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../cli/mockRuntime";
import { generateStackConfig } from "../../scripts/generate-stack-config";
import { serveEmptyCluster } from "../../scripts/empty-cluster";
import type { EmptyCluster } from "../../scripts/empty-cluster";
import { serveChartFolder } from "../../scripts/serve-charts";
import type { ChartServer } from "../../scripts/serve-charts";

export const SHARED_DIR = process.env.AGENT_SECURITY_SHARED ?? path.resolve(REPO_ROOT, "..", "shared");
export const CHARTS_DIR = path.join(SHARED_DIR, "charts");
const CACHE_ROOT = process.env.AGENT_SECURITY_CACHE ?? path.join(os.homedir(), ".cache", "agent-security");

/**
 * Where the toolchain is: AGENT_SECURITY_PULUMI_BIN (set by .ci/run and npm start), else the
 * install script's cache. Undefined when neither holds a `pulumi`: the suites then say why they
 * skip (npm test on a machine that never built the toolchain).
 */
export function findToolchain(): string | undefined {
    const candidates = [process.env.AGENT_SECURITY_PULUMI_BIN, path.join(CACHE_ROOT, "pulumi-toolchain", "bin")];
    return candidates.find(
        (dir): dir is string =>
            dir !== undefined &&
            ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"].every((binary) => fs.existsSync(path.join(dir, binary))),
    );
}

export interface EngineResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly seconds: number;
}

export interface EngineRunOptions {
    /** Program directory (Pulumi.yaml); the repository by default. */
    readonly cwd?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly timeoutMs?: number;
}

/**
 * One isolated engine workspace: its own file backend, PULUMI_HOME and kubeconfig, removed by
 * dispose(). The chart mirror is started on demand and stopped with the workspace.
 */
export class EngineWorkspace {
    readonly root: string;
    readonly backendDir: string;
    private mirror: ChartServer | undefined;
    private emptyCluster: EmptyCluster | undefined;

    constructor(readonly toolchainBin: string, label = "engine") {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), `agent-security-${label}-`));
        this.backendDir = path.join(this.root, "state");
        fs.mkdirSync(this.backendDir);
        fs.mkdirSync(path.join(this.root, "home"));
    }

    /** The local chart repository, served on 127.0.0.1 for as long as this workspace lives. */
    async chartMirror(): Promise<string> {
        this.mirror ??= await serveChartFolder(CHARTS_DIR);
        return this.mirror.url;
    }

    /**
     * Creates `stack` in this workspace's backend and returns its stack config for `--config-file`:
     * the committed Pulumi.<stack>.yaml plus `overrides` (full keys such as
     * `agent-security:chartRepository`) plus the new stack's passphrase salt. `pulumi stack init`
     * has no --config-file and writes the salt into Pulumi.<stack>.yaml of its working directory,
     * so it runs in a scratch directory holding only Pulumi.yaml: the committed files are never edited.
     */
    async initStack(stack: string, overrides: Readonly<Record<string, unknown>>, source: string = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`)): Promise<string> {
        const scratch = fs.mkdtempSync(path.join(this.root, `init-${stack}-`));
        fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
        const init = await this.run(["stack", "init", stack], { cwd: scratch });
        if (init.code !== 0) throw new Error(`pulumi stack init ${stack} failed:\n${tail(init)}`);
        const file = path.join(this.root, `Pulumi.${stack}.generated.yaml`);
        generateStackConfig(source, file, overrides, path.join(scratch, `Pulumi.${stack}.yaml`));
        return file;
    }

    /**
     * A Pulumi project that runs the committed program unchanged (same project name, same
     * index.ts) after registering skipReadinessWaits: for the throw-away API server only, where no
     * workload can become ready. Returns its directory, the `cwd` for `run`.
     */
    harnessProject(): string {
        const dir = path.join(this.root, "harness-program");
        if (fs.existsSync(dir)) return dir;
        fs.mkdirSync(dir);
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "agent-security-harness", private: true }));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify({ name: "agent-security", runtime: { name: "nodejs", options: { typescript: false } }, main: "index.js" }));
        const from = (file: string): string => JSON.stringify(path.join(REPO_ROOT, file));
        fs.writeFileSync(
            path.join(dir, "index.js"),
            [
                `require(${from("node_modules/ts-node")}).register({ transpileOnly: true, project: ${from("tsconfig.json")} });`,
                `require(${from("test/e2e/skipReadinessWaits.ts")}).skipReadinessWaits();`,
                `module.exports = require(${from("index.ts")});`,
                "",
            ].join("\n"),
        );
        return dir;
    }

    /**
     * Environment for a render without a cluster (the dev stack): Helm's own API-server setting
     * (HELM_KUBEAPISERVER, read by the provider's Helm settings) points at an endpoint that knows
     * no objects, so Helm lookups find nothing as in `helm template` (scripts/empty-cluster.ts).
     * Not KUBECONFIG: the SDK passes that to the provider, which refuses it beside renderYamlToDirectory.
     */
    async renderEnv(): Promise<Record<string, string>> {
        this.emptyCluster ??= await serveEmptyCluster();
        return { HELM_KUBEAPISERVER: this.emptyCluster.url };
    }

    env(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
        const nodeDir = path.dirname(process.execPath);
        return {
            ...process.env,
            PATH: [this.toolchainBin, nodeDir, process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_HOME: path.join(this.root, "home"),
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // The file backend rewrites the whole state file after every step, and the CRDs the
            // charts install make that state megabytes: the engine spent more CPU on checkpoints
            // than on the deployment (ci stack: up 216 s -> 121 s, destroy 256 s -> 25 s without).
            // Only the final state is saved; a crashed run of a throw-away test stack loses nothing
            // that matters. Never set for users' stacks (npm start keeps every checkpoint).
            PULUMI_SKIP_CHECKPOINTS: "true",
            NO_COLOR: "1",
            ...extra,
        };
    }

    /** Runs the CLI without a shell; bounded by timeoutMs (the whole process group is killed). */
    run(args: readonly string[], options: EngineRunOptions = {}): Promise<EngineResult> {
        const started = process.hrtime.bigint();
        return new Promise((resolve, reject) => {
            const child = spawn(path.join(this.toolchainBin, "pulumi"), [...args, "--non-interactive", "--color", "never"], {
                cwd: options.cwd ?? REPO_ROOT,
                env: this.env(options.env),
                detached: true,
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            const timer = setTimeout(() => {
                stderr += `\n[engine] killed after ${options.timeoutMs} ms`;
                killGroup(child.pid);
            }, options.timeoutMs ?? 600_000);
            child.on("error", (error) => {
                clearTimeout(timer);
                reject(error);
            });
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
            });
        });
    }

    async dispose(): Promise<void> {
        await this.mirror?.close();
        await this.emptyCluster?.close();
        this.mirror = undefined;
        this.emptyCluster = undefined;
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

function killGroup(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
        process.kill(-pid, "SIGKILL");
    } catch {
        // Already gone.
    }
}

/** The stack's pack config, as the preview workflow passes it. */
export function packArgs(stack: string): string[] {
    return ["--policy-pack", path.join(REPO_ROOT, "policy-pack"), "--policy-pack-config", path.join(REPO_ROOT, "policy-pack", "config", `${stack}.json`)];
}

/** Engine output for an assertion message: the tail, where the engine puts its verdict. */
export function tail(result: EngineResult, lines = 60): string {
    return `${result.stdout}\n${result.stderr}`.split("\n").slice(-lines).join("\n");
}
