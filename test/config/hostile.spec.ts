// Hostile stack configs (issue 12): every one a clear error at the config edge, naming the key,
// on every profile. Hand-written cases per class, then fast-check generators over the classes.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { StackFileError, chartsOf, readStackConfig, runStack } from "../../cli/mockRuntime";
import { ConfigError, cpuMillis, memoryBytes, parseConfig, resolveCharts } from "../../config/schema";
import type { ConfigIssue } from "../../config/schema";
import { normaliseMountPath } from "../../config/paths";
import { chartRepositoryProblem } from "../../config/hosts";
import { EMERGENCY_OVERRIDE_MAX_DAYS } from "../../config/profiles";
import { INSTALLED_NAMESPACES, SVID_DIR } from "../../config/wellKnown";
import { memoryQuantity } from "../../components/baseline/quota";

const NOW = new Date("2026-11-23T12:00:00Z");
type Raw = Record<string, unknown>;
type Stack = "dev" | "ci" | "prod";
const STACKS: readonly Stack[] = ["dev", "ci", "prod"];
const BASES: Readonly<Record<Stack, Raw>> = { dev: readStackConfig("dev"), ci: readStackConfig("ci"), prod: readStackConfig("prod") };

function setAt(raw: Raw, keyPath: string, value: unknown): Raw {
    const segments = keyPath.split(/\.|\[(\d+)\]/).filter((segment) => segment !== undefined && segment !== "");
    let cursor: Record<string | number, unknown> = raw;
    segments.forEach((segment, index) => {
        const key: string | number = /^\d+$/.test(segment) ? Number(segment) : segment;
        if (index === segments.length - 1) {
            if (value === undefined) delete cursor[key];
            else cursor[key] = value;
        } else {
            if (cursor[key] === undefined || cursor[key] === null) cursor[key] = {};
            cursor = cursor[key] as Record<string | number, unknown>;
        }
    });
    return raw;
}

function issuesOf(raw: Raw, stack: string): readonly ConfigIssue[] {
    try {
        parseConfig(raw, stack, NOW);
    } catch (error) {
        if (error instanceof ConfigError) return error.issues;
        throw error;
    }
    return [];
}

/** What no message a person reads may contain: zod's own wording, or a grammar slip. */
const LIBRARY_WORDING = /Too small|Too big|Invalid input|Invalid key|expected number to be|a object|Unrecognized key/;

interface Hostile {
    readonly name: string;
    readonly edits: readonly (readonly [string, unknown])[];
    readonly key: string;
    readonly says: RegExp;
    /** Stacks to try; default every one (the rule must not depend on which tools are on). */
    readonly stacks?: readonly Stack[];
}

const FAR = "2027-06-01T00:00:00Z";
const SOON = "2026-11-25T00:00:00Z";
const override = (tools: string[], expires: string) => ({ tools, reason: "r", ticket: "SEC-1", approvedBy: "a@example.com", expires });

