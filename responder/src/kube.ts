// The few Kubernetes calls the responder makes, behind one typed interface so the decision logic
// is tested without a cluster. `HttpKube` is the real client: node:https, the pod's projected
// ServiceAccount token (re-read, the kubelet rotates it) and the cluster CA; no client library.
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { PodFacts } from "./identity";

export type KubeErrorKind = "conflict" | "not-found" | "forbidden" | "invalid" | "unavailable";

export class KubeError extends Error {
    constructor(
        readonly kind: KubeErrorKind,
        readonly status: number | undefined,
        message: string,
    ) {
        super(message);
        this.name = "KubeError";
    }
}

export interface ConfigMapView {
    readonly data: Readonly<Record<string, string>>;
    readonly resourceVersion: string;
}

export interface EventInput {
    /** Unique per occurrence; a retry with the same name is a no-op (409). */
    readonly name: string;
    readonly namespace: string;
    readonly involved: { readonly kind: "Deployment" | "Pod"; readonly apiVersion: string; readonly name: string; readonly uid?: string };
    readonly type: "Normal" | "Warning";
    readonly reason: string;
    readonly message: string;
    readonly action: string;
    readonly time: Date;
}

export interface KubeApi {
    getPod(namespace: string, name: string): Promise<PodFacts | undefined>;
    /** Deletes the pod only if it is still the one resolved (uid precondition). */
    deletePod(namespace: string, name: string, uid: string): Promise<"deleted" | "gone">;
    /** JSON merge patch of the pod's labels; `null` removes a label. */
    patchPodLabels(namespace: string, name: string, labels: Readonly<Record<string, string | null>>): Promise<"patched" | "gone">;
    scaleDeployment(namespace: string, name: string, replicas: number): Promise<"scaled" | "gone">;
    createEvent(event: EventInput): Promise<void>;
    getConfigMap(namespace: string, name: string): Promise<ConfigMapView | undefined>;
    /** Throws a `conflict` KubeError when the ConfigMap already exists. */
    createConfigMap(namespace: string, name: string, labels: Readonly<Record<string, string>>, data: Readonly<Record<string, string>>): Promise<ConfigMapView>;
    /** Replaces with a resourceVersion precondition; `conflict` when it moved, `not-found` when deleted. */
    replaceConfigMap(
        namespace: string,
        name: string,
        labels: Readonly<Record<string, string>>,
        data: Readonly<Record<string, string>>,
        resourceVersion: string,
    ): Promise<ConfigMapView>;
    /** JSON merge patch of some data keys (the audit ConfigMap: one key per identity, no precondition needed). */
    mergeConfigMapData(namespace: string, name: string, data: Readonly<Record<string, string>>): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Request shapes: one function per call, shared by the client and the tests that hold it to them
// ---------------------------------------------------------------------------------------------

export interface KubeRequest {
    readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    readonly path: string;
    readonly contentType?: "application/json" | "application/merge-patch+json";
    readonly body?: unknown;
}

const seg = encodeURIComponent;
const MERGE_PATCH = "application/merge-patch+json";

export const requests = {
    getPod: (namespace: string, name: string): KubeRequest => ({ method: "GET", path: `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}` }),
    deletePod: (namespace: string, name: string, uid: string): KubeRequest => ({
        method: "DELETE",
        path: `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}`,
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid } },
    }),
    patchPodLabels: (namespace: string, name: string, labels: Readonly<Record<string, string | null>>): KubeRequest => ({
        method: "PATCH",
        path: `/api/v1/namespaces/${seg(namespace)}/pods/${seg(name)}`,
        contentType: MERGE_PATCH,
        body: { metadata: { labels } },
    }),
    scaleDeployment: (namespace: string, name: string, replicas: number): KubeRequest => ({
        method: "PATCH",
        path: `/apis/apps/v1/namespaces/${seg(namespace)}/deployments/${seg(name)}/scale`,
        contentType: MERGE_PATCH,
        body: { spec: { replicas } },
    }),
    createEvent: (event: EventInput): KubeRequest => ({
        method: "POST",
        path: `/api/v1/namespaces/${seg(event.namespace)}/events`,
        contentType: "application/json",
        body: {
            apiVersion: "v1",
            kind: "Event",
            metadata: { name: event.name, namespace: event.namespace },
            involvedObject: {
                apiVersion: event.involved.apiVersion,
                kind: event.involved.kind,
                name: event.involved.name,
                namespace: event.namespace,
                ...(event.involved.uid ? { uid: event.involved.uid } : {}),
            },
            type: event.type,
            reason: event.reason,
            message: event.message,
            action: event.action,
            count: 1,
            firstTimestamp: event.time.toISOString(),
            lastTimestamp: event.time.toISOString(),
            source: { component: "falco-responder" },
            reportingComponent: "agent-security.io/falco-responder",
            reportingInstance: process.env.HOSTNAME ?? "falco-responder",
        },
    }),
    getConfigMap: (namespace: string, name: string): KubeRequest => ({ method: "GET", path: `/api/v1/namespaces/${seg(namespace)}/configmaps/${seg(name)}` }),
    createConfigMap: (namespace: string, name: string, labels: Readonly<Record<string, string>>, data: Readonly<Record<string, string>>): KubeRequest => ({
        method: "POST",
        path: `/api/v1/namespaces/${seg(namespace)}/configmaps`,
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: { ...labels } }, data: { ...data } },
    }),
    replaceConfigMap: (
        namespace: string,
        name: string,
        labels: Readonly<Record<string, string>>,
        data: Readonly<Record<string, string>>,
        resourceVersion: string,
    ): KubeRequest => ({
        method: "PUT",
        path: `/api/v1/namespaces/${seg(namespace)}/configmaps/${seg(name)}`,
        contentType: "application/json",
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: { ...labels }, resourceVersion }, data: { ...data } },
    }),
    mergeConfigMapData: (namespace: string, name: string, data: Readonly<Record<string, string>>): KubeRequest => ({
        method: "PATCH",
        path: `/api/v1/namespaces/${seg(namespace)}/configmaps/${seg(name)}`,
        contentType: MERGE_PATCH,
        body: { data: { ...data } },
    }),
} as const;

