// Secrets reach containers only as 0400 files on tmpfs, and only the SPIFFE sidecar touches the
// Workload API socket (design.md sections 2 and 6).

import { asArr, asObj, asStr, get, show, showMode } from "./values";
import { ContainerRef, containersOf, describe, mountedVolumes, VolumeRef, volumesOf, Workload } from "./workload";

export function checkNoSecretEnv(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        asArr(c.spec.env).forEach((env, i) => {
            if (asObj(get(env, "valueFrom", "secretKeyRef")) !== undefined) {
                const name = asStr(get(env, "name")) ?? `#${i}`;
                out.push(`${describe(c)} reads a secret into env[${i}] (${name}) through valueFrom.secretKeyRef; mount the secret as a file instead.`);
            }
        });
        asArr(c.spec.envFrom).forEach((source, i) => {
            if (asObj(get(source, "secretRef")) !== undefined) {
                out.push(`${describe(c)} loads a secret into its environment through envFrom[${i}].secretRef; mount the secret as a file instead.`);
            }
        });
    }
    return out;
}

/** 0400, written as a JSON number (256) because JSON has no octal literals. */
export const SECRET_FILE_MODE = 0o400;
/** The API server's default for secret and projected volumes when no mode is given. */
export const API_DEFAULT_MODE = 0o644;

function modeProblem(where: string, mode: unknown, from: string): string | undefined {
    if (mode === SECRET_FILE_MODE) {
        return undefined;
    }
    return `${where} gets file mode ${showMode(mode)} from ${from}; secret files must be 0400 (256 decimal).`;
}

/**
 * Effective mode of every file of one secret source: `items[].mode` over `defaultMode` over the
 * API default 0644. In a Patch only modes that are written down are judged.
 */
function secretSourceModes(where: string, items: unknown, defaultMode: unknown, defaultFrom: string, patch: boolean): string[] {
    const out: string[] = [];
    const list = asArr(items);
    const fallback = (): [unknown, string] => (defaultMode !== undefined ? [defaultMode, defaultFrom] : [API_DEFAULT_MODE, "the API default (no defaultMode)"]);
    if (list.length === 0) {
        if (!(patch && defaultMode === undefined)) {
            const [mode, from] = fallback();
            const problem = modeProblem(where, mode, from);
            if (problem !== undefined) {
                out.push(problem);
            }
        }
        return out;
    }
    list.forEach((item, i) => {
        const own = get(item, "mode");
        const key = asStr(get(item, "key")) ?? `#${i}`;
        if (patch && own === undefined && defaultMode === undefined) {
            return;
        }
        const [mode, from] = own !== undefined ? [own, `items[${i}].mode`] : fallback();
        const problem = modeProblem(`${where}, key ${JSON.stringify(key)},`, mode, from);
        if (problem !== undefined) {
            out.push(problem);
        }
    });
    return out;
}

const SPIFFE_SIDECARS: readonly string[] = ["spiffe-helper", "spire-agent"];

/**
 * Sidecars that may touch the Workload API. Ephemeral containers never qualify, whatever their
 * name: `kubectl debug` could otherwise attach a container called spiffe-helper to an agent pod.
 */
export function isSpiffeSidecar(c: ContainerRef): boolean {
    return c.list !== "ephemeralContainers" && SPIFFE_SIDECARS.includes(c.name);
}

function sharedWithSidecar(v: VolumeRef, containers: readonly ContainerRef[], mounts: ReadonlyMap<ContainerRef, Set<string>>): boolean {
    const users = containers.filter((c) => mounts.get(c)?.has(v.name));
    return users.some(isSpiffeSidecar) && users.some((c) => !isSpiffeSidecar(c));
}

