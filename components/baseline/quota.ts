// LimitRange and ResourceQuota sizing for an agent namespace (design.md section 6, baseline).
// Pure arithmetic, property-tested: the quota must admit every pod the namespace is meant to run,
// sidecars and rolling updates included, and nothing much beyond.
import { SPIFFE_HELPER_RESOURCES, SPIRE_AGENT_RESOURCES } from "./spiffe";

const MI = 2 ** 20;

/** Parse the sidecar quantities this module itself writes ("250m", "64Mi"). */
function millis(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}
function bytes(quantity: string): number {
    const match = /^([0-9]+)(Mi|Gi)$/.exec(quantity);
    if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
    return Number(match[1]) * (match[2] === "Gi" ? 1024 * MI : MI);
}

export interface Envelope {
    readonly cpuMillis: number;
    readonly memoryBytes: number;
}

/**
 * Limits of the Istio sidecar the mesh injects: istiod chart `global.proxy.resources.limits`
 * (2000m / 1024Mi in istio 1.30.3 `manifests/charts/istio-control/istio-discovery/values.yaml`).
 * If the mesh component lowers them, the quota only gets roomier.
 */
export const ISTIO_PROXY_LIMITS: Envelope = { cpuMillis: 2000, memoryBytes: 1024 * MI };

/**
 * Pod overhead of the `kata` RuntimeClass, which ResourceQuota counts on top of the containers:
 * OSC creates it with `overhead.podFixed {cpu: 250m, memory: 350Mi}` (upstream-apis.md 2.1);
 * kata-deploy's defaults are not larger. (unverified for every kata-deploy shim)
 */
export const KATA_POD_OVERHEAD: Envelope = { cpuMillis: 250, memoryBytes: 350 * MI };

/** Pods a Deployment may run above `replicas` during a rollout: SandboxedAgent sets maxSurge 1. */
export const ROLLOUT_SURGE = 1;

export const LIMIT_RANGE_DEFAULT = { cpu: "500m", memory: "512Mi" } as const;
export const LIMIT_RANGE_DEFAULT_REQUEST = { cpu: "100m", memory: "128Mi" } as const;

export interface QuotaWorkload {
    readonly name: string;
    readonly replicas: number;
    /** The agent container's limit (its request is the same). */
    readonly cpuMillis: number;
    readonly memoryBytes: number;
}

export interface QuotaInput {
    readonly workloads: readonly QuotaWorkload[];
    readonly mesh: boolean;
    readonly kata: boolean;
}

/** Sidecar containers every agent pod carries, by their limits. */
export function sidecarLimits(options: { readonly mesh: boolean; readonly kata: boolean }): Envelope[] {
    const out: Envelope[] = [
        { cpuMillis: millis(SPIFFE_HELPER_RESOURCES.limits.cpu), memoryBytes: bytes(SPIFFE_HELPER_RESOURCES.limits.memory) },
    ];
    if (options.kata) out.push({ cpuMillis: millis(SPIRE_AGENT_RESOURCES.limits.cpu), memoryBytes: bytes(SPIRE_AGENT_RESOURCES.limits.memory) });
    if (options.mesh) out.push(ISTIO_PROXY_LIMITS);
    return out;
}

/** What one pod of a workload counts against the quota: agent + sidecars (+ Kata overhead). */
export function podEnvelope(workload: QuotaWorkload, options: { readonly mesh: boolean; readonly kata: boolean }): Envelope {
    const parts: Envelope[] = [{ cpuMillis: workload.cpuMillis, memoryBytes: workload.memoryBytes }, ...sidecarLimits(options)];
    if (options.kata) parts.push(KATA_POD_OVERHEAD);
    return {
        cpuMillis: parts.reduce((sum, part) => sum + part.cpuMillis, 0),
        memoryBytes: parts.reduce((sum, part) => sum + part.memoryBytes, 0),
    };
}

