import * as assert from "assert";
import fc from "fast-check";
import { checkImage, parseImageRef, parseRegistryEntry } from "../../policy-pack/checks/images";

const component = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const host = fc
    .tuple(fc.array(component, { minLength: 1, maxLength: 3 }), fc.constantFrom("io", "com", "example"), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
    .map(([labels, tld, port]) => `${[...labels, tld].join(".")}${port === undefined ? "" : `:${port}`}`);
const repoPath = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
const entry = fc.tuple(host, fc.option(repoPath, { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${h}/${p}`));
const suffix = fc.tuple(fc.option(repoPath, { nil: undefined }), fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,9}$/), { nil: undefined }));

function image(base: string, [path, tag]: [string | undefined, string | undefined]): string {
    return `${base}${path === undefined ? "" : `/${path}`}${tag === undefined ? "" : `:${tag}`}`;
}

describe("image references", () => {
    it("parse registry, path, tag and digest like the container runtime", () => {
        assert.deepStrictEqual(parseImageRef("registry.example.com:5000/team/app:1.2@sha256:" + "0".repeat(64)), {
            registry: "registry.example.com:5000",
            path: "team/app",
            tag: "1.2",
            digest: "sha256:" + "0".repeat(64),
        });
        assert.strictEqual((parseImageRef("nginx") as { registry?: string }).registry, undefined);
        assert.strictEqual((parseImageRef("library/nginx") as { registry?: string }).registry, undefined);
        assert.strictEqual((parseImageRef("localhost/x") as { registry?: string }).registry, "localhost");
        assert.ok("error" in parseImageRef("quay.io//x"));
        assert.ok("error" in parseImageRef("quay.io/Agent/x"));
        assert.ok("error" in parseImageRef("quay.io/x/../y"));
        assert.ok("error" in parseImageRef(" quay.io/x"));
    });

    it("reject approved-registry entries that are not host[:port][/path]", () => {
        for (const bad of ["https://quay.io", "quay.io/", "quay", "quay.io/x@sha256:00", "quay.io//x", ""]) {
            assert.ok("error" in parseRegistryEntry(bad), bad);
        }
        assert.deepStrictEqual(parseRegistryEntry("Registry.Example.com:5000/team"), { host: "registry.example.com:5000", path: "team" });
    });
});

describe("approved-registry matcher (properties)", () => {
    it("approves every image under an approved entry", () => {
        fc.assert(
            fc.property(entry, suffix, (e, s) => {
                // An entry without a path needs a repository path after the host.
                const ref = image(e, [s[0] ?? (e.includes("/") ? undefined : "app"), s[1]]);
                assert.deepStrictEqual(checkImage(ref, [e]), { ok: true }, ref);
            }),
        );
    });

    it("never approves a host that only starts or ends like an approved one", () => {
        fc.assert(
            fc.property(entry, component, suffix, (e, extra, s) => {
                const [h, ...rest] = e.split("/");
                const path = rest.length > 0 ? rest.join("/") : "app";
                for (const lookAlike of [`${h}.${extra}.com/${path}`, `${extra}${h}/${path}`, `${h}${extra}/${path}`]) {
                    const ref = image(lookAlike, [s[0], s[1]]);
                    const parsed = parseImageRef(ref);
                    const sameHost = !("error" in parsed) && parsed.registry === h;
                    if (!sameHost) {
                        assert.strictEqual(checkImage(ref, [e]).ok, false, `${ref} under ${e}`);
                    }
                }
            }),
        );
    });

    it("never approves a path that only shares a string prefix with the approved path", () => {
        fc.assert(
            fc.property(host, repoPath, component, suffix, (h, p, extra, s) => {
                const ref = image(`${h}/${p}-${extra}`, [s[0], s[1]]);
                assert.strictEqual(checkImage(ref, [`${h}/${p}`]).ok, false, ref);
            }),
        );
    });

    it("approves only references whose parsed host and path segments lie under some entry", () => {
        fc.assert(
            fc.property(fc.array(entry, { maxLength: 3 }), fc.oneof(fc.string(), entry.chain((e) => suffix.map((s) => image(e, s)))), (entries, ref) => {
                const verdict = checkImage(ref, entries);
                if (verdict.ok) {
                    const parsed = parseImageRef(ref);
                    assert.ok(!("error" in parsed) && parsed.registry !== undefined);
                    const full = `${parsed.registry}/${parsed.path}`;
                    assert.ok(entries.some((e) => full === e.toLowerCase() || full.startsWith(`${e.toLowerCase()}/`)), `${ref} approved by ${entries.join(",")}`);
                }
            }),
        );
    });
});
