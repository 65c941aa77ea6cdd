// Isolation from the node: host namespaces, ports, paths, sysctls, Windows host processes and
// probes that reach other hosts (design.md section 8).

import {
    checkLinuxOnly,
    checkNoHostNamespaces,
    checkNoHostPorts,
    checkNoProbeHost,
    checkNoSharedProcessNamespace,
    checkPersistentVolume,
    checkSysctls,
    checkVolumeTypes,
} from "../checks/host";
import { parseResourceType } from "../checks/workload";
import { workloadPolicy } from "./define";

export const noHostNamespaces = workloadPolicy({
    name: "baseline-no-host-namespaces",
    description: "No pod sets hostNetwork, hostPID or hostIPC.",
    check: checkNoHostNamespaces,
});

export const noSharedProcessNamespace = workloadPolicy({
    name: "baseline-no-shared-process-namespace",
    description: "No pod sets shareProcessNamespace to true, so no container can read the SPIFFE sidecar's processes.",
    check: checkNoSharedProcessNamespace,
});

export const volumeTypes = workloadPolicy({
    name: "baseline-volume-types",
    description:
        "Pods use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes. No PersistentVolume is backed by hostPath.",
    check: checkVolumeTypes,
    other: (type, props) => {
        const rt = parseResourceType(type);
        return rt !== undefined && rt.group === "core" && rt.kind === "PersistentVolume" ? checkPersistentVolume(props) : undefined;
    },
});

export const noHostPorts = workloadPolicy({
    name: "baseline-no-host-ports",
    description: "No container port sets a hostPort.",
    check: checkNoHostPorts,
});

export const sysctls = workloadPolicy({
    name: "baseline-sysctls",
    description: "Pods set only the safe sysctls of the Pod Security Standards.",
    check: checkSysctls,
});

export const linuxOnly = workloadPolicy({
    name: "baseline-linux-only",
    description: "Pods are Linux pods: no os.name other than linux and no Windows hostProcess at any level.",
    check: checkLinuxOnly,
});

export const noProbeHost = workloadPolicy({
    name: "baseline-no-probe-host",
    description: "Probes and lifecycle hooks set no host, so they cannot be aimed at other hosts.",
    check: checkNoProbeHost,
});

export const hostIsolationPolicies = [
    noHostNamespaces,
    noSharedProcessNamespace,
    volumeTypes,
    noHostPorts,
    sysctls,
    linuxOnly,
    noProbeHost,
];
