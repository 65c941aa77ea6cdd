import { Container, container, ephemeral, hardenedContainer, PodTemplate, Volume, volume } from "./fixtures";
import { accept, policyTable, reject } from "./table";

const agent = (t: PodTemplate) => container(t, "agent");
const setup = (t: PodTemplate) => container(t, "setup");
const creds = (t: PodTemplate) => {
    const v = volume(t, "creds");
    if (v.secret === undefined) {
        throw new Error("fixture volume creds is a secret volume");
    }
    return v.secret;
};
const bundle = (t: PodTemplate) => {
    const v = volume(t, "bundle");
    if (v.projected === undefined) {
        throw new Error("fixture volume bundle is a projected volume");
    }
    return v.projected;
};

policyTable("baseline-no-secret-env", [
    reject("a secretKeyRef in the agent's env", (t) => agent(t).env?.push({ name: "API_KEY", valueFrom: { secretKeyRef: { name: "k", key: "api-key" } } }), 'Container "agent"', "secretKeyRef", "API_KEY"),
    reject("a secretKeyRef only in an init container", (t) => (setup(t).env = [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "k", key: "t" } } }]), 'Init container "setup"'),
    reject("a secretKeyRef only in an ephemeral container", (t) => {
        const c = ephemeral();
        c.env = [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "k", key: "t" } } }];
        t.spec.ephemeralContainers = [c];
    }, 'Ephemeral container "debugger"'),
    reject("envFrom.secretRef", (t) => (agent(t).envFrom = [{ secretRef: { name: "all-the-keys" } }]), "envFrom[0].secretRef"),
    accept("a configMapKeyRef and envFrom.configMapRef", (t) => {
        agent(t).env?.push({ name: "REGION", valueFrom: { configMapKeyRef: { name: "cfg", key: "region" } } });
        agent(t).envFrom = [{ configMapRef: { name: "cfg" } }];
    }),
]);

policyTable("baseline-secret-file-mode", [
    reject("defaultMode 0644", (t) => (creds(t).defaultMode = 0o644), 'Secret volume "creds"', "0644", "secret.defaultMode"),
    reject("no defaultMode (the API default is 0644)", (t) => delete creds(t).defaultMode, "API default"),
    reject("defaultMode 0400 undone by items[].mode 0644", (t) => (creds(t).items = [{ key: "api-key", path: "api-key", mode: 0o644 }]), 'key "api-key"', "items[0].mode"),
    reject("items without a mode and no defaultMode", (t) => {
        delete creds(t).defaultMode;
        creds(t).items = [{ key: "api-key", path: "api-key" }];
    }, 'key "api-key"', "API default"),
    reject("a stricter but different mode 0440", (t) => (creds(t).defaultMode = 0o440), "0440"),
    reject("a projected volume without defaultMode", (t) => delete bundle(t).defaultMode, 'Projected volume "bundle"'),
    reject("a projected secret item with mode 0444", (t) => (bundle(t).sources[0].secret = { name: "ca-bundle", items: [{ key: "ca", path: "ca", mode: 0o444 }] }), "sources[0].secret", "0444"),
    reject("the mode written as the string \"0400\"", (t) => (creds(t).defaultMode = "0400" as unknown as number), '"0400"'),
    reject("an emptyDir shared with spiffe-helper on disk", (t) => delete volume(t, "svid").emptyDir?.medium, 'EmptyDir volume "svid"', "medium"),
    reject("an emptyDir shared with spiffe-helper with medium \"\"", (t) => (volume(t, "svid").emptyDir = { medium: "" }), 'EmptyDir volume "svid"'),
    accept("defaultMode 0644 when every item sets 0400", (t) => {
        creds(t).defaultMode = 0o644;
        creds(t).items = [
            { key: "api-key", path: "api-key", mode: 0o400 },
            { key: "org", path: "org", mode: 0o400 },
        ];
    }),
    accept("a projected item with 0400 under a 0644 projected default", (t) => {
        bundle(t).defaultMode = 0o644;
        bundle(t).sources = [{ secret: { name: "ca-bundle", items: [{ key: "ca", path: "ca", mode: 0o400 }] } }];
    }),
    accept("an emptyDir on disk that the sidecar does not share", (t) => {
        t.spec.volumes?.push({ name: "cache", emptyDir: {} });
        agent(t).volumeMounts?.push({ name: "cache", mountPath: "/cache" });
    }),
]);

