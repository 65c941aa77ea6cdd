// An independent statement of the URL rule (design.md section 7), to check the Rego against. It
// shares no code with components/gateway/rego.ts: parsing is WHATWG `URL` (what Node's fetch and
// browsers do), and the policy's strictness is stated as plain checks on the raw text. Where the
// two disagree on a URL, one of them has a bug.

/** Characters a URL argument may contain at all (RFC 3986 unreserved, sub-delims, ":", "/", "?", "%"). */
const ALLOWED_CHARACTERS = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?!$&'()*+,;=%");

export function referenceUrlAllowed(raw: string, allowList: readonly string[]): boolean {
    // Policy choices: no "@" (userinfo), "#" (fragment), "\", "[", "]", whitespace, control or
    // non-ASCII character anywhere; percent signs only as escapes; https written out with "//".
    for (const char of raw) if (!ALLOWED_CHARACTERS.has(char)) return false;
    if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return false;
    if (raw.slice(0, "https://".length).toLowerCase() !== "https://") return false;
    if (!URL.canParse(raw)) return false;
    const url = new URL(raw);
    if (url.protocol !== "https:" || url.username !== "" || url.password !== "" || url.hash !== "") return false;

    // WHATWG repairs what it parses: percent-decodes and re-encodes hosts, rewrites numeric IPv4
    // forms, drops a default port however it was written, resolves dot segments. Accept only text
    // that needed no repair, so that every parser downstream reads the same URL.
    const afterScheme = raw.slice("https://".length);
    const authority = (afterScheme.split(/[/?]/, 1)[0] ?? "").toLowerCase();
    if (authority !== url.host && authority !== `${url.hostname}:443`) return false;
    const rawPath = afterScheme.slice(authority.length).split("?", 1)[0] ?? "";
    if (url.pathname !== (rawPath === "" ? "/" : rawPath)) return false;
    // Some servers also resolve ".." followed by ";params"; WHATWG does not.
    const dotted = rawPath.split("/").some((segment) => {
        const name = (segment.split(";", 1)[0] ?? "").toLowerCase().replace(/%2e/g, ".");
        return name === "." || name === "..";
    });
    if (dotted) return false;

    return allowList.some((entry) => {
        const allowed = new URL(entry);
        if (allowed.hostname !== url.hostname) return false;
        if ((allowed.port || "443") !== (url.port || "443")) return false;
        const prefix = allowed.pathname.replace(/\/+$/, "");
        if (prefix === "") return true;
        // Behind a path prefix, an encoded separator would let a decoding server see other segments.
        if (/%2f|%5c/i.test(url.pathname)) return false;
        return url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
    });
}
