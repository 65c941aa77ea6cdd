// A small Kubernetes API client for `npm run probe` and the real-API-server tests (test/cluster):
// kubeconfig with client certificates or a bearer token, server-side apply, dry-run create, the
// status subresource, and which admission component refused a request. Node's https only, so the
// probe adds no dependency. Exec credential plugins are not supported: the error says so.
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

export interface KubeConnection {
    readonly server: string;
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly token?: string;
    readonly insecureSkipTlsVerify?: boolean;
}

export class KubeconfigError extends Error {}

interface KubeconfigFile {
    readonly "current-context"?: string;
    readonly contexts?: readonly { readonly name: string; readonly context: { readonly cluster: string; readonly user: string } }[];
    readonly clusters?: readonly {
        readonly name: string;
        readonly cluster: {
            readonly server: string;
            readonly "certificate-authority"?: string;
            readonly "certificate-authority-data"?: string;
            readonly "insecure-skip-tls-verify"?: boolean;
        };
    }[];
    readonly users?: readonly {
        readonly name: string;
        readonly user: {
            readonly "client-certificate"?: string;
            readonly "client-certificate-data"?: string;
            readonly "client-key"?: string;
            readonly "client-key-data"?: string;
            readonly token?: string;
            readonly tokenFile?: string;
            readonly exec?: unknown;
        };
    }[];
}

/** `--kubeconfig`, else the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(): string {
    const fromEnv = process.env.KUBECONFIG?.split(path.delimiter).find((entry) => entry.length > 0);
    return fromEnv ?? path.join(os.homedir(), ".kube", "config");
}

export function loadKubeconfig(file: string, contextName?: string): KubeConnection {
    if (!fs.existsSync(file)) throw new KubeconfigError(`no kubeconfig at ${file}; pass --kubeconfig <file> or set KUBECONFIG`);
    const config = YAML.parse(fs.readFileSync(file, "utf8")) as KubeconfigFile | null;
    const wanted = contextName ?? config?.["current-context"];
    const context = config?.contexts?.find((entry) => entry.name === wanted);
    if (!context) throw new KubeconfigError(`${file}: no context ${JSON.stringify(wanted ?? "")} (known: ${(config?.contexts ?? []).map((entry) => entry.name).join(", ") || "none"})`);
    const cluster = config?.clusters?.find((entry) => entry.name === context.context.cluster)?.cluster;
    const user = config?.users?.find((entry) => entry.name === context.context.user)?.user;
    if (!cluster) throw new KubeconfigError(`${file}: context ${wanted} names cluster ${context.context.cluster}, which is not defined`);
    if (!user) throw new KubeconfigError(`${file}: context ${wanted} names user ${context.context.user}, which is not defined`);
    if (user.exec !== undefined) {
        throw new KubeconfigError(`${file}: user ${context.context.user} uses an exec credential plugin, which this client does not run; use a kubeconfig with a token or a client certificate`);
    }
    // Relative file references in a kubeconfig are relative to the kubeconfig itself.
    const read = (reference: string | undefined, data: string | undefined): Buffer | undefined =>
        data !== undefined ? Buffer.from(data, "base64") : reference !== undefined ? fs.readFileSync(path.resolve(path.dirname(file), reference)) : undefined;
    return {
        server: cluster.server.replace(/\/+$/, ""),
        ca: read(cluster["certificate-authority"], cluster["certificate-authority-data"]),
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] ?? false,
        cert: read(user["client-certificate"], user["client-certificate-data"]),
        key: read(user["client-key"], user["client-key-data"]),
        token: user.token ?? (user.tokenFile ? fs.readFileSync(path.resolve(path.dirname(file), user.tokenFile), "utf8").trim() : undefined),
    };
}

/** A Kubernetes object as the API returns it. */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
        readonly [key: string]: unknown;
    };
    readonly [key: string]: unknown;
}

/** The `Status` body of a failed request (meta/v1). */
export interface KubeStatus {
    readonly kind?: string;
    readonly status?: string;
    readonly message?: string;
    readonly reason?: string;
    readonly code?: number;
    readonly details?: { readonly causes?: readonly { readonly message?: string; readonly field?: string }[] };
}

export interface KubeResponse {
    readonly status: number;
    readonly body: unknown;
    readonly text: string;
    /** `Warning` headers (PSA warn mode, deprecated APIs, Kyverno audit). */
    readonly warnings: readonly string[];
}

