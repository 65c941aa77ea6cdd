// Pod and container securityContext rules (Pod Security Standards `restricted`, plus the
// platform-dependent AppArmor rule of design.md section 6).
//
// Requirement rules ("must be set") are relaxed for `*Patch` resources: a patch that leaves a field
// out keeps the live value, so only a forbidden value that is present rejects it.

import type { Platform } from "./settings";
import { asArr, asObj, entriesWhere, get, Obj, setsField, show } from "./values";
import { containersOf, describe, podSecurityContextOf, securityContextOf, Workload } from "./workload";

const PROFILE_TYPES = ["RuntimeDefault", "Localhost"];

function profileType(sc: Obj, field: "seccompProfile" | "appArmorProfile"): unknown {
    return get(sc, field, "type");
}

export function checkSeccomp(w: Workload): string[] {
    const out: string[] = [];
    const podType = profileType(podSecurityContextOf(w), "seccompProfile");
    if (podType !== undefined && !PROFILE_TYPES.includes(podType as string)) {
        out.push(
            `The pod (${w.podPath}.securityContext.seccompProfile.type) sets seccomp profile ${show(podType)}; only RuntimeDefault or Localhost is allowed.`,
        );
    }
    for (const c of containersOf(w)) {
        const type = profileType(securityContextOf(c), "seccompProfile");
        if (type !== undefined && !PROFILE_TYPES.includes(type as string)) {
            out.push(`${describe(c)} sets securityContext.seccompProfile.type ${show(type)}; only RuntimeDefault or Localhost is allowed.`);
        } else if (type === undefined && podType === undefined && !w.patch) {
            out.push(
                `${describe(c)} has no securityContext.seccompProfile and the pod sets none; set seccompProfile.type RuntimeDefault on the pod or the container.`,
            );
        }
    }
    // The pre-1.19 annotations are ignored by current kubelets, but an explicit "unconfined" in
    // them still states an intent the baseline forbids.
    const seccompAnnotations = entriesWhere(
        w.podMeta.annotations,
        (key) => key === "seccomp.security.alpha.kubernetes.io/pod" || key.startsWith("container.seccomp.security.alpha.kubernetes.io/"),
    );
    for (const [key, value] of seccompAnnotations) {
        if (typeof value === "string" && value.toLowerCase() === "unconfined") {
            out.push(`The pod annotation ${key} is "unconfined"; seccomp must never be Unconfined.`);
        }
    }
    return out;
}

export function checkCapabilities(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const caps = asObj(securityContextOf(c).capabilities);
        const drop = caps?.drop;
        const add = caps?.add;
        // Capability names are matched exactly as the runtime does: "all" or "CAP_ALL" is not ALL.
        if (drop === undefined) {
            if (!w.patch) {
                out.push(`${describe(c)} does not set securityContext.capabilities.drop; it must contain "ALL".`);
            }
        } else if (!Array.isArray(drop) || !drop.includes("ALL")) {
            out.push(`${describe(c)} sets securityContext.capabilities.drop to ${show(drop)}; it must contain exactly "ALL".`);
        }
        if (add !== undefined && !Array.isArray(add)) {
            out.push(`${describe(c)} sets securityContext.capabilities.add to ${show(add)}; only ["NET_BIND_SERVICE"] may be added.`);
        }
        for (const cap of asArr(add)) {
            if (cap !== "NET_BIND_SERVICE") {
                out.push(
                    `${describe(c)} adds capability ${show(cap)} in securityContext.capabilities.add; only "NET_BIND_SERVICE" (upper case, no CAP_ prefix) may be added.`,
                );
            }
        }
    }
    return out;
}

export function checkReadOnlyRootFilesystem(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const value = securityContextOf(c).readOnlyRootFilesystem;
        if (value !== true && !(w.patch && value === undefined)) {
            out.push(`${describe(c)} ${setsField("securityContext.readOnlyRootFilesystem", value)}; it must be true.`);
        }
    }
    return out;
}

export function checkRunAsNonRoot(w: Workload): string[] {
    const out: string[] = [];
    const podSc = podSecurityContextOf(w);
    const podNonRoot = podSc.runAsNonRoot;
    if (podNonRoot !== undefined && podNonRoot !== true) {
        out.push(`The pod sets ${w.podPath}.securityContext.runAsNonRoot to ${show(podNonRoot)}; it must be true or absent with every container setting it.`);
    }
    if (podSc.runAsUser === 0) {
        out.push(`The pod sets ${w.podPath}.securityContext.runAsUser to 0 (root); UID 0 is forbidden even with runAsNonRoot.`);
    }
    for (const c of containersOf(w)) {
        const sc = securityContextOf(c);
        const own = sc.runAsNonRoot;
        if (own !== undefined && own !== true) {
            out.push(`${describe(c)} sets securityContext.runAsNonRoot to ${show(own)}, overriding the pod; it must be true.`);
        } else if (own === undefined && podNonRoot === undefined && !w.patch) {
            out.push(`${describe(c)} does not set securityContext.runAsNonRoot and neither does the pod; it must be true.`);
        }
        if (sc.runAsUser === 0) {
            out.push(`${describe(c)} sets securityContext.runAsUser to 0 (root); UID 0 is forbidden even with runAsNonRoot.`);
        }
    }
    return out;
}

