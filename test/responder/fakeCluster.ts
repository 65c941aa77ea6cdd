// A recorded fake of the part of the Kubernetes API the responder uses. It answers the exact
// request shapes of responder/src/kube.ts `requests` (method, path, content type, body) the way the
// API server does for these calls, including the resourceVersion precondition on PUT (409
// Conflict), AlreadyExists on POST (409), the uid precondition on DELETE (409) and 404 for missing
// objects, and refuses anything else with 400/404/415 so a changed request shape fails the tests.
// Used in-process (property tests) and over HTTP on 127.0.0.1 (the process and load tests).
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeError } from "../../responder/src/kube";
import type { KubeRequest, KubeResponse, KubeTransport } from "../../responder/src/kube";

export interface FakePod {
    uid: string;
    labels: Record<string, string>;
    serviceAccountName: string;
}

export interface RecordedRequest {
    readonly method: string;
    readonly path: string;
    readonly contentType: string | undefined;
    readonly body: unknown;
    readonly status: number;
}

export interface Deletion {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    /** The fake's clock at the deletion. */
    readonly at: number;
}

const status = (code: number, reason: string, message: string): KubeResponse => ({
    status: code,
    body: { apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message },
});

type Json = Record<string, unknown>;

export class FakeCluster {
    readonly pods = new Map<string, FakePod>();
    readonly deployments = new Map<string, { replicas: number }>();
    readonly configMaps = new Map<string, { labels: Record<string, string>; data: Record<string, string>; resourceVersion: string }>();
    readonly events: Json[] = [];
    readonly deletions: Deletion[] = [];
    readonly log: RecordedRequest[] = [];
    /** When set, every request fails as if the API server were unreachable. */
    unavailable = false;
    /** Fails this many upcoming requests as unreachable. */
    failNext = 0;
    recordRequests = true;
    private resourceVersion = 1000;
    private uidCounter = 0;

    constructor(private readonly clock: () => number = Date.now) {}

    addPod(namespace: string, name: string, pod: Omit<FakePod, "uid"> & { uid?: string }): FakePod {
        const created = { uid: pod.uid ?? `uid-${++this.uidCounter}`, labels: { ...pod.labels }, serviceAccountName: pod.serviceAccountName };
        this.pods.set(`${namespace}/${name}`, created);
        return created;
    }

    addDeployment(namespace: string, name: string, replicas: number): void {
        this.deployments.set(`${namespace}/${name}`, { replicas });
    }

    /** The in-process transport: same semantics as the HTTP face, without sockets. */
    readonly transport: KubeTransport = async (request) => {
        if (this.unavailable || this.failNext > 0) {
            if (this.failNext > 0) this.failNext--;
            throw new KubeError("unavailable", undefined, `${request.method} ${request.path}: connect ECONNREFUSED (fake)`);
        }
        return this.handle(request.method, request.path, request.contentType, request.body);
    };

    handle(method: string, path: string, contentType: string | undefined, body: unknown): KubeResponse {
        const response = this.route(method, path, contentType, body);
        if (this.recordRequests) this.log.push({ method, path, contentType, body, status: response.status });
        return response;
    }

    private nextVersion(): string {
        return String(++this.resourceVersion);
    }

    private route(method: string, path: string, contentType: string | undefined, body: unknown): KubeResponse {
        const parts = path.split("/").map(decodeURIComponent);
        // /api/v1/namespaces/{ns}/{resource}[/{name}]
        if (parts[1] === "api" && parts[2] === "v1" && parts[3] === "namespaces" && parts[4]) {
            const namespace = parts[4];
            const resource = parts[5];
            const name = parts[6];
            if (resource === "pods" && name && parts.length === 7) return this.pod(method, namespace, name, contentType, body);
            if (resource === "configmaps") return this.configMap(method, namespace, name, contentType, body, parts.length);
            if (resource === "events" && parts.length === 6 && method === "POST") return this.event(namespace, contentType, body);
        }
        // /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale
        if (parts[1] === "apis" && parts[2] === "apps" && parts[3] === "v1" && parts[4] === "namespaces" && parts[6] === "deployments" && parts[8] === "scale" && parts.length === 9) {
            if (method !== "PATCH") return status(405, "MethodNotAllowed", "only PATCH is faked for scale");
            if (contentType !== "application/merge-patch+json") return status(415, "UnsupportedMediaType", "scale patch must be a merge patch");
            const key = `${parts[5]}/${parts[7]}`;
            const deployment = this.deployments.get(key);
            if (!deployment) return status(404, "NotFound", `deployments.apps "${parts[7]}" not found`);
            const replicas = ((body as Json)?.spec as Json | undefined)?.replicas;
            if (typeof replicas !== "number" || Object.keys(body as Json).length !== 1) return status(422, "Invalid", "scale patch must set spec.replicas only");
            deployment.replicas = replicas;
            return { status: 200, body: { apiVersion: "autoscaling/v1", kind: "Scale", spec: { replicas } } };
        }
        return status(404, "NotFound", `the fake serves no ${method} ${path}`);
    }

