// Pure builders of hardened containers and pod specs (design.md sections 2 and 8). Every agent pod
// and every sidecar goes through these, so one change here moves the whole fleet, and the tests
// exercise them without Pulumi.
import { createHash } from "crypto";
import type { Platform } from "../wellKnown";
import type {
    AppArmorProfile,
    Container,
    ContainerPort,
    ContainerSecurityContext,
    EnvVar,
    PodSecurityContext,
    PodSpec,
    Quantities,
    ResourceRequirements,
    Volume,
    VolumeMount,
} from "./types";
import { SECRETS_DIR } from "../../config/wellKnown";

/**
 * UID/GID for agent pods on plain Kubernetes: the distroless `nonroot` user. Images whose USER is
 * a name (or absent) fail `runAsNonRoot` at start ("image has non-numeric user"), so Kubernetes
 * pods pin a numeric, non-zero identity. OpenShift must not get one: SCC `restricted-v2` assigns
 * the UID (and fsGroup) from the namespace's range and rejects values outside it.
 */
export const KUBERNETES_RUN_AS_ID = 65532;

const RUNTIME_DEFAULT_SECCOMP = { type: "RuntimeDefault" } as const;

/**
 * AppArmor only where the nodes have it. RHCOS (OpenShift) has no AppArmor and the kubelet refuses
 * pods that ask for a profile there ("Cannot enforce AppArmor: AppArmor is not enabled on the
 * host", VictoriaMetrics/operator#1120); SELinux under SCC restricted-v2 takes that role. The field
 * (not the deprecated `container.apparmor.security.beta.kubernetes.io/*` annotation) is GA since
 * Kubernetes 1.30.
 */
export function appArmorProfile(platform: Platform): AppArmorProfile | undefined {
    return platform === "kubernetes" ? { type: "RuntimeDefault" } : undefined;
}

/** The container securityContext every container of an agent pod carries, sidecars included. */
export function containerSecurityContext(platform: Platform): ContainerSecurityContext {
    const profile = appArmorProfile(platform);
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP },
        ...(profile ? { appArmorProfile: profile } : {}),
    };
}

/**
 * Pod-level securityContext. On Kubernetes the fsGroup is not decoration: the kubelet hands secret
 * and projected files to root:fsGroup and adds group read, so without it a 0400 secret file would
 * be unreadable by the non-root agent.
 */
export function podSecurityContext(platform: Platform): PodSecurityContext {
    const profile = appArmorProfile(platform);
    const base: PodSecurityContext = {
        runAsNonRoot: true,
        seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP },
        ...(profile ? { appArmorProfile: profile } : {}),
    };
    if (platform === "openshift") return base;
    return { ...base, runAsUser: KUBERNETES_RUN_AS_ID, runAsGroup: KUBERNETES_RUN_AS_ID, fsGroup: KUBERNETES_RUN_AS_ID };
}

export function resourceRequirements(requests: Quantities, limits: Quantities): ResourceRequirements {
    return { requests: { ...requests }, limits: { ...limits } };
}

export interface ContainerInput {
    readonly name: string;
    readonly image: string;
    readonly args?: readonly string[];
    readonly ports?: readonly ContainerPort[];
    readonly env?: readonly EnvVar[];
    readonly volumeMounts?: readonly VolumeMount[];
    readonly resources: ResourceRequirements;
}

/** A container with the baseline securityContext; cpu and memory requests and limits are required. */
export function hardenedContainer(platform: Platform, input: ContainerInput): Container {
    for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"] as const) {
            if (!input.resources[kind][resource]) {
                throw new Error(`container ${input.name}: resources.${kind}.${resource} is required by the baseline (baseline-resource-limits)`);
            }
        }
    }
    return {
        name: input.name,
        image: input.image,
        imagePullPolicy: "IfNotPresent",
        ...(input.args && input.args.length > 0 ? { args: [...input.args] } : {}),
        ...(input.ports && input.ports.length > 0 ? { ports: input.ports.map((port) => ({ ...port })) } : {}),
        ...(input.env && input.env.length > 0 ? { env: input.env.map((env) => ({ ...env })) } : {}),
        ...(input.volumeMounts && input.volumeMounts.length > 0 ? { volumeMounts: input.volumeMounts.map((mount) => ({ ...mount })) } : {}),
        resources: resourceRequirements(input.resources.requests, input.resources.limits),
        securityContext: containerSecurityContext(platform),
    };
}

export interface PodSpecInput {
    readonly serviceAccountName: string;
    readonly containers: readonly Container[];
    readonly volumes: readonly Volume[];
    readonly runtimeClassName?: string;
}