export function checkNoPrivilegeEscalation(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const value = securityContextOf(c).allowPrivilegeEscalation;
        if (value !== false && !(w.patch && value === undefined)) {
            out.push(`${describe(c)} ${setsField("securityContext.allowPrivilegeEscalation", value)}; it must be false.`);
        }
    }
    return out;
}

const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

export function checkAppArmor(w: Workload, platform: Platform): string[] {
    const out: string[] = [];
    const podType = profileType(podSecurityContextOf(w), "appArmorProfile");
    const annotations = entriesWhere(w.podMeta.annotations, (key) => key.startsWith(APPARMOR_ANNOTATION));
    if (platform === "openshift") {
        // RHCOS nodes have no AppArmor and the kubelet refuses pods that ask for a profile
        // (design.md section 6); SELinux under SCC restricted-v2 takes that role.
        if (asObj(podSecurityContextOf(w).appArmorProfile) !== undefined) {
            out.push(`The pod sets ${w.podPath}.securityContext.appArmorProfile; OpenShift nodes have no AppArmor, so no AppArmor field may be set.`);
        }
        for (const c of containersOf(w)) {
            if (asObj(securityContextOf(c).appArmorProfile) !== undefined) {
                out.push(`${describe(c)} sets securityContext.appArmorProfile; OpenShift nodes have no AppArmor, so no AppArmor field may be set.`);
            }
        }
        for (const [key] of annotations) {
            out.push(`The pod annotation ${key} asks for AppArmor; OpenShift nodes have no AppArmor, so remove it.`);
        }
        return out;
    }
    if (podType !== undefined && !PROFILE_TYPES.includes(podType as string)) {
        out.push(`The pod sets ${w.podPath}.securityContext.appArmorProfile.type ${show(podType)}; only RuntimeDefault or Localhost is allowed.`);
    }
    for (const c of containersOf(w)) {
        const type = profileType(securityContextOf(c), "appArmorProfile");
        if (type !== undefined && !PROFILE_TYPES.includes(type as string)) {
            out.push(`${describe(c)} sets securityContext.appArmorProfile.type ${show(type)}; only RuntimeDefault or Localhost is allowed.`);
        } else if (type === undefined && podType === undefined && !w.patch) {
            out.push(
                `${describe(c)} has no securityContext.appArmorProfile and the pod sets none; set appArmorProfile.type RuntimeDefault on the pod or the container.`,
            );
        }
    }
    for (const [key, value] of annotations) {
        if (typeof value === "string" && value.toLowerCase() === "unconfined") {
            out.push(`The pod annotation ${key} is "unconfined"; AppArmor must never be Unconfined.`);
        }
    }
    return out;
}

export function checkNoPrivileged(w: Workload): string[] {
    return containersOf(w)
        .filter((c) => securityContextOf(c).privileged === true)
        .map((c) => `${describe(c)} sets securityContext.privileged to true; privileged containers are forbidden.`);
}

export function checkProcMount(w: Workload): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const value = securityContextOf(c).procMount;
        if (value !== undefined && value !== "Default") {
            out.push(`${describe(c)} sets securityContext.procMount to ${show(value)}; only Default is allowed.`);
        }
    }
    return out;
}

// Pod Security Standards baseline, "SELinux" (k8s.io/pod-security-admission
// policy/check_seLinuxOptions.go; container_engine_t since 1.31).
export const SELINUX_TYPES: readonly string[] = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

function seLinuxProblems(options: unknown, where: string): string[] {
    const o = asObj(options);
    if (o === undefined) {
        return [];
    }
    const out: string[] = [];
    if (o.type !== undefined && !SELINUX_TYPES.includes(o.type as string)) {
        out.push(`${where} sets seLinuxOptions.type ${show(o.type)}; allowed types are ${SELINUX_TYPES.filter((t) => t !== "").join(", ")}.`);
    }
    for (const field of ["user", "role"] as const) {
        const value = o[field];
        if (value !== undefined && value !== "") {
            out.push(`${where} sets seLinuxOptions.${field} ${show(value)}; SELinux user and role must not be set.`);
        }
    }
    return out;
}

export function checkSeLinux(w: Workload): string[] {
    const out = seLinuxProblems(podSecurityContextOf(w).seLinuxOptions, `The pod (${w.podPath}.securityContext)`);
    for (const c of containersOf(w)) {
        out.push(...seLinuxProblems(securityContextOf(c).seLinuxOptions, `${describe(c)} securityContext`));
    }
    return out;
}
