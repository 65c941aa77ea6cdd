// Argument rules the seeds do not exercise, on generated configs: numbers, absent, strings with a
// maximum length, enums, URL path prefixes and ports, unlisted arguments, tools without arguments,
// extraMethods, the default prefix, tools whose names differ by the prefix, and config values that contain
// the word Authorino's clean-up cuts out.
import { authorinoInput } from "../support/opa";
import { ambiguous, files, packaging, policyTable, post, rpcBody, thermostat, toolCall, weather } from "./fixtures";
import type { PolicyCase } from "./fixtures";

const set = (args: Record<string, unknown>): Record<string, unknown> => toolCall("set_temperature", args);
const num = (name: string, celsius: unknown, expect: PolicyCase["expect"]): PolicyCase => ({ name, input: set({ celsius }), expect });

policyTable("tool policy: number, absent, string and enum rules", thermostat, [
    num("allows a number inside the bounds", 21.5, "allow"),
    num("allows the lower bound (inclusive)", -10, "allow"),
    num("allows the upper bound (inclusive)", 40, "allow"),
    num("allows zero", 0, "allow"),
    num("denies a number just above the upper bound", 40.0001, "arguments"),
    num("denies a number just below the lower bound", -10.5, "arguments"),
    num("denies a large exponent", 1e300, "arguments"),
    num("denies a numeric string", "21", "arguments"),
    num("denies a boolean for a number", true, "arguments"),
    num("denies null for a number", null, "arguments"),
    num("denies an array holding a number", [21], "arguments"),
    { name: "allows an integer argument", input: set({ celsius: 20, repeat: 3 }), expect: "allow" },
    { name: "allows an integer written with a fraction of zero", input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"set_temperature","arguments":{"celsius":20,"repeat":2.0}}}'), expect: "allow" },
    { name: "denies a fraction for an integer argument", input: set({ celsius: 20, repeat: 2.5 }), expect: "arguments" },
    { name: "denies an integer below its minimum", input: set({ celsius: 20, repeat: 0 }), expect: "arguments" },
    { name: "denies an integer above its maximum", input: set({ celsius: 20, repeat: 6 }), expect: "arguments" },
    { name: "denies an argument whose rule is absent", input: set({ celsius: 20, debug: true }), expect: "arguments" },
    { name: "denies an absent-rule argument even when false", input: set({ celsius: 20, debug: false }), expect: "arguments" },
    { name: "denies an absent-rule argument even when null", input: set({ celsius: 20, debug: null }), expect: "arguments" },
    { name: "allows a string matching the pattern within the maximum length", input: set({ celsius: 20, label: "abc" }), expect: "allow" },
    { name: "denies a string matching the pattern but longer than the maximum length", input: set({ celsius: 20, label: "abcdef" }), expect: "arguments" },
    { name: "denies a string in the wrong case for the pattern", input: set({ celsius: 20, label: "ABC" }), expect: "arguments" },
    { name: "denies an empty string the pattern does not match", input: set({ celsius: 20, label: "" }), expect: "arguments" },
    { name: "denies a string with a trailing newline", input: set({ celsius: 20, label: "abc\n" }), expect: "arguments" },
    { name: "denies a number for a string rule", input: set({ celsius: 20, label: 5 }), expect: "arguments" },
    { name: "allows an enum value in another case", input: set({ celsius: 20, mode: "ECO" }), expect: "allow" },
    { name: "allows an enum value padded with spaces", input: set({ celsius: 20, mode: "  comfort " }), expect: "allow" },
    { name: "denies an enum value that is both allowed and denied", input: set({ celsius: 20, mode: "boost" }), expect: "arguments" },
    { name: "denies an enum value not listed", input: set({ celsius: 20, mode: "turbo" }), expect: "arguments" },
    { name: "denies an enum value with an inner space", input: set({ celsius: 20, mode: "e co" }), expect: "arguments" },
    { name: "denies a non-string enum value", input: set({ celsius: 20, mode: 1 }), expect: "arguments" },
    { name: "denies an enum value in an array", input: set({ celsius: 20, mode: ["eco"] }), expect: "arguments" },
    { name: "allows a tool without arguments called without an arguments member", input: toolCall("status"), expect: "allow" },
    { name: "allows a tool without arguments called with empty arguments", input: toolCall("status", {}), expect: "allow" },
    { name: "denies any argument to a tool without arguments", input: toolCall("status", { verbose: true }), expect: "arguments" },
    { name: "denies the configured prefix th_ in the body (the router strips it)", input: toolCall("th_status", {}), expect: "tool" },
    { name: "allows a method listed in extraMethods", input: post(rpcBody("resources/read", { uri: "thermostat://state" })), expect: "allow" },
    { name: "denies a method next to the one listed in extraMethods", input: post(rpcBody("resources/list")), expect: "rpc-method" },
    { name: "denies x-mcp-toolname naming the other listed tool (header forgery)", input: toolCall("set_temperature", { celsius: 90 }, { "x-mcp-toolname": "status" }), expect: "toolname-header" },
    { name: "denies a body naming one tool under a header naming an allowed call of the other", input: toolCall("status", {}, { "x-mcp-toolname": "set_temperature" }), expect: "toolname-header" },
]);

