// Compliant fixtures: one hardened pod template wrapped into every pod-bearing kind, and the
// namespace objects that isolate it. Tests clone them and change one field.

import type { Platform } from "../../policy-pack/checks/settings";

export interface Profile {
    type?: string;
    localhostProfile?: string;
}

export interface SecurityContext {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: Profile;
    appArmorProfile?: Profile;
    capabilities?: { add?: string[]; drop?: string[] };
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    procMount?: string;
    seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
    windowsOptions?: { hostProcess?: boolean };
    sysctls?: { name: string; value: string }[];
    fsGroup?: number;
}

export interface Handler {
    httpGet?: { path?: string; port: number | string; host?: string };
    tcpSocket?: { port: number | string; host?: string };
    exec?: { command: string[] };
}

export interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}

export interface Container {
    name: string;
    image?: string;
    securityContext?: SecurityContext;
    resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
    env?: EnvVar[];
    envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
    ports?: { containerPort: number; hostPort?: number }[];
    livenessProbe?: Handler;
    readinessProbe?: Handler;
    startupProbe?: Handler;
    lifecycle?: { postStart?: Handler; preStop?: Handler };
    restartPolicy?: string;
}

export interface KeyToPath {
    key: string;
    path: string;
    mode?: number;
}

export interface Volume {
    name: string;
    secret?: { secretName: string; defaultMode?: number; items?: KeyToPath[] };
    projected?: {
        defaultMode?: number;
        sources: { secret?: { name: string; items?: KeyToPath[] }; configMap?: { name: string }; serviceAccountToken?: { path: string }; downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] } }[];
    };
    emptyDir?: { medium?: string; sizeLimit?: string };
    csi?: { driver: string; readOnly?: boolean };
    hostPath?: { path: string };
    image?: { reference: string; pullPolicy?: string };
    configMap?: { name: string };
    persistentVolumeClaim?: { claimName: string };
    nfs?: { server: string; path: string };
}

export interface PodSpec {
    automountServiceAccountToken?: boolean;
    securityContext?: SecurityContext;
    containers: Container[];
    initContainers?: Container[];
    ephemeralContainers?: Container[];
    volumes?: Volume[];
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    shareProcessNamespace?: boolean;
    runtimeClassName?: string;
    restartPolicy?: string;
    os?: { name: string };
}

export interface Metadata {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface PodTemplate {
    metadata: Metadata;
    spec: PodSpec;
}

export const AGENT_IMAGE = "quay.io/agent-security/currency-agent:1.0.0";
export const HELPER_IMAGE = "ghcr.io/spiffe/spiffe-helper:0.10.0";

export function hardenedContainer(name: string, image: string): Container {
    return {
        name,
        image,
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } },
    };
}

/** The agent pod the program is meant to build: every baseline rule holds, settings at pod level. */
export function hardenedTemplate(platform: Platform = "kubernetes"): PodTemplate {
    const podSecurity: SecurityContext = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
    if (platform === "kubernetes") {
        podSecurity.appArmorProfile = { type: "RuntimeDefault" };
    }
    return {
        metadata: { labels: { app: "currency-agent" } },
        spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurity,
            initContainers: [hardenedContainer("setup", "quay.io/agent-security/setup:1.0.0")],
            containers: [
                {
                    ...hardenedContainer("agent", AGENT_IMAGE),
                    volumeMounts: [
                        { name: "svid", mountPath: "/svid", readOnly: true },
                        { name: "creds", mountPath: "/var/run/secrets/agent", readOnly: true },
                        { name: "bundle", mountPath: "/var/run/secrets/bundle", readOnly: true },
                    ],
                    env: [{ name: "SVID_DIR", value: "/svid" }],
                    ports: [{ containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: "/healthz", port: 8080 } },
                },
                {
                    ...hardenedContainer("spiffe-helper", HELPER_IMAGE),
                    volumeMounts: [
                        { name: "spiffe-socket", mountPath: "/spiffe-workload-api", readOnly: true },
                        { name: "svid", mountPath: "/svid" },
                    ],
                    env: [{ name: "SPIFFE_ENDPOINT_SOCKET", value: "unix:///spiffe-workload-api/spire-agent.sock" }],
                },
            ],
            volumes: [
                { name: "spiffe-socket", csi: { driver: "csi.spiffe.io", readOnly: true } },
                { name: "svid", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                { name: "creds", secret: { secretName: "gemini-api-key", defaultMode: 0o400 } },
                {
                    name: "bundle",
                    projected: { defaultMode: 0o400, sources: [{ secret: { name: "ca-bundle" } }, { configMap: { name: "trust" } }] },
                },
            ],
        },
    };
}