export class KubeApiError extends Error {
    constructor(
        readonly method: string,
        readonly path: string,
        readonly response: KubeResponse,
    ) {
        super(`${method} ${path}: HTTP ${response.status}: ${statusMessage(response)}`);
    }
    get statusBody(): KubeStatus {
        return (typeof this.response.body === "object" && this.response.body !== null ? this.response.body : {}) as KubeStatus;
    }
}

export function statusMessage(response: KubeResponse): string {
    const body = response.body as KubeStatus | null;
    return typeof body === "object" && body !== null && typeof body.message === "string" ? body.message : response.text.slice(0, 500);
}

/** Where a resource lives in the API, from discovery. */
export interface ResourceInfo {
    readonly plural: string;
    readonly namespaced: boolean;
}

export interface WriteOptions {
    /** `dryRun=All`: every admission step runs, webhooks included, and nothing is persisted. */
    readonly dryRun?: boolean;
}

export const FIELD_MANAGER = "agent-security";

export class KubeClient {
    private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
    private readonly agent: https.Agent;

    constructor(readonly connection: KubeConnection) {
        this.agent = new https.Agent({
            ca: connection.ca,
            cert: connection.cert,
            key: connection.key,
            rejectUnauthorized: !connection.insecureSkipTlsVerify,
            keepAlive: true,
        });
    }

    static fromKubeconfig(file: string, context?: string): KubeClient {
        return new KubeClient(loadKubeconfig(file, context));
    }

    /** Closes kept-alive sockets, so a process that used the client can exit promptly. */
    close(): void {
        this.agent.destroy();
    }

