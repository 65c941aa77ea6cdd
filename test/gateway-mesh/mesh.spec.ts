// What the Mesh and AgentMeshPolicy components render per platform, field by field.
import { strict as assert } from "assert";
import { parseConfig } from "../../config/schema";
import { agentsByNamespace } from "../../platform";
import { at, chart, componentsOfType, ofKind, oneOf, render } from "./support";
import { NOW, variantConfig } from "./variants";

const PROVIDER = {
    name: "kuadrant-authorino",
    envoyExtAuthzGrpc: {
        service: "authorino-authorino-authorization.kuadrant-system.svc.cluster.local",
        port: 50051,
        timeout: "2s",
        failOpen: false,
        includeRequestBodyInCheck: { maxRequestBytes: 65536, allowPartialMessage: true, packAsBytes: false },
    },
};

const EXPECTED_MESH_CONFIG = {
    outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
    defaultConfig: { holdApplicationUntilProxyStarts: true },
    extensionProviders: [PROVIDER],
};

describe("Mesh", () => {
    describe("ci (kubernetes): istio charts", () => {
        it("installs base, istiod and cni pinned, with explicit namespaces", async () => {
            const run = await render("ci");
            for (const [release, chartName, namespace] of [
                ["istio-base", "base", "istio-system"],
                ["istiod", "istiod", "istio-system"],
                ["istio-cni", "cni", "istio-cni"],
            ] as const) {
                const found = chart(run, release);
                assert.equal(found.chart, chartName, release);
                assert.equal(found.version, "1.30.3", release);
                assert.equal(found.repo, "https://istio-release.storage.googleapis.com/charts", release);
                assert.equal(found.namespace, namespace, release);
            }
        });

        it("sets the mesh config at the top level of the istiod values", async () => {
            const values = chart(await render("ci"), "istiod").values;
            assert.deepEqual(values.meshConfig, EXPECTED_MESH_CONFIG);
            assert.equal(values._internal_defaults_do_not_set, undefined);
        });

        it("turns on Istio CNI in istiod, so injected pods get no NET_ADMIN istio-init", async () => {
            assert.deepEqual(chart(await render("ci"), "istiod").values.cni, { enabled: true });
        });

        it("gives istiod, sidecars and gateway pods the RuntimeDefault seccomp profile PSA restricted needs", async () => {
            const values = chart(await render("ci"), "istiod").values;
            assert.deepEqual(values.seccompProfile, { type: "RuntimeDefault" });
            assert.deepEqual(at(values, "global.proxy.seccompProfile"), { type: "RuntimeDefault" });
            assert.deepEqual(at(values, "gateways.seccompProfile"), { type: "RuntimeDefault" });
        });

        it("puts the privileged CNI node agent in its own privileged namespace and keeps istio-system restricted", async () => {
            const run = await render("ci");
            assert.equal(oneOf(run, "Namespace", "istio-cni").metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
            assert.equal(oneOf(run, "Namespace", "istio-system").metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
        });

        it("neither patches a Sail Istio nor renders an IstioCNI", async () => {
            const run = await render("ci");
            assert.equal(ofKind(run, "Istio").length, 0);
            assert.equal(ofKind(run, "IstioCNI").length, 0);
        });
    });

    describe("prod (openshift): OSSM 3", () => {
        it("subscribes to servicemeshoperator3 in openshift-operators without a namespace or OperatorGroup of its own", async () => {
            const run = await render("prod");
            assert.deepEqual(componentsOfType(run, "agent-security:operators:OlmOperator").map((r) => r.name).filter((n) => n.startsWith("mesh-")), ["mesh-operator"]);
            const subscription = oneOf(run, "Subscription", "servicemeshoperator3", "openshift-operators");
            assert.equal(at(subscription, "spec.channel"), "stable");
            assert.equal(ofKind(run, "OperatorGroup", "openshift-operators").length, 0);
            assert.equal(ofKind(run, "Namespace").filter((ns) => ns.metadata.name === "openshift-operators").length, 0);
        });

        it("patches the existing Sail Istio `default` and never creates one", async () => {
            const run = await render("prod");
            const istios = ofKind(run, "Istio");
            assert.equal(istios.length, 1);
            const patch = istios[0];
            assert.ok(patch?.patch, "the Istio must be a CustomResourcePatch");
            assert.equal(patch?.type, "kubernetes:sailoperator.io/v1:IstioPatch");
            assert.equal(patch?.metadata.name, "default");
            assert.equal(patch?.metadata.namespace, undefined, "Istio is cluster-scoped");
        });

        it("sets REGISTRY_ONLY, holdApplicationUntilProxyStarts and the Authorino provider in the patch", async () => {
            const patch = ofKind(await render("prod"), "Istio")[0];
            assert.deepEqual(at(patch, "spec.values.meshConfig"), EXPECTED_MESH_CONFIG);
            assert.deepEqual(at(patch, "spec.values.pilot.cni"), { enabled: true });
            assert.equal(at(patch, "spec.version"), "v1.30.3");
        });

        it("renders the IstioCNI `default` into the istio-cni namespace it creates", async () => {
            const run = await render("prod");
            const cni = oneOf(run, "IstioCNI", "default");
            assert.equal(cni.apiVersion, "sailoperator.io/v1");
            assert.equal(cni.metadata.namespace, undefined, "IstioCNI is cluster-scoped");
            assert.deepEqual(cni.spec, { version: "v1.30.3", namespace: "istio-cni" });
            assert.equal(oneOf(run, "Namespace", "istio-cni").metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
        });

        it("installs no istio chart", async () => {
            const run = await render("prod");
            for (const release of ["istio-base", "istiod", "istio-cni"]) assert.throws(() => chart(run, release), /expected one chart release/);
        });
    });
});

describe("AgentMeshPolicy", () => {
    for (const variant of ["ci", "prod"] as const) {
        describe(`${variant}: per agent namespace`, () => {
            const cfg = parseConfig(variantConfig(variant), variant, NOW);
            const namespaces = [...agentsByNamespace(cfg.agents)];

            it("covers every agent namespace once", async () => {
                const run = await render(variant);
                assert.deepEqual(ofKind(run, "Sidecar").map((s) => s.metadata.namespace).sort(), namespaces.map(([ns]) => ns).sort());
                assert.deepEqual(ofKind(run, "PeerAuthentication").map((s) => s.metadata.namespace).sort(), namespaces.map(([ns]) => ns).sort());
            });

            for (const [namespace, agents] of namespaces) {
                const hosts = [...new Set(agents.flatMap((agent) => agent.egress))].sort();

                it(`${namespace}: Sidecar default with REGISTRY_ONLY and exactly the agents' hosts`, async () => {
                    const sidecar = oneOf(await render(variant), "Sidecar", "default", namespace);
                    assert.equal(sidecar.apiVersion, "networking.istio.io/v1");
                    assert.deepEqual(at(sidecar, "spec.outboundTrafficPolicy"), { mode: "REGISTRY_ONLY" });
                    assert.deepEqual(at(sidecar, "spec.egress"), [{ hosts: ["./*", "istio-system/*", "gateway-system/*", ...hosts.map((h) => `./${h}`)] }]);
                });

                it(`${namespace}: one ServiceEntry per allowlisted host, HTTPS 443, MESH_EXTERNAL, DNS, this namespace only`, async () => {
                    const entries = ofKind(await render(variant), "ServiceEntry", namespace);
                    assert.deepEqual(entries.flatMap((entry) => at(entry, "spec.hosts") as string[]).sort(), hosts);
                    for (const entry of entries) {
                        assert.equal(entry.apiVersion, "networking.istio.io/v1");
                        assert.deepEqual(at(entry, "spec.ports"), [{ number: 443, name: "https", protocol: "HTTPS" }]);
                        assert.equal(at(entry, "spec.location"), "MESH_EXTERNAL");
                        assert.equal(at(entry, "spec.resolution"), "DNS");
                        assert.deepEqual(at(entry, "spec.exportTo"), ["."]);
                    }
                });

                it(`${namespace}: PeerAuthentication default STRICT`, async () => {
                    const peer = oneOf(await render(variant), "PeerAuthentication", "default", namespace);
                    assert.equal(peer.apiVersion, "security.istio.io/v1");
                    assert.deepEqual(peer.spec, { mtls: { mode: "STRICT" } });
                });
            }
        });
    }
});
