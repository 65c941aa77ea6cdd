// Isolation, identity and the OLM helper per platform, plus stack variants the real stack files do
// not cover: Kata on plain Kubernetes, two Secrets per agent, node labelling.
import * as assert from "assert";
import type { Manifest, StackRun } from "../../cli/mockRuntime";
import { chartsOf, manifestsOf, toYaml } from "../../cli/mockRuntime";
import { operatorGroupSpec, operatorNamespaceLabels, subscriptionSpec } from "../../components/operators";
import { DEFAULT_OPERATORS } from "../../config/schema";
import { loadSchemaValidator } from "../support/schemaValidator";
import { agentDeployments, baselineProblems, isObj, ofKind, ownResources, pathsOfKey, podSpecOf, runVariant, stackConfig } from "./support";

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (isObj(value) ? value : {});

function find(manifests: readonly Manifest[], kind: string, name: string, namespace?: string): Manifest {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name && (namespace === undefined || m.metadata.namespace === namespace));
    assert.ok(found, `no ${kind} ${namespace ?? ""}/${name}`);
    return found;
}

function schemaFailures(run: StackRun): string[] {
    const validator = loadSchemaValidator();
    return ownResources(run).flatMap((resource) => {
        const [manifest] = manifestsOf([resource]);
        if (manifest === undefined) return [];
        const result = validator.validate(manifest as unknown as Record<string, unknown>, { patch: resource.type.endsWith("Patch") });
        return result.ok ? [] : [`${manifest.kind} ${manifest.metadata.name}: ${result.errors.join("; ")}`];
    });
}

/** ci with Kata on (allowed outside prod), 2Gi agents, and two Secrets for the fetch agent. */
function ciKataConfig(platform: "kubernetes" | "openshift"): Record<string, unknown> {
    const raw = stackConfig("ci");
    const agents = (raw.agents as Obj[]).map((agent) => ({
        ...agent,
        resources: { cpu: "1", memory: "2Gi" },
        ...(agent.name === "fetch-agent"
            ? {
                  secrets: [
                      { name: "gemini-api-key", key: "api-key" },
                      { name: "fetch-upstream", key: "token" },
                      { name: "fetch-upstream", key: "ca.crt" },
                  ],
              }
            : {}),
    }));
    return { platform, tools: { kata: true }, agents, kata: { labelNodes: ["worker-2", "worker-1"] } };
}

describe("OlmOperator", () => {
    it("uses no targetNamespaces for AllNamespaces and its own namespace for OwnNamespace", () => {
        assert.deepStrictEqual(operatorGroupSpec("ztwim", "AllNamespaces"), { upgradeStrategy: "Default" });
        assert.deepStrictEqual(operatorGroupSpec("osc", "OwnNamespace"), { targetNamespaces: ["osc"], upgradeStrategy: "Default" });
    });

    it("subscribes to the pinned package, channel and catalog with the stack's approval", () => {
        assert.deepStrictEqual(subscriptionSpec(DEFAULT_OPERATORS.sandboxedContainers, "Manual"), {
            name: "sandboxed-containers-operator",
            channel: "stable",
            source: "redhat-operators",
            sourceNamespace: "openshift-marketplace",
            installPlanApproval: "Manual",
        });
    });

    it("labels operator namespaces as not agent namespaces", () => {
        assert.strictEqual(operatorNamespaceLabels()["agent-security.io/agents"], "false");
    });
});

