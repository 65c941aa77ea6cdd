// The seeds' fetch server (Pulumi.dev.yaml: tool fetch_url, url allowed on https://api.weather.gov
// and https://httpbin.org, prefix fetch_) through the real opa, wrapped like Authorino. The seed
// cases are the floor; the rest are the ways a URL allowlist, a JSON-RPC body or a router header
// get talked around.
import { authorinoInput } from "../support/opa";
import { policyTable, post, request, rpcBody, seedServer, toolCall, toolCallBody } from "./fixtures";
import type { PolicyCase } from "./fixtures";

const fetchServer = () => seedServer("fetch");
const url = (value: unknown): Record<string, unknown> => toolCall("fetch_url", { url: value });
const allowedUrl = (name: string, value: string): PolicyCase => ({ name, input: url(value), expect: "allow" });
const deniedUrl = (name: string, value: unknown): PolicyCase => ({ name, input: url(value), expect: "arguments" });

policyTable("tool policy: the seeds' cases (fetch)", fetchServer, [
    allowedUrl("allows fetch_url to https://httpbin.org/get", "https://httpbin.org/get"),
    deniedUrl("denies fetch_url to https://malicious.com", "https://malicious.com"),
    deniedUrl("denies fetch_url to the metadata service http://169.254.169.254", "http://169.254.169.254"),
]);

policyTable("tool policy: URL near misses that must pass (fetch)", fetchServer, [
    allowedUrl("allows an allowed host with no path", "https://httpbin.org"),
    allowedUrl("allows an allowed host with the root path", "https://httpbin.org/"),
    allowedUrl("allows the explicit default port 443", "https://httpbin.org:443/get"),
    allowedUrl("allows a query string", "https://httpbin.org/get?x=1"),
    allowedUrl("allows a query string that itself contains a URL", "https://httpbin.org/redirect-to?url=https://evil.com/x"),
    allowedUrl("allows a query string without a path", "https://httpbin.org?x=1"),
    allowedUrl("allows percent-encoded characters in the path", "https://httpbin.org/anything/a%20b"),
    allowedUrl("allows an upper-case scheme (RFC 3986: schemes are case-insensitive)", "HTTPS://httpbin.org/get"),
    allowedUrl("allows an upper-case host, compared lower-cased (DNS is case-insensitive)", "https://HTTPBIN.ORG/get"),
    allowedUrl("allows the second allowed host with a deep path", "https://api.weather.gov/points/39.7456,-97.0892"),
    allowedUrl("allows a path with sub-delims and a colon", "https://api.weather.gov/gridpoints/TOP/31,80/forecast;x=1:y"),
    allowedUrl("allows a path segment that merely starts with dots", "https://httpbin.org/.well-known/x"),
    allowedUrl("allows an empty path segment", "https://httpbin.org//get"),
    { name: "denies the client-facing prefixed name fetch_fetch_url (the router rewrites it to the bare name before this host)", input: toolCall("fetch_fetch_url", { url: "https://httpbin.org/get" }), expect: "tool" },
]);

