import { container, ephemeral, hardenedContainer, PodTemplate, volume } from "./fixtures";
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
