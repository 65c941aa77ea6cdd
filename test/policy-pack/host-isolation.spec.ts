import { container, ephemeral, podSecurityContext, PodTemplate, securityContext } from "./fixtures";
import { assertClean, assertViolates, resourcePolicy, resourceViolations } from "./helpers";
import { accept, policyTable, reject } from "./table";

const agent = (t: PodTemplate) => container(t, "agent");
const setup = (t: PodTemplate) => container(t, "setup");

policyTable("baseline-no-host-namespaces", [
    reject("hostNetwork", (t) => (t.spec.hostNetwork = true), "hostNetwork"),
    reject("hostPID", (t) => (t.spec.hostPID = true), "hostPID"),
    reject("hostIPC", (t) => (t.spec.hostIPC = true), "hostIPC"),
    accept("hostNetwork false written out", (t) => (t.spec.hostNetwork = false)),
]);

policyTable("baseline-no-shared-process-namespace", [
    reject("shareProcessNamespace true", (t) => (t.spec.shareProcessNamespace = true), "shareProcessNamespace"),
    accept("shareProcessNamespace false written out", (t) => (t.spec.shareProcessNamespace = false)),
]);

policyTable("baseline-volume-types", [
    reject("a hostPath volume", (t) => t.spec.volumes?.push({ name: "host", hostPath: { path: "/var/run" } }), 'Volume "host"', "hostPath"),
    reject("an nfs volume", (t) => t.spec.volumes?.push({ name: "share", nfs: { server: "nfs.example.com", path: "/x" } }), "nfs"),
    accept("an image volume from an approved registry", (t) => t.spec.volumes?.push({ name: "model", image: { reference: "quay.io/agent-security/model:1" } })),
    accept("a persistentVolumeClaim and a configMap", (t) =>
        t.spec.volumes?.push({ name: "data", persistentVolumeClaim: { claimName: "data" } }, { name: "cfg", configMap: { name: "cfg" } }),
    ),
    accept("a volume with only a name (the API defaults it to emptyDir)", (t) => t.spec.volumes?.push({ name: "scratch" })),
]);

describe("baseline-volume-types on PersistentVolumes", () => {
    const policy = resourcePolicy("baseline-volume-types");
    const pv = (source: object) => ({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv" }, spec: { capacity: { storage: "1Gi" }, ...source } });
    it("rejects a hostPath PersistentVolume and accepts a CSI one", async () => {
        assertClean(await resourceViolations(policy, "kubernetes:core/v1:PersistentVolume", pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "v" } })), "csi");
        assertViolates(await resourceViolations(policy, "kubernetes:core/v1:PersistentVolume", pv({ hostPath: { path: "/" } })), "hostPath", "spec.hostPath");
    });
    it("is not applicable to other kinds", async () => {
        const result = await resourceViolations(policy, "kubernetes:core/v1:ConfigMap", { metadata: { name: "x" }, data: { hostPath: "/" } });
        if (result !== "not applicable") {
            throw new Error(`expected not applicable, got ${JSON.stringify(result)}`);
        }
    });
});

policyTable("baseline-no-host-ports", [
    reject("a hostPort", (t) => (agent(t).ports = [{ containerPort: 8080, hostPort: 8080 }]), 'Container "agent"', "hostPort"),
    reject("a hostPort on an init container", (t) => (setup(t).ports = [{ containerPort: 53, hostPort: 53 }]), 'Init container "setup"'),
    accept("hostPort 0 (unset)", (t) => (agent(t).ports = [{ containerPort: 8080, hostPort: 0 }])),
]);

policyTable("baseline-sysctls", [
    reject("kernel.msgmax", (t) => (podSecurityContext(t).sysctls = [{ name: "kernel.msgmax", value: "65536" }]), '"kernel.msgmax"'),
    reject("net.ipv4.ip_forward next to a safe one", (t) =>
        (podSecurityContext(t).sysctls = [
            { name: "net.ipv4.tcp_syncookies", value: "1" },
            { name: "net.ipv4.ip_forward", value: "1" },
        ]), "sysctls[1]"),
    accept("net.ipv4.ip_unprivileged_port_start", (t) => (podSecurityContext(t).sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "80" }])),
]);

policyTable("baseline-linux-only", [
    reject("os.name windows", (t) => (t.spec.os = { name: "windows" }), "os.name"),
    reject("a Windows hostProcess pod", (t) => (podSecurityContext(t).windowsOptions = { hostProcess: true }), "hostProcess"),
    reject("a Windows hostProcess container", (t) => (securityContext(agent(t)).windowsOptions = { hostProcess: true }), 'Container "agent"'),
    accept("os.name linux written out", (t) => (t.spec.os = { name: "linux" })),
]);

policyTable("baseline-no-probe-host", [
    reject("a liveness probe aimed at another host", (t) => (agent(t).livenessProbe = { httpGet: { path: "/", port: 80, host: "169.254.169.254" } }), 'Container "agent"', "livenessProbe.httpGet.host"),
    reject("a preStop hook with a tcpSocket host", (t) => (agent(t).lifecycle = { preStop: { tcpSocket: { port: 443, host: "evil.example.com" } } }), "lifecycle.preStop.tcpSocket.host"),
    reject("a startup probe host on an init container", (t) => (setup(t).startupProbe = { tcpSocket: { port: 80, host: "10.0.0.1" } }), 'Init container "setup"'),
    reject("a readiness probe host on an ephemeral container", (t) => {
        const c = ephemeral();
        c.readinessProbe = { httpGet: { port: 80, host: "10.0.0.1" } };
        t.spec.ephemeralContainers = [c];
    }, 'Ephemeral container "debugger"'),
    accept("an empty host", (t) => (agent(t).livenessProbe = { httpGet: { path: "/", port: 8080, host: "" } })),
    accept("an exec probe", (t) => (agent(t).livenessProbe = { exec: { command: ["/bin/true"] } })),
]);