// ---------------------------------------------------------------------------------------------
// The HTTP client
// ---------------------------------------------------------------------------------------------

export interface KubeConnection {
    /** https://host:port of the API server; http:// only for a loopback test server. */
    readonly server: string;
    readonly caFile?: string;
    readonly tokenFile?: string;
    readonly clientCertFile?: string;
    readonly clientKeyFile?: string;
    readonly timeoutMs?: number;
}

/** The in-cluster connection: the projected token and CA at the kubelet's standard paths. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env): KubeConnection {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: not running in a pod, and no RESPONDER_KUBE_SERVER override given");
    const dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    return { server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`, caFile: `${dir}/ca.crt`, tokenFile: `${dir}/token` };
}

/** RESPONDER_KUBE_* override (tests, out-of-cluster runs), else the in-cluster connection. */
export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): KubeConnection {
    if (!env.RESPONDER_KUBE_SERVER) return inClusterConnection(env);
    return {
        server: env.RESPONDER_KUBE_SERVER,
        ...(env.RESPONDER_KUBE_CA_FILE ? { caFile: env.RESPONDER_KUBE_CA_FILE } : {}),
        ...(env.RESPONDER_KUBE_TOKEN_FILE ? { tokenFile: env.RESPONDER_KUBE_TOKEN_FILE } : {}),
        ...(env.RESPONDER_KUBE_CLIENT_CERT_FILE ? { clientCertFile: env.RESPONDER_KUBE_CLIENT_CERT_FILE } : {}),
        ...(env.RESPONDER_KUBE_CLIENT_KEY_FILE ? { clientKeyFile: env.RESPONDER_KUBE_CLIENT_KEY_FILE } : {}),
    };
}

const TOKEN_REREAD_MS = 60_000;

interface RawPod {
    metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
    spec?: { serviceAccountName?: string };
}

interface RawConfigMap {
    metadata?: { resourceVersion?: string };
    data?: Record<string, string>;
}

export interface KubeResponse {
    readonly status: number;
    readonly body: unknown;
}

/** Sends one request; rejects with an `unavailable` KubeError when no answer arrives. */
export type KubeTransport = (request: KubeRequest) => Promise<KubeResponse>;

/** node:https (or http for a loopback test server) with keep-alive, the CA, and a bearer token or client certificate. */
export class HttpTransport {
    private readonly url: URL;
    private readonly agent: http.Agent;
    private readonly timeoutMs: number;
    private token: { value: string; readAt: number } | undefined;

    constructor(private readonly connection: KubeConnection) {
        this.url = new URL(connection.server);
        const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(this.url.hostname);
        if (this.url.protocol === "http:" && !loopback) {
            throw new Error(`Kubernetes server ${connection.server}: plain http is accepted for a loopback test server only`);
        }
        this.timeoutMs = connection.timeoutMs ?? 5000;
        this.agent =
            this.url.protocol === "https:"
                ? new https.Agent({
                      keepAlive: true,
                      maxSockets: 128,
                      ...(connection.caFile ? { ca: fs.readFileSync(connection.caFile) } : {}),
                      ...(connection.clientCertFile ? { cert: fs.readFileSync(connection.clientCertFile) } : {}),
                      ...(connection.clientKeyFile ? { key: fs.readFileSync(connection.clientKeyFile) } : {}),
                  })
                : new http.Agent({ keepAlive: true, maxSockets: 128 });
    }

    close(): void {
        this.agent.destroy();
    }

    private bearer(): string | undefined {
        if (!this.connection.tokenFile) return undefined;
        const now = Date.now();
        if (!this.token || now - this.token.readAt > TOKEN_REREAD_MS) {
            this.token = { value: fs.readFileSync(this.connection.tokenFile, "utf8").trim(), readAt: now };
        }
        return this.token.value;
    }

