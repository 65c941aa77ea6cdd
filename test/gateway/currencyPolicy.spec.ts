// The seeds' currency server (Pulumi.dev.yaml: get_exchange_rate with ISO 4217 currency_from and
// currency_to minus crypto tickers, optional currency_date pattern, prefix currency_).
import { policyTable, seedServer, toolCall } from "./fixtures";
import type { PolicyCase } from "./fixtures";

const currencyServer = () => seedServer("currency");
const rate = (args: Record<string, unknown>, name = "get_exchange_rate"): Record<string, unknown> => toolCall(name, args);
const pair = (name: string, from: unknown, to: unknown, expect: PolicyCase["expect"]): PolicyCase => ({ name, input: rate({ currency_from: from, currency_to: to }), expect });

policyTable("tool policy: the seeds' cases (currency)", currencyServer, [
    pair("allows get_exchange_rate from USD to EUR", "USD", "EUR", "allow"),
    pair("denies get_exchange_rate from USD to BTC", "USD", "BTC", "arguments"),
]);

policyTable("tool policy: currency codes (currency)", currencyServer, [
    pair("allows a lower-case currency code (upper-cased before comparing)", "usd", "eur", "allow"),
    pair("allows a mixed-case currency code", "Usd", "eUr", "allow"),
    pair("allows a currency code padded with spaces", " usd ", " eur ", "allow"),
    pair("allows a currency code padded with a tab and a newline", "\tUSD\n", "EUR", "allow"),
    pair("allows an ISO 4217 code added in 2024 (ZWG)", "USD", "ZWG", "allow"),
    pair("allows the same currency on both sides", "EUR", "EUR", "allow"),
    pair("denies a lower-case denied code", "USD", "btc", "arguments"),
    pair("denies a padded denied code", "USD", " BTC ", "arguments"),
    pair("denies ETH", "USD", "ETH", "arguments"),
    pair("denies DOGE", "USD", "DOGE", "arguments"),
    pair("denies XRP", "USD", "XRP", "arguments"),
    pair("denies SOL", "USD", "SOL", "arguments"),
    pair("denies BTC as the source currency too (not ISO 4217)", "BTC", "USD", "arguments"),
    pair("denies a code that is not ISO 4217", "USD", "XYZ", "arguments"),
    pair("denies a withdrawn code (HRK, replaced by EUR in 2023)", "USD", "HRK", "arguments"),
    pair("denies a two-letter code", "USD", "EU", "arguments"),
    pair("denies a four-letter code starting with an allowed one", "USD", "EURO", "arguments"),
    pair("denies a code with an inner space", "USD", "E UR", "arguments"),
    pair("denies a code with a zero-width space", "USD", "EU\u200bR", "arguments"),
    pair("denies a code with a long s that upper-cases to S (U+017F)", "U\u017fD", "EUR", "arguments"),
    pair("denies a code with a Kelvin sign", "USD", "\u212aES", "arguments"),
    pair("denies a full-width code", "USD", "\uff25\uff35\uff32", "arguments"),
    pair("denies an empty code", "USD", "", "arguments"),
    pair("denies a numeric ISO code (978 is EUR)", "USD", 978, "arguments"),
    pair("denies a code in an array", "USD", ["EUR"], "arguments"),
    pair("denies a code in an object", "USD", { code: "EUR" }, "arguments"),
    pair("denies a null code", "USD", null, "arguments"),
    pair("denies a boolean code", "USD", true, "arguments"),
    { name: "denies a call without the required currency_to", input: rate({ currency_from: "USD" }), expect: "arguments" },
    { name: "denies a call without arguments", input: rate({}), expect: "arguments" },
    { name: "denies the client-facing prefixed tool name (never reaches the server host from the router)", input: rate({ currency_from: "USD", currency_to: "EUR" }, "currency_get_exchange_rate"), expect: "tool" },
    { name: "denies the fetch server's prefix", input: rate({ currency_from: "USD", currency_to: "EUR" }, "fetch_get_exchange_rate"), expect: "tool" },
    { name: "denies an unlisted extra argument", input: rate({ currency_from: "USD", currency_to: "EUR", amount: 100 }), expect: "arguments" },
    { name: "denies an upper-case twin of a listed argument", input: rate({ currency_from: "USD", currency_to: "EUR", CURRENCY_TO: "BTC" }), expect: "arguments" },
]);

policyTable("tool policy: optional string pattern (currency)", currencyServer, [
    { name: "allows the optional date to be absent", input: rate({ currency_from: "USD", currency_to: "EUR" }), expect: "allow" },
    { name: "allows the date 'latest'", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "latest" }), expect: "allow" },
    { name: "allows an ISO date", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "2024-01-31" }), expect: "allow" },
    { name: "denies a date that matches the pattern only in part", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "2024-01-31T00:00" }), expect: "arguments" },
    { name: "denies a date with a trailing newline ($ anchors at the very end)", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "latest\n" }), expect: "arguments" },
    { name: "denies a value that only contains the pattern", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "x latest" }), expect: "arguments" },
    { name: "denies an alternative followed by an injection", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "latest; DROP TABLE" }), expect: "arguments" },
    { name: "denies a short date", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: "2024-1-31" }), expect: "arguments" },
    { name: "denies a date given as a number", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: 20240131 }), expect: "arguments" },
    { name: "denies a null optional argument (present is not absent)", input: rate({ currency_from: "USD", currency_to: "EUR", currency_date: null }), expect: "arguments" },
]);