policyTable("tool policy: URL evasions (fetch)", fetchServer, [
    // host confusion
    deniedUrl("denies fetch_url when the host only starts with an allowed host", "https://httpbin.org.evil.com/get"),
    deniedUrl("denies fetch_url when the host only starts with the other allowed host", "https://api.weather.gov.evil.com"),
    deniedUrl("denies fetch_url when the host only ends with an allowed host", "https://evilhttpbin.org/get"),
    deniedUrl("denies fetch_url to a subdomain of an allowed host", "https://www.httpbin.org/get"),
    deniedUrl("denies fetch_url to a parent domain of an allowed host", "https://weather.gov/"),
    deniedUrl("denies fetch_url to a host with a trailing dot (not normalised)", "https://httpbin.org./get"),
    deniedUrl("denies fetch_url to a host with two trailing dots", "https://httpbin.org../get"),
    deniedUrl("denies fetch_url to a host with a leading dot", "https://.httpbin.org/get"),
    deniedUrl("denies fetch_url to a percent-encoded dot in the host", "https://httpbin%2eorg/get"),
    deniedUrl("denies fetch_url to a percent-encoded letter in the host", "https://%68ttpbin.org/get"),
    deniedUrl("denies fetch_url to an encoded NUL in the host", "https://httpbin.org%00.evil.com/"),
    deniedUrl("denies fetch_url to an encoded slash in the authority", "https://httpbin.org%2F@evil.com"),
    deniedUrl("denies fetch_url to an encoded at-sign in the authority", "https://httpbin.org%40evil.com/"),
    // userinfo and fragments
    deniedUrl("denies fetch_url with the allowed host as userinfo", "https://httpbin.org@evil.com"),
    deniedUrl("denies fetch_url with userinfo in front of an allowed host", "https://user:pass@httpbin.org/get"),
    deniedUrl("denies fetch_url with an empty userinfo", "https://@httpbin.org/get"),
    deniedUrl("denies fetch_url with an at-sign in the query", "https://evil.com?@httpbin.org"),
    deniedUrl("denies fetch_url with an at-sign in the path of an allowed host", "https://httpbin.org/@evil.com"),
    deniedUrl("denies fetch_url with a fragment that hides the authority", "https://evil.com#@httpbin.org"),
    deniedUrl("denies fetch_url with any fragment", "https://httpbin.org/get#x"),
    deniedUrl("denies fetch_url with an allowed host followed by a fragment and an at-sign", "https://httpbin.org#@evil.com"),
    // backslashes
    deniedUrl("denies fetch_url with a backslash before an at-sign", "https://httpbin.org\\@evil.com"),
    deniedUrl("denies fetch_url with a backslash as the authority separator", "https://evil.com\\httpbin.org"),
    deniedUrl("denies fetch_url with backslashes after the scheme", "https:\\\\httpbin.org/get"),
    deniedUrl("denies fetch_url with a backslash in the path", "https://httpbin.org/a\\..\\b"),
    // IP literals
    deniedUrl("denies fetch_url to an IPv4 literal", "https://127.0.0.1/"),
    deniedUrl("denies fetch_url to the metadata service over https", "https://169.254.169.254/latest/meta-data/"),
    deniedUrl("denies fetch_url to a decimal IPv4", "https://2130706433/"),
    deniedUrl("denies fetch_url to a decimal IPv4 over http", "http://2130706433"),
    deniedUrl("denies fetch_url to a hexadecimal IPv4", "https://0x7f000001/"),
    deniedUrl("denies fetch_url to an octal IPv4", "https://0177.0.0.1/"),
    deniedUrl("denies fetch_url to a mixed-notation IPv4", "https://0x7f.1/"),
    deniedUrl("denies fetch_url to a short-form IPv4", "https://127.1/"),
    deniedUrl("denies fetch_url to an IPv6 loopback", "https://[::1]/"),
    deniedUrl("denies fetch_url to an IPv4-mapped IPv6 metadata address", "https://[::ffff:169.254.169.254]/"),
    deniedUrl("denies fetch_url to the IPv6 metadata service", "https://[fd00:ec2::254]/latest"),
    deniedUrl("denies fetch_url to an IPv6 literal with a zone", "https://[fe80::1%25eth0]/"),
    // ports
    deniedUrl("denies fetch_url to a port that is not listed", "https://httpbin.org:8443/get"),
    deniedUrl("denies fetch_url to port 80 over https", "https://httpbin.org:80/get"),
    deniedUrl("denies fetch_url to the default port with a leading zero", "https://httpbin.org:0443/get"),
    deniedUrl("denies fetch_url to an empty port", "https://httpbin.org:/get"),
    deniedUrl("denies fetch_url to a port out of range", "https://httpbin.org:99999/get"),
    deniedUrl("denies fetch_url to port 65536", "https://httpbin.org:65536/"),
    deniedUrl("denies fetch_url to port 0", "https://httpbin.org:0/"),
    deniedUrl("denies fetch_url to a negative port", "https://httpbin.org:-1/"),
    deniedUrl("denies fetch_url to two ports", "https://httpbin.org:443:443/"),
    // schemes and malformed forms
    deniedUrl("denies fetch_url over plain http to an allowed host", "http://httpbin.org/get"),
    deniedUrl("denies fetch_url with a single slash after the scheme", "https:/httpbin.org/get"),
    deniedUrl("denies fetch_url without slashes after the scheme", "https:httpbin.org/get"),
    deniedUrl("denies fetch_url with three slashes after the scheme", "https:///httpbin.org/get"),
    deniedUrl("denies fetch_url without a scheme", "httpbin.org/get"),
    deniedUrl("denies fetch_url with a scheme-relative URL", "//httpbin.org/get"),
    deniedUrl("denies fetch_url with an empty host", "https:///"),
    deniedUrl("denies fetch_url with nothing after the scheme", "https://"),
    deniedUrl("denies fetch_url to an empty string", ""),
    deniedUrl("denies fetch_url to ftp", "ftp://httpbin.org/"),
    deniedUrl("denies fetch_url to a file URL", "file:///etc/passwd"),
    deniedUrl("denies fetch_url to a gopher URL", "gopher://httpbin.org:443/_GET"),
    deniedUrl("denies fetch_url to a javascript URL", "javascript:alert(1)//https://httpbin.org"),
    deniedUrl("denies fetch_url to a data URL", "data:text/plain,https://httpbin.org"),
    deniedUrl("denies fetch_url with a scheme that only ends in https", "xhttps://httpbin.org/"),
    // whitespace, control and non-ASCII characters
    deniedUrl("denies fetch_url with a leading space", " https://httpbin.org/get"),
    deniedUrl("denies fetch_url with a trailing space", "https://httpbin.org/get "),
    deniedUrl("denies fetch_url with a trailing newline", "https://httpbin.org/get\n"),
    deniedUrl("denies fetch_url with a tab in the host (WHATWG strips it)", "https://httpbin.\torg/get"),
    deniedUrl("denies fetch_url with a newline in the host", "https://httpbin.\norg/get"),
    deniedUrl("denies fetch_url with a CRLF header injection", "https://httpbin.org/get\r\nHost: evil.com"),
    deniedUrl("denies fetch_url with a NUL character", "https://httpbin.org/\u0000"),
    deniedUrl("denies fetch_url with a space in the path", "https://httpbin.org/a b"),
    deniedUrl("denies fetch_url to a Cyrillic homoglyph host", "https://httpb\u0456n.org/get"),
    deniedUrl("denies fetch_url to a full-width homoglyph host", "https://\uff48ttpbin.org/get"),
    deniedUrl("denies fetch_url with an ideographic full stop in the host", "https://httpbin.org\u3002evil.com/"),
    deniedUrl("denies fetch_url with a Kelvin sign in the host", "https://api.weather.gov.\u212aevil.com/"),
    deniedUrl("denies fetch_url to a punycode look-alike host", "https://xn--httpbin-9za.org/"),
    deniedUrl("denies fetch_url with a non-ASCII character in the query", "https://httpbin.org/get?q=\u00e9"),
    deniedUrl("denies fetch_url with a malformed percent escape", "https://httpbin.org/get%zz"),
    deniedUrl("denies fetch_url with a truncated percent escape", "https://httpbin.org/get%2"),
    deniedUrl("denies fetch_url with a double quote", 'https://httpbin.org/"x'),
    deniedUrl("denies fetch_url with angle brackets", "https://httpbin.org/<script>"),
    // dot segments (denied on every path, not only behind a prefix)
    deniedUrl("denies fetch_url with a dot-dot segment", "https://httpbin.org/a/../get"),
    deniedUrl("denies fetch_url with a dot segment", "https://httpbin.org/./get"),
    deniedUrl("denies fetch_url with a percent-encoded dot-dot segment", "https://httpbin.org/a/%2e%2E/get"),
    // wrong types
    deniedUrl("denies fetch_url when the url is a number", 42),
    deniedUrl("denies fetch_url when the url is an array of an allowed URL", ["https://httpbin.org/get"]),
    deniedUrl("denies fetch_url when the url is an object", { href: "https://httpbin.org/get" }),
    deniedUrl("denies fetch_url when the url is null", null),
    deniedUrl("denies fetch_url when the url is a boolean", true),
]);

