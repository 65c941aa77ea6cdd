// The responder's Kubernetes client against a real kube-apiserver (test/cluster/harness.ts), as the
// ServiceAccount the component creates, bound only to the Roles the component renders: the calls
// work with exactly those rights, resourceVersion conflicts come from the real server, and two
// replicas on one identity never spend more than the limit. Skipped, with the reason, only when
// the control-plane binaries are absent (.ci/run provides them).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { agentNamespaceRules, stateNamespaceRules } from "../../components/response/manifests";
import { AGENT_NAME_LABEL, AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, AGENT_SPIFFE_LABEL, QUARANTINE_LABEL, breakerStateName } from "../../responder/src/identity";
import { HttpTransport, KubeClient } from "../../responder/src/kube";
import { Responder } from "../../responder/src/responder";
import type { AlertRecord } from "../../responder/src/responder";
import { missingBinaries, startCluster } from "../cluster/harness";
import type { Cluster } from "../cluster/harness";
import { AUDIT_CONFIGMAP, STATE_NAMESPACE, alertFor, settings } from "./support";

const AGENT = { namespace: "agents-0", name: "agent-0", serviceAccount: "agent-0", deployment: "agent-0" };
const SA = "falco-responder";

describe("responder client against a real kube-apiserver", function () {
    this.timeout(180_000);
    let cluster: Cluster | undefined;
    let transport: HttpTransport | undefined;

    before(async function () {
        const missing = missingBinaries();
        if (missing) {
            console.log(`    skipped: no control-plane binaries (${missing})`);
            this.skip();
        }
        cluster = await startCluster({ controllerManager: false });
        const c = cluster;
        const ok = async (method: string, url: string, body?: unknown) => {
            const response = await c.request(method, url, body);
            assert.ok(response.status >= 200 && response.status < 300, `${method} ${url}: ${response.status} ${response.text}`);
            return response;
        };
        for (const name of [STATE_NAMESPACE, AGENT.namespace]) await ok("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
        for (const [namespace, name] of [[STATE_NAMESPACE, SA], [AGENT.namespace, AGENT.serviceAccount]] as const) {
            await ok("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name }, automountServiceAccountToken: false });
        }
        await ok("POST", `/api/v1/namespaces/${STATE_NAMESPACE}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: AUDIT_CONFIGMAP }, data: { stack: "test" } });
        // Exactly the Roles the component renders, bound to the responder's ServiceAccount.
        const subjects = [{ kind: "ServiceAccount", name: SA, namespace: STATE_NAMESPACE }];
        for (const [namespace, rules] of [
            [AGENT.namespace, agentNamespaceRules()],
            [STATE_NAMESPACE, stateNamespaceRules([AGENT], AUDIT_CONFIGMAP)],
        ] as const) {
            await ok("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: SA }, rules });
            await ok("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "RoleBinding",
                metadata: { name: SA },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: SA },
                subjects,
            });
        }
        await ok("POST", `/apis/apps/v1/namespaces/${AGENT.namespace}/deployments`, {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: AGENT.deployment },
            spec: {
                replicas: 2,
                selector: { matchLabels: { [AGENT_NAME_LABEL]: AGENT.name } },
                template: {
                    metadata: { labels: { [AGENT_NAME_LABEL]: AGENT.name } },
                    spec: { serviceAccountName: AGENT.serviceAccount, automountServiceAccountToken: false, containers: [{ name: "agent", image: "quay.io/agent-security/fetch-agent:1.0.0" }] },
                },
            },
        });
        for (let pod = 0; pod < 8; pod++) {
            await ok("POST", `/api/v1/namespaces/${AGENT.namespace}/pods`, {
                apiVersion: "v1",
                kind: "Pod",
                metadata: { name: `agent-0-pod-${pod}`, labels: { [AGENT_ROLE_LABEL]: AGENT_ROLE_VALUE, [AGENT_NAME_LABEL]: AGENT.name, [AGENT_SPIFFE_LABEL]: "true" } },
                spec: { serviceAccountName: AGENT.serviceAccount, automountServiceAccountToken: false, containers: [{ name: "agent", image: "quay.io/agent-security/fetch-agent:1.0.0" }] },
            });
        }
        // A short-lived token for the responder's ServiceAccount, as the projected volume would hold.
        const token = await ok("POST", `/api/v1/namespaces/${STATE_NAMESPACE}/serviceaccounts/${SA}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } });
        const dir = path.join(c.workDir, "responder");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "token"), (token.body as { status: { token: string } }).status.token, { mode: 0o400 });
        fs.writeFileSync(path.join(dir, "ca.crt"), c.caPem);
        transport = new HttpTransport({ server: c.server, caFile: path.join(dir, "ca.crt"), tokenFile: path.join(dir, "token") });
    });

    after(async () => {
        transport?.close();
        await cluster?.stop();
    });

    it("recycles three pods, then trips: quarantine labels, scale to 0, Event, audit record, all with the component's Roles only", async () => {
        const c = cluster as Cluster;
        const records: AlertRecord[] = [];
        const config = settings({ agents: [AGENT] });
        // Two replicas, one identity, six alerts at once: the real server's resourceVersion check decides.
        const replicas = [0, 1].map(() => new Responder({ kube: new KubeClient((transport as HttpTransport).send), settings: config, sink: (record) => records.push(record) }));
        await Promise.all([0, 1, 2, 3, 4, 5].map((pod) => replicas[pod % 2]!.submit(alertFor(AGENT, `agent-0-pod-${pod}`))));
        const outcomes = records.map((record) => record.outcome).sort();
        assert.deepEqual(outcomes, ["recycled", "recycled", "recycled", "suppressed", "suppressed", "tripped"], JSON.stringify(records.map((r) => [r.outcome, r.reason])));

        const pods = (await c.request("GET", `/api/v1/namespaces/${AGENT.namespace}/pods`)).body as { items: { metadata: { name: string; labels: Record<string, string> } }[] };
        assert.equal(pods.items.length, 5, "exactly three of eight pods deleted");
        const tripped = records.find((record) => record.outcome === "tripped")!;
        const quarantined = pods.items.find((pod) => pod.metadata.name === tripped.pod)!;
        assert.equal(quarantined.metadata.labels[QUARANTINE_LABEL], "true");
        assert.ok(!(AGENT_SPIFFE_LABEL in quarantined.metadata.labels));
        // The Deployment, not its Scale: autoscaling/v1 Scale omits `replicas` when it is 0.
        const deployment = (await c.request("GET", `/apis/apps/v1/namespaces/${AGENT.namespace}/deployments/${AGENT.deployment}`)).body as { spec: { replicas: number } };
        assert.equal(deployment.spec.replicas, 0);
        const events = (await c.request("GET", `/api/v1/namespaces/${AGENT.namespace}/events`)).body as { items: { reason: string; involvedObject: { kind: string; name: string } }[] };
        assert.deepEqual(events.items.map((event) => [event.reason, event.involvedObject.kind, event.involvedObject.name]), [["ResponderCircuitOpen", "Deployment", AGENT.deployment]]);
        const audit = (await c.request("GET", `/api/v1/namespaces/${STATE_NAMESPACE}/configmaps/${AUDIT_CONFIGMAP}`)).body as { data: Record<string, string> };
        assert.equal(audit.data.stack, "test");
        assert.ok(audit.data[`falco-responder.${AGENT.namespace}.${AGENT.serviceAccount}`]);
        const state = await c.request("GET", `/api/v1/namespaces/${STATE_NAMESPACE}/configmaps/${breakerStateName(AGENT.namespace, AGENT.serviceAccount)}`);
        assert.equal(state.status, 200);
    });

    it("is refused by RBAC outside the agent namespaces it was granted", async () => {
        const client = new KubeClient((transport as HttpTransport).send);
        await assert.rejects(client.getPod("kube-system", "anything"), (error: unknown) => error instanceof Error && /forbidden: .*403/.test(`${(error as { kind?: string }).kind}: ${error.message}`));
    });
});