const CASES: readonly Hostile[] = [
    // Checks that used to live in components
    { name: "overlapping tool prefixes", edits: [["mcpServers[1].prefix", "fetch_url_"]], key: "agent-security:mcpServers[1].prefix", says: /starts with "fetch_"/ },
    { name: "the same tool prefix twice", edits: [["mcpServers[1].prefix", "fetch_"]], key: "agent-security:mcpServers[1].prefix", says: /is the same as "fetch_"/ },
    { name: "a server on the gateway's public host", edits: [["gateway.internalDomain", "agents.example.com"], ["gateway.publicHost", "mcp.agents.example.com"], ["mcpServers[0].host", "mcp.agents.example.com"], ["mcpServers[1].host", "currency-mcp.agents.example.com"]], key: "agent-security:mcpServers[0].host", says: /gateway's public host/ },
    { name: "a server named like the gateway's own objects", edits: [["mcpServers[0].name", "mcp-gateway"], ["agents[0].mcpServers", ["mcp-gateway"]]], key: "agent-security:mcpServers[0].name", says: /gateway's own objects/ },
    { name: "tools/call among extra methods", edits: [["mcpServers[0].extraMethods", ["resources/list", "tools/call"]]], key: "agent-security:mcpServers[0].extraMethods[1]", says: /tools\/call cannot be allowed wholesale/ },
    { name: "a URL allow entry on port 0", edits: [["mcpServers[0].tools.fetch_url.arguments.url.allow[0]", "https://api.weather.gov:0/"]], key: "agent-security:mcpServers[0].tools.fetch_url.arguments.url.allow[0]", says: /port 0; the port must be 1-65535/ },
    { name: "a crypto ticker in a currency allow list", edits: [["mcpServers[1].tools.get_exchange_rate.arguments.currency_from.allow", ["EUR", "BTC"]]], key: "agent-security:mcpServers[1].tools.get_exchange_rate.arguments.currency_from.allow[1]", says: /ISO 4217/ },
    { name: "an enum whose every value is denied", edits: [["mcpServers[0].tools.fetch_url.arguments.mode", { type: "enum", allow: ["a"], deny: ["A"] }]], key: "agent-security:mcpServers[0].tools.fetch_url.arguments.mode.deny", says: /could never be given/ },
    { name: "argument names that differ only in case", edits: [["mcpServers[0].tools.fetch_url.arguments.URL", { type: "absent" }]], key: "agent-security:mcpServers[0].tools.fetch_url.arguments.URL", says: /differ only in letter case/ },
    { name: "an MCP_GATEWAY_* env name", edits: [["agents[0].env.MCP_GATEWAY_URL", "https://evil.example.com"]], key: "agent-security:agents[0].env.MCP_GATEWAY_URL", says: /set by the platform/ },
    { name: "a new MCP_GATEWAY_* env name", edits: [["agents[0].env.MCP_GATEWAY_PROXY", "x"]], key: "agent-security:agents[0].env.MCP_GATEWAY_PROXY", says: /MCP_GATEWAY_\*/ },
    { name: "the SPIFFE socket env name", edits: [["agents[1].env.SPIFFE_ENDPOINT_SOCKET", "unix:///tmp/x"]], key: "agent-security:agents[1].env.SPIFFE_ENDPOINT_SOCKET", says: /set by the platform/ },
    { name: "a duplicate failClosed entry", edits: [["failClosed", ["falco", "cilium", "falco"]]], key: "agent-security:failClosed[2]", says: /listed twice/, stacks: ["prod"] },
    { name: "an agent in the platform namespace", edits: [["agents[0].namespace", "agent-security"]], key: "agent-security:agents[0].namespace", says: /platform namespace/ },
    // Namespaces the program does not own
    { name: "an agent in kube-system", edits: [["agents[0].namespace", "kube-system"]], key: "agent-security:agents[0].namespace", says: /system namespace .* choose a namespace of your own/ },
    { name: "an agent in default", edits: [["agents[1].namespace", "default"]], key: "agent-security:agents[1].namespace", says: /system namespace/ },
    { name: "an agent named like an OpenShift namespace", edits: [["agents[1].name", "openshift-config"]], key: "agent-security:agents[1].name", says: /system namespace.*gets one named after it/ },
    { name: "an agent in the gateway's namespace", edits: [["agents[0].namespace", "gateway-system"]], key: "agent-security:agents[0].namespace", says: /installs one of its components/ },
    { name: "an MCP backend in kube-system", edits: [["mcpServers[0].backend.namespace", "kube-system"]], key: "agent-security:mcpServers[0].backend.namespace", says: /ReferenceGrant/ },
    { name: "an MCP backend in istio-system", edits: [["mcpServers[1].backend.namespace", "istio-system"]], key: "agent-security:mcpServers[1].backend.namespace", says: /installs one of its components/ },
    { name: "the platform namespace in openshift-monitoring", edits: [["platformNamespace", "openshift-monitoring"]], key: "agent-security:platformNamespace", says: /system namespace/ },
    { name: "the platform namespace in falco", edits: [["platformNamespace", "falco"]], key: "agent-security:platformNamespace", says: /installs one of its components/ },
    // Images
    { name: "an image without a tag or digest", edits: [["agents[0].image", "quay.io/agent-security/fetch-agent"]], key: "agent-security:agents[0].image", says: /neither a tag nor a digest/ },
    { name: "an image tagged latest", edits: [["agents[1].image", "quay.io/agent-security/currency-agent:latest"]], key: "agent-security:agents[1].image", says: /tag latest/ },
    { name: "a prod image without a digest", edits: [["agents[0].image", "quay.io/agent-security/fetch-agent:1.0.0"]], key: "agent-security:agents[0].image", says: /@sha256:<64 hex digits>/, stacks: ["prod"] },
    // Egress to what an agent must never reach
    { name: "GCP metadata by name", edits: [["agents[0].egress[0]", "metadata.google.internal"]], key: "agent-security:agents[0].egress[0]", says: /cloud metadata service/ },
    { name: "the cluster's own API", edits: [["agents[0].egress[0]", "kubernetes.default.svc"]], key: "agent-security:agents[0].egress[0]", says: /API server/ },
    { name: "an in-cluster Service", edits: [["agents[1].egress[0]", "vault.secrets.svc.cluster.local"]], key: "agent-security:agents[1].egress[0]", says: /in-cluster Service/ },
    { name: "a nip.io name for the metadata address", edits: [["agents[1].egress[0]", "169.254.169.254.nip.io"]], key: "agent-security:agents[1].egress[0]", says: /spells an IP address/ },
    { name: "a tool URL to the metadata service", edits: [["mcpServers[0].tools.fetch_url.arguments.url.allow[0]", "https://metadata.google.internal/computeMetadata"]], key: "agent-security:mcpServers[0].tools.fetch_url.arguments.url.allow[0]", says: /metadata/ },
    // Paths and sizes
    { name: "a secret key of ..", edits: [["agents[0].secrets[0].key", ".."]], key: "agent-security:agents[0].secrets[0].key", says: /file name/ },
    { name: "a writable path over the SVID directory via ./", edits: [["agents[0].writablePaths", ["/var/run/spiffe/./svid"]]], key: "agent-security:agents[0].writablePaths[0]", says: /overlaps \/var\/run\/spiffe\/svid/ },
    { name: "a writable parent of the secret files", edits: [["agents[0].writablePaths", ["/tmp", "/var/run//secrets"]]], key: "agent-security:agents[0].writablePaths[1]", says: /overlaps \/var\/run\/secrets\/agent-security/ },
    { name: "a writable path that climbs", edits: [["agents[1].writablePaths", ["/tmp/../var/run/spiffe/svid"]]], key: "agent-security:agents[1].writablePaths[0]", says: /must not contain '\.\.'/ },
    { name: "a writable /proc", edits: [["agents[1].writablePaths", ["/proc/self"]]], key: "agent-security:agents[1].writablePaths[0]", says: /kernel filesystem/ },
    { name: "a 1 MiB env value", edits: [["agents[0].env.BIG", "x".repeat(1024 * 1024)]], key: "agent-security:agents[0].env.BIG", says: /128 KiB/ },
    { name: "an env whose values add up past 256 KiB", edits: [["agents[1].env", Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`PART_${i}`, "x".repeat(100 * 1024)]))]], key: "agent-security:agents[1].env", says: /at most 262144/ },
    { name: "an absurd memory quantity", edits: [["agents[0].resources.memory", "99999999999999999999Gi"]], key: "agent-security:agents[0].resources.memory", says: /binary suffix/ },
    { name: "more memory than an agent may ask for", edits: [["agents[0].resources.memory", "4Ti"]], key: "agent-security:agents[0].resources.memory", says: /more than 512Gi/ },
    { name: "more cpu than an agent may ask for", edits: [["agents[0].resources.cpu", "100000m"]], key: "agent-security:agents[0].resources.cpu", says: /more than 64 cores/ },
    // Secrets in config
    { name: "a chart repository with a password", edits: [["charts.falco.repo", "https://user:hunter2@charts.example.com/"]], key: "agent-security:charts.falco.repo", says: /must not carry user info/ },
    { name: "a chart mirror with a password", edits: [["chartRepository", "https://user:hunter2@mirror.example.com/charts"]], key: "agent-security:chartRepository", says: /must not carry user info/ },
    { name: "a chart mirror over http to the network", edits: [["chartRepository", "http://mirror.example.com/charts"]], key: "agent-security:chartRepository", says: /not loopback/ },
    { name: "a chart mirror with a query", edits: [["chartRepository", "https://mirror.example.com/charts?token=x"]], key: "agent-security:chartRepository", says: /query or fragment/ },
    // Prod that quietly stops enforcing
    { name: "prod Kyverno in Audit without an override", edits: [["kyverno.validationAction", "Audit"]], key: "agent-security:kyverno.validationAction", says: /counts as turning kyverno off: use Deny/, stacks: ["prod"] },
    { name: "an override that expires centuries from now", edits: [["tools", { kata: false }], ["emergencyOverride", override(["kata"], "2999-01-01T00:00:00Z")]], key: "agent-security:emergencyOverride.expires", says: new RegExp(`at most ${EMERGENCY_OVERRIDE_MAX_DAYS} days`), stacks: ["prod"] },
    { name: "an override that expires in half a year", edits: [["tools", { falco: false }], ["failClosed", ["cilium"]], ["emergencyOverride", override(["falco"], FAR)]], key: "agent-security:emergencyOverride.expires", says: /at most 7 days/, stacks: ["prod"] },
    // A gateway class that skips the tool policy
    { name: "the openshift-default gateway class with opa on", edits: [["gateway.className", "openshift-default"]], key: "agent-security:gateway.className", says: /skip the tool policy/, stacks: ["ci", "prod"] },
    // Messages
    { name: "an object where a string belongs", edits: [["agents[0].image", { repo: "x" }]], key: "agent-security:agents[0].image", says: /must be a string .*; got a mapping/ },
    { name: "an invalid env var name", edits: [["agents[0].env.1BAD", "x"]], key: "agent-security:agents[0].env.1BAD", says: /not a valid environment variable name/ },
    { name: "backend port 0", edits: [["mcpServers[0].backend.port", 0]], key: "agent-security:mcpServers[0].backend.port", says: /1-65535.*0 is not a port/ },
    { name: "a string maxLength of zero", edits: [["mcpServers[1].tools.get_exchange_rate.arguments.currency_date.maxLength", 0]], key: "agent-security:mcpServers[1].tools.get_exchange_rate.arguments.currency_date.maxLength", says: /positive whole number/ },
];