const validCall = toolCallBody("fetch_url", { url: "https://httpbin.org/get" });
const evilCall = toolCallBody("fetch_url", { url: "https://evil.com/" });

policyTable("tool policy: tool names, arguments and params (fetch)", fetchServer, [
    { name: "denies an unknown tool", input: toolCall("delete_everything", {}), expect: "tool" },
    { name: "denies a tool name in upper case", input: toolCall("FETCH_URL", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies a tool name in mixed case", input: toolCall("Fetch_Url", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies a tool name with trailing whitespace", input: toolCall("fetch_url ", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies a tool name with a NUL suffix", input: toolCall("fetch_url\u0000", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies a doubly prefixed tool name", input: toolCall("fetch_fetch_fetch_url", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies another server's prefix", input: toolCall("currency_fetch_url", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies the bare prefix as a tool name", input: toolCall("fetch_", { url: "https://httpbin.org/get" }), expect: "tool" },
    { name: "denies a tool name that is a number", input: post(rpcBody("tools/call", { name: 1, arguments: {} })), expect: "params" },
    { name: "denies a tool name that is an array", input: post(rpcBody("tools/call", { name: ["fetch_url"], arguments: {} })), expect: "params" },
    { name: "denies tools/call without params", input: post(rpcBody("tools/call")), expect: "params" },
    { name: "denies tools/call without a tool name", input: post(rpcBody("tools/call", { arguments: { url: "https://httpbin.org/get" } })), expect: "params" },
    { name: "denies arguments that are null", input: toolCall("fetch_url", null), expect: "params" },
    { name: "denies arguments that are an array", input: toolCall("fetch_url", ["https://httpbin.org/get"]), expect: "params" },
    { name: "denies arguments that are a string", input: toolCall("fetch_url", "https://httpbin.org/get"), expect: "params" },
    { name: "denies an extra member in params", input: post(rpcBody("tools/call", { name: "fetch_url", arguments: { url: "https://httpbin.org/get" }, task: {} })), expect: "params" },
    { name: "denies a case variant of a params member", input: post(rpcBody("tools/call", { Name: "evil", name: "fetch_url", arguments: { url: "https://httpbin.org/get" } })), expect: "params" },
    { name: "denies a _meta that is not an object", input: post(rpcBody("tools/call", { name: "fetch_url", arguments: { url: "https://httpbin.org/get" }, _meta: "x" })), expect: "params" },
    { name: "allows a _meta object (progress token)", input: post(rpcBody("tools/call", { name: "fetch_url", arguments: { url: "https://httpbin.org/get" }, _meta: { progressToken: 7 } })), expect: "allow" },
    { name: "denies a missing required argument", input: toolCall("fetch_url", {}), expect: "arguments" },
    { name: "denies a call without an arguments member when an argument is required", input: toolCall("fetch_url"), expect: "arguments" },
    { name: "denies an unlisted extra argument", input: toolCall("fetch_url", { url: "https://httpbin.org/get", headers: { Host: "evil.com" } }), expect: "arguments" },
    { name: "denies an upper-case twin of a listed argument", input: toolCall("fetch_url", { url: "https://httpbin.org/get", URL: "https://evil.com" }), expect: "arguments" },
    { name: "denies only the upper-case spelling of a listed argument", input: toolCall("fetch_url", { URL: "https://httpbin.org/get" }), expect: "arguments" },
]);

policyTable("tool policy: JSON-RPC framing (fetch)", fetchServer, [
    { name: "allows initialize", input: post(rpcBody("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } })), expect: "allow" },
    { name: "allows ping", input: post(rpcBody("ping")), expect: "allow" },
    { name: "allows tools/list", input: post(rpcBody("tools/list", { cursor: "abc" })), expect: "allow" },
    { name: "allows notifications/initialized", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })), expect: "allow" },
    { name: "allows notifications/cancelled", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } })), expect: "allow" },
    { name: "allows a string request id", input: post(rpcBody("tools/list", undefined, "abc")), expect: "allow" },
    { name: "allows whitespace around the JSON object", input: post(`\n  ${validCall}  \n`), expect: "allow" },
    { name: "allows whitespace between a key and its colon", input: post(validCall.replace('"method":', '"method" :')), expect: "allow" },
    { name: "denies resources/read when extraMethods does not list it", input: post(rpcBody("resources/read", { uri: "file:///etc/passwd" })), expect: "rpc-method" },
    { name: "denies prompts/get", input: post(rpcBody("prompts/get", { name: "x" })), expect: "rpc-method" },
    { name: "denies a server-to-client method sent by the client", input: post(rpcBody("sampling/createMessage", {})), expect: "rpc-method" },
    { name: "denies Tools/Call (method names are case-sensitive)", input: post(rpcBody("Tools/Call", { name: "fetch_url", arguments: { url: "https://evil.com" } })), expect: "rpc-method" },
    { name: "denies TOOLS/LIST", input: post(rpcBody("TOOLS/LIST")), expect: "rpc-method" },
    { name: "denies Notifications/initialized", input: post(JSON.stringify({ jsonrpc: "2.0", method: "Notifications/initialized" })), expect: "rpc-method" },
    { name: "denies tools/call with a trailing space in the method", input: post(rpcBody("tools/call ", { name: "fetch_url", arguments: { url: "https://evil.com" } })), expect: "rpc-method" },
    { name: "denies an empty method", input: post(rpcBody("")), expect: "rpc-method" },
    { name: "denies a batch (JSON array) of calls", input: post(`[${validCall}]`), expect: "json-rpc" },
    { name: "denies a batch hiding a denied call behind an allowed one", input: post(`[${validCall},${evilCall}]`), expect: "json-rpc" },
    { name: "denies two JSON objects concatenated", input: post(`${validCall}${evilCall}`), expect: "json-rpc" },
    { name: "denies two JSON objects separated by a newline", input: post(`${validCall}\n${evilCall}`), expect: "json-rpc" },
    { name: "denies a truncated body", input: post(validCall.slice(0, -2)), expect: "json-rpc" },
    { name: "denies an empty body on POST", input: post(""), expect: "json-rpc" },
    { name: "denies a whitespace-only body", input: post("   "), expect: "json-rpc" },
    { name: "denies a body that is not JSON", input: post("tools/call fetch_url https://evil.com"), expect: "json-rpc" },
    { name: "denies a body with a byte order mark", input: post(`\ufeff${validCall}`), expect: "json-rpc" },
    { name: "denies a JSON string body", input: post(JSON.stringify(validCall)), expect: "json-rpc" },
    { name: "denies a JSON null body", input: post("null"), expect: "json-rpc" },
    { name: "denies a JSON number body", input: post("1"), expect: "json-rpc" },
    { name: "denies a body with a comment", input: post(`/* x */${validCall}`), expect: "json-rpc" },
    { name: "denies a body with a trailing comma", input: post(validCall.replace(/}$/, ",}")), expect: "json-rpc" },
    { name: "denies JSON-RPC 1.0", input: post(validCall.replace('"2.0"', '"1.0"')), expect: "json-rpc" },
    { name: "denies a numeric jsonrpc version", input: post(validCall.replace('"2.0"', "2.0")), expect: "json-rpc" },
    { name: "denies a missing jsonrpc member", input: post(JSON.stringify({ id: 1, method: "tools/list" })), expect: "json-rpc" },
    { name: "denies a response that is not an elicitation response", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} })), expect: "response" },
    { name: "denies a method that is not a string", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: ["tools/list"] })), expect: "json-rpc" },
    { name: "denies an object id", input: post(JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "tools/list" })), expect: "json-rpc" },
    { name: "denies a null id", input: post(JSON.stringify({ jsonrpc: "2.0", id: null, method: "tools/list" })), expect: "json-rpc" },
    { name: "denies params that are an array", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: [] })), expect: "json-rpc" },
    { name: "denies a member outside the envelope", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", result: {} })), expect: "json-rpc" },
    { name: "denies a case variant of the method member", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", Method: "tools/call" })), expect: "json-rpc" },
    { name: "denies an upper-case method member", input: post(JSON.stringify({ jsonrpc: "2.0", id: 1, METHOD: "tools/list" })), expect: "json-rpc" },
    { name: "denies a long-s variant of the jsonrpc member", input: post('{"j\u017fonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"tools/list"}'), expect: "json-rpc" },
    // duplicate keys: OPA keeps the last value; a first-wins parser downstream would see the first
    {
        name: "denies a duplicate method key that would turn a denied call into tools/list",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://evil.com"}},"method":"tools/list"}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate method key with tools/list first",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://httpbin.org/get"}}}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate url argument whose first value is denied",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://evil.com","url":"https://httpbin.org/get"}}}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate tool name whose first value is not listed",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","name":"fetch_url","arguments":{"url":"https://httpbin.org/get"}}}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate params member",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{}},"params":{"name":"fetch_url","arguments":{"url":"https://httpbin.org/get"}}}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate key spelled with a unicode escape",
        input: post('{"jsonrpc":"2.0","id":1,"m\\u0065thod":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://evil.com"}},"method":"tools/list"}'),
        expect: "json-rpc",
    },
    {
        name: "denies a duplicate key nested in an unlisted _meta",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","arguments":{"url":"https://httpbin.org/get"},"_meta":{"a":1,"a":2}}}'),
        expect: "json-rpc",
    },
    {
        name: "allows keys that look duplicated only inside string values",
        input: post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch_url","_meta":{"note":"\\"method\\": \\"x\\", \\\\\\"a\\":1"},"arguments":{"url":"https://httpbin.org/get?q=%22url%22:1"}}}'),
        expect: "allow",
    },
]);