    /** One HTTP request; never throws on an HTTP error status (see `ok`). */
    request(method: string, requestPath: string, body?: unknown, contentType = "application/json", timeoutMs = 30_000): Promise<KubeResponse> {
        const url = new URL(this.connection.server + requestPath);
        const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        const headers: Record<string, string> = { Accept: "application/json" };
        if (payload !== undefined) {
            headers["Content-Type"] = contentType;
            headers["Content-Length"] = String(Buffer.byteLength(payload));
        }
        if (this.connection.token) headers.Authorization = `Bearer ${this.connection.token}`;
        return new Promise((resolve, reject) => {
            const request = https.request(url, { method, headers, agent: this.agent, timeout: timeoutMs }, (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: unknown = text;
                    try {
                        parsed = text.length > 0 ? JSON.parse(text) : undefined;
                    } catch {
                        // Non-JSON bodies (plain-text /readyz) stay text.
                    }
                    const warningHeader = response.headers.warning;
                    const warnings = (Array.isArray(warningHeader) ? warningHeader : warningHeader ? [warningHeader] : []).map((warning) =>
                        warning.replace(/^299 - "?/, "").replace(/"$/, ""),
                    );
                    resolve({ status: response.statusCode ?? 0, body: parsed, text, warnings });
                });
                response.on("error", reject);
            });
            request.on("timeout", () => request.destroy(new Error(`${method} ${requestPath}: no answer within ${timeoutMs} ms`)));
            request.on("error", reject);
            if (payload !== undefined) request.write(payload);
            request.end();
        });
    }

    /** Like `request`, but an HTTP status outside 2xx throws KubeApiError. */
    async ok(method: string, requestPath: string, body?: unknown, contentType?: string): Promise<unknown> {
        const response = await this.request(method, requestPath, body, contentType);
        if (response.status < 200 || response.status >= 300) throw new KubeApiError(method, requestPath, response);
        return response.body;
    }

    /** Plural and scope of a kind, from the API's discovery document (cached per group/version). */
    async resourceInfo(apiVersion: string, kind: string): Promise<ResourceInfo> {
        let resources = this.discovery.get(apiVersion);
        if (!resources) {
            const discoveryPath = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
            resources = this.ok("GET", discoveryPath).then((document) => {
                const byKind = new Map<string, ResourceInfo>();
                for (const resource of (document as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? []) {
                    if (resource.name.includes("/")) continue;
                    byKind.set(resource.kind, { plural: resource.name, namespaced: resource.namespaced });
                }
                return byKind;
            });
            // A failed lookup (CRD not yet established) must not poison the cache.
            resources.catch(() => this.discovery.delete(apiVersion));
            this.discovery.set(apiVersion, resources);
        }
        const info = (await resources).get(kind);
        if (!info) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
        return info;
    }

    /** Forget discovery, e.g. after installing CRDs. */
    forgetDiscovery(): void {
        this.discovery.clear();
    }

    /** The collection path of a kind (namespace ignored for cluster-scoped kinds), or one object's path when `name` is given. */
    async pathOf(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
        const info = await this.resourceInfo(apiVersion, kind);
        const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const scoped = info.namespaced ? `${base}/namespaces/${encodeURIComponent(namespace ?? "default")}/${info.plural}` : `${base}/${info.plural}`;
        return name === undefined ? scoped : `${scoped}/${encodeURIComponent(name)}`;
    }

    /** Server-side apply (`force=true`): what `pulumi up` and `kubectl apply --server-side` send. */
    async apply(manifest: KubeObject, options: WriteOptions & { readonly fieldManager?: string } = {}): Promise<KubeObject> {
        const target = await this.pathOf(manifest.apiVersion, manifest.kind, manifest.metadata.namespace, manifest.metadata.name);
        const query = new URLSearchParams({ fieldManager: options.fieldManager ?? FIELD_MANAGER, force: "true" });
        if (options.dryRun) query.set("dryRun", "All");
        return (await this.ok("PATCH", `${target}?${query}`, manifest, "application/apply-patch+yaml")) as KubeObject;
    }

    /** POST to the collection; `dryRun` runs admission without persisting. Returns the raw response. */
    async create(manifest: KubeObject, options: WriteOptions = {}): Promise<KubeResponse> {
        const target = await this.pathOf(manifest.apiVersion, manifest.kind, manifest.metadata.namespace);
        const query = new URLSearchParams({ fieldManager: FIELD_MANAGER });
        if (options.dryRun) query.set("dryRun", "All");
        return this.request("POST", `${target}?${query}`, manifest);
    }

    /** Merge-patches the status subresource: how a test plays a controller. */
    async patchStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Record<string, unknown>): Promise<KubeObject> {
        const target = await this.pathOf(apiVersion, kind, namespace, name);
        return (await this.ok("PATCH", `${target}/status`, { status }, "application/merge-patch+json")) as KubeObject;
    }

    /** The object, or undefined when the server says 404. */
    async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
        const target = await this.pathOf(apiVersion, kind, namespace, name);
        const response = await this.request("GET", target);
        if (response.status === 404) return undefined;
        if (response.status !== 200) throw new KubeApiError("GET", target, response);
        return response.body as KubeObject;
    }

    async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
        const target = await this.pathOf(apiVersion, kind, namespace);
        const query = labelSelector ? `?${new URLSearchParams({ labelSelector })}` : "";
        const body = (await this.ok("GET", `${target}${query}`)) as { items?: KubeObject[] };
        return (body.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
    }

    /**
     * Deletes with background propagation (the object goes at once; dependents are collected
     * later), so a cluster without the garbage collector does not keep it in foreground deletion.
     * A missing object is not an error.
     */
    async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
        const target = await this.pathOf(apiVersion, kind, namespace, name);
        const response = await this.request("DELETE", target, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
        if (response.status !== 404 && (response.status < 200 || response.status >= 300)) throw new KubeApiError("DELETE", target, response);
    }
}

/**
 * Which admission component refused a request, read from the API server's message (the wording
 * is each plugin's own: staging/src/k8s.io/pod-security-admission/admission/admission.go,
 * plugin/pkg/admission/limitranger, resourcequota, the ValidatingAdmissionPolicy dispatcher and
 * the webhook dispatcher).
 */
export function refusingComponent(status: KubeStatus): string {
    const message = status.message ?? "";
    let match = /ValidatingAdmissionPolicy '([^']+)'/.exec(message);
    if (match) return `ValidatingAdmissionPolicy ${match[1]}`;
    match = /admission webhook "([^"]+)" denied/.exec(message);
    if (match) return `webhook ${match[1]}`;
    match = /failed calling webhook "([^"]+)"/.exec(message);
    if (match) return `webhook ${match[1]} (unreachable)`;
    if (/violates PodSecurity/.test(message)) return "PodSecurity";
    if (/exceeded quota|failed quota/.test(message)) return "ResourceQuota";
    if (/(maximum|minimum) (cpu|memory|ephemeral-storage) usage per (Container|Pod)|must be less than or equal to .* limit/.test(message)) return "LimitRanger";
    if (/error looking up service account|serviceaccount .* not found/.test(message)) return "ServiceAccount";
    if (status.reason === "Invalid") return "schema validation";
    if (status.reason === "Forbidden") return "authorization";
    return status.reason ?? "unknown";
}
