// File-based secrets and SPIFFE Workload API isolation (design.md sections 2 and 8).

import { checkNoSecretEnv, checkSecretFileMode, checkSpiffeSocketIsolation } from "../checks/secrets";
import { workloadPolicy } from "./define";

export const noSecretEnv = workloadPolicy({
    name: "baseline-no-secret-env",
    description: "No container reads a secret into its environment through secretKeyRef or envFrom.secretRef, in any container list.",
    check: checkNoSecretEnv,
});

export const secretFileMode = workloadPolicy({
    name: "baseline-secret-file-mode",
    description:
        "Every secret file has the effective mode 0400 (items[].mode over defaultMode over the API default 0644), in secret and projected volumes. EmptyDirs shared with the SPIFFE sidecar use medium Memory.",
    check: checkSecretFileMode,
});

export const spiffeSocketIsolation = workloadPolicy({
    name: "baseline-spiffe-socket-isolation",
    description:
        "Only the spiffe-helper or spire-agent sidecar mounts the csi.spiffe.io Workload API socket, mounts a volume an in-pod spire-agent mounts writable (where it serves the socket), or sets SPIFFE_ENDPOINT_SOCKET.",
    check: checkSpiffeSocketIsolation,
});

export const secretPolicies = [noSecretEnv, secretFileMode, spiffeSocketIsolation];