policyTable("baseline-spiffe-socket-isolation", [
    reject("the agent mounting the SPIFFE CSI socket", (t) => agent(t).volumeMounts?.push({ name: "spiffe-socket", mountPath: "/spiffe" }), 'Container "agent"', "csi.spiffe.io"),
    reject("the agent setting SPIFFE_ENDPOINT_SOCKET", (t) => agent(t).env?.push({ name: "SPIFFE_ENDPOINT_SOCKET", value: "unix:///spiffe/agent.sock" }), 'Container "agent"', "SPIFFE_ENDPOINT_SOCKET"),
    reject("an init container mounting the socket", (t) => (setup(t).volumeMounts = [{ name: "spiffe-socket", mountPath: "/spiffe" }]), 'Init container "setup"'),
    reject("an ephemeral container named spiffe-helper mounting the socket", (t) => {
        t.spec.containers = t.spec.containers.filter((c) => c.name !== "spiffe-helper");
        const c = ephemeral("spiffe-helper");
        c.volumeMounts = [{ name: "spiffe-socket", mountPath: "/spiffe" }];
        t.spec.ephemeralContainers = [c];
    }, 'Ephemeral container "spiffe-helper"'),
    reject("a second csi.spiffe.io volume mounted by the agent", (t) => {
        t.spec.volumes?.push({ name: "other-socket", csi: { driver: "csi.spiffe.io", readOnly: true } });
        agent(t).volumeMounts?.push({ name: "other-socket", mountPath: "/other" });
    }, '"other-socket"'),
    accept("an in-pod spire-agent sidecar mounting the socket", (t) => {
        const c = hardenedContainer("spire-agent", "ghcr.io/spiffe/spire-agent:1.13.0");
        c.volumeMounts = [{ name: "spiffe-socket", mountPath: "/spiffe-workload-api", readOnly: true }];
        t.spec.containers.push(c);
    }),
    accept("spiffe-helper as a native sidecar (restartable init container)", (t) => {
        const helper = container(t, "spiffe-helper");
        t.spec.containers = t.spec.containers.filter((c) => c.name !== "spiffe-helper");
        t.spec.initContainers?.push({ ...helper, restartPolicy: "Always" });
    }),
]);

// The Kata shape of design.md section 6: no CSI socket, an in-pod spire-agent serves the Workload
// API on a tmpfs that spiffe-helper mounts read-only. `socket` replaces that volume (any name or
// type) to show the rule follows what spire-agent mounts, not a volume name or type.
const IN_POD_SOCKET: Volume = { name: "spire-agent-socket", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } };

function inPodSpireAgent(t: PodTemplate, socket: Volume = IN_POD_SOCKET, subPath?: string): Container {
    t.spec.volumes = (t.spec.volumes ?? []).filter((v) => v.name !== "spiffe-socket");
    t.spec.volumes.push(socket, { name: "spire-agent-config", configMap: { name: "spire-agent" } });
    const helper = container(t, "spiffe-helper");
    helper.volumeMounts = [
        { name: socket.name, mountPath: "/run/spire/agent-sockets", readOnly: true, ...(subPath !== undefined ? { subPath } : {}) },
        { name: "svid", mountPath: "/svid" },
    ];
    helper.env = [{ name: "SPIFFE_ENDPOINT_SOCKET", value: "unix:///run/spire/agent-sockets/spire-agent.sock" }];
    const agentSidecar = hardenedContainer("spire-agent", "ghcr.io/spiffe/spire-agent:1.14.7");
    agentSidecar.volumeMounts = [
        { name: "spire-agent-config", mountPath: "/run/spire/config", readOnly: true },
        { name: socket.name, mountPath: "/run/spire/agent-sockets", ...(subPath !== undefined ? { subPath } : {}) },
    ];
    t.spec.containers.push(agentSidecar);
    return agentSidecar;
}

