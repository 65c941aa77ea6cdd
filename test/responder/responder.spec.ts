import { strict as assert } from "assert";
import { AGENT_SPIFFE_LABEL, QUARANTINE_LABEL, breakerStateName } from "../../responder/src/identity";
import { KubeClient, requests } from "../../responder/src/kube";
import { Responder, resetCommand } from "../../responder/src/responder";
import type { AlertRecord } from "../../responder/src/responder";
import type { ResponderSettings } from "../../responder/src/settings";
import { actionFor } from "../../responder/src/settings";
import { FakeCluster, shapeOf } from "./fakeCluster";
import { AUDIT_CONFIGMAP, STATE_NAMESPACE, TRUST_DOMAIN, agents, alertFor, ensurePod, podName, seedCluster, settings } from "./support";

const AGENTS = agents(2);
const AGENT = AGENTS[0]!;

function setup(overrides: Partial<ResponderSettings> = {}) {
    let now = 1_764_928_800_000;
    const cluster = new FakeCluster(() => now);
    seedCluster(cluster, AGENTS, 6);
    const records: AlertRecord[] = [];
    const responder = new Responder({ kube: new KubeClient(cluster.transport), settings: settings({ agents: AGENTS, ...overrides }), sink: (record) => records.push(record), clock: () => now, retryBaseMs: 5 });
    return { cluster, records, responder, advance: (ms: number) => (now += ms) };
}