describe("isolation and identity on openshift (prod)", () => {
    let run: StackRun;
    let manifests: Manifest[];
    before(async () => {
        run = await runVariant("prod", { kata: { labelNodes: ["worker-1"] } });
        manifests = manifestsOf(run.resources);
    });

    it("installs OSC in its own namespace with an OwnNamespace OperatorGroup and the pinned Subscription", () => {
        const namespace = "openshift-sandboxed-containers-operator";
        assert.strictEqual(obj(find(manifests, "Namespace", namespace).metadata.labels)["agent-security.io/agents"], "false");
        const group = find(manifests, "OperatorGroup", namespace, namespace);
        assert.strictEqual(group.apiVersion, "operators.coreos.com/v1");
        assert.deepStrictEqual(obj(group.spec).targetNamespaces, [namespace]);
        const subscription = find(manifests, "Subscription", "sandboxed-containers-operator", namespace);
        assert.strictEqual(subscription.apiVersion, "operators.coreos.com/v1alpha1");
        assert.deepStrictEqual(subscription.spec, {
            name: "sandboxed-containers-operator",
            channel: "stable",
            source: "redhat-operators",
            sourceNamespace: "openshift-marketplace",
            installPlanApproval: "Manual",
        });
    });

    it("renders a cluster-scoped KataConfig selecting kata-oc nodes, and labels the listed nodes", () => {
        const kataConfig = find(manifests, "KataConfig", "cluster-kataconfig");
        assert.strictEqual(kataConfig.apiVersion, "kataconfiguration.openshift.io/v1");
        assert.strictEqual(kataConfig.metadata.namespace, undefined);
        assert.deepStrictEqual(kataConfig.spec, {
            checkNodeEligibility: false,
            logLevel: "info",
            kataConfigPoolSelector: { matchLabels: { "node-role.kubernetes.io/kata-oc": "" } },
        });
        const patches = run.resources.filter((resource) => resource.type === "kubernetes:core/v1:NodePatch");
        assert.deepStrictEqual(
            patches.map((patch) => [obj(patch.inputs.metadata).name, obj(obj(patch.inputs.metadata).labels)]),
            [["worker-1", { "node-role.kubernetes.io/kata-oc": "" }]],
        );
        assert.strictEqual(chartsOf(run.resources).filter((chart) => chart.chart.includes("kata-deploy")).length, 0);
    });

    it("installs ZTWIM for all namespaces with its singleton custom resources", () => {
        const namespace = "zero-trust-workload-identity-manager";
        const ns = find(manifests, "Namespace", namespace);
        assert.strictEqual(obj(ns.metadata.labels)["pod-security.kubernetes.io/enforce"], "privileged");
        const group = find(manifests, "OperatorGroup", namespace, namespace);
        assert.ok(!("targetNamespaces" in obj(group.spec)), "AllNamespaces has no targetNamespaces");
        const subscription = find(manifests, "Subscription", "openshift-zero-trust-workload-identity-manager", namespace);
        assert.strictEqual(obj(subscription.spec).channel, "stable-v1");
        const ztwim = find(manifests, "ZeroTrustWorkloadIdentityManager", "cluster");
        assert.deepStrictEqual(ztwim.spec, { trustDomain: "agents.example.com", clusterName: "prod" });
        for (const kind of ["SpireServer", "SpireAgent", "SpiffeCSIDriver"]) {
            const resource = find(manifests, kind, "cluster");
            assert.strictEqual(resource.apiVersion, "operator.openshift.io/v1alpha1");
        }
        assert.strictEqual(chartsOf(run.resources).filter((chart) => chart.chart.startsWith("spire")).length, 0);
    });

    it("gives every agent a ClusterSPIFFEID with ZTWIM's controller class, selecting its pods in its namespace", () => {
        for (const agent of run.config.agents) {
            const id = find(manifests, "ClusterSPIFFEID", `agent-security-${agent.name}-${agent.name}`);
            assert.strictEqual(id.apiVersion, "spire.spiffe.io/v1alpha1");
            assert.deepStrictEqual(id.spec, {
                className: "zero-trust-workload-identity-manager-spire",
                spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
                podSelector: { matchLabels: { "agent-security.io/agent": agent.name, "agent-security.io/spiffe": "true" } },
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": agent.name } },
                ttl: "1h",
            });
            // the selector matches the labels the Deployment gives its pods
            const deployment = agentDeployments(run).find((d) => d.metadata.name === agent.name);
            const podLabels = obj(obj(obj(deployment?.spec).template).metadata).labels as Record<string, string>;
            for (const [key, value] of Object.entries(obj(obj(obj(id.spec).podSelector).matchLabels))) assert.strictEqual(podLabels[key], value);
        }
    });

    it("renders only schema-valid objects, NodePatch included", () => {
        assert.deepStrictEqual(schemaFailures(run), []);
    });
});

describe("isolation and identity on kubernetes (prod)", () => {
    let run: StackRun;
    before(async () => {
        run = await runVariant("prod", { platform: "kubernetes", kata: { labelNodes: ["worker-1"] } });
    });

    it("installs the pinned kata-deploy OCI chart in kube-system with a default `kata` RuntimeClass", () => {
        const chart = chartsOf(run.resources).find((c) => c.release === "kata-deploy");
        assert.ok(chart);
        assert.strictEqual(chart.chart, "oci://ghcr.io/kata-containers/kata-deploy-charts/kata-deploy");
        assert.strictEqual(chart.version, "4.1.0");
        assert.strictEqual(chart.namespace, "kube-system");
        assert.deepStrictEqual(obj(chart.values.runtimeClasses), { enabled: true, createDefault: true, defaultName: "kata" });
        assert.deepStrictEqual(chart.values.shims, { disableAll: true, "qemu-runtime-rs": { enabled: true } });
        assert.deepStrictEqual(chart.values.nodeSelector, { "agent-security.io/kata": "true" });
        const patches = run.resources.filter((resource) => resource.type === "kubernetes:core/v1:NodePatch");
        assert.deepStrictEqual(obj(obj(patches[0]?.inputs.metadata).labels), { "agent-security.io/kata": "true" });
        assert.strictEqual(ofKind(manifestsOf(run.resources), "KataConfig").length, 0);
    });

    it("installs spire-crds and spire from the hardened charts with our trust domain and without the chart's catch-all identity", () => {
        const charts = chartsOf(run.resources);
        const crds = charts.find((c) => c.release === "spire-crds");
        const spire = charts.find((c) => c.release === "spire");
        assert.ok(crds && spire);
        for (const chart of [crds, spire]) {
            assert.strictEqual(chart.repo, "https://spiffe.github.io/helm-charts-hardened/");
            assert.strictEqual(chart.namespace, "spire-server");
        }
        assert.deepStrictEqual([crds.version, spire.version], ["0.6.0", "0.30.0"]);
        const global = obj(spire.values.global);
        assert.deepStrictEqual(obj(global.spire), { trustDomain: "agents.example.com", clusterName: "prod" });
        const controllerManager = obj(obj(spire.values["spire-server"]).controllerManager);
        assert.strictEqual(controllerManager.className, "spire-server-spire");
        const ids = obj(obj(controllerManager.identities).clusterSPIFFEIDs);
        assert.deepStrictEqual(obj(ids.default), { enabled: false });
        // Kata is on in prod: the in-pod agents' service accounts may attest, next to the chart's own agent
        const allow = obj(obj(obj(spire.values["spire-server"]).nodeAttestor).k8sPSAT).serviceAccountAllowList;
        assert.deepStrictEqual(allow, ["spire-agent", "currency-agent:currency-agent", "fetch-agent:fetch-agent"]);
        assert.strictEqual(obj(find(manifestsOf(run.resources), "Namespace", "spire-server").metadata.labels)["pod-security.kubernetes.io/enforce"], "privileged");
    });

    it("uses the chart's controller class in every ClusterSPIFFEID", () => {
        for (const id of ofKind(manifestsOf(run.resources), "ClusterSPIFFEID")) assert.strictEqual(obj(id.spec).className, "spire-server-spire");
    });

    it("renders no OLM objects on kubernetes", () => {
        const manifests = manifestsOf(ownResources(run));
        assert.strictEqual(ofKind(manifests, "Subscription").length + ofKind(manifests, "OperatorGroup").length, 0);
    });

    it("renders only schema-valid objects", () => {
        assert.deepStrictEqual(schemaFailures(run), []);
    });
});

