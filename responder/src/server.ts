// The webhook endpoint falcosidekick posts to. Order of checks: method and path, then the bearer
// token (before a byte of the body is read, so an unauthenticated client costs nothing and changes
// nothing), then the declared and the actual body size, then the content type, then the schema.
// Slow clients are cut off by the server's header and request timeouts.
import { createHash, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { parseAlert } from "./payload";
import type { Alert } from "./payload";
import type { AlertRecord } from "./responder";

export const WEBHOOK_PATH = "/falco";

export interface WebhookServerOptions {
    readonly submit: (alert: Alert) => Promise<AlertRecord>;
    /** The expected bearer token; undefined means none is loaded and every request is refused. */
    readonly token: () => string | undefined;
    readonly maxBodyBytes: number;
    readonly headersTimeoutMs?: number;
    readonly requestTimeoutMs?: number;
    /** Operational log lines (never alert content). */
    readonly log?: (message: string) => void;
}

/** A token read from a file (0400 on tmpfs), re-read at most every `reloadMs` so rotation needs no restart. */
export function fileToken(path: string, reloadMs = 10_000): () => string | undefined {
    let cached: { value: string | undefined; at: number } | undefined;
    return () => {
        const now = Date.now();
        if (!cached || now - cached.at > reloadMs) {
            let value: string | undefined;
            try {
                value = fs.readFileSync(path, "utf8").trim() || undefined;
            } catch {
                value = undefined;
            }
            cached = { value, at: now };
        }
        return cached.value;
    };
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of the presented bearer token with the expected one. */
export function tokenMatches(header: string | undefined, expected: string | undefined): boolean {
    if (!expected || !header) return false;
    const match = /^Bearer ([^\s]+)$/.exec(header);
    if (!match) return false;
    return timingSafeEqual(digest(match[1] ?? ""), digest(expected));
}

function reply(res: http.ServerResponse, status: number, body: Record<string, unknown>, extraHeaders: Record<string, string> = {}): void {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store", ...extraHeaders });
    res.end(text);
}

export function createWebhookServer(options: WebhookServerOptions): http.Server {
    const server = http.createServer(
        {
            maxHeaderSize: 16 * 1024,
            headersTimeout: options.headersTimeoutMs ?? 5000,
            requestTimeout: options.requestTimeoutMs ?? 10_000,
            // How often the timeouts above are enforced; the default of 30 s would let a slow client linger.
            connectionsCheckingInterval: 500,
        },
        (req, res) => handle(options, req, res),
    );
    server.keepAliveTimeout = 5000;
    return server;
}

function handle(options: WebhookServerOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "").split("?")[0];
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
        // Ready only with a token loaded: without one every alert would be refused.
        const ready = path === "/healthz" || options.token() !== undefined;
        reply(res, ready ? 200 : 503, { status: ready ? "ok" : "no webhook token loaded" });
        return;
    }
    if (path !== WEBHOOK_PATH) {
        reply(res, 404, { error: `not found; alerts go to POST ${WEBHOOK_PATH}` }, { Connection: "close" });
        return;
    }
    if (req.method !== "POST") {
        reply(res, 405, { error: "method not allowed; use POST" }, { Allow: "POST", Connection: "close" });
        return;
    }
    if (!tokenMatches(req.headers.authorization, options.token())) {
        reply(res, 401, { error: "unauthorized: a valid bearer token is required" }, { "WWW-Authenticate": 'Bearer realm="falco-responder"', Connection: "close" });
        return;
    }
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > options.maxBodyBytes) {
        reply(res, 413, { error: `body too large: at most ${options.maxBodyBytes} bytes` }, { Connection: "close" });
        return;
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") {
        reply(res, 415, { error: "content type must be application/json" }, { Connection: "close" });
        return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > options.maxBodyBytes) {
            refused = true;
            reply(res, 413, { error: `body too large: at most ${options.maxBodyBytes} bytes` }, { Connection: "close" });
            req.destroy();
            return;
        }
        chunks.push(chunk);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
        if (refused) return;
        const parsed = parseAlert(Buffer.concat(chunks).toString("utf8"));
        if (!parsed.ok) {
            reply(res, 400, { error: "invalid Falco alert", details: parsed.errors });
            return;
        }
        options.submit(parsed.alert).then(
            (record) => reply(res, record.outcome === "deferred" ? 202 : 200, { uuid: record.uuid, outcome: record.outcome }),
            (error: unknown) => {
                options.log?.(`submit failed: ${error instanceof Error ? error.message : String(error)}`);
                reply(res, 500, { error: "internal error" });
            },
        );
    });
}
