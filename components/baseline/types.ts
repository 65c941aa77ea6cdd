// Plain (never Output) shapes of the core/v1 fields the baseline builds. The policy pack reads
// these fields at preview; an Output anywhere in them would downgrade its verdict to advisory
// (design.md section 8), so the builders only ever produce literal values.
//
// Arrays are mutable on purpose: the Pulumi input types take `Input<T>[]`, which a readonly array
// does not satisfy.

export type Quantities = { cpu: string; memory: string };

export interface ResourceRequirements {
    requests: Quantities;
    limits: Quantities;
}

export interface SeccompProfile {
    type: "RuntimeDefault" | "Localhost";
    localhostProfile?: string;
}

export interface AppArmorProfile {
    type: "RuntimeDefault" | "Localhost";
    localhostProfile?: string;
}

export interface ContainerSecurityContext {
    allowPrivilegeEscalation: false;
    privileged: false;
    readOnlyRootFilesystem: true;
    runAsNonRoot: true;
    capabilities: { drop: ["ALL"] };
    seccompProfile: SeccompProfile;
    appArmorProfile?: AppArmorProfile;
}

export interface PodSecurityContext {
    runAsNonRoot: true;
    seccompProfile: SeccompProfile;
    appArmorProfile?: AppArmorProfile;
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
}

export interface EnvVar {
    name: string;
    value: string;
}

export interface VolumeMount {
    name: string;
    mountPath: string;
    readOnly: boolean;
}

export interface ContainerPort {
    name: string;
    containerPort: number;
    protocol: "TCP";
}

export interface Container {
    name: string;
    image: string;
    args?: string[];
    ports?: ContainerPort[];
    env?: EnvVar[];
    volumeMounts?: VolumeMount[];
    resources: ResourceRequirements;
    securityContext: ContainerSecurityContext;
    imagePullPolicy?: "IfNotPresent" | "Always";
}

export interface KeyToPath {
    key: string;
    path: string;
    mode: number;
}

export interface Volume {
    name: string;
    emptyDir?: { medium?: "Memory"; sizeLimit: string };
    secret?: { secretName: string; defaultMode: number; items: KeyToPath[]; optional: false };
    configMap?: { name: string; defaultMode: number; items?: KeyToPath[]; optional?: boolean };
    csi?: { driver: string; readOnly: true };
    projected?: {
        defaultMode: number;
        sources: { serviceAccountToken: { audience: string; expirationSeconds: number; path: string } }[];
    };
}

export interface PodSpec {
    serviceAccountName: string;
    automountServiceAccountToken: false;
    enableServiceLinks: false;
    securityContext: PodSecurityContext;
    runtimeClassName?: string;
    containers: Container[];
    volumes: Volume[];
    terminationGracePeriodSeconds?: number;
}
