// The response layer as the program renders it (mock runtime), and the config rules that gate it.
import { strict as assert } from "assert";
import * as path from "path";
import { REPO_ROOT, readStackConfig, runStack } from "../../cli/mockRuntime";
import type { RecordedResource, StackRun } from "../../cli/mockRuntime";
import { loadSettings } from "../../cli/check";
import { FALCOSIDEKICK_AUTH_SECRET, QUARANTINE_POLICY, RESPONDER_NAME, agentNamespaceRules, stateNamespaceRules } from "../../components/response";
import { FALCOSIDEKICK_AUTH_DIR } from "../../components/runtime/values";
import { ConfigError } from "../../config/schema";
import { evaluate } from "../../policy-pack/evaluate";
import { parseSettings } from "../../responder/src/settings";

const NOW = new Date("2026-11-23T12:00:00Z");
const DIGEST = `@sha256:${"a".repeat(64)}`;

/** The prod stack file with agent images pinned by digest (prod's own image rule). */
function prodConfig(): Record<string, unknown> {
    const raw = structuredClone(readStackConfig("prod"));
    raw.agents = (raw.agents as { image: string }[]).map((agent) => ({ ...agent, image: agent.image.includes("@sha256:") ? agent.image : `${agent.image}${DIGEST}` }));
    return raw;
}

type Meta = { name?: string; namespace?: string };
const meta = (resource: RecordedResource) => (resource.inputs.metadata ?? {}) as Meta;
const find = (run: StackRun, type: string, name: string, namespace?: string) =>
    run.resources.filter((resource) => resource.type === type && meta(resource).name === name && (namespace === undefined || meta(resource).namespace === namespace));

