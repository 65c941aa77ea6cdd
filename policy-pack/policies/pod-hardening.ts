// Container hardening: the securityContext of the pod and of every container (design.md section 8).

import {
    checkAppArmor,
    checkCapabilities,
    checkNoPrivilegeEscalation,
    checkNoPrivileged,
    checkProcMount,
    checkReadOnlyRootFilesystem,
    checkRunAsNonRoot,
    checkSeccomp,
    checkSeLinux,
} from "../checks/security-context";
import { workloadPolicy } from "./define";

export const seccomp = workloadPolicy({
    name: "baseline-seccomp",
    description:
        "Every container runs under seccomp RuntimeDefault or Localhost, set on the pod or the container. Unconfined is rejected at any level.",
    check: checkSeccomp,
});

export const capabilities = workloadPolicy({
    name: "baseline-capabilities",
    description:
        "Every container drops ALL capabilities and adds none except NET_BIND_SERVICE. Names are case-sensitive and carry no CAP_ prefix.",
    check: checkCapabilities,
});

export const readOnlyRootFilesystem = workloadPolicy({
    name: "baseline-read-only-root-filesystem",
    description: "Every container sets readOnlyRootFilesystem to true.",
    check: checkReadOnlyRootFilesystem,
});

export const runAsNonRoot = workloadPolicy({
    name: "baseline-run-as-non-root",
    description:
        "Every container runs with an effective runAsNonRoot of true (the container's value overrides the pod's). No runAsUser 0 at any level.",
    check: checkRunAsNonRoot,
});

export const noPrivilegeEscalation = workloadPolicy({
    name: "baseline-no-privilege-escalation",
    description: "Every container sets allowPrivilegeEscalation to false.",
    check: checkNoPrivilegeEscalation,
});

export const appArmor = workloadPolicy({
    name: "baseline-apparmor",
    description:
        "On Kubernetes every container runs under AppArmor RuntimeDefault or Localhost (pod-level settings are inherited). On OpenShift no AppArmor field or annotation may be set. Unconfined is always rejected.",
    settings: ["platform"],
    check: (w, s) => checkAppArmor(w, s.platform),
});

export const noPrivileged = workloadPolicy({
    name: "baseline-no-privileged",
    description: "No container sets privileged to true.",
    check: checkNoPrivileged,
});

export const procMount = workloadPolicy({
    name: "baseline-proc-mount",
    description: "No container sets procMount to anything but Default.",
    check: checkProcMount,
});

export const seLinux = workloadPolicy({
    name: "baseline-selinux",
    description:
        "SELinux types stay within the Pod Security Standards' allowed set, and no pod or container sets an SELinux user or role.",
    check: checkSeLinux,
});

export const podHardeningPolicies = [
    seccomp,
    capabilities,
    readOnlyRootFilesystem,
    runAsNonRoot,
    noPrivilegeEscalation,
    appArmor,
    noPrivileged,
    procMount,
    seLinux,
];
