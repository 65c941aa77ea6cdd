// Every custom resource the gateway and mesh layers render validates against the upstream CRDs in
// ../shared/crds, and the CEL rules a JSON-Schema validator cannot evaluate are evaluated from the
// CRDs' own text (plus the ones that matter most, asserted by hand).
import { strict as assert } from "assert";
import { loadSchemaValidator } from "../support/schemaValidator";
import type { StackRun } from "../../cli/mockRuntime";
import { checkCelRules } from "./celRules";
import { at, ofKind, ownManifests, render } from "./support";
import type { Rendered } from "./support";

const VARIANTS = ["ci", "prod", "envoyOnly", "opaOnly"] as const;

// Providers an `extensionProviders` entry may name (one per entry: CEL rule of the Sail Istio CRD).
const PROVIDER_TYPES = [
    "envoyExtAuthzHttp", "envoyExtAuthzGrpc", "zipkin", "lightstep", "datadog", "stackdriver", "opencensus", "skywalking",
    "opentelemetry", "prometheus", "envoyFileAccessLog", "envoyHttpAls", "envoyTcpAls", "envoyOtelAls", "sds",
];

function customResources(run: StackRun): Rendered[] {
    return ownManifests(run);
}

function portOk(port: unknown): boolean {
    return typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
}

function manifestOf(rendered: Rendered): Record<string, unknown> {
    const { patch: _patch, type: _type, ...manifest } = rendered;
    return manifest;
}

