import * as assert from "assert";
import fc from "fast-check";
import type { Manifest } from "../../cli/mockRuntime";
import type { AgentConfig } from "../../config/schema";
import {
    AGENT_CONTAINER,
    buildAgentPod,
    containerSecurityContext,
    hardenedContainer,
    KUBERNETES_RUN_AS_ID,
    podSecurityContext,
    resourceRequirements,
    secretFileVolumes,
    SECRETS_DIR,
    spiffeHelperConfig,
    spireAgentConfig,
    volumeName,
    writableVolumes,
} from "../../components/baseline";
import type { AgentPodInput } from "../../components/baseline";
import { baselineProblems, containersOf, pathsOfKey } from "./support";

const REGISTRIES = ["quay.io/agent-security", "ghcr.io/spiffe"];
const GATEWAY = { url: "http://mcp-gateway-istio.gateway-system.svc.cluster.local:8080/mcp", host: "mcp.agents.example.com", tokenAudience: "mcp-gateway" };

function agent(overrides: Partial<AgentConfig> = {}): AgentConfig {
    return {
        name: "fetch-agent",
        image: "quay.io/agent-security/fetch-agent:1.0.0",
        replicas: 1,
        egress: ["generativelanguage.googleapis.com"],
        mcpServers: ["fetch"],
        secrets: [{ name: "gemini-api-key", key: "api-key" }],
        env: { GOOGLE_GENAI_USE_VERTEXAI: "FALSE" },
        writablePaths: ["/tmp"],
        resources: { cpu: "1", memory: "2Gi" },
        ...overrides,
    };
}

function podInput(overrides: Partial<AgentPodInput> = {}): AgentPodInput {
    const base = overrides.agent ?? agent();
    return {
        agent: base,
        platform: "kubernetes",
        kata: false,
        trustDomain: "agents.example.com",
        clusterName: "prod",
        serviceAccountName: base.name,
        helperConfigMap: `${base.name}-spiffe-helper`,
        spireAgentConfigMap: `${base.name}-spire-agent`,
        ...overrides,
    };
}

/** Wraps a built pod as the Deployment SandboxedAgent renders, for the manifest-level checks. */
function asDeployment(input: AgentPodInput): Manifest {
    const pod = buildAgentPod(input);
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: input.agent.name, namespace: input.agent.name },
        spec: { template: { metadata: { labels: pod.labels }, spec: JSON.parse(JSON.stringify(pod.spec)) as unknown } },
    };
}

describe("baseline builders: security contexts", () => {
    it("sets RuntimeDefault seccomp, drops ALL, read-only root, non-root and no escalation on every container", () => {
        for (const platform of ["kubernetes", "openshift"] as const) {
            const sc = containerSecurityContext(platform);
            assert.deepStrictEqual(sc.seccompProfile, { type: "RuntimeDefault" });
            assert.deepStrictEqual(sc.capabilities, { drop: ["ALL"] });
            assert.strictEqual(sc.readOnlyRootFilesystem, true);
            assert.strictEqual(sc.runAsNonRoot, true);
            assert.strictEqual(sc.allowPrivilegeEscalation, false);
            assert.strictEqual(sc.privileged, false);
        }
    });

    it("asks for AppArmor RuntimeDefault on kubernetes at pod and container level", () => {
        assert.deepStrictEqual(containerSecurityContext("kubernetes").appArmorProfile, { type: "RuntimeDefault" });
        assert.deepStrictEqual(podSecurityContext("kubernetes").appArmorProfile, { type: "RuntimeDefault" });
    });

    it("has no AppArmor field at all on openshift", () => {
        assert.deepStrictEqual(pathsOfKey(containerSecurityContext("openshift"), "appArmorProfile"), []);
        assert.deepStrictEqual(pathsOfKey(podSecurityContext("openshift"), "appArmorProfile"), []);
    });

    it("pins a non-zero numeric UID, GID and fsGroup on kubernetes only", () => {
        const kube = podSecurityContext("kubernetes");
        assert.strictEqual(kube.runAsUser, KUBERNETES_RUN_AS_ID);
        assert.strictEqual(kube.runAsGroup, KUBERNETES_RUN_AS_ID);
        assert.strictEqual(kube.fsGroup, KUBERNETES_RUN_AS_ID);
        assert.notStrictEqual(KUBERNETES_RUN_AS_ID, 0);
        const ocp = podSecurityContext("openshift");
        for (const field of ["runAsUser", "runAsGroup", "fsGroup"]) assert.ok(!(field in ocp), `${field} must be left to the SCC on openshift`);
        assert.strictEqual(ocp.runAsNonRoot, true);
    });

    it("refuses a container without cpu or memory limits", () => {
        assert.throws(
            () => hardenedContainer("kubernetes", { name: "x", image: "quay.io/agent-security/x:1", resources: resourceRequirements({ cpu: "1", memory: "1Gi" }, { cpu: "", memory: "1Gi" }) }),
            /resources.limits.cpu/,
        );
    });
});

