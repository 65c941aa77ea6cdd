// ISO 4217 alphabetic codes that the `currency` argument rule accepts (design.md section 7).
//
// Source: Debian/Ubuntu `iso-codes` 4.15.0 (`/usr/share/iso-codes/json/iso_4217.json`, 181 codes),
// brought up to the ISO 4217 amendments it predates:
//   - removed HRK: Croatia replaced the kuna with the euro on 2023-01-01;
//   - added ZWG (Zimbabwe Gold, amendment 177, 2024) and XCG (Caribbean guilder, amendment 176,
//     in use from 2025-03-31).
// Codes on their way out (ANG, ZWL, SLL, CUC, and BGN after Bulgaria's 2026 switch to the euro) are
// kept: accepting a withdrawn code only means the MCP server answers with an error, while dropping
// a code too early blocks a legitimate call. A stack narrows the set with the rule's `allow` and
// `deny` lists. Crypto tickers (BTC, ETH, ...) are not ISO 4217 codes and are never in this set.
//
// Sorted, so the generated Rego (which embeds the set) is byte-identical between runs.
export const ISO_4217_CODES: readonly string[] = Object.freeze([
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF",
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA",
    "XXX", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
]);