    private pod(method: string, namespace: string, name: string, contentType: string | undefined, body: unknown): KubeResponse {
        const key = `${namespace}/${name}`;
        const pod = this.pods.get(key);
        if (!pod) return status(404, "NotFound", `pods "${name}" not found`);
        const view = () => ({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace, uid: pod.uid, labels: { ...pod.labels }, resourceVersion: this.nextVersion() },
            spec: { serviceAccountName: pod.serviceAccountName },
        });
        if (method === "GET") return { status: 200, body: view() };
        if (method === "DELETE") {
            if (contentType !== "application/json") return status(415, "UnsupportedMediaType", "DeleteOptions must be JSON");
            const options = body as Json;
            const uid = (options?.preconditions as Json | undefined)?.uid;
            if (options?.kind !== "DeleteOptions" || options.apiVersion !== "v1" || typeof uid !== "string") return status(400, "BadRequest", "expected v1 DeleteOptions with preconditions.uid");
            if (uid !== pod.uid) return status(409, "Conflict", `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.uid}`);
            this.pods.delete(key);
            this.deletions.push({ namespace, name, uid, at: this.clock() });
            return { status: 200, body: view() };
        }
        if (method === "PATCH") {
            if (contentType !== "application/merge-patch+json") return status(415, "UnsupportedMediaType", "pod patch must be a merge patch");
            const patch = body as Json;
            const labels = (patch?.metadata as Json | undefined)?.labels as Record<string, string | null> | undefined;
            if (!labels || Object.keys(patch).length !== 1 || Object.keys(patch.metadata as Json).length !== 1) return status(422, "Invalid", "pod patch must touch metadata.labels only");
            for (const [label, value] of Object.entries(labels)) {
                if (value === null) delete pod.labels[label];
                else pod.labels[label] = value;
            }
            return { status: 200, body: view() };
        }
        return status(405, "MethodNotAllowed", `${method} on pods is not faked`);
    }

    private configMap(method: string, namespace: string, name: string | undefined, contentType: string | undefined, body: unknown, length: number): KubeResponse {
        if (method === "POST" && length === 6) {
            if (contentType !== "application/json") return status(415, "UnsupportedMediaType", "create must be JSON");
            const object = body as Json;
            const metadata = (object?.metadata ?? {}) as Json;
            const created = metadata.name;
            if (object?.kind !== "ConfigMap" || object.apiVersion !== "v1" || typeof created !== "string") return status(400, "BadRequest", "expected a v1 ConfigMap with metadata.name");
            if (metadata.resourceVersion !== undefined) return status(422, "Invalid", "resourceVersion must not be set on create");
            const key = `${namespace}/${created}`;
            if (this.configMaps.has(key)) return status(409, "AlreadyExists", `configmaps "${created}" already exists`);
            const stored = { labels: { ...((metadata.labels as Record<string, string>) ?? {}) }, data: { ...((object.data as Record<string, string>) ?? {}) }, resourceVersion: this.nextVersion() };
            this.configMaps.set(key, stored);
            return { status: 201, body: this.configMapBody(namespace, created, stored) };
        }
        if (!name || length !== 7) return status(404, "NotFound", "no such path");
        const key = `${namespace}/${name}`;
        const stored = this.configMaps.get(key);
        if (method === "GET") return stored ? { status: 200, body: this.configMapBody(namespace, name, stored) } : status(404, "NotFound", `configmaps "${name}" not found`);
        if (method === "PUT") {
            if (contentType !== "application/json") return status(415, "UnsupportedMediaType", "replace must be JSON");
            if (!stored) return status(404, "NotFound", `configmaps "${name}" not found`);
            const object = body as Json;
            const metadata = object?.metadata as Json | undefined;
            if (typeof metadata?.resourceVersion !== "string") return status(422, "Invalid", "the responder always replaces with a resourceVersion precondition");
            if (metadata.resourceVersion !== stored.resourceVersion) {
                return status(409, "Conflict", `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`);
            }
            const next = { labels: { ...((metadata.labels as Record<string, string>) ?? {}) }, data: { ...((object.data as Record<string, string>) ?? {}) }, resourceVersion: this.nextVersion() };
            this.configMaps.set(key, next);
            return { status: 200, body: this.configMapBody(namespace, name, next) };
        }
        if (method === "PATCH") {
            if (contentType !== "application/merge-patch+json") return status(415, "UnsupportedMediaType", "configmap patch must be a merge patch");
            if (!stored) return status(404, "NotFound", `configmaps "${name}" not found`);
            const data = (body as Json)?.data as Record<string, string> | undefined;
            if (!data || Object.keys(body as Json).length !== 1) return status(422, "Invalid", "the audit patch touches data only");
            stored.data = { ...stored.data, ...data };
            stored.resourceVersion = this.nextVersion();
            return { status: 200, body: this.configMapBody(namespace, name, stored) };
        }
        return status(405, "MethodNotAllowed", `${method} on configmaps is not faked`);
    }

    private configMapBody(namespace: string, name: string, stored: { labels: Record<string, string>; data: Record<string, string>; resourceVersion: string }): Json {
        return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: { ...stored.labels }, resourceVersion: stored.resourceVersion }, data: { ...stored.data } };
    }

    private event(namespace: string, contentType: string | undefined, body: unknown): KubeResponse {
        if (contentType !== "application/json") return status(415, "UnsupportedMediaType", "event must be JSON");
        const event = body as Json;
        const name = (event?.metadata as Json | undefined)?.name;
        if (event?.kind !== "Event" || event.apiVersion !== "v1" || typeof name !== "string") return status(400, "BadRequest", "expected a v1 Event with metadata.name");
        if (this.events.some((existing) => (existing.metadata as Json).name === name && (existing.metadata as Json).namespace === namespace)) {
            return status(409, "AlreadyExists", `events "${name}" already exists`);
        }
        this.events.push(event);
        return { status: 201, body: event };
    }
}