describe("responder decisions", () => {
    it("recycles an agent pod by deleting it with a uid precondition", async () => {
        const { cluster, responder } = setup();
        const pod = podName(AGENT, 0);
        const uid = cluster.pods.get(`${AGENT.namespace}/${pod}`)!.uid;
        const record = await responder.submit(alertFor(AGENT, pod));
        assert.equal(record.outcome, "recycled");
        assert.equal(record.spiffeId, `spiffe://${TRUST_DOMAIN}/ns/${AGENT.namespace}/sa/${AGENT.serviceAccount}`);
        const deletes = cluster.log.filter((entry) => entry.method === "DELETE");
        assert.deepEqual(deletes.map(({ method, path, contentType, body }) => ({ method, path, contentType, body })), [shapeOf(requests.deletePod(AGENT.namespace, pod, uid))]);
    });

    it("trips on the fourth recycle: quarantine label, SPIFFE label removed, scale to 0, Event on the Deployment, audit record", async () => {
        const { cluster, responder, records } = setup();
        for (let pod = 0; pod < 3; pod++) assert.equal((await responder.submit(alertFor(AGENT, podName(AGENT, pod)))).outcome, "recycled");
        const fourth = podName(AGENT, 3);
        assert.equal((await responder.submit(alertFor(AGENT, fourth))).outcome, "tripped");
        const pod = cluster.pods.get(`${AGENT.namespace}/${fourth}`)!;
        assert.equal(pod.labels[QUARANTINE_LABEL], "true");
        assert.ok(!(AGENT_SPIFFE_LABEL in pod.labels), "the ClusterSPIFFEID no longer selects the pod");
        assert.equal(cluster.deployments.get(`${AGENT.namespace}/${AGENT.deployment}`)!.replicas, 0);
        assert.equal(cluster.deletions.length, 3, "the tripping alert deletes nothing");
        const event = cluster.events[0] as { involvedObject: { kind: string; name: string }; reason: string; type: string; message: string };
        assert.deepEqual([event.involvedObject.kind, event.involvedObject.name, event.reason, event.type], ["Deployment", AGENT.deployment, "ResponderCircuitOpen", "Warning"]);
        assert.match(event.message, /kubectl -n agent-security delete configmap falco-responder-breaker\.agents-0\.agent-0/);
        const audit = cluster.configMaps.get(`${STATE_NAMESPACE}/${AUDIT_CONFIGMAP}`)!.data;
        assert.equal(audit.stack, "prod", "the audit merge patch keeps the stack's own keys");
        const entry = JSON.parse(audit[`falco-responder.${AGENT.namespace}.${AGENT.serviceAccount}`] ?? "{}") as { verdict: string; recycles: string[] };
        assert.equal(entry.verdict, "trip");
        assert.equal(entry.recycles.length, 3);
        // After the trip: recorded, never recycled, until a person resets.
        ensurePod(cluster, AGENT, 0);
        assert.equal((await responder.submit(alertFor(AGENT, podName(AGENT, 0)))).outcome, "suppressed");
        assert.equal(cluster.deletions.length, 3);
        assert.equal(records.length, 5);
    });

    it("recycles again after the documented reset (state ConfigMap deleted)", async () => {
        const { cluster, responder, advance } = setup();
        for (let pod = 0; pod < 4; pod++) await responder.submit(alertFor(AGENT, podName(AGENT, pod)));
        assert.match(resetCommand(STATE_NAMESPACE, AGENT, AGENT.deployment), new RegExp(`delete configmap ${breakerStateName(AGENT.namespace, AGENT.serviceAccount).replace(/\./g, "\\.")}`));
        cluster.configMaps.delete(`${STATE_NAMESPACE}/${breakerStateName(AGENT.namespace, AGENT.serviceAccount)}`);
        advance(6000); // past the cache of an open breaker
        ensurePod(cluster, AGENT, 0);
        assert.equal((await responder.submit(alertFor(AGENT, podName(AGENT, 0)))).outcome, "recycled");
    });

    it("records alerts for pods that are not agents and never acts on them", async () => {
        const { cluster, responder } = setup();
        cluster.addPod(AGENT.namespace, "debug-pod", { labels: { app: "debug" }, serviceAccountName: "default" });
        cluster.addPod(AGENT.namespace, "impostor", { labels: { "agent-security.io/role": "agent", "agent-security.io/agent": AGENT.name }, serviceAccountName: "default" });
        const outcomes = [
            await responder.submit(alertFor(AGENT, "debug-pod")),
            await responder.submit(alertFor(AGENT, "impostor")),
            await responder.submit(alertFor({ namespace: "kube-system" }, "coredns-1")),
            await responder.submit({ ...alertFor(AGENT, "x"), pod: undefined }),
        ].map((record) => record.outcome);
        assert.deepEqual(outcomes, ["not-agent", "not-agent", "not-agent", "host-event"]);
        assert.deepEqual(cluster.log.filter((entry) => entry.method !== "GET"), [], "nothing but reads");
        assert.ok(!cluster.log.some((entry) => entry.path.includes("kube-system")), "no call for a namespace without agents");
    });

    it("in record mode resolves the identity and records what it would do, changing nothing", async () => {
        const { cluster, responder } = setup({ mode: "record" });
        for (let pod = 0; pod < 5; pod++) assert.equal((await responder.submit(alertFor(AGENT, podName(AGENT, pod)))).outcome, "would-recycle");
        assert.deepEqual(cluster.log.filter((entry) => entry.method !== "GET"), []);
    });

    it("fails closed when the API server is unreachable: deferred, nothing deleted, then acted on by the retry", async () => {
        const { cluster, responder, records } = setup();
        cluster.unavailable = true;
        const first = await responder.submit(alertFor(AGENT, podName(AGENT, 0)));
        assert.equal(first.outcome, "deferred");
        assert.equal(cluster.deletions.length, 0);
        assert.equal(responder.pendingRetries, 1);
        cluster.unavailable = false;
        for (let wait = 0; wait < 100 && !records.some((record) => record.outcome === "recycled"); wait++) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.deepEqual(records.map((record) => record.outcome), ["deferred", "recycled"]);
        assert.equal(cluster.deletions.length, 1);
        await responder.stop();
    });

    it("records a deferred alert as failed when the responder stops before its retry", async () => {
        const { cluster, responder, records } = setup();
        cluster.unavailable = true;
        await responder.submit(alertFor(AGENT, podName(AGENT, 0)));
        await responder.stop();
        assert.deepEqual(records.map((record) => record.outcome), ["deferred", "failed"]);
    });

    it("quarantines directly when the rule says so, and opens the breaker", async () => {
        const { cluster, responder } = setup();
        const record = await responder.submit(alertFor(AGENT, podName(AGENT, 0), "Agent quarantine me", "warning"));
        assert.equal(record.outcome, "quarantined");
        assert.equal(cluster.deployments.get(`${AGENT.namespace}/${AGENT.deployment}`)!.replicas, 0);
        assert.equal((await responder.submit(alertFor(AGENT, podName(AGENT, 1)))).outcome, "suppressed");
    });

    it("answers an open breaker's flood from Falco's agent label without reading the pod, and never acts on the label", async () => {
        const { cluster, responder } = setup();
        const other = AGENTS[1]!;
        // Closed breaker: the hint (wrongly naming agent-0 for agent-1's pod) changes nothing; the pod decides.
        const first = await responder.submit({ ...alertFor(other, podName(other, 0)), agentHint: AGENT.name });
        assert.deepEqual([first.outcome, first.identity], ["recycled", `${other.namespace}/${other.serviceAccount}`]);
        for (let pod = 0; pod < 4; pod++) await responder.submit(alertFor(AGENT, podName(AGENT, pod)));
        const reads = cluster.log.filter((entry) => entry.method === "GET" && entry.path.includes("/pods/")).length;
        const flood = await Promise.all([0, 1, 2].map(() => responder.submit({ ...alertFor(AGENT, podName(AGENT, 5)), agentHint: AGENT.name })));
        assert.deepEqual(flood.map((record) => record.outcome), ["suppressed", "suppressed", "suppressed"]);
        assert.equal(cluster.log.filter((entry) => entry.method === "GET" && entry.path.includes("/pods/")).length, reads, "no pod reads for the flood");
    });

    it("picks the action by rule name first, then priority, then the default, ignoring inherited names", () => {
        const policy = settings({ agents: AGENTS }).actions;
        assert.equal(actionFor(policy, "Agent quarantine me", "debug"), "quarantine");
        assert.equal(actionFor(policy, "Agent shell spawned", "critical"), "recycle");
        assert.equal(actionFor(policy, "Agent shell spawned", "warning"), "record");
        assert.equal(actionFor(policy, "constructor", "warning"), "record");
    });
});
