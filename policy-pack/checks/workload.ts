// The one pod-spec extractor: every workload rule reads pods through `workloadOf`, so a kind, a
// container list or a Patch variant added here is covered by every rule at once.

import { asArr, asObj, asStr, get, Obj } from "./values";

export type ContainerList = "containers" | "initContainers" | "ephemeralContainers";

export const CONTAINER_LISTS: readonly ContainerList[] = ["containers", "initContainers", "ephemeralContainers"];

interface PodKind {
    /** API groups that ever served the kind ("core" is the Pulumi spelling of the legacy group). */
    readonly groups: readonly string[];
    /** The one apiVersion the baseline accepts. */
    readonly current: string;
    /** Path from the resource to the pod template (metadata + spec); [] for Pod itself. */
    readonly template: readonly string[];
}

const TEMPLATE = ["spec", "template"] as const;

export const POD_KINDS: Readonly<Record<string, PodKind>> = {
    Pod: { groups: ["core"], current: "v1", template: [] },
    PodTemplate: { groups: ["core"], current: "v1", template: ["template"] },
    ReplicationController: { groups: ["core"], current: "v1", template: TEMPLATE },
    Deployment: { groups: ["apps", "extensions"], current: "apps/v1", template: TEMPLATE },
    StatefulSet: { groups: ["apps"], current: "apps/v1", template: TEMPLATE },
    DaemonSet: { groups: ["apps", "extensions"], current: "apps/v1", template: TEMPLATE },
    ReplicaSet: { groups: ["apps", "extensions"], current: "apps/v1", template: TEMPLATE },
    Job: { groups: ["batch"], current: "batch/v1", template: TEMPLATE },
    CronJob: { groups: ["batch"], current: "batch/v1", template: ["spec", "jobTemplate", "spec", "template"] },
};

export interface ResourceType {
    readonly group: string;
    readonly version: string;
    /** Kubernetes apiVersion: `v1` for the core group, `group/version` otherwise. */
    readonly apiVersion: string;
    /** The Kubernetes kind, without the Pulumi `Patch` suffix. */
    readonly kind: string;
    /** True for Pulumi `*Patch` resources (server-side apply of a partial object). */
    readonly patch: boolean;
}

const TOKEN = /^kubernetes:([^:/]+)\/([^:/]+):([A-Za-z0-9]+)$/;

// A stack has a few dozen distinct types and every policy asks about every resource.
const parsedTypes = new Map<string, ResourceType | undefined>();

/** Parses a Pulumi Kubernetes type token such as `kubernetes:apps/v1:DeploymentPatch`. */
export function parseResourceType(type: string): ResourceType | undefined {
    if (parsedTypes.has(type)) {
        return parsedTypes.get(type);
    }
    const m = TOKEN.exec(type);
    let parsed: ResourceType | undefined;
    if (m !== null) {
        const [, group, version, rawKind] = m;
        const patch = rawKind.endsWith("Patch") && rawKind.length > "Patch".length;
        const kind = patch ? rawKind.slice(0, -"Patch".length) : rawKind;
        parsed = Object.freeze({ group, version, apiVersion: group === "core" ? version : `${group}/${version}`, kind, patch });
    }
    if (parsedTypes.size < 10_000) {
        parsedTypes.set(type, parsed);
    }
    return parsed;
}

/** The Pulumi type token of a manifest: `apps/v1` + `DeploymentPatch` -> `kubernetes:apps/v1:DeploymentPatch`. */
export function typeTokenOf(apiVersion: string, kind: string): string {
    const slash = apiVersion.indexOf("/");
    const groupVersion = slash === -1 ? `core/${apiVersion}` : apiVersion;
    return `kubernetes:${groupVersion}:${kind}`;
}

export interface ContainerRef {
    readonly list: ContainerList;
    readonly index: number;
    /** The container's name, or `#<index>` when it has none (for matching, never a real name). */
    readonly name: string;
    readonly spec: Obj;
    /** Where the container is, for messages: `spec.template.spec.initContainers[0]`. */
    readonly path: string;
}

export interface Workload extends ResourceType {
    readonly type: string;
    /** The resource's properties (a preview proxy inside the Pulumi engine). */
    readonly props: Obj;
    /** Path of the pod spec inside the resource, for messages: `spec.template.spec`. */
    readonly podPath: string;
    /** Pod template metadata (the Pod's own metadata for `Pod`); {} when absent. */
    readonly podMeta: Obj;
    /** The pod spec; {} when absent (a Patch may not touch it). */
    readonly pod: Obj;
}