/** The fake over HTTP on 127.0.0.1, requiring `Authorization: Bearer <token>` like the API server. */
export async function serveFakeCluster(
    cluster: FakeCluster,
    token: string,
    summary?: () => unknown,
): Promise<{ url: string; close: () => Promise<void>; requests: () => number }> {
    let count = 0;
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            count++;
            const send = (response: KubeResponse) => {
                const text = JSON.stringify(response.body);
                res.writeHead(response.status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
                res.end(text);
            };
            if (req.headers.authorization !== `Bearer ${token}`) {
                send(status(401, "Unauthorized", "Unauthorized"));
                return;
            }
            if (summary && req.method === "GET" && req.url === "/_fake/summary") {
                send({ status: 200, body: summary() });
                return;
            }
            if (cluster.unavailable) {
                send(status(503, "ServiceUnavailable", "the fake is unavailable"));
                return;
            }
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = undefined;
            try {
                body = text ? JSON.parse(text) : undefined;
            } catch {
                send(status(400, "BadRequest", "body is not JSON"));
                return;
            }
            send(cluster.handle(req.method ?? "", req.url ?? "", req.headers["content-type"], body));
        });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        requests: () => count,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** The exact shape the KubeRequest builders produce, for comparisons in tests. */
export function shapeOf(request: KubeRequest): { method: string; path: string; contentType: string | undefined; body: unknown } {
    return { method: request.method, path: request.path, contentType: request.contentType, body: request.body };
}