const fetchUrl = (name: string, url: string, expect: PolicyCase["expect"]): PolicyCase => ({ name, input: toolCall("fetch", { url }), expect });

policyTable("tool policy: URL path prefixes and ports", weather, [
    fetchUrl("allows exactly the path prefix", "https://api.weather.gov/points", "allow"),
    fetchUrl("allows a path below the prefix", "https://api.weather.gov/points/39.7,-97.0", "allow"),
    fetchUrl("allows the prefix with a trailing slash", "https://api.weather.gov/points/", "allow"),
    fetchUrl("allows the prefix with a query", "https://api.weather.gov/points?x=/../admin", "allow"),
    fetchUrl("denies a path that only starts with the prefix's text", "https://api.weather.gov/pointsx", "arguments"),
    fetchUrl("denies a path shorter than the prefix", "https://api.weather.gov/point", "arguments"),
    fetchUrl("denies the root path of a host allowed only under a prefix", "https://api.weather.gov/", "arguments"),
    fetchUrl("denies no path on a host allowed only under a prefix", "https://api.weather.gov", "arguments"),
    fetchUrl("denies a prefix in another case (paths are case-sensitive)", "https://api.weather.gov/POINTS", "arguments"),
    fetchUrl("allows a prefix entry written with a trailing slash", "https://api.weather.gov/alerts/active", "allow"),
    fetchUrl("allows a path below a prefix written with a trailing slash", "https://api.weather.gov/alerts/active/area/KS", "allow"),
    fetchUrl("denies the parent of a prefix", "https://api.weather.gov/alerts", "arguments"),
    fetchUrl("denies a dot-dot segment that leaves the prefix", "https://api.weather.gov/points/../alerts", "arguments"),
    fetchUrl("denies a percent-encoded dot-dot segment", "https://api.weather.gov/points/%2e%2e/admin", "arguments"),
    fetchUrl("denies a mixed-encoding dot-dot segment", "https://api.weather.gov/points/.%2E/admin", "arguments"),
    fetchUrl("denies a dot-dot segment with parameters", "https://api.weather.gov/points/..;/admin", "arguments"),
    fetchUrl("denies a trailing dot-dot segment", "https://api.weather.gov/points/..", "arguments"),
    fetchUrl("denies an encoded slash behind a prefix", "https://api.weather.gov/points%2F..%2Fadmin", "arguments"),
    fetchUrl("denies an encoded slash in a segment below a prefix", "https://api.weather.gov/points/a%2fb", "arguments"),
    fetchUrl("denies an encoded backslash below a prefix", "https://api.weather.gov/points/a%5Cb", "arguments"),
    fetchUrl("allows the listed non-default port", "https://example.com:8443/api/v1", "allow"),
    fetchUrl("denies the default port on a host listed with another port", "https://example.com/api/v1", "arguments"),
    fetchUrl("denies the explicit default port on a host listed with another port", "https://example.com:443/api/v1", "arguments"),
    fetchUrl("denies the listed port outside the prefix", "https://example.com:8443/admin", "arguments"),
    fetchUrl("allows any path on a host listed without one", "https://docs.example.org/a/b/c", "allow"),
    fetchUrl("allows an encoded slash on a host listed without a path", "https://docs.example.org/a%2fb", "allow"),
    fetchUrl("denies a dot-dot segment even on a host listed without a path", "https://docs.example.org/a/../b", "arguments"),
]);