describe("response layer (prod, mock runtime)", function () {
    this.timeout(120_000);
    let run: StackRun;
    before(async () => {
        run = await runStack("prod", prodConfig(), { now: NOW });
    });

    it("deploys two hardened replicas with a PodDisruptionBudget and a Service on the webhook port", () => {
        const [deployment] = find(run, "kubernetes:apps/v1:Deployment", RESPONDER_NAME, "agent-security");
        assert.ok(deployment, "responder Deployment");
        const spec = deployment.inputs.spec as { replicas: number; template: { spec: Record<string, unknown> & { containers: { securityContext: Record<string, unknown>; env: { name: string; value?: string }[] }[]; volumes: Record<string, unknown>[] } } };
        assert.equal(spec.replicas, 2);
        const pod = spec.template.spec;
        assert.equal(pod.automountServiceAccountToken, false);
        const container = pod.containers[0]!;
        assert.deepEqual([container.securityContext.readOnlyRootFilesystem, container.securityContext.runAsNonRoot, container.securityContext.allowPrivilegeEscalation], [true, true, false]);
        assert.ok(container.env.every((env) => typeof env.value === "string"), "plain env values only (paths), no secret references");
        const apiToken = pod.volumes.find((volume) => volume.name === "api-token") as { projected: { defaultMode: number; sources: Record<string, unknown>[] } };
        assert.equal(apiToken.projected.defaultMode, 0o400);
        assert.ok(apiToken.projected.sources.some((source) => "serviceAccountToken" in source));
        const [pdb] = find(run, "kubernetes:policy/v1:PodDisruptionBudget", RESPONDER_NAME, "agent-security");
        assert.equal((pdb?.inputs.spec as { minAvailable: number }).minAvailable, 1);
        const [service] = find(run, "kubernetes:core/v1:Service", RESPONDER_NAME, "agent-security");
        assert.equal((service?.inputs.spec as { ports: { port: number }[] }).ports[0]?.port, 8080);
    });

    it("grants a Role per agent namespace with only the verbs the actions use, and no ClusterRole", () => {
        for (const namespace of ["fetch-agent", "currency-agent"]) {
            const [role] = find(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", RESPONDER_NAME, namespace);
            assert.deepEqual(role?.inputs.rules, agentNamespaceRules(), namespace);
            assert.equal(find(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", QUARANTINE_POLICY, namespace).length, 1, `quarantine policy in ${namespace}`);
        }
        assert.deepEqual(agentNamespaceRules().flatMap((rule) => rule.resources.map((resource) => `${resource}:${rule.verbs.join(",")}`)), ["pods:get,list,delete,patch", "deployments/scale:patch", "events:create"]);
        const clusterWide = run.resources.filter((resource) => /ClusterRole/.test(resource.type) && (meta(resource).name ?? "").includes("responder"));
        assert.deepEqual(clusterWide, []);
        const [state] = find(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", RESPONDER_NAME, "agent-security");
        assert.deepEqual(state?.inputs.rules, stateNamespaceRules([{ name: "fetch-agent", namespace: "fetch-agent", serviceAccount: "fetch-agent", deployment: "fetch-agent" }, { name: "currency-agent", namespace: "currency-agent", serviceAccount: "currency-agent", deployment: "currency-agent" }], "agent-security-audit"));
    });

    it("lets only falcosidekick in and only the API server ports out", () => {
        const [policy] = find(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", RESPONDER_NAME, "agent-security");
        const spec = policy?.inputs.spec as { ingress: { from: Record<string, { matchLabels: Record<string, string> }>[] }[]; egress: { ports: { port: number }[] }[] };
        assert.deepEqual(spec.ingress[0]?.from, [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "falco" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "falcosidekick" } } },
        ]);
        assert.deepEqual(spec.egress.flatMap((rule) => rule.ports.map((port) => port.port)), [443, 6443]);
    });

    it("runs in enforce mode on prod with the seed's breaker, listing the stack's agents", () => {
        const [settings] = find(run, "kubernetes:core/v1:ConfigMap", "falco-responder-settings", "agent-security");
        const parsed = parseSettings((settings?.inputs.data as Record<string, string>)["settings.json"] ?? "");
        assert.equal(parsed.mode, "enforce");
        assert.deepEqual(parsed.breaker, { maxRecycles: 3, windowSeconds: 600 });
        assert.equal(parsed.trustDomain, "agents.example.com");
        assert.deepEqual(parsed.agents.map((agent) => `${agent.namespace}/${agent.serviceAccount}`), ["currency-agent/currency-agent", "fetch-agent/fetch-agent"]);
    });

    it("gives falcosidekick the token as a 0400 config file read with -c, not as an env var", () => {
        const chart = run.resources.find((resource) => resource.type === "kubernetes:helm.sh/v4:Chart" && resource.name === "falco-falcosidekick");
        const values = chart?.inputs.values as { config: { extraArgs: string[]; webhook: Record<string, unknown> }; extraVolumes: { secret: { secretName: string; defaultMode: number } }[] };
        assert.deepEqual(values.config.extraArgs, ["-c", `${FALCOSIDEKICK_AUTH_DIR}/config.yaml`]);
        assert.deepEqual([values.extraVolumes[0]?.secret.secretName, values.extraVolumes[0]?.secret.defaultMode], [FALCOSIDEKICK_AUTH_SECRET, 0o400]);
        assert.ok(!("customHeaders" in values.config.webhook), "no header in the chart's env-bound values");
        assert.equal(values.config.webhook.address, "http://falco-responder.agent-security.svc.cluster.local:8080/falco");
        assert.equal(find(run, "kubernetes:core/v1:Secret", FALCOSIDEKICK_AUTH_SECRET, "falco").length, 1);
        assert.equal(run.resources.filter((resource) => resource.type === "random:index/randomPassword:RandomPassword").length, 1);
    });

    it("passes the policy pack, which does inspect the responder (a privileged copy is refused)", async () => {
        const settings = loadSettings(path.join(REPO_ROOT, "policy-pack", "config", "prod.json"));
        const check = async (resources: readonly RecordedResource[]) =>
            (await evaluate(resources.map((resource) => ({ type: resource.type, props: resource.inputs, urn: resource.urn, name: resource.name })), settings))
                .filter((finding) => finding.enforcementLevel === "mandatory" && /::responder(-|$)/.test(finding.urn ?? ""))
                .map((finding) => `${finding.policy}: ${finding.message}`);
        assert.deepEqual(await check(run.resources), []);
        const privileged = run.resources.map((resource) => {
            if (resource.type !== "kubernetes:apps/v1:Deployment" || meta(resource).name !== RESPONDER_NAME) return resource;
            const inputs = structuredClone(resource.inputs) as { spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } } };
            inputs.spec.template.spec.containers[0]!.securityContext.privileged = true;
            return { ...resource, inputs: inputs as unknown as Record<string, unknown> };
        });
        assert.ok((await check(privileged)).some((finding) => finding.startsWith("baseline-no-privileged")));
    });
});

describe("response layer config rules", function () {
    this.timeout(120_000);
    const expectIssue = async (raw: Record<string, unknown>, stack: string, pattern: RegExp) => {
        await assert.rejects(
            runStack(stack, raw, { now: NOW }),
            (error: unknown) => error instanceof ConfigError && error.issues.some((issue) => issue.key === "agent-security:responder.image" && pattern.test(issue.message)),
        );
    };

    it("requires an image while falco is on", async () => {
        const raw = prodConfig();
        delete raw.responder;
        await expectIssue(raw, "prod", /is required while falco is on/);
    });

    it("requires a digest in prod", async () => {
        const raw = prodConfig();
        raw.responder = { image: "quay.io/agent-security/falco-responder:0.1.0" };
        await expectIssue(raw, "prod", /no digest/);
    });

    it("requires an approved registry", async () => {
        const raw = prodConfig();
        raw.responder = { image: `docker.io/someone/falco-responder:0.1.0${DIGEST}` };
        await expectIssue(raw, "prod", /not from an approved registry/);
    });

    it("records only when ci turns falco on", async () => {
        const raw = structuredClone(readStackConfig("ci"));
        raw.tools = { falco: true };
        const ci = await runStack("ci", raw, { now: NOW });
        const [settings] = find(ci, "kubernetes:core/v1:ConfigMap", "falco-responder-settings", "agent-security");
        assert.equal(parseSettings((settings?.inputs.data as Record<string, string>)["settings.json"] ?? "").mode, "record");
    });
});
