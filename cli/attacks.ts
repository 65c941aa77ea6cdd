// The pods `npm run probe` and the real-API-server tests send at an agent namespace: the stack's
// own agent pod (which must be admitted) and that pod with one baseline control broken (which must
// not be). Pure: each attack is a function of the compliant pod, so one field changes per attack
// and the verdict can only come from the control under test.
import type { KubeObject } from "./kube";

export interface PodSpecLike {
    containers: ContainerLike[];
    initContainers?: ContainerLike[];
    volumes?: Record<string, unknown>[];
    securityContext?: Record<string, unknown>;
    hostNetwork?: boolean;
    [key: string]: unknown;
}

export interface ContainerLike {
    name: string;
    resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
    securityContext?: Record<string, unknown>;
    env?: Record<string, unknown>[];
    volumeMounts?: Record<string, unknown>[];
    [key: string]: unknown;
}

export interface PodManifest extends KubeObject {
    readonly metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpecLike;
}

/** What an attack should meet. */
export type Expectation =
    | { readonly verdict: "refused"; readonly by: readonly string[] }
    /** Admitted, and the admitted object must pass `check` (e.g. LimitRange defaults filled in). */
    | { readonly verdict: "admitted"; readonly check?: (admitted: PodManifest) => string | undefined; readonly note?: string };

export interface Attack {
    readonly id: string;
    /** One line for the report: what was tried. */
    readonly attack: string;
    readonly build: (compliant: PodManifest) => PodManifest;
}

export const PROBE_LABEL = "agent-security.io/probe";

/**
 * A Pod from a workload's pod template, named for the probe. `keepRoleLabel` false drops the agent
 * role label, so the fail-closed policies (which select agent pods) do not decide the verdict of
 * a baseline attack; the fail-closed probes keep it.
 */
export function podFromTemplate(
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpecLike },
    namespace: string,
    name: string,
    options: { readonly keepRoleLabel: boolean; readonly roleLabel: string },
): PodManifest {
    const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), [PROBE_LABEL]: "true" };
    if (!options.keepRoleLabel) delete labels[options.roleLabel];
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels, annotations: { ...(template.metadata?.annotations ?? {}) } },
        spec: structuredClone(template.spec),
    };
}

function edit(pod: PodManifest, change: (spec: PodSpecLike, pod: PodManifest) => void, suffix: string): PodManifest {
    const copy = structuredClone(pod);
    copy.metadata.name = `${pod.metadata.name}-${suffix}`.slice(0, 63);
    change(copy.spec, copy);
    return copy;
}

const first = (spec: PodSpecLike): ContainerLike => {
    const container = spec.containers[0];
    if (!container) throw new Error("the pod template has no container");
    return container;
};

function parseCpuMillis(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

/** The baseline attacks on a pod, one broken control each (design.md sections 2 and 8). */
export function baselineAttacks(context: { readonly limitMaxCpu?: string; readonly quotaCpu?: string }): Attack[] {
    const attacks: Attack[] = [
        {
            id: "privileged",
            attack: "privileged container",
            build: (pod) =>
                edit(pod, (spec) => {
                    // privileged with allowPrivilegeEscalation false is a validation error, which would
                    // hide admission; a privileged container escalates anyway.
                    first(spec).securityContext = { ...first(spec).securityContext, privileged: true, allowPrivilegeEscalation: true };
                }, "privileged"),
        },
        {
            id: "root",
            attack: "container running as root (runAsUser 0)",
            build: (pod) =>
                edit(pod, (spec) => {
                    spec.securityContext = { ...spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
                    for (const container of spec.containers) container.securityContext = { ...container.securityContext, runAsNonRoot: false, runAsUser: 0 };
                }, "root"),
        },
        {
            id: "host-path",
            attack: "hostPath volume of the node's /etc",
            build: (pod) =>
                edit(pod, (spec) => {
                    spec.volumes = [...(spec.volumes ?? []), { name: "node-etc", hostPath: { path: "/etc", type: "Directory" } }];
                    first(spec).volumeMounts = [...(first(spec).volumeMounts ?? []), { name: "node-etc", mountPath: "/host-etc", readOnly: true }];
                }, "hostpath"),
        },
        {
            id: "host-network",
            attack: "hostNetwork: true",
            build: (pod) => edit(pod, (spec) => void (spec.hostNetwork = true), "hostnet"),
        },
        {
            id: "capability",
            attack: "added capability SYS_ADMIN",
            build: (pod) =>
                edit(pod, (spec) => {
                    first(spec).securityContext = { ...first(spec).securityContext, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } };
                }, "sysadmin"),
        },
        {
            id: "secret-env",
            attack: "secret in an environment variable (secretKeyRef)",
            build: (pod) =>
                edit(pod, (spec) => {
                    first(spec).env = [...(first(spec).env ?? []), { name: "API_KEY", valueFrom: { secretKeyRef: { name: "any-secret", key: "api-key" } } }];
                }, "secretenv"),
        },
        {
            id: "no-limits",
            attack: "containers without resource limits",
            build: (pod) =>
                edit(pod, (spec) => {
                    for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) delete container.resources;
                }, "nolimits"),
        },
    ];
    if (context.limitMaxCpu) {
        const over = `${parseCpuMillis(context.limitMaxCpu) + 1000}m`;
        attacks.push({
            id: "over-limit",
            attack: `container cpu limit ${over}, above the namespace LimitRange max ${context.limitMaxCpu}`,
            build: (pod) =>
                edit(pod, (spec) => {
                    first(spec).resources = { limits: { cpu: over, memory: "128Mi" }, requests: { cpu: "100m", memory: "128Mi" } };
                }, "overlimit"),
        });
    }
    if (context.limitMaxCpu && context.quotaCpu) {
        // Containers each within the LimitRange max, together above the namespace quota: only the
        // ResourceQuota can refuse this pod.
        const perContainer = parseCpuMillis(context.limitMaxCpu);
        const count = Math.floor(parseCpuMillis(context.quotaCpu) / perContainer) + 1;
        attacks.push({
            id: "over-quota",
            attack: `${count} containers of ${context.limitMaxCpu} cpu, above the namespace quota ${context.quotaCpu}`,
            build: (pod) =>
                edit(pod, (spec) => {
                    const template = first(spec);
                    spec.containers = Array.from({ length: count }, (_unused, index) => ({
                        ...structuredClone(template),
                        name: `burn-${index}`,
                        resources: { limits: { cpu: `${perContainer}m`, memory: "64Mi" }, requests: { cpu: `${perContainer}m`, memory: "64Mi" } },
                    }));
                }, "overquota"),
        });
    }
    return attacks;
}

/** Every app and init container of the admitted pod has cpu and memory limits. */
export function everyContainerLimited(pod: PodManifest): string | undefined {
    const unlimited = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].filter(
        (container) => !container.resources?.limits?.cpu || !container.resources.limits.memory,
    );
    return unlimited.length === 0 ? undefined : `admitted without limits on ${unlimited.map((container) => container.name).join(", ")}`;
}