const headerCall = (headers: Record<string, string>, name = "fetch_url", value = "https://httpbin.org/get") => toolCall(name, { url: value }, headers);

policyTable("tool policy: router headers (fetch)", fetchServer, [
    { name: "allows x-mcp-toolname equal to the body's tool", input: headerCall({ "x-mcp-toolname": "fetch_url" }), expect: "allow" },
    { name: "denies a body that still carries the prefix under the router's bare x-mcp-toolname", input: headerCall({ "x-mcp-toolname": "fetch_url" }, "fetch_fetch_url"), expect: "tool" },
    { name: "denies x-mcp-toolname in the client-facing spelling (the router sets the upstream name)", input: headerCall({ "x-mcp-toolname": "fetch_fetch_url" }), expect: "toolname-header" },
    { name: "denies a listed body name whose prefix-stripped spelling the header names, an unlisted tool", input: headerCall({ "x-mcp-toolname": "url" }), expect: "toolname-header" },
    { name: "allows x-mcp-method equal to tools/call", input: headerCall({ "x-mcp-method": "tools/call", "x-mcp-toolname": "fetch_url" }), expect: "allow" },
    { name: "denies x-mcp-toolname naming another tool than the body (header forgery)", input: headerCall({ "x-mcp-toolname": "get_exchange_rate" }), expect: "toolname-header" },
    { name: "denies x-mcp-toolname in another case than the body", input: headerCall({ "x-mcp-toolname": "FETCH_URL" }), expect: "toolname-header" },
    { name: "denies an empty x-mcp-toolname", input: headerCall({ "x-mcp-toolname": "" }), expect: "toolname-header" },
    { name: "denies x-mcp-toolname with a doubled prefix", input: headerCall({ "x-mcp-toolname": "fetch_fetch_fetch_url" }), expect: "toolname-header" },
    { name: "denies x-mcp-toolname on tools/list", input: post(rpcBody("tools/list"), { "x-mcp-toolname": "fetch_url" }), expect: "toolname-header" },
    { name: "denies x-mcp-toolname on a notification without the router's session set-up headers", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), { "x-mcp-toolname": "fetch_url" }), expect: "hairpin" },
    { name: "denies x-mcp-toolname on notifications/cancelled", input: post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } }), { "x-mcp-toolname": "fetch_url" }), expect: "toolname-header" },
    { name: "denies x-mcp-method tools/list on a tools/call", input: headerCall({ "x-mcp-method": "tools/list" }), expect: "method-header" },
    { name: "denies x-mcp-method tools/call on a tools/list", input: post(rpcBody("tools/list"), { "x-mcp-method": "tools/call" }), expect: "method-header" },
    { name: "allows x-mcp-method equal to the body's method on tools/list", input: post(rpcBody("tools/list"), { "x-mcp-method": "tools/list" }), expect: "allow" },
]);

