// The real HTTP client (node:http with a bearer token file) against the recorded fake over
// 127.0.0.1: each call leaves exactly the request shape of `requests`, and statuses map to the
// error kinds the breaker relies on (409 conflict, 404 not found, 5xx/refused unavailable).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HttpTransport, KubeClient, KubeError, connectionFromEnv, requests } from "../../responder/src/kube";
import { FakeCluster, serveFakeCluster, shapeOf } from "./fakeCluster";
import { agentPodLabels } from "./support";

describe("responder Kubernetes client over HTTP (recorded fake)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "responder-kube-"));
    const cluster = new FakeCluster();
    let served: Awaited<ReturnType<typeof serveFakeCluster>>;
    let transport: HttpTransport;
    let client: KubeClient;

    before(async () => {
        fs.writeFileSync(path.join(dir, "token"), "api-token-1\n", { mode: 0o400 });
        served = await serveFakeCluster(cluster, "api-token-1");
        transport = new HttpTransport({ server: served.url, tokenFile: path.join(dir, "token") });
        client = new KubeClient(transport.send);
        cluster.addPod("agents-0", "agent-0-abc", { uid: "u-1", labels: agentPodLabels("agent-0"), serviceAccountName: "agent-0" });
        cluster.addDeployment("agents-0", "agent-0", 2);
    });
    after(async () => {
        transport.close();
        await served.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const last = () => {
        const entry = cluster.log[cluster.log.length - 1]!;
        return { method: entry.method, path: entry.path, contentType: entry.contentType, body: entry.body };
    };

    it("reads a pod and sends the exact DELETE, label PATCH and scale PATCH shapes", async () => {
        const pod = await client.getPod("agents-0", "agent-0-abc");
        assert.deepEqual(pod && [pod.uid, pod.serviceAccountName], ["u-1", "agent-0"]);
        assert.deepEqual(last(), { ...shapeOf(requests.getPod("agents-0", "agent-0-abc")), body: undefined });
        assert.equal(await client.patchPodLabels("agents-0", "agent-0-abc", { "agent-security.io/quarantine": "true", "agent-security.io/spiffe": null }), "patched");
        assert.deepEqual(last(), shapeOf(requests.patchPodLabels("agents-0", "agent-0-abc", { "agent-security.io/quarantine": "true", "agent-security.io/spiffe": null })));
        assert.equal(last().contentType, "application/merge-patch+json");
        assert.equal(await client.scaleDeployment("agents-0", "agent-0", 0), "scaled");
        assert.deepEqual(last(), shapeOf(requests.scaleDeployment("agents-0", "agent-0", 0)));
        assert.equal(await client.deletePod("agents-0", "agent-0-abc", "stale-uid"), "gone", "a uid precondition failure (409) means our pod is gone");
        assert.equal(await client.deletePod("agents-0", "agent-0-abc", "u-1"), "deleted");
        assert.deepEqual(last(), shapeOf(requests.deletePod("agents-0", "agent-0-abc", "u-1")));
        assert.equal(await client.getPod("agents-0", "agent-0-abc"), undefined);
    });

    it("creates, replaces with a resourceVersion precondition, and reports a stale version as a conflict", async () => {
        const created = await client.createConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0", { a: "b" }, { state: "{}" });
        await assert.rejects(client.createConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0", {}, {}), (error: unknown) => error instanceof KubeError && error.kind === "conflict");
        const replaced = await client.replaceConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0", { a: "b" }, { state: "{\"x\":1}" }, created.resourceVersion);
        assert.deepEqual(last(), shapeOf(requests.replaceConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0", { a: "b" }, { state: "{\"x\":1}" }, created.resourceVersion)));
        assert.notEqual(replaced.resourceVersion, created.resourceVersion);
        await assert.rejects(
            client.replaceConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0", {}, { state: "{}" }, created.resourceVersion),
            (error: unknown) => error instanceof KubeError && error.kind === "conflict" && error.status === 409,
        );
        assert.deepEqual((await client.getConfigMap("agent-security", "falco-responder-breaker.agents-0.agent-0"))?.data, { state: "{\"x\":1}" });
    });

    it("maps an unreachable or failing server to unavailable, and a wrong token to forbidden", async () => {
        cluster.unavailable = true;
        await assert.rejects(client.getPod("agents-0", "x"), (error: unknown) => error instanceof KubeError && error.kind === "unavailable" && error.status === 503);
        cluster.unavailable = false;
        const refused = new KubeClient(new HttpTransport({ server: "http://127.0.0.1:1", tokenFile: path.join(dir, "token") }).send);
        await assert.rejects(refused.getPod("agents-0", "x"), (error: unknown) => error instanceof KubeError && error.kind === "unavailable" && error.status === undefined);
        fs.writeFileSync(path.join(dir, "wrong"), "nope");
        const wrong = new KubeClient(new HttpTransport({ server: served.url, tokenFile: path.join(dir, "wrong") }).send);
        await assert.rejects(wrong.getPod("agents-0", "x"), (error: unknown) => error instanceof KubeError && error.kind === "forbidden");
    });

    it("refuses plain http to anything but loopback, and reads the in-cluster paths by default", () => {
        assert.throws(() => new HttpTransport({ server: "http://10.0.0.1:6443" }), /loopback test server only/);
        assert.deepEqual(connectionFromEnv({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }), {
            server: "https://10.96.0.1:443",
            caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
            tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
        });
        assert.throws(() => connectionFromEnv({}), /KUBERNETES_SERVICE_HOST is not set/);
    });
});