const EMPTY: Obj = Object.freeze({});

/**
 * The pod inside any pod-bearing resource, or undefined when the resource carries no pod.
 * Deprecated apiVersions are still extracted (so every rule checks them) and are rejected by
 * baseline-supported-api-versions.
 */
export function workloadOf(type: string, props: Obj): Workload | undefined {
    // `npm run check` hands the same props object to every policy; the engine hands each policy
    // a fresh preview proxy, so there the cache simply misses.
    const cached = workloads.get(props);
    if (cached !== undefined && cached.type === type) {
        return cached;
    }
    const w = extractWorkload(type, props);
    if (w !== undefined) {
        workloads.set(props, w);
    }
    return w;
}

const workloads = new WeakMap<Obj, Workload>();
const containerLists = new WeakMap<Workload, ContainerRef[]>();

function extractWorkload(type: string, props: Obj): Workload | undefined {
    const rt = parseResourceType(type);
    if (rt === undefined) {
        return undefined;
    }
    const podKind = POD_KINDS[rt.kind];
    if (podKind === undefined || !podKind.groups.includes(rt.group)) {
        return undefined;
    }
    const template = podKind.template.length === 0 ? props : asObj(get(props, ...podKind.template));
    const prefix = podKind.template.join(".");
    return Object.freeze({
        ...rt,
        type,
        props,
        podPath: prefix === "" ? "spec" : `${prefix}.spec`,
        podMeta: asObj(get(template, "metadata")) ?? EMPTY,
        pod: asObj(get(template, "spec")) ?? EMPTY,
    });
}

/** Every container of the pod, in list order: containers, initContainers, ephemeralContainers. */
export function containersOf(w: Workload, lists: readonly ContainerList[] = CONTAINER_LISTS): readonly ContainerRef[] {
    let all = containerLists.get(w);
    if (all === undefined) {
        all = extractContainers(w);
        containerLists.set(w, all);
    }
    return lists === CONTAINER_LISTS ? all : all.filter((c) => lists.includes(c.list));
}

function extractContainers(w: Workload): ContainerRef[] {
    const result: ContainerRef[] = [];
    for (const list of CONTAINER_LISTS) {
        const items = asArr(w.pod[list]);
        for (let index = 0; index < items.length; index++) {
            const spec = asObj(items[index]) ?? EMPTY;
            result.push({
                list,
                index,
                name: asStr(spec.name) ?? `#${index}`,
                spec,
                path: `${w.podPath}.${list}[${index}]`,
            });
        }
    }
    return result;
}

const LIST_NOUN: Readonly<Record<ContainerList, string>> = {
    containers: "Container",
    initContainers: "Init container",
    ephemeralContainers: "Ephemeral container",
};

/** How a message names a container: `Init container "setup" (spec.template.spec.initContainers[0])`. */
export function describe(c: ContainerRef): string {
    const name = typeof c.spec.name === "string" ? JSON.stringify(c.spec.name) : `#${c.index}`;
    return `${LIST_NOUN[c.list]} ${name} (${c.path})`;
}

export function securityContextOf(c: ContainerRef): Obj {
    return asObj(c.spec.securityContext) ?? EMPTY;
}

export function podSecurityContextOf(w: Workload): Obj {
    return asObj(w.pod.securityContext) ?? EMPTY;
}

export interface VolumeRef {
    readonly index: number;
    readonly name: string;
    readonly spec: Obj;
    readonly path: string;
}

export function volumesOf(w: Workload): VolumeRef[] {
    return asArr(w.pod.volumes).map((v, index) => {
        const spec = asObj(v) ?? EMPTY;
        return { index, name: asStr(spec.name) ?? `#${index}`, spec, path: `${w.podPath}.volumes[${index}]` };
    });
}

/** Names of the volumes a container mounts. */
export function mountedVolumes(c: ContainerRef): Set<string> {
    const names = new Set<string>();
    for (const m of asArr(c.spec.volumeMounts)) {
        const name = asStr(get(m, "name"));
        if (name !== undefined) {
            names.add(name);
        }
    }
    return names;
}

/** metadata.namespace as Kubernetes resolves it for a namespaced object applied without one. */
export function namespaceOf(props: Obj): string {
    const ns = asStr(get(props, "metadata", "namespace"));
    return ns === undefined || ns === "" ? "default" : ns;
}

export function nameOf(props: Obj): string | undefined {
    return asStr(get(props, "metadata", "name"));
}
