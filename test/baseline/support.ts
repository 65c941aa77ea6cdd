// Helpers of the baseline tests: run a stack (or a variant of it) under the mock runtime, pick out
// the resources of the baseline components, and an independent reading of the section 8 rules
// (design.md) for agent pods, written against the manifests rather than against the builders.
import { imageFromRegistry } from "../../config/schema";
import type { RecordedResource, StackRun } from "../../cli/mockRuntime";
import { manifestsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { Manifest } from "../../cli/mockRuntime";

export const NOW = new Date("2026-09-01T00:00:00Z");
export const STACKS = ["dev", "ci", "prod"] as const;
export const PLATFORMS = ["kubernetes", "openshift"] as const;
export type TestPlatform = (typeof PLATFORMS)[number];

type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
function arr(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}
function obj(value: unknown): Obj {
    return isObj(value) ? value : {};
}

/** A stack's real config with keys replaced (a shallow copy, the file is never touched). */
export function stackConfig(stack: string, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    return { ...structuredClone(readStackConfig(stack)), ...overrides };
}

export async function runVariant(stack: string, overrides: Readonly<Record<string, unknown>> = {}): Promise<StackRun> {
    return runStack(stack, stackConfig(stack, overrides), { now: NOW });
}

/**
 * Resources created by the components of issue 4. The mock runtime's URNs do not carry the parent
 * chain, so ownership is read off the Pulumi resource names, which follow `${component}-<role>`:
 * SandboxedAgent is named after the agent, AgentNamespace `ns-<namespace>`, and platform.ts names
 * the others `isolation` and `identity` (OlmOperator children sit under those).
 */
export function ownResources(run: StackRun): RecordedResource[] {
    const prefixes = [
        ...run.config.agents.map((agent) => `${agent.name}-`),
        ...[...new Set(run.config.agents.map((agent) => agent.namespace ?? agent.name))].map((namespace) => `ns-${namespace}-`),
        "isolation-",
        "identity-",
    ];
    return run.resources.filter((resource) => resource.type.startsWith("kubernetes:") && prefixes.some((prefix) => resource.name.startsWith(prefix)));
}

/** Only the agents' and their namespaces' resources (the objects the baseline policies judge). */
export function agentResources(run: StackRun): RecordedResource[] {
    const prefixes = [
        ...run.config.agents.map((agent) => `${agent.name}-`),
        ...[...new Set(run.config.agents.map((agent) => agent.namespace ?? agent.name))].map((namespace) => `ns-${namespace}-`),
    ];
    return run.resources.filter((resource) => prefixes.some((prefix) => resource.name.startsWith(prefix)));
}

export function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
    return manifests.filter((manifest) => manifest.kind === kind);
}

/** The agent Deployments: the pod template carries the agent role label. */
export function agentDeployments(run: StackRun): Manifest[] {
    return ofKind(manifestsOf(run.resources), "Deployment").filter(
        (deployment) => obj(obj(obj(obj(deployment.spec).template).metadata).labels)["agent-security.io/role"] === "agent",
    );
}

export function podSpecOf(deployment: Manifest): Obj {
    return obj(obj(obj(deployment.spec).template).spec);
}

export interface ContainerView {
    readonly list: string;
    readonly name: string;
    readonly spec: Obj;
}

export function containersOf(pod: Obj): ContainerView[] {
    return ["initContainers", "containers", "ephemeralContainers"].flatMap((list) =>
        arr(pod[list]).map((spec) => ({ list, name: String(obj(spec).name), spec: obj(spec) })),
    );
}

/** Every path at which `key` occurs in a JSON value. */
export function pathsOfKey(value: unknown, key: string, at = "$"): string[] {
    if (Array.isArray(value)) return value.flatMap((item, index) => pathsOfKey(item, key, `${at}[${index}]`));
    if (!isObj(value)) return [];
    return Object.entries(value).flatMap(([k, v]) => [...(k === key ? [`${at}.${k}`] : []), ...pathsOfKey(v, key, `${at}.${k}`)]);
}

