// The RateLimitPolicy's predicates (components/gateway/manifests.ts rateLimitPolicyManifest),
// evaluated with a CEL interpreter against the headers of the requests the MCP router really
// sends (test/gateway/router.ts): one routed call counts once, its session set-up not at all.
import { strict as assert } from "assert";
import { evaluate } from "@marcbachmann/cel-js";
import { rateLimitPolicyManifest } from "../../components/gateway/manifests";
import { seedServer, stackServers } from "./fixtures";
import { elicitationResponse, hairpinInitialize, hairpinInitialized, routedToolCall, statelessToolCall } from "./router";

function headersOf(input: Record<string, unknown>): Record<string, string> {
    return (input.request as { headers: Record<string, string> }).headers;
}

function counts(limitName: string, headers: Record<string, string>): boolean {
    const policy = rateLimitPolicyManifest(stackServers("ci"));
    assert.ok(policy, "the ci stack limits some tools");
    const limit = policy.spec.overrides.limits[limitName];
    assert.ok(limit, `no limit ${limitName}`);
    // A predicate that reads a missing header fails to evaluate; a limit counts only requests for
    // which every predicate is true, so such a request is not counted.
    const holds = (predicate: string): boolean => {
        try {
            return evaluate(predicate, { request: { headers } }) === true;
        } catch {
            return false;
        }
    };
    return limit.when.every((when) => holds(when.predicate));
}

describe("RateLimitPolicy: what a tool's limit counts", function () {
    const fetch = seedServer("fetch");
    const currency = seedServer("currency");

    it("counts the routed tools/call of the tool", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(routedToolCall(fetch, "fetch_url", { url: "https://httpbin.org/get" }))), true);
    });

    it("counts a tools/call of the stateless revision", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(statelessToolCall(fetch, "fetch_url", { url: "https://httpbin.org/get" }))), true);
    });

    it("does not count the router's initialize for the session's first call", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(hairpinInitialize(fetch, "fetch_url"))), false);
    });

    it("does not count the router's notifications/initialized", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(hairpinInitialized(fetch, "fetch_url"))), false);
    });

    it("does not count an elicitation response", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(elicitationResponse(fetch, { action: "accept" }))), false);
    });

    it("does not count the same tool name on another server", function () {
        assert.equal(counts("currency.get_exchange_rate", headersOf(routedToolCall(currency, "fetch_url", {}))), false);
        assert.equal(counts("currency.get_exchange_rate", headersOf(routedToolCall(currency, "get_exchange_rate", {}))), true);
    });

    it("does not count another tool of the same server", function () {
        assert.equal(counts("fetch.fetch_url", headersOf(routedToolCall(fetch, "other", {}))), false);
    });

    it("does not count a method header in another case (header values compare exactly)", function () {
        const headers = { ...headersOf(routedToolCall(fetch, "fetch_url", {})), "x-mcp-method": "Tools/Call" };
        assert.equal(counts("fetch.fetch_url", headers), false);
    });
});