const wellKnownOnly = (body: string) => authorinoInput({ method: "POST", body }, "well-known");
const contextOnly = (body: string) => authorinoInput({ method: "POST", body }, "context");
/** Both views present, but not the same request. */
function disagreeing(wellKnown: { method: string; body?: string; headers?: Record<string, string> }, envoy: { method: string; body?: string; headers?: Record<string, string> }): Record<string, unknown> {
    const base = authorinoInput({ method: wellKnown.method, body: wellKnown.body, headers: wellKnown.headers });
    const other = authorinoInput({ method: envoy.method, body: envoy.body, headers: envoy.headers });
    return { ...base, context: other.context };
}

policyTable("tool policy: HTTP methods, bodies and Authorino's two views (fetch)", fetchServer, [
    { name: "allows a bodyless GET (the server's event stream)", input: request({ method: "GET" }), expect: "allow" },
    { name: "allows a bodyless DELETE (end of session)", input: request({ method: "DELETE" }), expect: "allow" },
    { name: "denies a GET with a body", input: request({ method: "GET", body: validCall }), expect: "bodyless" },
    { name: "denies a DELETE with a body", input: request({ method: "DELETE", body: "x" }), expect: "bodyless" },
    { name: "denies a GET carrying x-mcp-toolname", input: request({ method: "GET", headers: { "x-mcp-toolname": "fetch_url" } }), expect: "bodyless" },
    { name: "denies PUT with a valid call", input: request({ method: "PUT", body: validCall }), expect: "http-method" },
    { name: "denies PATCH with a valid call", input: request({ method: "PATCH", body: validCall }), expect: "http-method" },
    { name: "denies HEAD", input: request({ method: "HEAD" }), expect: "http-method" },
    { name: "denies OPTIONS", input: request({ method: "OPTIONS" }), expect: "http-method" },
    { name: "denies a lower-case post (HTTP methods are case-sensitive)", input: request({ method: "post", body: validCall }), expect: "http-method" },
    { name: "denies a lower-case get", input: request({ method: "get" }), expect: "http-method" },
    { name: "denies a body Envoy marked as cut at maxRequestBytes", input: post(validCall, { "x-envoy-auth-partial-body": "true" }), expect: "partial-body" },
    { name: "denies a body marked as cut in upper case", input: post(validCall, { "x-envoy-auth-partial-body": "TRUE" }), expect: "partial-body" },
    { name: "denies a body sent base64-encoded in raw_body (packAsBytes)", input: withRawBody(request({ method: "POST" })), expect: "request" },
    { name: "denies a GET with a raw_body", input: withRawBody(request({ method: "GET" })), expect: "request" },
    { name: "denies an input without the request", input: { source: {}, destination: {} }, expect: "request" },
    { name: "allows an allowed call with only the well-known attributes", input: wellKnownOnly(validCall), expect: "allow" },
    { name: "allows an allowed call with only the deprecated context view", input: contextOnly(validCall), expect: "allow" },
    { name: "denies a denied call with only the deprecated context view", input: contextOnly(evilCall), expect: "arguments" },
    { name: "denies when the two views carry different bodies", input: disagreeing({ method: "POST", body: validCall }, { method: "POST", body: evilCall }), expect: "request" },
    { name: "denies when the two views carry different bodies, the denied one well-known", input: disagreeing({ method: "POST", body: evilCall }, { method: "POST", body: validCall }), expect: "request" },
    { name: "denies a GET whose body only the deprecated view carries (the fallback fills it in)", input: disagreeing({ method: "GET" }, { method: "GET", body: evilCall }), expect: "bodyless" },
    { name: "uses the deprecated view's body when the well-known view has none", input: disagreeing({ method: "POST" }, { method: "POST", body: validCall }), expect: "allow" },
    { name: "denies a denied call that only the deprecated view carries", input: disagreeing({ method: "POST" }, { method: "POST", body: evilCall }), expect: "arguments" },
    { name: "denies when the two views carry different methods", input: disagreeing({ method: "GET" }, { method: "POST", body: "" }), expect: "request" },
    { name: "denies when the two views carry different headers", input: disagreeing({ method: "POST", body: validCall, headers: { "x-mcp-toolname": "fetch_url" } }, { method: "POST", body: validCall, headers: { "x-mcp-toolname": "get_exchange_rate" } }), expect: "request" },
    { name: "denies a method that is not a string", input: { request: { method: ["POST"], body: validCall, headers: {} } }, expect: "request" },
    { name: "denies a body that is not a string", input: { request: { method: "POST", body: JSON.parse(validCall) as unknown, headers: {} } }, expect: "request" },
]);

function withRawBody(input: Record<string, unknown>): Record<string, unknown> {
    const raw = Buffer.from(validCall).toString("base64");
    const wellKnown = { ...(input.request as Record<string, unknown>), raw_body: raw };
    const context = input.context as { request: { http: Record<string, unknown> } };
    return { ...input, request: wellKnown, context: { ...context, request: { http: { ...context.request.http, raw_body: raw } } } };
}