export function checkSecretFileMode(w: Workload): string[] {
    const out: string[] = [];
    const containers = containersOf(w);
    const mounts = new Map(containers.map((c) => [c, mountedVolumes(c)] as const));
    for (const v of volumesOf(w)) {
        const secret = asObj(v.spec.secret);
        if (secret !== undefined) {
            out.push(...secretSourceModes(`Secret volume "${v.name}" (${v.path})`, secret.items, secret.defaultMode, "secret.defaultMode", w.patch));
        }
        const projected = asObj(v.spec.projected);
        if (projected !== undefined) {
            asArr(projected.sources).forEach((source, i) => {
                const s = asObj(get(source, "secret"));
                if (s !== undefined) {
                    out.push(
                        ...secretSourceModes(
                            `Projected volume "${v.name}" (${v.path}.projected.sources[${i}].secret)`,
                            s.items,
                            projected.defaultMode,
                            "projected.defaultMode",
                            w.patch,
                        ),
                    );
                }
            });
        }
        const emptyDir = asObj(v.spec.emptyDir) ?? (Object.keys(v.spec).every((k) => k === "name") ? {} : undefined);
        if (emptyDir !== undefined && sharedWithSidecar(v, containers, mounts)) {
            const medium = emptyDir.medium;
            if (medium !== "Memory" && !(w.patch && medium === undefined)) {
                out.push(
                    `EmptyDir volume "${v.name}" (${v.path}) is shared with the SPIFFE sidecar and has medium ${show(medium)}; SVIDs must stay on tmpfs (medium: Memory).`,
                );
            }
        }
    }
    return out;
}

export const SPIFFE_CSI_DRIVER = "csi.spiffe.io";
export const SPIFFE_SOCKET_ENV = "SPIFFE_ENDPOINT_SOCKET";

/** The in-pod SPIRE agent (design.md section 6, Kata): the container that serves the Workload API socket. */
export const SPIRE_AGENT_CONTAINER = "spire-agent";

/**
 * Volumes an in-pod spire-agent may serve its Workload API socket on: every volume a container
 * named spire-agent (in any list) mounts without `readOnly: true`, whatever the volume's name or
 * type. A unix socket can only be created in a writable directory, and the socket path is in the
 * agent's config file (a ConfigMap the policy cannot read), so every writable mount counts; a
 * subPath does not narrow it, since another container can mount the same volume whole.
 */
function spireAgentSocketVolumes(w: Workload): Set<string> {
    const names = new Set<string>();
    for (const c of containersOf(w)) {
        if (c.name !== SPIRE_AGENT_CONTAINER) {
            continue;
        }
        for (const m of asArr(c.spec.volumeMounts)) {
            const name = asStr(get(m, "name"));
            if (name !== undefined && get(m, "readOnly") !== true) {
                names.add(name);
            }
        }
    }
    return names;
}

export function checkSpiffeSocketIsolation(w: Workload): string[] {
    const out: string[] = [];
    const csiVolumes = new Set(
        volumesOf(w)
            .filter((v) => get(v.spec, "csi", "driver") === SPIFFE_CSI_DRIVER)
            .map((v) => v.name),
    );
    const agentVolumes = spireAgentSocketVolumes(w);
    for (const c of containersOf(w)) {
        if (isSpiffeSidecar(c)) {
            continue;
        }
        for (const name of mountedVolumes(c)) {
            if (csiVolumes.has(name)) {
                out.push(
                    `${describe(c)} mounts volume "${name}" of the ${SPIFFE_CSI_DRIVER} CSI driver; only the spiffe-helper or spire-agent sidecar may reach the Workload API socket.`,
                );
            } else if (agentVolumes.has(name)) {
                out.push(
                    `${describe(c)} mounts volume "${name}", which the in-pod ${SPIRE_AGENT_CONTAINER} mounts writable and may serve the Workload API socket on; only the spiffe-helper or spire-agent sidecar may mount it.`,
                );
            }
        }
        asArr(c.spec.env).forEach((env, i) => {
            if (get(env, "name") === SPIFFE_SOCKET_ENV) {
                out.push(
                    `${describe(c)} sets env[${i}] ${SPIFFE_SOCKET_ENV}; only the spiffe-helper or spire-agent sidecar may reach the Workload API socket.`,
                );
            }
        });
    }
    return out;
}