describe("baseline builders: volumes", () => {
    it("mounts each secret as read-only 0400 files, one volume per Secret, every key listed", () => {
        const { volumes, mounts } = secretFileVolumes([
            { name: "gemini-api-key", key: "api-key" },
            { name: "frankfurter", key: "token" },
            { name: "frankfurter", key: "endpoint" },
        ]);
        assert.deepStrictEqual(
            volumes.map((volume) => volume.name),
            ["secret-frankfurter", "secret-gemini-api-key"],
        );
        for (const volume of volumes) {
            assert.strictEqual(volume.secret?.defaultMode, 0o400);
            for (const item of volume.secret?.items ?? []) assert.strictEqual(item.mode, 0o400);
        }
        assert.deepStrictEqual(volumes[0]?.secret?.items, [
            { key: "endpoint", path: "endpoint", mode: 0o400 },
            { key: "token", path: "token", mode: 0o400 },
        ]);
        assert.deepStrictEqual(mounts, [
            { name: "secret-frankfurter", mountPath: `${SECRETS_DIR}/frankfurter`, readOnly: true },
            { name: "secret-gemini-api-key", mountPath: `${SECRETS_DIR}/gemini-api-key`, readOnly: true },
        ]);
    });

    it("gives every writable path its own emptyDir with a size limit", () => {
        const { volumes, mounts } = writableVolumes(["/tmp", "/home/agent/.cache", "/tmp"]);
        assert.strictEqual(volumes.length, 2);
        assert.ok(volumes.every((volume) => volume.emptyDir?.sizeLimit));
        assert.deepStrictEqual(
            mounts.map((mount) => [mount.mountPath, mount.readOnly]),
            [
                ["/tmp", false],
                ["/home/agent/.cache", false],
            ],
        );
    });

    it("keeps generated volume names DNS labels even for long inputs", () => {
        fc.assert(
            fc.property(fc.stringMatching(/^\/[A-Za-z0-9/_.-]{1,200}$/), (path) => {
                const name = volumeName("writable", path);
                assert.ok(name.length <= 63, name);
                assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
            }),
        );
    });
});