describe("stacks without Kata", () => {
    it("install no isolation and keep the chart's allow-list untouched", async () => {
        const run = await runVariant("ci");
        assert.strictEqual(chartsOf(run.resources).filter((chart) => chart.release === "kata-deploy").length, 0);
        assert.strictEqual(run.resources.filter((resource) => resource.name.startsWith("isolation-")).length, 0);
        const spire = chartsOf(run.resources).find((chart) => chart.release === "spire");
        assert.strictEqual(obj(spire?.values["spire-server"]).nodeAttestor, undefined);
    });
});

for (const platform of ["kubernetes", "openshift"] as const) {
    describe(`Kata and two secrets on ${platform} (ci variant)`, () => {
        let run: StackRun;
        before(async () => {
            run = await runVariant("ci", ciKataConfig(platform));
        });

        it("runs the agents in kata with an in-pod spire-agent that may reach the SPIRE server", () => {
            for (const deployment of agentDeployments(run)) {
                assert.strictEqual(podSpecOf(deployment).runtimeClassName, "kata");
                assert.deepStrictEqual(baselineProblems(deployment, { platform, registries: run.config.registries, requireKata: true }), []);
            }
            const spirePolicy = ofKind(manifestsOf(run.resources), "NetworkPolicy").find((p) => p.metadata.name === "allow-spire-server");
            const peer = obj((obj((obj(spirePolicy?.spec).egress as unknown[])[0]).to as unknown[])[0]);
            const expectedNamespace = platform === "openshift" ? "zero-trust-workload-identity-manager" : "spire-server";
            assert.deepStrictEqual(obj(peer.namespaceSelector).matchLabels, { "kubernetes.io/metadata.name": expectedNamespace });
        });

        it("mounts both Secrets as 0400 files and never puts a secret in the environment", () => {
            const deployment = agentDeployments(run).find((d) => d.metadata.name === "fetch-agent");
            assert.ok(deployment);
            const pod = podSpecOf(deployment);
            const secretVolumes = (pod.volumes as Obj[]).filter((volume) => isObj(volume.secret));
            assert.deepStrictEqual(secretVolumes.map((volume) => obj(volume.secret).secretName).sort(), ["fetch-upstream", "gemini-api-key"]);
            for (const volume of secretVolumes) {
                assert.strictEqual(obj(volume.secret).defaultMode, 0o400);
                for (const item of obj(volume.secret).items as Obj[]) assert.strictEqual(item.mode, 0o400);
            }
            assert.deepStrictEqual(((secretVolumes.find((v) => obj(v.secret).secretName === "fetch-upstream")?.secret as Obj).items as Obj[]).map((item) => item.key), ["ca.crt", "token"]);
            assert.deepStrictEqual(pathsOfKey(deployment, "secretKeyRef"), []);
            assert.deepStrictEqual(pathsOfKey(deployment, "envFrom"), []);
            // YAML 1.2 has no 0400 literal: the rendered file carries the decimal 256
            assert.match(toYaml(deployment), /defaultMode: 256/);
            const agentEnv = ((pod.containers as Obj[])[0]?.env as Obj[]).map((env) => [env.name, env.value]);
            assert.ok(agentEnv.some(([name, value]) => name === "AGENT_SECRETS_DIR" && value === "/var/run/secrets/agent-security"));
        });

        it("renders only schema-valid objects", () => {
            assert.deepStrictEqual(schemaFailures(run), []);
        });
    });
}