describe("hostile stack configs (issue 12)", () => {
    for (const hostile of CASES) {
        for (const stack of hostile.stacks ?? STACKS) {
            it(`refuses ${hostile.name} on ${stack}, naming ${hostile.key}`, () => {
                const raw = structuredClone(BASES[stack]);
                for (const [key, value] of hostile.edits) setAt(raw, key, value);
                const issues = issuesOf(raw, stack);
                assert.equal(issues.length, 1, `expected one issue, got:\n${issues.map((i) => `${i.key}: ${i.message}`).join("\n") || "(none)"}`);
                assert.equal(issues[0]?.key, hostile.key);
                assert.match(issues[0]?.message ?? "", hostile.says);
                assert.doesNotMatch(issues[0]?.message ?? "", LIBRARY_WORDING);
            });
        }
    }

    it("accepts prod Kyverno in Audit while a bounded override lists kyverno", () => {
        const raw = structuredClone(BASES.prod);
        setAt(raw, "kyverno.validationAction", "Audit");
        setAt(raw, "emergencyOverride", override(["kyverno"], SOON));
        assert.deepEqual(issuesOf(raw, "prod"), []);
    });

    it("reports only the missing profile for a custom stack without one (no Kata cascade)", () => {
        const raw = structuredClone(BASES.dev);
        setAt(raw, "profile", undefined);
        const issues = issuesOf(raw, "staging");
        assert.deepEqual(issues.map((issue) => issue.key), ["agent-security:profile"]);
    });

    it("renders exactly the normalised writable path it validated", () => {
        const raw = structuredClone(BASES.dev);
        setAt(raw, "agents[0].writablePaths", ["/home/agent/./cache//"]);
        assert.deepEqual(parseConfig(raw, "dev", NOW).agents[0]?.writablePaths, ["/home/agent/cache"]);
    });
});

