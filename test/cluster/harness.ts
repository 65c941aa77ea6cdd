// A throw-away Kubernetes control plane for tests: etcd, kube-apiserver and (when built)
// kube-controller-manager from scripts/install-kube-apiserver.sh, on 127.0.0.1 only, with
// certificates made by openssl for this run and removed with it. No scheduler and no kubelet: pods
// are admitted or refused but never run, which is exactly what admission tests need.
//
// Decisions that shape what the tests prove:
// - `--allow-privileged=true`: the server itself would refuse privileged pods everywhere, which
//   would hide whether Pod Security Admission and the stack's policies refuse them. The baseline
//   claims PSA `restricted` does; with privileged allowed at the server, only they can.
// - Default admission plugins (PodSecurity, LimitRanger, ServiceAccount, ResourceQuota,
//   ValidatingAdmissionPolicy, the webhooks), as a cluster has them.
// - kube-controller-manager runs only the namespace, ServiceAccount (+ token), garbage-collector,
//   ResourceQuota and root-CA controllers: deleted namespaces go away, every namespace gets
//   `default`, quotas get the status their admission needs, while DaemonSets and Deployments keep
//   the status a test patches (it plays those controllers). Without the binary the tests play the
//   quota controller too.
// - Every process is stopped by PID (SIGTERM, then SIGKILL after a bound), also when a test fails
//   (`stop()` in after hooks) and when the process exits (a synchronous exit handler).
import { spawn, spawnSync } from "child_process";
import type { ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { KubeClient } from "../../cli/kube";
import type { KubeResponse } from "../../cli/kube";

export interface ClusterOptions {
    /** Directory with etcd, kube-apiserver [, kube-controller-manager]; default $AGENT_SECURITY_KUBE_BIN. */
    readonly binDir?: string;
    /** Where certificates, data and logs go; default a new temp dir, removed by stop(). A given dir is kept. */
    readonly workDir?: string;
    /** Bound on the wait for /readyz; default 90 s (2 busy cores). */
    readonly readyTimeoutMs?: number;
    /** Start kube-controller-manager when its binary is there; default true. */
    readonly controllerManager?: boolean;
    /** Extra kube-apiserver flags, e.g. `--feature-gates=...`. */
    readonly apiServerArgs?: readonly string[];
    /**
     * Outlive this process (scripts/cluster.sh start): the processes get their own process group,
     * the exit handler leaves them alone, and `<workDir>/pids.json` tells `stopClusterIn` what to
     * stop. Needs `workDir`.
     */
    readonly detached?: boolean;
}

export interface Cluster {
    /** https://127.0.0.1:<port> */
    readonly server: string;
    /** kubeconfig with the admin (system:masters) client certificate inlined; context `agent-security-test`. */
    readonly kubeconfigPath: string;
    readonly workDir: string;
    readonly caPem: string;
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
    readonly pids: { readonly etcd: number; readonly apiServer: number; readonly controllerManager?: number };
    /** Admin client for this cluster. */
    readonly client: KubeClient;
    /** Shorthand for client.request. */
    request(method: string, requestPath: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
    /** Stops every process (bounded) and removes the work dir when it was a temp dir. Idempotent. */
    stop(): Promise<void>;
}

export const KUBE_BIN_ENV = "AGENT_SECURITY_KUBE_BIN";
const REQUIRED_BINARIES = ["etcd", "kube-apiserver"] as const;
const STOP_GRACE_MS = 10_000;

/** Why the cluster cannot start here, or undefined when the binaries are present. */
export function missingBinaries(binDir: string | undefined = process.env[KUBE_BIN_ENV]): string | undefined {
    if (!binDir) return `${KUBE_BIN_ENV} is not set; run \`export ${KUBE_BIN_ENV}=$(bash scripts/install-kube-apiserver.sh)\` (builds kube-apiserver and etcd from Go modules, ~25 min cold)`;
    const missing = REQUIRED_BINARIES.filter((name) => !isExecutable(path.join(binDir, name)));
    return missing.length > 0 ? `${binDir} has no ${missing.join(", ")}; run bash scripts/install-kube-apiserver.sh` : undefined;
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return true;
    } catch {
        return false;
    }
}

/** A port the kernel says is free on 127.0.0.1 now (another process could take it before we bind; startCluster retries). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

function openssl(args: readonly string[], cwd: string): void {
    const result = spawnSync("openssl", args, { cwd, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr || result.error?.message}`);
}

export interface Certificates {
    readonly caCert: string;
    readonly caKey: string;
    readonly servingCert: string;
    readonly servingKey: string;
    readonly adminCert: string;
    readonly adminKey: string;
    readonly serviceAccountKey: string;
    readonly serviceAccountPub: string;
}

/**
 * CA, serving certificate (127.0.0.1, localhost and the in-cluster names), admin client
 * certificate in `system:masters`, service-account signing key pair. ECDSA P-256: fast to make.
 * Valid one day; they die with the run anyway.
 */
export function makeCertificates(dir: string): Certificates {
    fs.mkdirSync(dir, { recursive: true });
    const file = (name: string): string => path.join(dir, name);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=agent-security-test-ca"], dir);
    const sign = (name: string, subject: string, extensions: string): void => {
        fs.writeFileSync(file(`${name}.ext`), extensions);
        openssl(["req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
        openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", "-extfile", `${name}.ext`], dir);
    };
    sign(
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n",
    );
    sign("admin", "/O=system:masters/CN=agent-security-admin", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"], dir);
    openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    return {
        caCert: file("ca.crt"),
        caKey: file("ca.key"),
        servingCert: file("apiserver.crt"),
        servingKey: file("apiserver.key"),
        adminCert: file("admin.crt"),
        adminKey: file("admin.key"),
        serviceAccountKey: file("sa.key"),
        serviceAccountPub: file("sa.pub"),
    };
}

export function kubeconfigYaml(server: string, caPem: string, certPem: string, keyPem: string): string {
    const b64 = (text: string): string => Buffer.from(text).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: agent-security-test",
        "    cluster:",
        `      server: ${server}`,
        `      certificate-authority-data: ${b64(caPem)}`,
        "users:",
        "  - name: agent-security-admin",
        "    user:",
        `      client-certificate-data: ${b64(certPem)}`,
        `      client-key-data: ${b64(keyPem)}`,
        "contexts:",
        "  - name: agent-security-test",
        "    context: { cluster: agent-security-test, user: agent-security-admin }",
        "current-context: agent-security-test",
        "",
    ].join("\n");
}

// Processes started by this module and not yet stopped: the exit handler's list.
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
    if (exitHandlerInstalled) return;
    exitHandlerInstalled = true;
    // Last resort when a test run dies without calling stop(): 'exit' handlers must be synchronous,
    // so this is SIGKILL by PID, never by name.
    process.on("exit", () => {
        for (const child of running) {
            if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
                try {
                    process.kill(child.pid, "SIGKILL");
                } catch {
                    // Already gone.
                }
            }
        }
    });
}

function startProcess(binary: string, args: readonly string[], logFile: string, detached: boolean): ChildProcess {
    const log = fs.openSync(logFile, "a");
    const child = spawn(binary, args, { stdio: ["ignore", log, log], detached });
    fs.closeSync(log);
    if (detached) {
        child.unref();
    } else {
        running.add(child);
        child.on("exit", () => running.delete(child));
    }
    return child;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the PID is gone. */
export async function stopPid(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
    const alive = (): boolean => {
        try {
            process.kill(pid, 0);
            return true;
        } catch {
            return false;
        }
    };
    if (!alive()) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    const deadline = Date.now() + graceMs;
    while (alive() && Date.now() < deadline) await sleep(100);
    if (alive()) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // Gone between the check and the kill.
        }
        const killDeadline = Date.now() + 5_000;
        while (alive() && Date.now() < killDeadline) await sleep(50);
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, exited: () => string | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const died = exited();
        if (died) throw new Error(`${what}: ${died}`);
        try {
            if (await check()) return;
        } catch {
            // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`${what}: not ready within ${Math.round(timeoutMs / 1000)} s`);
        await sleep(250);
    }
}

function exitedMessage(name: string, child: ChildProcess, logFile: string): string | undefined {
    if (child.exitCode === null && child.signalCode === null) return undefined;
    return `${name} exited (${child.exitCode ?? child.signalCode}); last lines of ${logFile}:\n${tail(logFile)}`;
}

/** The flags the control plane runs with; exported so a reader (or test) sees them in one place. */
export function apiServerFlags(input: {
    readonly port: number;
    readonly etcdUrl: string;
    readonly certs: Certificates;
    readonly certDir: string;
}): string[] {
    return [
        `--etcd-servers=${input.etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${input.port}`,
        `--cert-dir=${input.certDir}`,
        `--tls-cert-file=${input.certs.servingCert}`,
        `--tls-private-key-file=${input.certs.servingKey}`,
        `--client-ca-file=${input.certs.caCert}`,
        "--authorization-mode=RBAC",
        "--anonymous-auth=false",
        "--allow-privileged=true",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${input.certs.serviceAccountPub}`,
        `--service-account-signing-key-file=${input.certs.serviceAccountKey}`,
        // The `kubernetes` Service's endpoints would be 127.0.0.1, which EndpointSlice validation
        // refuses (loopback); nothing in the tests dials the Service.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
        "--v=1",
    ];
}

/**
 * Starts etcd, kube-apiserver and (when built) kube-controller-manager on 127.0.0.1, waits for
 * /readyz, writes a kubeconfig. Throws, after stopping whatever it started, when a piece fails.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
    const binDir = options.binDir ?? process.env[KUBE_BIN_ENV];
    const missing = missingBinaries(binDir);
    if (missing || !binDir) throw new Error(missing);
    const detached = options.detached ?? false;
    if (detached && options.workDir === undefined) throw new Error("a detached cluster needs a workDir to keep its pids.json in");
    installExitHandler();
    const ownsWorkDir = options.workDir === undefined;
    const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-cluster-"));
    fs.mkdirSync(workDir, { recursive: true });
    const children: { name: string; child: ChildProcess }[] = [];
    const stopAll = async (): Promise<void> => {
        // Reverse order: controller-manager, API server, etcd.
        for (const { child } of [...children].reverse()) {
            if (child.pid !== undefined) await stopPid(child.pid);
        }
        if (ownsWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
    };
    try {
        const certs = makeCertificates(path.join(workDir, "pki"));
        const logs = path.join(workDir, "logs");
        fs.mkdirSync(logs, { recursive: true });

        const [etcdClient, etcdPeer, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
        const etcdUrl = `http://127.0.0.1:${etcdClient}`;
        const etcdLog = path.join(logs, "etcd.log");
        const etcd = startProcess(path.join(binDir, "etcd"), [
            "--name=agent-security-test",
            `--data-dir=${path.join(workDir, "etcd")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-cluster=agent-security-test=http://127.0.0.1:${etcdPeer}`,
            // Throw-away data: durability costs seconds per test on a busy disk and buys nothing.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ], etcdLog, detached);
        children.push({ name: "etcd", child: etcd });
        await waitFor("etcd", 30_000, async () => (await httpGetStatus(`${etcdUrl}/health`)) === 200, () => exitedMessage("etcd", etcd, etcdLog));

        const server = `https://127.0.0.1:${apiPort}`;
        const apiLog = path.join(logs, "kube-apiserver.log");
        const apiServer = startProcess(
            path.join(binDir, "kube-apiserver"),
            [...apiServerFlags({ port: apiPort, etcdUrl, certs, certDir: path.join(workDir, "apiserver-certs") }), ...(options.apiServerArgs ?? [])],
            apiLog,
            detached,
        );
        children.push({ name: "kube-apiserver", child: apiServer });

        const caPem = fs.readFileSync(certs.caCert, "utf8");
        const clientCertPem = fs.readFileSync(certs.adminCert, "utf8");
        const clientKeyPem = fs.readFileSync(certs.adminKey, "utf8");
        const kubeconfigPath = path.join(workDir, "kubeconfig");
        fs.writeFileSync(kubeconfigPath, kubeconfigYaml(server, caPem, clientCertPem, clientKeyPem), { mode: 0o600 });
        const client = KubeClient.fromKubeconfig(kubeconfigPath);
        await waitFor(
            "kube-apiserver /readyz",
            options.readyTimeoutMs ?? 90_000,
            async () => (await client.request("GET", "/readyz", undefined, undefined, 5_000)).status === 200,
            () => exitedMessage("kube-apiserver", apiServer, apiLog),
        );

        let controllerManagerPid: number | undefined;
        const kcmBinary = path.join(binDir, "kube-controller-manager");
        if ((options.controllerManager ?? true) && isExecutable(kcmBinary)) {
            const kcmLog = path.join(logs, "kube-controller-manager.log");
            const kcm = startProcess(kcmBinary, [
                `--kubeconfig=${kubeconfigPath}`,
                `--authentication-kubeconfig=${kubeconfigPath}`,
                `--authorization-kubeconfig=${kubeconfigPath}`,
                "--controllers=namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,resourcequota-controller,root-ca-certificate-publisher-controller",
                `--root-ca-file=${certs.caCert}`,
                `--service-account-private-key-file=${certs.serviceAccountKey}`,
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                // No serving port: nothing here scrapes or probes it.
                "--secure-port=0",
                "--v=1",
            ], kcmLog, detached);
            children.push({ name: "kube-controller-manager", child: kcm });
            // Ready once it has made `default` in kube-system; bounded like the API server.
            await waitFor(
                "kube-controller-manager",
                60_000,
                async () => (await client.request("GET", "/api/v1/namespaces/kube-system/serviceaccounts/default")).status === 200,
                () => exitedMessage("kube-controller-manager", kcm, kcmLog),
            );
            controllerManagerPid = kcm.pid;
        }

        const pids = { etcd: etcd.pid ?? -1, apiServer: apiServer.pid ?? -1, controllerManager: controllerManagerPid };
        fs.writeFileSync(path.join(workDir, PIDS_FILE), `${JSON.stringify({ ...pids, server }, null, 2)}\n`);
        let stopped = false;
        return {
            server,
            kubeconfigPath,
            workDir,
            caPem,
            clientCertPem,
            clientKeyPem,
            pids,
            client,
            request: (method, requestPath, body, contentType) => client.request(method, requestPath, body, contentType),
            stop: async () => {
                if (stopped) return;
                stopped = true;
                client.close();
                await stopAll();
            },
        };
    } catch (error) {
        await stopAll();
        throw error;
    }
}

export const PIDS_FILE = "pids.json";

/**
 * Stops a cluster another process started (`startCluster({ detached: true, workDir })`), by the
 * PIDs in `<workDir>/pids.json`, in reverse start order; bounded like stop(). Leaves the dir.
 */
export async function stopClusterIn(workDir: string): Promise<void> {
    const file = path.join(workDir, PIDS_FILE);
    if (!fs.existsSync(file)) return;
    const pids = JSON.parse(fs.readFileSync(file, "utf8")) as { etcd?: number; apiServer?: number; controllerManager?: number };
    for (const pid of [pids.controllerManager, pids.apiServer, pids.etcd]) {
        // A PID outlives its process in a file: stop it only while it is still one of ours (every
        // process of the cluster has the work dir on its command line).
        if (typeof pid === "number" && pid > 0 && commandLineOf(pid).includes(workDir)) await stopPid(pid);
    }
    fs.rmSync(file);
}

function commandLineOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
        return "";
    }
}

function httpGetStatus(url: string): Promise<number> {
    // etcd's client URL is plain HTTP on loopback.
    return new Promise((resolve, reject) => {
        const request = http.get(url, { timeout: 2_000 }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
        });
        request.on("timeout", () => request.destroy(new Error("timeout")));
        request.on("error", reject);
    });
}