const ALLOWED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];
const SPIFFE_SIDECARS = ["spiffe-helper", "spire-agent"];

export interface BaselineContext {
    readonly platform: TestPlatform;
    readonly registries: readonly string[];
    /** prod: agent pods must use the Kata runtime class. */
    readonly requireKata: boolean;
}

/**
 * design.md section 8 for one agent pod, read off the manifest: returns one message per broken
 * rule (empty = passes), named by the policy it mirrors.
 */
export function baselineProblems(deployment: Manifest, context: BaselineContext): string[] {
    const problems: string[] = [];
    const fail = (policy: string, message: string) => problems.push(`${policy}: ${deployment.metadata.name}: ${message}`);
    if (deployment.apiVersion !== "apps/v1") fail("baseline-supported-api-versions", deployment.apiVersion);
    const pod = podSpecOf(deployment);
    const podSc = obj(pod.securityContext);
    const containers = containersOf(pod);
    const volumes = arr(pod.volumes).map(obj);
    const mountsOf = (c: ContainerView) => arr(c.spec.volumeMounts).map(obj);

    if (pod.automountServiceAccountToken !== false) fail("platform-policy", "automountServiceAccountToken is not false");
    if (pod.enableServiceLinks !== false) fail("platform-policy", "enableServiceLinks is not false");
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[field] === true) fail("baseline-no-host-namespaces", field);
    if (pod.shareProcessNamespace === true) fail("baseline-no-shared-process-namespace", "shareProcessNamespace");
    if (context.requireKata && pod.runtimeClassName !== "kata") fail("baseline-kata-runtime", `runtimeClassName ${String(pod.runtimeClassName)}`);

    const podSeccomp = obj(podSc.seccompProfile).type;
    if (podSc.runAsNonRoot !== true) fail("baseline-run-as-non-root", "pod runAsNonRoot is not true");
    if (podSc.runAsUser === 0) fail("baseline-run-as-non-root", "pod runAsUser 0");
    if (context.platform === "openshift") {
        for (const field of ["runAsUser", "runAsGroup", "fsGroup"]) {
            for (const path of pathsOfKey(pod, field)) fail("openshift-uids", `hard-coded ${path}`);
        }
        for (const path of pathsOfKey(deployment, "appArmorProfile")) fail("baseline-apparmor", `AppArmor field on OpenShift at ${path}`);
        const annotations = JSON.stringify(obj(obj(obj(deployment.spec).template).metadata).annotations ?? {});
        if (annotations.includes("apparmor")) fail("baseline-apparmor", "AppArmor annotation on OpenShift");
    } else {
        if (typeof podSc.runAsUser !== "number" || podSc.runAsUser === 0) fail("kubernetes-uids", "pod runAsUser is not a non-zero number");
        if (obj(podSc.appArmorProfile).type !== "RuntimeDefault") fail("baseline-apparmor", "pod appArmorProfile is not RuntimeDefault");
    }

    const volumeByName = new Map(volumes.map((volume) => [String(volume.name), volume]));
    for (const volume of volumes) {
        const types = Object.keys(volume).filter((key) => key !== "name");
        if (types.length !== 1 || !ALLOWED_VOLUME_TYPES.includes(types[0] ?? "")) fail("baseline-volume-types", `volume ${String(volume.name)}: ${types.join(",")}`);
        if (isObj(volume.secret)) {
            if (volume.secret.defaultMode !== 0o400) fail("baseline-secret-file-mode", `volume ${String(volume.name)} defaultMode ${String(volume.secret.defaultMode)}`);
            const items = arr(volume.secret.items).map(obj);
            if (items.length === 0) fail("baseline-secret-file-mode", `volume ${String(volume.name)} lists no items`);
            for (const item of items) if (item.mode !== 0o400) fail("baseline-secret-file-mode", `volume ${String(volume.name)} key ${String(item.key)} mode ${String(item.mode)}`);
        }
    }

    for (const c of containers) {
        const sc = obj(c.spec.securityContext);
        const where = `${c.list}/${c.name}`;
        const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
        if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") fail("baseline-seccomp", `${where}: ${String(seccomp)}`);
        const caps = obj(sc.capabilities);
        if (JSON.stringify(caps.drop) !== JSON.stringify(["ALL"])) fail("baseline-capabilities", `${where}: drop ${JSON.stringify(caps.drop)}`);
        if (arr(caps.add).some((cap) => cap !== "NET_BIND_SERVICE")) fail("baseline-capabilities", `${where}: add ${JSON.stringify(caps.add)}`);
        if (sc.readOnlyRootFilesystem !== true) fail("baseline-read-only-root-filesystem", where);
        if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) fail("baseline-run-as-non-root", where);
        if (sc.runAsUser === 0) fail("baseline-run-as-non-root", `${where}: runAsUser 0`);
        if (sc.allowPrivilegeEscalation !== false) fail("baseline-no-privilege-escalation", where);
        if (sc.privileged === true) fail("baseline-no-privileged", where);
        if (sc.procMount !== undefined && sc.procMount !== "Default") fail("baseline-proc-mount", where);
        if (context.platform === "kubernetes" && obj(sc.appArmorProfile).type !== "RuntimeDefault") fail("baseline-apparmor", `${where}: appArmorProfile`);
        for (const port of arr(c.spec.ports).map(obj)) if (port.hostPort !== undefined) fail("baseline-no-host-ports", where);
        for (const env of arr(c.spec.env).map(obj)) {
            if (isObj(obj(env.valueFrom).secretKeyRef)) fail("baseline-no-secret-env", `${where}: ${String(env.name)}`);
            if (env.name === "SPIFFE_ENDPOINT_SOCKET" && !SPIFFE_SIDECARS.includes(c.name)) fail("baseline-spiffe-socket-isolation", `${where} sets SPIFFE_ENDPOINT_SOCKET`);
        }
        for (const source of arr(c.spec.envFrom).map(obj)) if (isObj(source.secretRef)) fail("baseline-no-secret-env", `${where}: envFrom.secretRef`);
        const resources = obj(c.spec.resources);
        for (const kind of ["requests", "limits"]) {
            for (const resource of ["cpu", "memory"]) {
                if (typeof obj(resources[kind])[resource] !== "string") fail("baseline-resource-limits", `${where}: ${kind}.${resource}`);
            }
        }
        const image = String(c.spec.image);
        if (!context.registries.some((registry) => imageFromRegistry(image, registry))) fail("baseline-approved-registries", `${where}: ${image}`);
        for (const mount of mountsOf(c)) {
            const volume = volumeByName.get(String(mount.name));
            if (volume === undefined) {
                fail("pod-spec", `${where} mounts unknown volume ${String(mount.name)}`);
                continue;
            }
            const socket = obj(volume.csi).driver === "csi.spiffe.io" || String(mount.mountPath).includes("agent-sockets");
            if (socket && !SPIFFE_SIDECARS.includes(c.name)) fail("baseline-spiffe-socket-isolation", `${where} mounts ${String(mount.name)}`);
            if (isObj(volume.secret) && mount.readOnly !== true) fail("baseline-secret-file-mode", `${where} mounts secret ${String(mount.name)} writable`);
        }
    }

    // emptyDirs shared between a SPIFFE sidecar and any other container are tmpfs.
    for (const volume of volumes.filter((v) => isObj(v.emptyDir))) {
        const users = containers.filter((c) => mountsOf(c).some((mount) => mount.name === volume.name));
        if (users.some((c) => SPIFFE_SIDECARS.includes(c.name)) && users.some((c) => !SPIFFE_SIDECARS.includes(c.name))) {
            if (obj(volume.emptyDir).medium !== "Memory") fail("baseline-secret-file-mode", `emptyDir ${String(volume.name)} shared with the sidecar is not Memory`);
            const writers = users.filter((c) => !SPIFFE_SIDECARS.includes(c.name) && mountsOf(c).some((m) => m.name === volume.name && m.readOnly !== true));
            if (writers.length > 0) fail("spiffe-svid-read-only", `${writers.map((c) => c.name).join(",")} mounts the SVID directory writable`);
        }
    }
    return problems;
}