describe("baseline builders: agent pod", () => {
    it("without Kata: CSI socket mounted by spiffe-helper alone, SVIDs on tmpfs read-only for the agent, no runtime class", () => {
        const pod = buildAgentPod(podInput());
        assert.strictEqual(pod.spec.runtimeClassName, undefined);
        assert.deepStrictEqual(
            pod.spec.containers.map((c) => c.name),
            [AGENT_CONTAINER, "spiffe-helper"],
        );
        const csi = pod.spec.volumes.filter((volume) => volume.csi?.driver === "csi.spiffe.io");
        assert.strictEqual(csi.length, 1);
        const helper = pod.spec.containers.find((c) => c.name === "spiffe-helper");
        assert.ok(helper?.volumeMounts?.some((mount) => mount.name === csi[0]?.name && mount.readOnly));
        assert.ok(helper?.env?.some((env) => env.name === "SPIFFE_ENDPOINT_SOCKET" && env.value === "unix:///spiffe-workload-api/spire-agent.sock"));
        const agentContainer = pod.spec.containers[0];
        assert.ok(!agentContainer?.volumeMounts?.some((mount) => mount.name === csi[0]?.name));
        const svid = pod.spec.volumes.find((volume) => volume.name === "spiffe-svid");
        assert.strictEqual(svid?.emptyDir?.medium, "Memory");
        assert.ok(svid?.emptyDir?.sizeLimit);
        assert.ok(agentContainer?.volumeMounts?.some((mount) => mount.name === "spiffe-svid" && mount.readOnly));
        assert.strictEqual(pod.spireAgentConfig, undefined);
    });

    it("with Kata: runtimeClassName kata, an in-pod spire-agent and no CSI volume", () => {
        const pod = buildAgentPod(podInput({ kata: true }));
        assert.strictEqual(pod.spec.runtimeClassName, "kata");
        assert.deepStrictEqual(
            pod.spec.containers.map((c) => c.name),
            [AGENT_CONTAINER, "spiffe-helper", "spire-agent"],
        );
        assert.ok(!pod.spec.volumes.some((volume) => volume.csi));
        const token = pod.spec.volumes.find((volume) => volume.projected);
        assert.strictEqual(token?.projected?.sources[0]?.serviceAccountToken.audience, "spire-server");
        assert.strictEqual(pod.spec.automountServiceAccountToken, false);
        const agentMounts = pod.spec.containers[0]?.volumeMounts?.map((mount) => mount.name) ?? [];
        for (const forbidden of ["spire-agent-socket", "spire-agent-token", "spire-agent-data"]) assert.ok(!agentMounts.includes(forbidden), forbidden);
        assert.ok(pod.spireAgentConfig?.includes(`cluster = "prod"`));
    });

    it("refuses Kata with less than 2Gi for the agent, even if config validation were bypassed", () => {
        assert.throws(() => buildAgentPod(podInput({ kata: true, agent: agent({ resources: { cpu: "1", memory: "1Gi" } }) })), /below 2Gi/);
    });

    it("refuses Kata without a SPIRE cluster name", () => {
        assert.throws(() => buildAgentPod(podInput({ kata: true, clusterName: undefined })), /cluster name/);
    });

    it("hands the agent, and only the agent, a 0400 gateway token bound to the gateway's audience", () => {
        const pod = buildAgentPod(podInput({ mcpGateway: GATEWAY }));
        const volume = pod.spec.volumes.find((v) => v.projected !== undefined);
        assert.deepStrictEqual(volume?.projected, {
            defaultMode: 0o400,
            sources: [{ serviceAccountToken: { audience: "mcp-gateway", expirationSeconds: 3600, path: "token" } }],
        });
        const mounting = pod.spec.containers.filter((c) => (c.volumeMounts ?? []).some((m) => m.name === volume?.name));
        assert.deepStrictEqual(mounting.map((c) => c.name), ["agent"]);
        assert.ok(mounting[0]?.volumeMounts?.every((m) => m.readOnly === true || m.name !== volume?.name));
        assert.strictEqual(pod.spec.automountServiceAccountToken, false);
        const env = Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
        assert.strictEqual(env.MCP_GATEWAY_URL, GATEWAY.url);
        assert.strictEqual(env.MCP_GATEWAY_HOST, GATEWAY.host);
        assert.strictEqual(env.MCP_GATEWAY_TOKEN_FILE, "/var/run/secrets/agent-security/.mcp-gateway/token");
    });

    it("mounts no gateway token when there is no gateway", () => {
        const pod = buildAgentPod(podInput());
        assert.ok(pod.spec.volumes.every((v) => v.projected === undefined));
    });

    it("refuses agent env that would shadow a platform variable", () => {
        assert.throws(() => buildAgentPod(podInput({ agent: agent({ env: { SPIFFE_ENDPOINT_SOCKET: "unix:///x" } }) })), /set by the platform/);
    });

    it("passes plain env values, the gateway URL and the secrets directory, never a secret reference", () => {
        const pod = buildAgentPod(podInput({ mcpGateway: GATEWAY }));
        const env = pod.spec.containers[0]?.env ?? [];
        assert.deepStrictEqual(
            env.map((e) => e.name),
            ["GOOGLE_GENAI_USE_VERTEXAI", "MCP_GATEWAY_URL", "MCP_GATEWAY_HOST", "MCP_GATEWAY_TOKEN_FILE", "AGENT_SECRETS_DIR", "SPIFFE_SVID_DIR"],
        );
        assert.ok(env.every((e) => typeof e.value === "string" && !("valueFrom" in e)));
        assert.deepStrictEqual(pathsOfKey(pod.spec, "secretKeyRef"), []);
        assert.deepStrictEqual(pathsOfKey(pod.spec, "envFrom"), []);
    });

    it("labels pods with the agent role, the agent name and the SPIFFE opt-in", () => {
        const pod = buildAgentPod(podInput());
        assert.strictEqual(pod.labels["agent-security.io/role"], "agent");
        assert.strictEqual(pod.labels["agent-security.io/agent"], "fetch-agent");
        assert.strictEqual(pod.labels["agent-security.io/spiffe"], "true");
    });

    it("writes a spiffe-helper config with the documented keys in daemon mode", () => {
        const conf = spiffeHelperConfig(false);
        for (const key of ["agent_address", "cert_dir", "svid_file_name", "svid_key_file_name", "svid_bundle_file_name"]) assert.match(conf, new RegExp(`^${key} = "`, "m"));
        assert.match(conf, /^daemon_mode = true$/m);
        assert.match(spiffeHelperConfig(true), /agent_address = "\/run\/spire\/agent-sockets\/spire-agent.sock"/);
    });

    it("points the in-pod spire-agent at the platform's SPIRE server with k8s_psat", () => {
        assert.match(spireAgentConfig({ platform: "kubernetes", trustDomain: "td.example", clusterName: "c1" }), /server_address = "spire-server.spire-server.svc"/);
        const ocp = spireAgentConfig({ platform: "openshift", trustDomain: "td.example", clusterName: "c1" });
        assert.match(ocp, /server_address = "spire-server.zero-trust-workload-identity-manager.svc"/);
        assert.match(ocp, /NodeAttestor "k8s_psat"/);
        assert.match(ocp, /trust_domain = "td.example"/);
        assert.doesNotMatch(ocp, /insecure_bootstrap/);
    });
});