describe("chart mirror (agent-security:chartRepository)", () => {
    it("points every chart at the mirror, also the charts the stack file pins to an upstream repo", () => {
        const raw = structuredClone(BASES.prod);
        setAt(raw, "chartRepository", "https://mirror.example.com/charts");
        const cfg = parseConfig(raw, "prod", NOW);
        // Pulumi.prod.yaml names a repo for falco, falcosidekick, kyverno and mcpGateway: the mirror still wins.
        for (const pin of Object.values(cfg.charts)) assert.equal(pin.repo, "https://mirror.example.com/charts", pin.chart);
        assert.equal(cfg.charts.falco.version, "9.1.0");
        assert.equal(cfg.charts.kataDeploy.chart, "kata-deploy");
    });

    it("renders every Helm chart of ci from the mirror by name, at the versions the stack pins", async () => {
        const raw = structuredClone(BASES.ci);
        setAt(raw, "chartRepository", "http://127.0.0.1:8879/charts");
        const run = await runStack("ci", raw, { now: NOW });
        const charts = chartsOf(run.resources);
        assert.ok(charts.length > 5, `ci installs its charts, got ${charts.length}`);
        for (const chart of charts) assert.equal(chart.repo, "http://127.0.0.1:8879/charts", chart.chart);
        // An OCI chart from the mirror is asked for by name, not by an oci:// reference.
        assert.equal(charts.find((chart) => chart.chart === "mcp-gateway")?.version, "0.9.0");
    });

    it("accepts a loopback http mirror", () => {
        for (const mirror of ["http://127.0.0.1:8879/charts", "http://localhost:8879", "http://[::1]:8879/", "http://127.8.9.10/"]) {
            assert.equal(chartRepositoryProblem(mirror, { oci: false }), undefined, mirror);
        }
    });

    it("property: resolution is default, then the chart's own repo, then the mirror over every repo", () => {
        fc.assert(
            fc.property(fc.option(fc.webUrl({ validSchemes: ["https"] }), { nil: undefined }), fc.option(fc.webUrl({ validSchemes: ["https"] }), { nil: undefined }), (mirror, own) => {
                const charts = resolveCharts(mirror, own === undefined ? {} : { cilium: { repo: own } });
                assert.equal(charts.cilium.repo, mirror ?? own ?? "https://helm.cilium.io/");
                assert.equal(charts.falco.repo, mirror ?? "https://falcosecurity.github.io/charts");
                assert.equal(charts.cilium.version, "1.20.0");
            }),
        );
    });

    it("property: a repository URL with user info is always refused, whatever the scheme", () => {
        const credential = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
        fc.assert(
            fc.property(fc.constantFrom("https", "http", "oci"), credential, fc.option(credential, { nil: undefined }), fc.domain(), (scheme, user, password, host) => {
                const url = `${scheme}://${user}${password === undefined ? "" : `:${password}`}@${host}/charts`;
                assert.match(chartRepositoryProblem(url, { oci: true }) ?? "", /user info/);
            }),
        );
    });
});

