// Property test: random allow lists and adversarial URLs, the Rego's verdict against the WHATWG
// reference (urlReference.ts). Every case of a run goes through one `opa eval`: one tool per
// random allow list, many URLs per tool. Reproduce a failure with PROPERTY_SEED=<seed>.
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { urlAllowProblem } from "../../config/schema";
import { generateToolPolicyRego } from "../../components/gateway/rego";
import { evaluateBatch } from "../support/opa";
import { serverWith, toolCall } from "./fixtures";
import { referenceUrlAllowed } from "./urlReference";

const SEED = Number(process.env.PROPERTY_SEED ?? 20260815);
const ALLOW_LISTS = 40;
const URLS_PER_LIST = 60;

const HOSTS = ["api.weather.gov", "httpbin.org", "a.example.com", "b.example.com", "x-y.example.net", "example.com", "deep.sub.example.org"];
const PATHS = ["", "/", "/points", "/points/", "/a/b", "/api", "/api/v1/"];

const allowEntry = fc
    .record({ host: fc.constantFrom(...HOSTS), port: fc.constantFrom("", "", ":443", ":8443"), path: fc.constantFrom(...PATHS) })
    .map(({ host, port, path }) => `https://${host}${port}${path}`)
    .filter((entry) => urlAllowProblem(entry) === undefined);

const allowList = fc.uniqueArray(allowEntry, { minLength: 1, maxLength: 4 });

/** Mostly the well-formed value, sometimes one of the tricks: so that a fair share of URLs pass. */
function mostly<T>(good: fc.Arbitrary<T>, ...tricks: T[]): fc.Arbitrary<T> {
    return fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: fc.constantFrom(...tricks) });
}

const HOST_TWISTS: readonly ((host: string) => string)[] = [
    (host) => host.toUpperCase(),
    (host) => `${host}.`,
    (host) => `${host}.evil.com`,
    (host) => `evil${host}`,
    (host) => `www.${host}`,
    (host) => host.replace(".", "%2e"),
    (host) => host.replace("a", "\u0430"),
    (host) => host.replace("e", "\u0435"),
    (host) => `${host}..`,
];

/** A URL aimed at one allow list: built around one of its entries, then twisted. */
function urlAround(allow: readonly string[]): fc.Arbitrary<string> {
    const entries = allow.map((entry) => new URL(entry));
    return fc
        .record({
            entry: fc.constantFrom(...entries),
            scheme: mostly(fc.constant("https"), "HTTPS", "Https", "http", "ftp", ""),
            separator: mostly(fc.constant("://"), ":/", ":", ":///", ":\\\\"),
            userinfo: mostly(fc.constant(""), "user@", "u:p@", "@", "httpbin.org@"),
            host: fc.oneof(
                { weight: 6, arbitrary: fc.constant((host: string) => host) },
                { weight: 3, arbitrary: fc.constantFrom(...HOST_TWISTS) },
                { weight: 1, arbitrary: fc.constantFrom(...HOSTS, "127.0.0.1", "2130706433", "0x7f.1", "[::1]", "169.254.169.254", "localhost", "").map((other) => () => other) },
            ),
            port: fc.oneof(
                { weight: 6, arbitrary: fc.constant("as-listed") },
                { weight: 2, arbitrary: fc.constantFrom("", ":443", ":8443") },
                { weight: 1, arbitrary: fc.constantFrom(":0443", ":", ":65536", ":1", ":80", ":08443") },
            ),
            suffix: fc.oneof(
                { weight: 3, arbitrary: fc.constantFrom("", "/", "/x", "/x/y", "/x%20y", "/~x!$&'()*+,;=:", "/.well-known", "//x") },
                { weight: 2, arbitrary: fc.constantFrom("x", "/../a", "/%2e%2E/a", "/..;/a", "/./a", "/a%2fb", "/a%5Cb", "/x y", "\\..\\a", "/..") },
            ),
            query: mostly(fc.constant(""), "?x=1", "?a=/../b", "?@evil.com", "?q=%zz", "?u=https://evil.com", "?x"),
            fragment: mostly(fc.constant(""), "#x", "#@evil.com"),
            inject: fc.oneof(
                { weight: 12, arbitrary: fc.constant(null) },
                { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(" ", "\t", "\n", "\r\n", "\\", "\u0000", "\u00e9", "@", "#", "%", "[")) },
            ),
        })
        .map(({ entry, scheme, separator, userinfo, host, port, suffix, query, fragment, inject }) => {
            const listedPort = entry.port === "" ? "" : `:${entry.port}`;
            const prefix = entry.pathname === "/" ? "" : entry.pathname.replace(/\/+$/, "");
            const url = `${scheme}${separator}${userinfo}${host(entry.hostname)}${port === "as-listed" ? listedPort : port}${prefix}${suffix}${query}${fragment}`;
            if (inject === null) return url;
            const [at, text] = inject;
            const position = at % (url.length + 1);
            return `${url.slice(0, position)}${text}${url.slice(position)}`;
        });
}

describe("tool policy: URL rule against a WHATWG reference (property)", function () {
    const lists = fc.sample(allowList, { seed: SEED, numRuns: ALLOW_LISTS });
    const tools: Record<string, unknown> = {};
    lists.forEach((allow, index) => {
        tools[toolName(index)] = { arguments: { url: { type: "url", allow } } };
    });
    const server = serverWith("property", tools);
    // Mostly URLs aimed at the tool's own list; some from fast-check's generic web URLs.
    const urlsFor = (index: number) =>
        fc.sample(fc.oneof({ weight: 9, arbitrary: urlAround(lists[index] ?? []) }, { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) }), {
            seed: SEED + 1 + index,
            numRuns: URLS_PER_LIST,
        });

    it(`agrees with the reference on ${ALLOW_LISTS * URLS_PER_LIST} URLs over ${ALLOW_LISTS} random allow lists (seed ${SEED})`, function () {
        const cases: Record<string, unknown> = {};
        const expected = new Map<string, { url: string; allow: readonly string[]; reference: boolean }>();
        lists.forEach((allow, list) => {
            urlsFor(list).forEach((url, index) => {
                const id = `u${list}_${index}`;
                cases[id] = toolCall(toolName(list), { url });
                expected.set(id, { url, allow, reference: referenceUrlAllowed(url, allow) });
            });
        });
        const verdicts = evaluateBatch(generateToolPolicyRego(server), cases);
        const disagreements: string[] = [];
        let allowed = 0;
        for (const [id, want] of expected) {
            const verdict = verdicts.get(id);
            assert.ok(verdict, id);
            assert.ok(verdict.outcome === "allow" || verdict.outcome === "arguments", `${id} denied for ${verdict.outcome}, not by the URL rule`);
            if (verdict.allowed) allowed += 1;
            if (verdict.allowed !== want.reference) {
                disagreements.push(`${JSON.stringify(want.url)} against ${JSON.stringify(want.allow)}: rego ${verdict.allowed ? "allows" : "denies"}, reference ${want.reference ? "allows" : "denies"}`);
            }
        }
        assert.deepEqual(disagreements.slice(0, 20), [], `${disagreements.length} disagreement(s) (PROPERTY_SEED=${SEED})`);
        // A generator that produces almost only denials (or only passes) would prove little.
        const share = allowed / expected.size;
        assert.ok(share > 0.15 && share < 0.85, `allowed share ${share.toFixed(2)} is outside 0.15-0.85: tune the generators`);
    });
});

function toolName(index: number): string {
    return `t${String(index).padStart(2, "0")}`;
}