// Random agents, both platforms, Kata on and off: every built pod passes the section 8 rules.
const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$/);
const agentArbitrary = fc.record({
    name: dnsLabel,
    repo: dnsLabel,
    tag: fc.stringMatching(/^[0-9]\.[0-9]{1,2}\.[0-9]{1,2}$/),
    replicas: fc.integer({ min: 1, max: 20 }),
    port: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
    secrets: fc.array(fc.record({ name: dnsLabel, key: fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/) }), { maxLength: 4 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/), fc.string({ maxLength: 40 }), { maxKeys: 5 }),
    writablePaths: fc.uniqueArray(fc.stringMatching(/^\/[a-z][a-z0-9_.-]{0,30}(\/[a-z0-9_.-]{1,20}){0,3}$/), { minLength: 0, maxLength: 4 }),
    cpuMillis: fc.integer({ min: 1, max: 8000 }),
    memoryMi: fc.integer({ min: 64, max: 16384 }),
    platform: fc.constantFrom("kubernetes" as const, "openshift" as const),
    kata: fc.boolean(),
    gateway: fc.boolean(),
});

describe("baseline builders: property", () => {
    it("every random agent pod passes the baseline on its platform, with and without Kata", () => {
        fc.assert(
            fc.property(agentArbitrary, (random) => {
                const env = Object.fromEntries(Object.entries(random.env).filter(([name]) => !["MCP_GATEWAY_URL", "MCP_GATEWAY_HOST", "MCP_GATEWAY_TOKEN_FILE", "AGENT_SECRETS_DIR", "SPIFFE_SVID_DIR", "SPIFFE_ENDPOINT_SOCKET"].includes(name)));
                const memoryMi = random.kata ? Math.max(random.memoryMi, 2048) : random.memoryMi;
                const config = agent({
                    name: random.name,
                    image: `quay.io/agent-security/${random.repo}:${random.tag}`,
                    replicas: random.replicas,
                    port: random.port,
                    secrets: random.secrets,
                    env,
                    writablePaths: random.writablePaths,
                    resources: { cpu: `${random.cpuMillis}m`, memory: `${memoryMi}Mi` },
                });
                const input = podInput({
                    agent: config,
                    platform: random.platform,
                    kata: random.kata,
                    mcpGateway: random.gateway ? GATEWAY : undefined,
                });
                const deployment = asDeployment(input);
                assert.deepStrictEqual(baselineProblems(deployment, { platform: random.platform, registries: REGISTRIES, requireKata: random.kata }), []);
                const pod = buildAgentPod(input);
                const names = containersOf(pod.spec as unknown as Record<string, unknown>).map((c) => c.name);
                assert.strictEqual(names.includes("spire-agent"), random.kata);
                assert.strictEqual(pod.spec.volumes.some((volume) => volume.csi !== undefined), !random.kata);
                // every secret key of the config is a file, and no other secret is mounted
                const files = pod.spec.volumes.flatMap((volume) => (volume.secret ? volume.secret.items.map((item) => `${volume.secret?.secretName}/${item.key}`) : []));
                assert.deepStrictEqual(new Set(files), new Set(random.secrets.map((secret) => `${secret.name}/${secret.key}`)));
            }),
            { numRuns: 300 },
        );
    });
});
