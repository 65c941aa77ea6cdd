// Entry point of the falco-responder image. Inputs are files and a few plain environment variables
// (paths and the listen address, never secrets):
//   RESPONDER_SETTINGS_FILE  settings JSON (default /etc/falco-responder/settings.json)
//   RESPONDER_TOKEN_FILE     the webhook bearer token (default /var/run/secrets/falco-responder/token)
//   RESPONDER_LISTEN         host:port (default 0.0.0.0:8080)
//   RESPONDER_KUBE_SERVER, _CA_FILE, _TOKEN_FILE, _CLIENT_CERT_FILE, _CLIENT_KEY_FILE: API server override
// Records go to stdout as JSON lines; operational messages to stderr.
import * as fs from "node:fs";
import { HttpTransport, KubeClient, connectionFromEnv } from "./kube";
import { Responder } from "./responder";
import { createWebhookServer, fileToken } from "./server";
import { parseSettings } from "./settings";

function main(): void {
    const env = process.env;
    const settings = parseSettings(fs.readFileSync(env.RESPONDER_SETTINGS_FILE ?? "/etc/falco-responder/settings.json", "utf8"));
    const transport = new HttpTransport(connectionFromEnv(env));
    const kube = new KubeClient(transport.send);
    const log = (message: string) => process.stderr.write(`${JSON.stringify({ level: "info", message, at: new Date().toISOString() })}\n`);
    const responder = new Responder({
        kube,
        settings,
        sink: (record) => process.stdout.write(`${JSON.stringify(record)}\n`),
        ...(env.RESPONDER_RETRY_BASE_MS ? { retryBaseMs: Number(env.RESPONDER_RETRY_BASE_MS) } : {}),
    });
    const token = fileToken(env.RESPONDER_TOKEN_FILE ?? "/var/run/secrets/falco-responder/token");
    const server = createWebhookServer({ submit: (alert) => responder.submit(alert), token, maxBodyBytes: settings.maxBodyBytes, log });

    const listen = env.RESPONDER_LISTEN ?? "0.0.0.0:8080";
    const separator = listen.lastIndexOf(":");
    const host = listen.slice(0, separator);
    const port = Number(listen.slice(separator + 1));
    server.listen(port, host, () => {
        const address = server.address();
        const bound = typeof address === "object" && address ? `${address.address}:${address.port}` : listen;
        log(`listening on ${bound}; mode ${settings.mode}; ${settings.agents.length} agents; breaker ${settings.breaker.maxRecycles} per ${settings.breaker.windowSeconds}s`);
        if (token() === undefined) log("no webhook token loaded yet: every alert is refused with 401 until the token file exists");
    });

    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log(`${signal}: draining`);
        server.close();
        server.closeIdleConnections();
        void responder.stop().finally(() => {
            transport.close();
            process.exit(0);
        });
        setTimeout(() => process.exit(1), 10_000).unref();
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
}

main();