policyTable("baseline-spiffe-socket-isolation", [
    accept("an in-pod spire-agent whose socket tmpfs only spiffe-helper mounts", (t) => void inPodSpireAgent(t)),
    accept("the agent sharing a volume the in-pod spire-agent mounts read-only", (t) => {
        inPodSpireAgent(t);
        agent(t).volumeMounts?.push({ name: "spire-agent-config", mountPath: "/etc/spire", readOnly: true });
    }),
    reject("the agent mounting the in-pod spire-agent's socket tmpfs", (t) => {
        inPodSpireAgent(t);
        agent(t).volumeMounts?.push({ name: "spire-agent-socket", mountPath: "/run/spire/agent-sockets", readOnly: true });
    }, 'Container "agent"', '"spire-agent-socket"', "spire-agent"),
    reject("the agent mounting the socket volume under an innocent name", (t) => {
        inPodSpireAgent(t, { name: "cache", emptyDir: { medium: "Memory" } });
        agent(t).volumeMounts?.push({ name: "cache", mountPath: "/cache" });
    }, 'Container "agent"', '"cache"'),
    reject("the agent mounting a hostPath the spire-agent serves on", (t) => {
        inPodSpireAgent(t, { name: "host-sockets", hostPath: { path: "/run/spire/agent-sockets" } });
        agent(t).volumeMounts?.push({ name: "host-sockets", mountPath: "/sockets", readOnly: true });
    }, 'Container "agent"', '"host-sockets"'),
    reject("the agent mounting an emptyDir on disk the spire-agent serves on", (t) => {
        inPodSpireAgent(t, { name: "sockets", emptyDir: {} });
        agent(t).volumeMounts?.push({ name: "sockets", mountPath: "/sockets", readOnly: true });
    }, 'Container "agent"', '"sockets"'),
    reject("the agent mounting a projected volume the spire-agent mounts writable", (t) => {
        inPodSpireAgent(t, { name: "podinfo", projected: { defaultMode: 0o444, sources: [{ downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }] } }] } });
        agent(t).volumeMounts?.push({ name: "podinfo", mountPath: "/podinfo", readOnly: true });
    }, 'Container "agent"', '"podinfo"'),
    reject("the agent mounting another subPath of the socket volume", (t) => {
        inPodSpireAgent(t, IN_POD_SOCKET, "sockets");
        agent(t).volumeMounts?.push({ name: "spire-agent-socket", mountPath: "/scratch", subPath: "scratch" });
    }, 'Container "agent"', '"spire-agent-socket"'),
    reject("an init container mounting the in-pod socket volume", (t) => {
        inPodSpireAgent(t);
        setup(t).volumeMounts = [{ name: "spire-agent-socket", mountPath: "/sockets" }];
    }, 'Init container "setup"', '"spire-agent-socket"'),
    reject("an ephemeral container named spiffe-helper mounting the in-pod socket volume", (t) => {
        inPodSpireAgent(t);
        const c = ephemeral("spiffe-helper");
        c.volumeMounts = [{ name: "spire-agent-socket", mountPath: "/sockets", readOnly: true }];
        t.spec.ephemeralContainers = [c];
    }, 'Ephemeral container "spiffe-helper"'),
    reject("the agent mounting the socket volume of a spire-agent run as a native sidecar", (t) => {
        const sidecar = inPodSpireAgent(t);
        t.spec.containers = t.spec.containers.filter((c) => c.name !== "spire-agent");
        t.spec.initContainers?.push({ ...sidecar, restartPolicy: "Always" });
        agent(t).volumeMounts?.push({ name: "spire-agent-socket", mountPath: "/sockets", readOnly: true });
    }, 'Container "agent"', '"spire-agent-socket"'),
    reject("an ephemeral container named spire-agent serving on a volume the agent mounts", (t) => {
        const c = ephemeral("spire-agent");
        c.volumeMounts = [{ name: "svid", mountPath: "/run/spire/agent-sockets" }];
        t.spec.ephemeralContainers = [c];
    }, 'Container "agent"', '"svid"'),
]);