describe("hostile values, generated", () => {
    const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);

    it("property: spelling a path with ./ and // never changes its normal form", () => {
        fc.assert(
            fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom("/", "/./", "//"), { minLength: 6, maxLength: 6 }), (segments, separators) => {
                const plain = `/${segments.join("/")}`;
                const noisy = segments.reduce((out, part, index) => `${out}${separators[index] ?? "/"}${part}`, "") + (separators[5] === "//" ? "/" : "");
                const a = normaliseMountPath(plain);
                const b = normaliseMountPath(noisy);
                if (a.ok) assert.deepEqual(b, a);
                else assert.equal(b.ok, false);
            }),
        );
    });

    it("property: any spelling of a path at or below the SVID directory is refused for every profile", () => {
        const svid = SVID_DIR.split("/").filter(Boolean);
        fc.assert(
            fc.property(fc.array(segment, { maxLength: 3 }), fc.constantFrom(...STACKS), fc.array(fc.constantFrom("/", "/./", "//"), { minLength: 8, maxLength: 8 }), (below, stack, separators) => {
                const parts = [...svid, ...below];
                const spelled = parts.reduce((out, part, index) => `${out}${separators[index] ?? "/"}${part}`, "");
                const raw = structuredClone(BASES[stack]);
                setAt(raw, "agents[0].writablePaths", [spelled]);
                const issues = issuesOf(raw, stack);
                assert.deepEqual(issues.map((issue) => issue.key), ["agent-security:agents[0].writablePaths[0]"]);
            }),
            { numRuns: 60 },
        );
    });

    it("property: every memory quantity config accepts renders as a plain Kubernetes quantity in the quota", () => {
        fc.assert(
            fc.property(fc.stringMatching(/^[0-9]{1,22}(Ki|Mi|Gi|Ti)$/), fc.integer({ min: 1, max: 21 }), (quantity, pods) => {
                const raw = structuredClone(BASES.dev);
                setAt(raw, "agents[0].resources.memory", quantity);
                const issues = issuesOf(raw, "dev");
                if (issues.length > 0) {
                    assert.equal(issues[0]?.key, "agent-security:agents[0].resources.memory");
                    assert.doesNotMatch(issues[0]?.message ?? "", LIBRARY_WORDING);
                    return;
                }
                const bytes = memoryBytes(quantity) ?? Number.NaN;
                assert.match(memoryQuantity(bytes * pods * 4), /^[0-9]+Mi$/);
            }),
        );
    });

    it("property: a cpu quantity is either refused by name or a whole number of millicores", () => {
        fc.assert(
            fc.property(fc.stringMatching(/^[0-9]{1,8}(\.[0-9]{1,4})?m?$/), (quantity) => {
                const raw = structuredClone(BASES.ci);
                setAt(raw, "agents[1].resources.cpu", quantity);
                const issues = issuesOf(raw, "ci");
                if (issues.length > 0) assert.deepEqual(issues.map((issue) => issue.key), ["agent-security:agents[1].resources.cpu"]);
                else assert.ok(Number.isSafeInteger(cpuMillis(quantity)));
            }),
        );
    });

    it("property: an agent in any system or installed namespace is refused on every profile", () => {
        const system = fc.oneof(fc.constantFrom("default", "openshift", ...INSTALLED_NAMESPACES), segment.map((rest) => `kube-${rest.replace(/_/g, "-")}x`), segment.map((rest) => `openshift-${rest.replace(/_/g, "-")}x`));
        fc.assert(
            fc.property(system, fc.constantFrom(...STACKS), fc.constantFrom(0, 1), (namespace, stack, index) => {
                const raw = structuredClone(BASES[stack]);
                setAt(raw, `agents[${index}].namespace`, namespace);
                assert.deepEqual(issuesOf(raw, stack).map((issue) => issue.key), [`agent-security:agents[${index}].namespace`]);
            }),
            { numRuns: 60 },
        );
    });

    it("property: in-cluster and metadata names are refused as egress on every profile", () => {
        const forbidden = fc.oneof(
            fc.constantFrom("metadata.google.internal", "metadata.goog", "instance-data.ec2.internal", "kubernetes.default", "kubernetes.default.svc.cluster.local"),
            fc.tuple(segment, segment).map(([a, b]) => `${a.replace(/_/g, "")}x.${b.replace(/_/g, "")}y.svc`),
            fc.tuple(segment, segment).map(([a, b]) => `${a.replace(/_/g, "")}x.${b.replace(/_/g, "")}y.svc.cluster.local`),
        );
        fc.assert(
            fc.property(forbidden, fc.constantFrom(...STACKS), (host, stack) => {
                const raw = structuredClone(BASES[stack]);
                setAt(raw, "agents[1].egress", ["api.frankfurter.app", host]);
                assert.deepEqual(issuesOf(raw, stack).map((issue) => issue.key), ["agent-security:agents[1].egress[1]"]);
            }),
            { numRuns: 60 },
        );
    });

    it("property: an env value over Linux's 128 KiB string limit is refused, one just under it accepted", () => {
        fc.assert(
            fc.property(fc.integer({ min: -64, max: 64 }), (delta) => {
                const name = "PAYLOAD";
                const size = 128 * 1024 - name.length - 2 + delta;
                const raw = structuredClone(BASES.dev);
                setAt(raw, `agents[0].env.${name}`, "x".repeat(size));
                const keys = issuesOf(raw, "dev").map((issue) => issue.key);
                assert.deepEqual(keys, delta > 0 ? [`agent-security:agents[0].env.${name}`] : []);
            }),
            { numRuns: 30 },
        );
    });
});