    readonly send: KubeTransport = (request) => {
        const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
        const token = this.bearer();
        const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "falco-responder" };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (payload) {
            headers["Content-Type"] = request.contentType ?? "application/json";
            headers["Content-Length"] = String(payload.length);
        }
        const transport = this.url.protocol === "https:" ? https : http;
        return new Promise((resolve, reject) => {
            const req = transport.request(
                {
                    protocol: this.url.protocol,
                    hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
                    port: this.url.port || (this.url.protocol === "https:" ? 443 : 80),
                    method: request.method,
                    path: request.path,
                    headers,
                    agent: this.agent,
                    timeout: this.timeoutMs,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (chunk: Buffer) => chunks.push(chunk));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        let body: unknown = undefined;
                        try {
                            body = text ? JSON.parse(text) : undefined;
                        } catch {
                            body = undefined;
                        }
                        resolve({ status: res.statusCode ?? 0, body });
                    });
                    res.on("error", (error) => reject(new KubeError("unavailable", undefined, `${request.method} ${request.path}: ${error.message}`)));
                },
            );
            req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
            req.on("error", (error) => reject(new KubeError("unavailable", undefined, `${request.method} ${request.path}: ${error.message}`)));
            if (payload) req.write(payload);
            req.end();
        });
    };
}

/** The typed calls over any transport: the real one, or a recorded fake in the tests. */
export class KubeClient implements KubeApi {
    constructor(private readonly transport: KubeTransport) {}

    private async call(request: KubeRequest, accept: readonly number[] = []): Promise<KubeResponse> {
        const response = await this.transport(request);
        if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return response;
        throw statusError(request, response.status, response.body);
    }

    async getPod(namespace: string, name: string): Promise<PodFacts | undefined> {
        const response = await this.call(requests.getPod(namespace, name), [404]);
        if (response.status === 404) return undefined;
        const pod = response.body as RawPod;
        return {
            namespace: pod.metadata?.namespace ?? namespace,
            name: pod.metadata?.name ?? name,
            uid: pod.metadata?.uid ?? "",
            labels: { ...(pod.metadata?.labels ?? {}) },
            serviceAccountName: pod.spec?.serviceAccountName ?? "default",
        };
    }

    async deletePod(namespace: string, name: string, uid: string): Promise<"deleted" | "gone"> {
        // 409: the uid precondition failed, so the name now belongs to a newer pod; ours is gone.
        const response = await this.call(requests.deletePod(namespace, name, uid), [404, 409]);
        return response.status === 404 || response.status === 409 ? "gone" : "deleted";
    }

    async patchPodLabels(namespace: string, name: string, labels: Readonly<Record<string, string | null>>): Promise<"patched" | "gone"> {
        const response = await this.call(requests.patchPodLabels(namespace, name, labels), [404]);
        return response.status === 404 ? "gone" : "patched";
    }

    async scaleDeployment(namespace: string, name: string, replicas: number): Promise<"scaled" | "gone"> {
        const response = await this.call(requests.scaleDeployment(namespace, name, replicas), [404]);
        return response.status === 404 ? "gone" : "scaled";
    }

    async createEvent(event: EventInput): Promise<void> {
        await this.call(requests.createEvent(event), [409]);
    }

    async getConfigMap(namespace: string, name: string): Promise<ConfigMapView | undefined> {
        const response = await this.call(requests.getConfigMap(namespace, name), [404]);
        if (response.status === 404) return undefined;
        return configMapView(response.body as RawConfigMap);
    }

    async createConfigMap(namespace: string, name: string, labels: Readonly<Record<string, string>>, data: Readonly<Record<string, string>>): Promise<ConfigMapView> {
        const response = await this.call(requests.createConfigMap(namespace, name, labels, data));
        return configMapView(response.body as RawConfigMap);
    }

    async replaceConfigMap(
        namespace: string,
        name: string,
        labels: Readonly<Record<string, string>>,
        data: Readonly<Record<string, string>>,
        resourceVersion: string,
    ): Promise<ConfigMapView> {
        const response = await this.call(requests.replaceConfigMap(namespace, name, labels, data, resourceVersion));
        return configMapView(response.body as RawConfigMap);
    }

    async mergeConfigMapData(namespace: string, name: string, data: Readonly<Record<string, string>>): Promise<void> {
        await this.call(requests.mergeConfigMapData(namespace, name, data));
    }
}

function configMapView(raw: RawConfigMap): ConfigMapView {
    return { data: { ...(raw.data ?? {}) }, resourceVersion: raw.metadata?.resourceVersion ?? "" };
}

function statusError(request: KubeRequest, status: number, body: unknown): KubeError {
    const reason = typeof body === "object" && body !== null && "reason" in body ? String((body as { reason: unknown }).reason) : "";
    const where = `${request.method} ${request.path}: HTTP ${status}${reason ? ` ${reason}` : ""}`;
    if (status === 409) return new KubeError("conflict", status, where);
    if (status === 404) return new KubeError("not-found", status, where);
    if (status === 401 || status === 403) return new KubeError("forbidden", status, where);
    if (status === 400 || status === 422) return new KubeError("invalid", status, where);
    return new KubeError("unavailable", status, where);
}
