// Serves a Helm chart repository folder (index.yaml + packaged charts) read-only on 127.0.0.1, for
// offline runs and air-gapped mirrors. Bounded: it stops itself after --max-seconds, when the
// process that started it is gone (--parent-pid), or on SIGTERM/SIGINT.
//
//   ts-node --transpile-only scripts/serve-charts.ts [--dir ../shared/charts] [--port 0]
//       [--max-seconds 3600] [--parent-pid <pid>] [--url-file <file>]
//       [--empty-cluster-url-file <file>] [--no-charts]
//
// With --empty-cluster-url-file it also serves scripts/empty-cluster.ts (an API endpoint that
// knows no objects, for Helm lookups during a render without a cluster: HELM_KUBEAPISERVER) and
// writes its URL there, under the same bounds; --no-charts serves only that (a machine that reaches upstream).
// Prints the base URL on stdout (one line) once it listens. The repository's index.yaml uses
// relative chart URLs (../shared/charts/README.md), so any base address works.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { AddressInfo } from "net";
import { serveEmptyCluster } from "./empty-cluster";

export interface ChartServer {
    readonly url: string;
    close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
    ".yaml": "application/x-yaml",
    ".tgz": "application/gzip",
    ".md": "text/markdown; charset=utf-8",
};

/** Serves the regular files directly inside `dir` (no listing, no subfolders, GET/HEAD only). */
export function serveChartFolder(dir: string, port = 0): Promise<ChartServer> {
    const root = fs.realpathSync(dir);
    if (!fs.existsSync(path.join(root, "index.yaml"))) {
        return Promise.reject(new Error(`${dir} is not a Helm repository: it has no index.yaml`));
    }
    const server = http.createServer((request, response) => {
        if (request.method !== "GET" && request.method !== "HEAD") {
            response.writeHead(405, { allow: "GET, HEAD" }).end();
            return;
        }
        const name = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname).replace(/^\/+/, "");
        // One flat folder: a name with a separator or a dot-dot is never a chart or the index.
        if (name === "" || name.includes("/") || name.includes("\\") || name.startsWith(".")) {
            response.writeHead(404).end();
            return;
        }
        const file = path.join(root, name);
        fs.stat(file, (error, stat) => {
            if (error || !stat.isFile()) {
                response.writeHead(404).end();
                return;
            }
            response.writeHead(200, {
                "content-type": CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream",
                "content-length": stat.size,
            });
            if (request.method === "HEAD") response.end();
            else fs.createReadStream(file).pipe(response);
        });
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            const address = server.address() as AddressInfo;
            resolve({
                url: `http://127.0.0.1:${address.port}`,
                close: () =>
                    new Promise<void>((done) => {
                        server.closeAllConnections();
                        server.close(() => done());
                    }),
            });
        });
    });
}

function option(argv: readonly string[], name: string): string | undefined {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function main(argv: readonly string[]): Promise<void> {
    const dir = option(argv, "--dir") ?? path.resolve(__dirname, "..", "..", "shared", "charts");
    const port = Number(option(argv, "--port") ?? "0");
    const maxSeconds = Number(option(argv, "--max-seconds") ?? "3600");
    const parentPid = option(argv, "--parent-pid");
    const urlFile = option(argv, "--url-file");
    const emptyClusterUrlFile = option(argv, "--empty-cluster-url-file");
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !(maxSeconds > 0)) {
        throw new Error("--port must be 0-65535 and --max-seconds a positive number");
    }
    const server = argv.includes("--no-charts") ? undefined : await serveChartFolder(dir, port);
    const emptyCluster = emptyClusterUrlFile === undefined ? undefined : await serveEmptyCluster();
    if (emptyCluster && emptyClusterUrlFile) fs.writeFileSync(emptyClusterUrlFile, `${emptyCluster.url}\n`);
    if (!server && !emptyCluster) throw new Error("nothing to serve: --no-charts without --empty-cluster-url-file");
    let stopping = false;
    const stop = (why: string) => {
        if (stopping) return;
        stopping = true;
        console.error(`serve-charts: stopping (${why})`);
        void Promise.all([server?.close(), emptyCluster?.close()]).then(() => process.exit(0));
    };
    setTimeout(() => stop(`${maxSeconds} s elapsed`), maxSeconds * 1000).unref();
    if (parentPid !== undefined) {
        setInterval(() => processAlive(Number(parentPid)) || stop(`parent ${parentPid} exited`), 1000).unref();
    }
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    const url = server?.url ?? "-";
    if (urlFile) fs.writeFileSync(urlFile, `${url}\n`);
    console.log(url);
    console.error(`serve-charts: serving ${server ? `${dir} at ${url}` : "no charts"}${emptyCluster ? `, an empty cluster at ${emptyCluster.url}` : ""} for at most ${maxSeconds} s`);
    // Keep the event loop alive while serving; the timers above are unref'd.
    setInterval(() => undefined, 1 << 30);
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        console.error(`serve-charts: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(2);
    });
}