export const POD_KIND_TYPES = {
    Pod: "kubernetes:core/v1:Pod",
    PodTemplate: "kubernetes:core/v1:PodTemplate",
    ReplicationController: "kubernetes:core/v1:ReplicationController",
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
} as const;

export type PodKind = keyof typeof POD_KIND_TYPES;
export const POD_KINDS = Object.keys(POD_KIND_TYPES) as PodKind[];

export function apiVersionOf(type: string): string {
    const groupVersion = type.split(":")[1];
    return groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
}

/** A resource of `kind` whose pod is `template`, as Pulumi inputs (apiVersion and kind included). */
export function wrap(kind: PodKind, template: PodTemplate, meta: Metadata = { name: "currency-agent", namespace: "agents" }): object {
    const type = POD_KIND_TYPES[kind];
    const head = { apiVersion: apiVersionOf(type), kind, metadata: meta };
    const selector = { matchLabels: template.metadata.labels ?? {} };
    switch (kind) {
        case "Pod":
            return { ...head, metadata: { ...template.metadata, ...meta }, spec: template.spec };
        case "PodTemplate":
            return { ...head, template };
        case "ReplicationController":
            return { ...head, spec: { replicas: 1, selector: template.metadata.labels ?? {}, template } };
        case "Deployment":
        case "DaemonSet":
        case "ReplicaSet":
            return { ...head, spec: { selector, template } };
        case "StatefulSet":
            return { ...head, spec: { selector, serviceName: "currency-agent", template } };
        case "Job":
            return { ...head, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } } } };
        case "CronJob":
            return {
                ...head,
                spec: {
                    schedule: "*/5 * * * *",
                    jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "OnFailure" } } } },
                },
            };
    }
}

export function clone<T>(value: T): T {
    return structuredClone(value);
}

export function container(t: PodTemplate, name: string): Container {
    const found = [...t.spec.containers, ...(t.spec.initContainers ?? []), ...(t.spec.ephemeralContainers ?? [])].find((c) => c.name === name);
    if (found === undefined) {
        throw new Error(`fixture has no container ${name}`);
    }
    return found;
}

export function volume(t: PodTemplate, name: string): Volume {
    const found = (t.spec.volumes ?? []).find((v) => v.name === name);
    if (found === undefined) {
        throw new Error(`fixture has no volume ${name}`);
    }
    return found;
}

export function securityContext(c: Container): SecurityContext {
    c.securityContext ??= {};
    return c.securityContext;
}

export function podSecurityContext(t: PodTemplate): SecurityContext {
    t.spec.securityContext ??= {};
    return t.spec.securityContext;
}

/** A hardened ephemeral container (a debug session): no resources, which the API forbids. */
export function ephemeral(name = "debugger"): Container {
    const c = hardenedContainer(name, "quay.io/agent-security/debug:1.0.0");
    delete c.resources;
    return c;
}

export const NAMESPACE = "agents";

/** The objects that make namespace `agents` compliant: PSA restricted, default deny, quotas. */
export function namespaceObjects(namespace = NAMESPACE): { type: string; props: object; name: string }[] {
    return [
        {
            type: "kubernetes:core/v1:Namespace",
            name: `${namespace}-ns`,
            props: {
                apiVersion: "v1",
                kind: "Namespace",
                metadata: {
                    name: namespace,
                    labels: { "pod-security.kubernetes.io/enforce": "restricted", "agent-security.io/agents": "true" },
                },
            },
        },
        {
            type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            name: `${namespace}-default-deny`,
            props: {
                apiVersion: "networking.k8s.io/v1",
                kind: "NetworkPolicy",
                metadata: { name: "default-deny", namespace },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
        },
        {
            type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            name: `${namespace}-allow-dns`,
            props: {
                apiVersion: "networking.k8s.io/v1",
                kind: "NetworkPolicy",
                metadata: { name: "allow-dns", namespace },
                spec: {
                    podSelector: {},
                    policyTypes: ["Egress"],
                    egress: [
                        {
                            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                            ports: [{ protocol: "UDP", port: 53 }],
                        },
                    ],
                },
            },
        },
        {
            type: "kubernetes:core/v1:LimitRange",
            name: `${namespace}-limits`,
            props: {
                apiVersion: "v1",
                kind: "LimitRange",
                metadata: { name: "limits", namespace },
                spec: { limits: [{ type: "Container", default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" } }] },
            },
        },
        {
            type: "kubernetes:core/v1:ResourceQuota",
            name: `${namespace}-quota`,
            props: {
                apiVersion: "v1",
                kind: "ResourceQuota",
                metadata: { name: "quota", namespace },
                spec: { hard: { "limits.cpu": "8", "limits.memory": "16Gi", pods: "20" } },
            },
        },
    ];
}