policyTable("tool policy: unlisted arguments and optional URLs", files, [
    { name: "allows an unlisted argument when the tool takes them", input: toolCall("read_file", { path: "/data/a", offset: 10 }), expect: "allow" },
    { name: "allows an unlisted nested object when the tool takes them", input: toolCall("read_file", { path: "/data/a", options: { follow: false } }), expect: "allow" },
    { name: "still enforces the listed arguments of a tool that takes unlisted ones", input: toolCall("read_file", { path: "/etc/passwd", offset: 10 }), expect: "arguments" },
    { name: "denies an unlisted argument that is the upper-case twin of a listed one", input: toolCall("read_file", { path: "/data/a", PATH: "/etc/passwd" }), expect: "arguments" },
    { name: "denies an unlisted argument that is a mixed-case twin of a listed one", input: toolCall("read_file", { path: "/data/a", Path: "/etc/passwd" }), expect: "arguments" },
    { name: "denies an unlisted argument that folds onto a listed one through a long s", input: toolCall("read_file", { path: "/data/a", "\u017fource": "remote" }), expect: "arguments" },
    { name: "denies an unlisted argument that folds onto a listed one through a Kelvin sign", input: toolCall("read_file", { path: "/data/a", "\u212aey": "x" }), expect: "arguments" },
    { name: "allows an unlisted non-ASCII argument that folds onto no listed one", input: toolCall("read_file", { path: "/data/a", "\u212aind": 1 }), expect: "allow" },
    { name: "denies the twin alone when the listed argument is required", input: toolCall("read_file", { PATH: "/data/a" }), expect: "arguments" },
    { name: "allows an optional url to be absent", input: toolCall("optional_url", {}), expect: "allow" },
    { name: "allows an optional url that is allowed", input: toolCall("optional_url", { url: "https://httpbin.org/x" }), expect: "allow" },
    { name: "denies an optional url that is not allowed", input: toolCall("optional_url", { url: "https://evil.com" }), expect: "arguments" },
    { name: "denies an optional url given as null", input: toolCall("optional_url", { url: null }), expect: "arguments" },
    { name: "denies the default prefix (server name + _) in the body", input: toolCall("files_read_file", { path: "/data/a" }), expect: "tool" },
]);

policyTable("tool policy: tools named x and p_x under prefix p_ (names compare byte for byte)", ambiguous, [
    { name: "applies the rule of the tool named byte for byte (p_x, max 100)", input: toolCall("p_x", { n: 50 }), expect: "allow" },
    { name: "denies p_x above its own maximum", input: toolCall("p_x", { n: 500 }), expect: "arguments" },
    { name: "applies x's own rule to x (max 10)", input: toolCall("x", { n: 50 }), expect: "arguments" },
    { name: "allows x under its own rule", input: toolCall("x", { n: 5 }), expect: "allow" },
    { name: "denies the doubly prefixed name (no listed tool)", input: toolCall("p_p_x", { n: 5 }), expect: "tool" },
    { name: "denies a body naming p_x under a router header naming x", input: toolCall("p_x", { n: 5 }, { "x-mcp-toolname": "x" }), expect: "toolname-header" },
    { name: "allows the router's header naming the body's tool", input: toolCall("p_x", { n: 50 }, { "x-mcp-toolname": "p_x" }), expect: "allow" },
]);

policyTable("tool policy: config values containing the word Authorino cuts out", packaging, [
    { name: "allows a tool whose name contains the word", input: toolCall("npm_package_info", { name: "package", kind: "PACKAGE" }), expect: "allow" },
    { name: "allows the tool with values that contain the word", input: toolCall("npm_package_info", { name: "module;x", kind: "module" }), expect: "allow" },
    { name: "keeps the meaning of a pattern that contains the word", input: toolCall("npm_package_info", { name: "packages", kind: "package" }), expect: "arguments" },
    { name: "keeps the meaning of an enum that contains the word", input: toolCall("npm_package_info", { name: "package", kind: "packages" }), expect: "arguments" },
    { name: "allows an extra method that contains the word", input: post(rpcBody("resources/package")), expect: "allow" },
    { name: "still denies other methods", input: post(rpcBody("resources/read")), expect: "rpc-method" },
    { name: "still denies a GET with a body", input: authorinoInput({ method: "GET", body: "{}" }), expect: "bodyless" },
]);
