// An API endpoint that knows no objects, for rendering without a cluster (the dev stack's
// renderYamlToDirectory). A render has no cluster, so Helm's `lookup` must find nothing, as in
// `helm template`. The Kubernetes provider 4.25's Helm v4 Chart still asks an API server for it
// (server dry-run), and the spire chart looks up a Secret on every render
// (spire-server/_helpers.tpl, spire-tornjak.connectionType): with no server at all the render
// fails. This answers the two discovery documents a lookup needs and "not found" to everything
// else. It never stores or returns an object; only the process that renders is pointed at it.
import * as http from "http";
import type { AddressInfo } from "net";

export interface EmptyCluster {
    /** For HELM_KUBEAPISERVER in the environment of the render (not KUBECONFIG: the SDK would hand that to the provider, which refuses it beside renderYamlToDirectory). */
    readonly url: string;
    close(): Promise<void>;
}

/** The core/v1 kinds a chart may look up; discovery must list a kind before a lookup asks for it. */
const CORE_RESOURCES = [
    ["secrets", "Secret"],
    ["configmaps", "ConfigMap"],
    ["services", "Service"],
    ["serviceaccounts", "ServiceAccount"],
    ["namespaces", "Namespace"],
] as const;

function json(response: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

function respond(request: http.IncomingMessage, response: http.ServerResponse): void {
    const pathname = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (request.method !== "GET") {
        json(response, 405, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "MethodNotAllowed", code: 405 });
    } else if (pathname === "/api") {
        json(response, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
    } else if (pathname === "/apis") {
        json(response, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    } else if (pathname === "/api/v1") {
        json(response, 200, {
            kind: "APIResourceList",
            groupVersion: "v1",
            resources: CORE_RESOURCES.map(([name, kind]) => ({ name, singularName: kind.toLowerCase(), namespaced: kind !== "Namespace", kind, verbs: ["get", "list"] })),
        });
    } else {
        json(response, 404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `${pathname}: this render has no cluster`, reason: "NotFound", code: 404 });
    }
}

export function serveEmptyCluster(port = 0): Promise<EmptyCluster> {
    const server = http.createServer(respond);
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            resolve({
                url,
                close: () =>
                    new Promise<void>((done) => {
                        server.closeAllConnections();
                        server.close(() => done());
                    }),
            });
        });
    });
}