/**
 * The hardened pod spec. The API token is not automounted (an agent that needs one gets a
 * projected, audience-bound token instead); service links are off so the agent's environment does
 * not enumerate every Service of its namespace. No host namespaces, hostPath, hostPort or
 * shareProcessNamespace are ever set: the fields are simply absent.
 */
export function hardenedPodSpec(platform: Platform, input: PodSpecInput): PodSpec {
    const names = new Set<string>();
    for (const volume of input.volumes) {
        if (names.has(volume.name)) throw new Error(`volume name ${volume.name} is used twice`);
        names.add(volume.name);
    }
    for (const container of input.containers) {
        for (const mount of container.volumeMounts ?? []) {
            if (!names.has(mount.name)) throw new Error(`container ${container.name} mounts unknown volume ${mount.name}`);
        }
    }
    return {
        serviceAccountName: input.serviceAccountName,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: podSecurityContext(platform),
        ...(input.runtimeClassName ? { runtimeClassName: input.runtimeClassName } : {}),
        containers: input.containers.map((container) => ({ ...container })),
        volumes: input.volumes.map((volume) => ({ ...volume })),
    };
}

// ---------------------------------------------------------------------------------------------
// Volumes
// ---------------------------------------------------------------------------------------------

const DNS_LABEL_MAX = 63;

/** A DNS-label volume name from a prefix and free text; long names keep a hash so they stay unique. */
export function volumeName(prefix: string, raw: string): string {
    const slug = raw
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    const full = slug ? `${prefix}-${slug}` : prefix;
    if (full.length <= DNS_LABEL_MAX) return full;
    const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
    return `${full.slice(0, DNS_LABEL_MAX - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** Size of each writable emptyDir: bounded so a runaway agent cannot fill the node's disk. */
export const WRITABLE_DIR_SIZE = "1Gi";

export interface MountedVolumes {
    readonly volumes: Volume[];
    readonly mounts: VolumeMount[];
}

/** One emptyDir per writable path: the only writable places once the root filesystem is read-only. */
export function writableVolumes(paths: readonly string[]): MountedVolumes {
    const unique = [...new Set(paths)];
    const volumes: Volume[] = [];
    const mounts: VolumeMount[] = [];
    const seen = new Set<string>();
    for (const path of unique) {
        let name = volumeName("writable", path);
        if (seen.has(name)) name = volumeName("writable", `${path}#${createHash("sha256").update(path).digest("hex")}`);
        seen.add(name);
        volumes.push({ name, emptyDir: { sizeLimit: WRITABLE_DIR_SIZE } });
        mounts.push({ name, mountPath: path, readOnly: false });
    }
    return { volumes, mounts };
}

// The secret directory and its env var are config-layer names (config checks writable paths and
// env against them).
export { SECRETS_DIR, SECRETS_DIR_ENV } from "../../config/wellKnown";
/** 0400: owner read only. Written in octal here; JSON carries it as 256. */
export const SECRET_FILE_MODE = 0o400;

export interface SecretKeyRef {
    readonly name: string;
    readonly key: string;
}

/**
 * Secrets as files only (design.md section 2): one `secret` volume per Secret with every key
 * listed, each file and the default at 0400, mounted read-only at `<SECRETS_DIR>/<secret>/`.
 * Secret volumes are tmpfs on the node already. Never `secretKeyRef` / `envFrom.secretRef`: those
 * land in `/proc/<pid>/environ`.
 */
export function secretFileVolumes(secrets: readonly SecretKeyRef[]): MountedVolumes {
    const bySecret = new Map<string, string[]>();
    for (const secret of secrets) {
        const keys = bySecret.get(secret.name) ?? [];
        if (!keys.includes(secret.key)) keys.push(secret.key);
        bySecret.set(secret.name, keys);
    }
    const volumes: Volume[] = [];
    const mounts: VolumeMount[] = [];
    for (const [secretName, keys] of [...bySecret.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const name = volumeName("secret", secretName);
        volumes.push({
            name,
            secret: {
                secretName,
                defaultMode: SECRET_FILE_MODE,
                items: [...keys].sort().map((key) => ({ key, path: key, mode: SECRET_FILE_MODE })),
                optional: false,
            },
        });
        mounts.push({ name, mountPath: `${SECRETS_DIR}/${secretName}`, readOnly: true });
    }
    return { volumes, mounts };
}

/** The file an agent reads a secret key from. */
export function secretFilePath(secret: SecretKeyRef): string {
    return `${SECRETS_DIR}/${secret.name}/${secret.key}`;
}
