// Container paths as the kubelet will mount them. Compared only after normalisation: as strings,
// `/var/run/spiffe/./svid` is not `/var/run/spiffe/svid`, yet both mount over the SVID directory
// (issue 12). Config renders the normalised form, so what is checked is what is mounted.

/** Kernel filesystems: an emptyDir over them hides what the runtime put there (runc refuses some). */
const KERNEL_DIRS = ["/proc", "/sys", "/dev"] as const;

export const MAX_PATH_LENGTH = 1024;

export type Normalised = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

/**
 * The canonical form of an absolute container path: no empty or `.` segments, no trailing slash.
 * `..` is refused rather than resolved: a path that climbs says something other than it means.
 */
export function normaliseMountPath(raw: string): Normalised {
    if (!raw.startsWith("/")) return { ok: false, problem: `"${raw}" must be an absolute path such as /tmp or /home/agent/cache` };
    if (raw.length > MAX_PATH_LENGTH) return { ok: false, problem: `must be at most ${MAX_PATH_LENGTH} characters` };
    if (!/^[A-Za-z0-9/_.-]+$/.test(raw)) return { ok: false, problem: `"${raw}" may use only letters, digits, '/', '_', '.' and '-'` };
    const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
    if (segments.includes("..")) return { ok: false, problem: `"${raw}" must not contain '..'; write the directory it means` };
    if (segments.length === 0) return { ok: false, problem: `"${raw}" is the root directory; name a directory below it, such as /tmp` };
    const path = `/${segments.join("/")}`;
    for (const kernel of KERNEL_DIRS) {
        if (pathsOverlap(path, kernel)) return { ok: false, problem: `"${raw}" overlaps ${kernel}, a kernel filesystem the container runtime mounts` };
    }
    return { ok: true, path };
}

/** Whether one normalised path is the other or lies below it (either way round). */
export function pathsOverlap(a: string, b: string): boolean {
    return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
