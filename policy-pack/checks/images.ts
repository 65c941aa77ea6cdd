// Image references and the approved-registry matcher.
//
// The grammar is the one container runtimes use (distribution/reference `regexp.go`): an image
// is `[domain/]path[:tag][@digest]`, and the first path component is a registry domain only when
// it contains `.` or `:`, is `localhost`, or has an upper-case letter (`splitDockerDomain` in
// distribution/reference `normalize.go`); otherwise the runtime silently prepends `docker.io/`.
// Matching is structural (parsed host, then path by `/` segments), never a string prefix of the
// raw reference: `quay.io.evil.com/...` and `quay.io/agent-security-evil/...` must not match
// `quay.io/agent-security`.

import { asObj, show } from "./values";
import { containersOf, describe, volumesOf, Workload } from "./workload";

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
const SHA256_RE = /^sha256:[0-9a-f]{64}$/;

export interface ImageRef {
    /** Registry `host[:port]`, lower-cased (DNS names are case-insensitive); undefined when unqualified. */
    readonly registry: string | undefined;
    /** Repository path inside the registry. */
    readonly path: string;
    readonly tag?: string;
    readonly digest?: string;
}

export type Parsed<T> = T | { readonly error: string };

function looksLikeDomain(component: string): boolean {
    return component.includes(".") || component.includes(":") || component === "localhost" || component !== component.toLowerCase();
}

export function parseImageRef(reference: string): Parsed<ImageRef> {
    if (reference === "") {
        return { error: "is empty" };
    }
    let rest = reference;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at !== -1) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST_RE.test(digest)) {
            return { error: `has an invalid digest ${JSON.stringify(digest)}` };
        }
        if (digest.startsWith("sha256:") && !SHA256_RE.test(digest)) {
            return { error: "has a sha256 digest that is not 64 lower-case hex digits" };
        }
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG_RE.test(tag)) {
            return { error: `has an invalid tag ${JSON.stringify(tag)}` };
        }
    }
    const firstSlash = rest.indexOf("/");
    let registry: string | undefined;
    let path = rest;
    if (firstSlash !== -1 && looksLikeDomain(rest.slice(0, firstSlash))) {
        registry = rest.slice(0, firstSlash);
        path = rest.slice(firstSlash + 1);
        if (!DOMAIN_RE.test(registry)) {
            return { error: `has an invalid registry host ${JSON.stringify(registry)}` };
        }
        registry = registry.toLowerCase();
    }
    if (!PATH_RE.test(path)) {
        return { error: `has an invalid repository path ${JSON.stringify(path)}` };
    }
    return { registry, path, tag, digest };
}

export interface RegistryEntry {
    readonly host: string;
    /** Repository path prefix; undefined approves the whole registry. */
    readonly path?: string;
}

/** Parses an approved-registry entry: `host[:port]` or `host[:port]/path`, no scheme, tag or digest. */
export function parseRegistryEntry(entry: string): Parsed<RegistryEntry> {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
        return { error: "must not have a URL scheme; write host[:port][/path]." };
    }
    if (entry.includes("@")) {
        return { error: "must not carry a digest." };
    }
    const slash = entry.indexOf("/");
    const host = slash === -1 ? entry : entry.slice(0, slash);
    const path = slash === -1 ? undefined : entry.slice(slash + 1);
    if (!DOMAIN_RE.test(host)) {
        return { error: "must start with a registry host such as quay.io or registry.example.com:5000." };
    }
    if (!host.includes(".") && !host.includes(":") && host.toLowerCase() !== "localhost") {
        return { error: "must start with a qualified registry host (containing a dot or a port, or localhost)." };
    }
    if (path !== undefined && !PATH_RE.test(path)) {
        return { error: "has an invalid path prefix (lower-case components separated by single slashes, no trailing slash)." };
    }
    return { host: host.toLowerCase(), path };
}

/** True when the parsed image lies in the entry: exact host[:port], path equal or below the prefix. */
export function entryApproves(entry: RegistryEntry, image: ImageRef): boolean {
    if (image.registry === undefined || image.registry !== entry.host) {
        return false;
    }
    return entry.path === undefined || image.path === entry.path || image.path.startsWith(`${entry.path}/`);
}

export type ImageVerdict =
    | { readonly ok: true }
    | { readonly ok: false; readonly reason: string };

/** Decides one image reference against the approved list (invalid entries approve nothing). */
export function checkImage(reference: unknown, approved: readonly string[]): ImageVerdict {
    if (typeof reference !== "string") {
        return { ok: false, reason: "is not a string" };
    }
    const image = parseImageRef(reference);
    if ("error" in image) {
        return { ok: false, reason: `${image.error}, so it is not a valid image reference` };
    }
    if (image.registry === undefined) {
        return {
            ok: false,
            reason: "names no registry, so the runtime would pull it from docker.io; write the approved registry explicitly",
        };
    }
    if (approved.length === 0) {
        return { ok: false, reason: "cannot be approved because no approved registries are configured" };
    }
    for (const raw of approved) {
        const entry = parseRegistryEntry(raw);
        if (!("error" in entry) && entryApproves(entry, image)) {
            return { ok: true };
        }
    }
    return { ok: false, reason: `is from ${image.registry}/${image.path}, which is not under an approved registry (${approved.join(", ")})` };
}

/** Every image the pod pulls: all three container lists and image volumes. */
export function checkApprovedImages(w: Workload, approved: readonly string[]): string[] {
    const out: string[] = [];
    for (const c of containersOf(w)) {
        const image = c.spec.image;
        if (image === undefined) {
            if (!w.patch) {
                out.push(`${describe(c)} has no image; every container must name an image from an approved registry.`);
            }
            continue;
        }
        const verdict = checkImage(image, approved);
        if (!verdict.ok) {
            out.push(`${describe(c)} image ${show(image)} ${verdict.reason}.`);
        }
    }
    for (const v of volumesOf(w)) {
        const image = asObj(v.spec.image);
        if (image === undefined) {
            continue;
        }
        const verdict = checkImage(image.reference, approved);
        if (!verdict.ok) {
            out.push(`Image volume "${v.name}" (${v.path}.image.reference) ${show(image.reference)} ${verdict.reason}.`);
        }
    }
    return out;
}
