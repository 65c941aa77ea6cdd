// Rules that keep a pod away from the node: host namespaces, host ports, host paths, sysctls,
// Windows host processes and probes aimed at other hosts (Pod Security Standards baseline and
// restricted, design.md section 8).

import { asArr, asObj, asStr, get, Obj, show } from "./values";
import { containersOf, describe, podSecurityContextOf, securityContextOf, volumesOf, Workload } from "./workload";

export function checkNoHostNamespaces(w: Workload): string[] {
    const out: string[] = [];
    for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
        if (w.pod[field] === true) {
            out.push(`The pod sets ${w.podPath}.${field} to true; pods must not share the node's namespaces.`);
        }
    }
    return out;
}

export function checkNoSharedProcessNamespace(w: Workload): string[] {
    return w.pod.shareProcessNamespace === true
        ? [
              `The pod sets ${w.podPath}.shareProcessNamespace to true; containers must not see each other's processes (the SPIFFE sidecar's memory would be readable).`,
          ]
        : [];
}

export function checkNoHostPorts(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        asArr(c.spec.ports).forEach((port, i) => {
            const hostPort = get(port, "hostPort");
            if (hostPort !== undefined && hostPort !== 0) {
                out.push(`${describe(c)} sets ports[${i}].hostPort to ${show(hostPort)}; host ports are forbidden.`);
            }
        });
    }
    return out;
}

// Pod Security Standards `restricted` volume types, plus `image` (OCI image volumes, read-only).
export const ALLOWED_VOLUME_TYPES: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

export function checkVolumeTypes(w: Workload): string[] {
    const out: string[] = [];
    for (const v of volumesOf(w)) {
        for (const key of Object.keys(v.spec)) {
            if (key !== "name" && !ALLOWED_VOLUME_TYPES.includes(key)) {
                out.push(
                    `Volume "${v.name}" (${v.path}) is of type ${key}; only ${ALLOWED_VOLUME_TYPES.join(", ")} volumes are allowed.`,
                );
            }
        }
    }
    return out;
}

/** A PersistentVolume backed by a node directory gives its claimants the node's filesystem. */
export function checkPersistentVolume(props: Obj): string[] {
    return asObj(get(props, "spec", "hostPath")) !== undefined
        ? ["The PersistentVolume sets spec.hostPath; PersistentVolumes backed by a node directory are forbidden."]
        : [];
}

// Pod Security Standards baseline "Sysctls" (k8s.io/pod-security-admission policy/check_sysctls.go).
export const SAFE_SYSCTLS: readonly string[] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

export function checkSysctls(w: Workload): string[] {
    const out: string[] = [];
    asArr(podSecurityContextOf(w).sysctls).forEach((sysctl, i) => {
        const name = get(sysctl, "name");
        if (!SAFE_SYSCTLS.includes(name as string)) {
            out.push(`The pod sets ${w.podPath}.securityContext.sysctls[${i}] ${show(name)}, which is not one of the safe sysctls of the Pod Security Standards.`);
        }
    });
    return out;
}

export function checkLinuxOnly(w: Workload): string[] {
    const out: string[] = [];
    const os = get(w.pod, "os", "name");
    if (os !== undefined && os !== "linux") {
        out.push(`The pod sets ${w.podPath}.os.name to ${show(os)}; only Linux pods are allowed.`);
    }
    if (get(podSecurityContextOf(w), "windowsOptions", "hostProcess") === true) {
        out.push(`The pod sets ${w.podPath}.securityContext.windowsOptions.hostProcess to true; Windows host processes are forbidden.`);
    }
    for (const c of containersOf(w)) {
        if (get(securityContextOf(c), "windowsOptions", "hostProcess") === true) {
            out.push(`${describe(c)} sets securityContext.windowsOptions.hostProcess to true; Windows host processes are forbidden.`);
        }
    }
    return out;
}

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const HOOKS = ["postStart", "preStop"] as const;
const HANDLERS = ["httpGet", "tcpSocket"] as const;

export function checkNoProbeHost(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const handlers: [string, unknown][] = [
            ...PROBES.map((p): [string, unknown] => [p, c.spec[p]]),
            ...HOOKS.map((h): [string, unknown] => [`lifecycle.${h}`, get(c.spec, "lifecycle", h)]),
        ];
        for (const [where, handler] of handlers) {
            for (const kind of HANDLERS) {
                const host = asStr(get(handler, kind, "host"));
                if (host !== undefined && host !== "") {
                    out.push(`${describe(c)} sets ${where}.${kind}.host to ${show(host)}; probes and lifecycle hooks must target the pod itself.`);
                }
            }
        }
    }
    return out;
}