describe("gateway and mesh custom resources against ../shared/crds", () => {
    for (const variant of VARIANTS) {
        describe(variant, () => {
            it("renders at least one custom resource of its own", async () => {
                assert.ok(customResources(await render(variant)).length > 0);
            });

            it("validates every custom resource (storage/GA apiVersion, no unknown field)", async () => {
                const validator = loadSchemaValidator();
                const failures: string[] = [];
                for (const rendered of customResources(await render(variant))) {
                    const result = validator.validate(manifestOf(rendered), { patch: rendered.patch });
                    // The one accepted warning: ReferenceGrant v1beta1 on OpenShift, whose own
                    // Gateway API CRDs (older than v1.5.0) do not serve v1 yet.
                    const accepted = (warning: string) => variant === "prod" && rendered.kind === "ReferenceGrant" && rendered.apiVersion.endsWith("/v1beta1") && /legacy version/.test(warning);
                    const problems = [...result.errors, ...result.warnings.filter((warning) => !accepted(warning))];
                    if (!result.ok || problems.length > 0) failures.push(`${rendered.kind} ${rendered.metadata.namespace ?? ""}/${rendered.metadata.name}: ${problems.join("; ")}`);
                }
                assert.deepEqual(failures, []);
            });

            it("validates the platform namespaces it creates", async () => {
                const validator = loadSchemaValidator();
                const mine = ["gateway-system", "kuadrant-system", "mcp-servers", "istio-system", "istio-cni"];
                const namespaces = ofKind(await render(variant), "Namespace").filter((ns) => mine.includes(ns.metadata.name));
                assert.ok(namespaces.length > 0);
                for (const namespace of namespaces) {
                    const result = validator.validate(manifestOf(namespace));
                    assert.deepEqual([...result.errors, ...result.warnings], [], namespace.metadata.name);
                }
            });

            it("satisfies the CRDs' CEL rules", async () => {
                const failures = customResources(await render(variant)).flatMap((rendered) => checkCelRules(rendered).failures.map((failure) => `${rendered.metadata.name}: ${failure}`));
                assert.deepEqual(failures, []);
            });
        });
    }

    describe("CEL rules that matter most, evaluated and asserted", () => {
        const evaluatedFor = async (kind: string) =>
            (await Promise.all(VARIANTS.map(render))).flatMap((run) => customResources(run).filter((r) => r.kind === kind).flatMap((r) => checkCelRules(r).evaluated));

        it("AuthPolicy and RateLimitPolicy: targetRef group gateway.networking.k8s.io, kind Gateway/HTTPRoute/GRPCRoute", async () => {
            for (const kind of ["AuthPolicy", "RateLimitPolicy"]) {
                const evaluated = await evaluatedFor(kind);
                assert.ok(evaluated.some((m) => m.startsWith("Invalid targetRef.group")), `${kind}: group rule not evaluated`);
                assert.ok(evaluated.some((m) => m.startsWith("Invalid targetRef.kind")), `${kind}: kind rule not evaluated`);
            }
            for (const run of await Promise.all(VARIANTS.map(render))) {
                for (const policy of [...ofKind(run, "AuthPolicy"), ...ofKind(run, "RateLimitPolicy")]) {
                    assert.equal(at(policy, "spec.targetRef.group"), "gateway.networking.k8s.io");
                    assert.ok(["Gateway", "HTTPRoute", "GRPCRoute"].includes(at(policy, "spec.targetRef.kind") as string));
                }
            }
        });

        it("ServiceEntry: no host is `*`, ports are in range and unique", async () => {
            const evaluated = await evaluatedFor("ServiceEntry");
            assert.ok(evaluated.includes("hostname cannot be wildcard"));
            assert.ok(evaluated.includes("port must be between 1-65535"));
            for (const run of await Promise.all(VARIANTS.map(render))) {
                for (const entry of ofKind(run, "ServiceEntry")) {
                    for (const host of at(entry, "spec.hosts") as string[]) assert.ok(host !== "*" && !host.includes("*"), host);
                    const ports = (at(entry, "spec.ports") as { number: number }[]).map((p) => p.number);
                    assert.ok(ports.every(portOk));
                    assert.equal(new Set(ports).size, ports.length);
                }
            }
        });

        it("extensionProviders: exactly one provider type per entry, port in range", async () => {
            const evaluated = await evaluatedFor("Istio");
            assert.ok(evaluated.some((m) => m.startsWith("At most one of [envoyExtAuthzHttp envoyExtAuthzGrpc")));
            const providerLists = [at(ofKind(await render("prod"), "Istio")[0], "spec.values.meshConfig.extensionProviders")];
            for (const variant of ["ci", "envoyOnly"] as const) {
                const istiod = (await render(variant)).resources.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.name === "istiod");
                providerLists.push(at(istiod?.inputs, "values.meshConfig.extensionProviders"));
            }
            for (const providers of providerLists) {
                for (const provider of (providers ?? []) as Record<string, unknown>[]) {
                    assert.equal(PROVIDER_TYPES.filter((type) => type in provider).length, 1, JSON.stringify(provider));
                    assert.ok(portOk(at(provider, "envoyExtAuthzGrpc.port")));
                }
            }
        });

        it("Gateway listeners and HTTPRoute backends use ports in range", async () => {
            const run = await render("ci");
            for (const gateway of ofKind(run, "Gateway")) for (const listener of at(gateway, "spec.listeners") as { port: number }[]) assert.ok(portOk(listener.port));
            for (const route of ofKind(run, "HTTPRoute")) {
                for (const rule of at(route, "spec.rules") as { backendRefs: { port: number }[] }[]) for (const ref of rule.backendRefs) assert.ok(portOk(ref.port));
            }
        });

        it("AuthorizationPolicy: targetRefs without selector and without a cross-namespace reference", async () => {
            const evaluated = await evaluatedFor("AuthorizationPolicy");
            assert.ok(evaluated.includes("only one of targetRefs or selector can be set"));
            for (const policy of ofKind(await render("ci"), "AuthorizationPolicy")) {
                assert.equal(at(policy, "spec.selector"), undefined);
                for (const ref of at(policy, "spec.targetRefs") as Record<string, unknown>[]) assert.equal(ref.namespace, undefined);
            }
        });
    });

    describe("the CEL check itself catches", () => {
        const mutated = (manifest: Rendered, path: string, value: unknown): Rendered => {
            const copy = structuredClone(manifestOf(manifest)) as Record<string, unknown>;
            const keys = path.split(".");
            let cursor = copy;
            keys.slice(0, -1).forEach((key) => {
                cursor = cursor[key] as Record<string, unknown>;
            });
            cursor[keys[keys.length - 1] as string] = value;
            return { ...(copy as unknown as Rendered), patch: manifest.patch, type: manifest.type };
        };

        it("an AuthPolicy targeting another API group", async () => {
            const policy = ofKind(await render("ci"), "AuthPolicy")[0] as Rendered;
            assert.ok(checkCelRules(mutated(policy, "spec.targetRef.group", "networking.istio.io")).failures.some((f) => f.includes("Invalid targetRef.group")));
        });

        it("a ServiceEntry for `*`", async () => {
            const entry = ofKind(await render("ci"), "ServiceEntry")[0] as Rendered;
            assert.ok(checkCelRules(mutated(entry, "spec.hosts", ["*"])).failures.some((f) => f.includes("hostname cannot be wildcard")));
        });

        it("an extension provider entry with two provider types", async () => {
            const patch = ofKind(await render("prod"), "Istio")[0] as Rendered;
            const providers = at(patch, "spec.values.meshConfig.extensionProviders") as Record<string, unknown>[];
            const twoTypes = [{ ...providers[0], envoyExtAuthzHttp: { service: "x", port: 8080 } }];
            assert.ok(checkCelRules(mutated(patch, "spec.values.meshConfig.extensionProviders", twoTypes)).failures.some((f) => f.includes("At most one of")));
        });

        it("a ServiceEntry port out of range", async () => {
            const entry = ofKind(await render("ci"), "ServiceEntry")[0] as Rendered;
            assert.ok(checkCelRules(mutated(entry, "spec.ports", [{ number: 70000, name: "https", protocol: "HTTPS" }])).failures.some((f) => f.includes("port must be between 1-65535")));
        });
    });
});