describe("hostile stack files", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-stack-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function read(text: string): unknown {
        fs.writeFileSync(path.join(dir, "Pulumi.hostile.yaml"), text);
        return readStackConfig("hostile", dir);
    }

    it("names the file for an alias bomb", () => {
        let bomb = "config:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
        for (let i = 1; i < 9; i++) bomb += `  a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]\n`;
        bomb += "  agent-security:platform: *a8\n";
        assert.throws(() => read(bomb), (error: unknown) => error instanceof StackFileError && /Pulumi\.hostile\.yaml: .*alias bomb/.test(error.message));
    });

    it("names the file for nesting deep enough to overflow the parser", () => {
        const deep = `config:\n  agent-security:agents: ${"[".repeat(20000)}${"]".repeat(20000)}\n`;
        assert.throws(() => read(deep), (error: unknown) => error instanceof StackFileError && /Pulumi\.hostile\.yaml:2: is nested too deeply/.test(error.message) && !/Maximum call stack/.test(error.message));
    });

    it("names the file for nesting deeper than any key needs", () => {
        const deep = `config:\n  agent-security:agents: ${"[".repeat(100)}${"]".repeat(100)}\n`;
        assert.throws(() => read(deep), (error: unknown) => error instanceof StackFileError && /nested more than 64 levels/.test(error.message));
    });

    it("keeps a __proto__ key a key, refused as unknown", () => {
        const raw = read("config:\n  agent-security:platform: kubernetes\n  agent-security:__proto__: { polluted: true }\n") as Raw;
        assert.equal(Object.getPrototypeOf(raw), Object.prototype);
        const issues = issuesOf({ ...BASES.dev, ...raw }, "dev");
        assert.deepEqual(issues.map((issue) => issue.key), ["agent-security:__proto__"]);
    });

    it("names the file for duplicate keys", () => {
        assert.throws(() => read("config:\n  agent-security:platform: kubernetes\n  agent-security:platform: openshift\n"), (error: unknown) => error instanceof StackFileError && /Pulumi\.hostile\.yaml:3/.test(error.message));
    });
});