export interface NamespaceQuota {
    readonly cpuMillis: number;
    readonly memoryBytes: number;
    readonly pods: number;
}

/**
 * The quota formula: for every agent, (replicas + ROLLOUT_SURGE) x (agent + spiffe-helper
 * [+ spire-agent + Kata overhead] [+ istio-proxy]) limits, summed over the namespace; memory
 * rounded up to whole Mi. `requests.*` use the same figures (every container requests at most its
 * limit). `pods` = sum of (replicas + ROLLOUT_SURGE).
 */
export function namespaceQuota(input: QuotaInput): NamespaceQuota {
    let cpuMillis = 0;
    let memoryBytes = 0;
    let pods = 0;
    for (const workload of input.workloads) {
        const pod = podEnvelope(workload, input);
        const count = workload.replicas + ROLLOUT_SURGE;
        cpuMillis += pod.cpuMillis * count;
        memoryBytes += pod.memoryBytes * count;
        pods += count;
    }
    return { cpuMillis: Math.ceil(cpuMillis), memoryBytes: Math.ceil(memoryBytes / MI) * MI, pods };
}

// Config bounds every agent (config/quantities.ts), so these sums stay exact integers; the
// assertions keep a quantity like `2.097152e+26Mi` (not a Kubernetes quantity) from ever rendering.
export function cpuQuantity(millisValue: number): string {
    const millicores = Math.ceil(millisValue);
    if (!Number.isSafeInteger(millicores) || millicores < 0) throw new Error(`cpu ${millisValue}m is not a quantity the quota can render exactly`);
    return `${millicores}m`;
}
export function memoryQuantity(bytesValue: number): string {
    const mebibytes = Math.ceil(bytesValue / MI);
    if (!Number.isSafeInteger(mebibytes) || mebibytes < 0) throw new Error(`memory ${bytesValue} bytes is not a quantity the quota can render exactly`);
    return `${mebibytes}Mi`;
}

export interface ResourceQuotaSpec {
    hard: Record<string, string>;
}

export function resourceQuotaSpec(input: QuotaInput): ResourceQuotaSpec {
    const quota = namespaceQuota(input);
    const cpu = cpuQuantity(quota.cpuMillis);
    const memory = memoryQuantity(quota.memoryBytes);
    return {
        hard: {
            "limits.cpu": cpu,
            "limits.memory": memory,
            "requests.cpu": cpu,
            "requests.memory": memory,
            pods: String(quota.pods),
        },
    };
}

export interface LimitRangeSpec {
    limits: {
        type: "Container";
        default: { cpu: string; memory: string };
        defaultRequest: { cpu: string; memory: string };
        max: { cpu: string; memory: string };
    }[];
}

/**
 * Container defaults for anything that arrives without resources, and a per-container ceiling:
 * the largest container the namespace legitimately runs (an agent, or the injected istio-proxy),
 * never below the default (the API server rejects default > max).
 */
export function limitRangeSpec(input: QuotaInput): LimitRangeSpec {
    const containers: Envelope[] = [
        ...input.workloads.map((workload) => ({ cpuMillis: workload.cpuMillis, memoryBytes: workload.memoryBytes })),
        ...sidecarLimits(input),
        { cpuMillis: millis(LIMIT_RANGE_DEFAULT.cpu), memoryBytes: bytes(LIMIT_RANGE_DEFAULT.memory) },
    ];
    const maxCpu = Math.max(...containers.map((container) => container.cpuMillis));
    const maxMemory = Math.max(...containers.map((container) => container.memoryBytes));
    return {
        limits: [
            {
                type: "Container",
                default: { ...LIMIT_RANGE_DEFAULT },
                defaultRequest: { ...LIMIT_RANGE_DEFAULT_REQUEST },
                max: { cpu: cpuQuantity(maxCpu), memory: memoryQuantity(maxMemory) },
            },
        ],
    };
}
