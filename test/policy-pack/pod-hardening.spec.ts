import { container, ephemeral, podSecurityContext, PodTemplate, securityContext } from "./fixtures";
import { accept, policyTable, reject } from "./table";

const agent = (t: PodTemplate) => securityContext(container(t, "agent"));
const setup = (t: PodTemplate) => securityContext(container(t, "setup"));
const pod = podSecurityContext;

function addEphemeral(t: PodTemplate, change: (c: ReturnType<typeof ephemeral>) => void = () => undefined): void {
    const c = ephemeral();
    change(c);
    t.spec.ephemeralContainers = [c];
}

/** Moves a pod-level setting onto every container, so inheritance is not what makes it pass. */
function everyContainer(t: PodTemplate, change: (sc: NonNullable<ReturnType<typeof securityContext>>) => void): void {
    for (const c of [...t.spec.containers, ...(t.spec.initContainers ?? []), ...(t.spec.ephemeralContainers ?? [])]) {
        change(securityContext(c));
    }
}

policyTable("baseline-seccomp", [
    reject("Unconfined at pod level", (t) => (pod(t).seccompProfile = { type: "Unconfined" }), "Unconfined", "seccompProfile"),
    reject("Unconfined on a container under a RuntimeDefault pod", (t) => (agent(t).seccompProfile = { type: "Unconfined" }), 'Container "agent"', "seccompProfile.type"),
    reject("Unconfined only in an init container", (t) => (setup(t).seccompProfile = { type: "Unconfined" }), 'Init container "setup"'),
    reject("Unconfined only in an ephemeral container", (t) => addEphemeral(t, (c) => (securityContext(c).seccompProfile = { type: "Unconfined" })), 'Ephemeral container "debugger"'),
    reject("no seccomp profile at pod or container level", (t) => delete pod(t).seccompProfile, 'Container "agent"', "seccompProfile"),
    reject("a lower-case profile type", (t) => (pod(t).seccompProfile = { type: "runtimedefault" }), '"runtimedefault"'),
    reject("the legacy pod annotation set to unconfined", (t) => (t.metadata.annotations = { "seccomp.security.alpha.kubernetes.io/pod": "unconfined" }), "seccomp.security.alpha.kubernetes.io/pod"),
    reject("Unconfined at pod level even when every container overrides it", (t) => {
        everyContainer(t, (sc) => (sc.seccompProfile = { type: "RuntimeDefault" }));
        pod(t).seccompProfile = { type: "Unconfined" };
    }, "The pod"),
    accept("a Localhost container profile under a RuntimeDefault pod", (t) => (agent(t).seccompProfile = { type: "Localhost", localhostProfile: "profiles/agent.json" })),
    accept("no pod-level profile when every container sets RuntimeDefault", (t) => {
        everyContainer(t, (sc) => (sc.seccompProfile = { type: "RuntimeDefault" }));
        delete pod(t).seccompProfile;
    }),
    accept("an ephemeral container inheriting the pod's profile", (t) => addEphemeral(t)),
]);

policyTable("baseline-capabilities", [
    reject("a container that drops nothing", (t) => delete agent(t).capabilities, 'Container "agent"', "capabilities.drop"),
    reject('drop ["all"] in lower case', (t) => (agent(t).capabilities = { drop: ["all"] }), '["all"]'),
    reject('drop ["CAP_ALL"]', (t) => (agent(t).capabilities = { drop: ["CAP_ALL"] }), '"CAP_ALL"'),
    reject('drop "ALL" as a string instead of a list', (t) => (agent(t).capabilities = { drop: "ALL" as unknown as string[] }), "capabilities.drop"),
    reject("adding SYS_ADMIN", (t) => (agent(t).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }), '"SYS_ADMIN"', "capabilities.add"),
    reject("adding net_bind_service in lower case", (t) => (agent(t).capabilities = { drop: ["ALL"], add: ["net_bind_service"] }), '"net_bind_service"'),
    reject("adding CAP_NET_BIND_SERVICE with the prefix", (t) => (agent(t).capabilities = { drop: ["ALL"], add: ["CAP_NET_BIND_SERVICE"] }), '"CAP_NET_BIND_SERVICE"'),
    reject("an init container that keeps its capabilities", (t) => delete setup(t).capabilities, 'Init container "setup"'),
    reject("an ephemeral container adding NET_RAW", (t) => addEphemeral(t, (c) => (securityContext(c).capabilities = { drop: ["ALL"], add: ["NET_RAW"] })), 'Ephemeral container "debugger"', '"NET_RAW"'),
    accept("adding NET_BIND_SERVICE", (t) => (agent(t).capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] })),
    accept("dropping ALL alongside other names", (t) => (agent(t).capabilities = { drop: ["NET_RAW", "ALL"] })),
]);

policyTable("baseline-read-only-root-filesystem", [
    reject("readOnlyRootFilesystem false", (t) => (agent(t).readOnlyRootFilesystem = false), 'Container "agent"', "readOnlyRootFilesystem"),
    reject("an init container without readOnlyRootFilesystem", (t) => delete setup(t).readOnlyRootFilesystem, 'Init container "setup"'),
    reject("an ephemeral container without readOnlyRootFilesystem", (t) => addEphemeral(t, (c) => delete securityContext(c).readOnlyRootFilesystem), 'Ephemeral container "debugger"'),
    reject('the string "true"', (t) => (agent(t).readOnlyRootFilesystem = "true" as unknown as boolean), '"true"'),
    accept("a hardened ephemeral container", (t) => addEphemeral(t)),
]);

policyTable("baseline-run-as-non-root", [
    reject("runAsNonRoot false on the pod", (t) => (pod(t).runAsNonRoot = false), "The pod", "runAsNonRoot"),
    reject("runAsNonRoot set nowhere", (t) => delete pod(t).runAsNonRoot, 'Container "agent"', "runAsNonRoot"),
    reject("a container overriding the pod with runAsNonRoot false", (t) => (agent(t).runAsNonRoot = false), 'Container "agent"', "overriding the pod"),
    reject("runAsUser 0 on the pod even with runAsNonRoot true", (t) => (pod(t).runAsUser = 0), "runAsUser to 0"),
    reject("runAsUser 0 in an init container", (t) => (setup(t).runAsUser = 0), 'Init container "setup"', "runAsUser to 0"),
    reject("an ephemeral container with runAsNonRoot false", (t) => addEphemeral(t, (c) => (securityContext(c).runAsNonRoot = false)), 'Ephemeral container "debugger"'),
    accept("runAsNonRoot on every container instead of the pod", (t) => {
        everyContainer(t, (sc) => (sc.runAsNonRoot = true));
        delete pod(t).runAsNonRoot;
    }),
    accept("a non-zero runAsUser", (t) => (pod(t).runAsUser = 1000)),
]);

policyTable("baseline-no-privilege-escalation", [
    reject("allowPrivilegeEscalation true", (t) => (agent(t).allowPrivilegeEscalation = true), 'Container "agent"', "allowPrivilegeEscalation"),
    reject("an init container that does not set it", (t) => delete setup(t).allowPrivilegeEscalation, 'Init container "setup"'),
    reject("an ephemeral container that does not set it", (t) => addEphemeral(t, (c) => delete securityContext(c).allowPrivilegeEscalation), 'Ephemeral container "debugger"'),
    accept("a hardened ephemeral container", (t) => addEphemeral(t)),
]);

policyTable("baseline-apparmor", [
    reject("Unconfined at pod level", (t) => (pod(t).appArmorProfile = { type: "Unconfined" }), "The pod", "Unconfined"),
    reject("Unconfined on a container under a RuntimeDefault pod", (t) => (agent(t).appArmorProfile = { type: "Unconfined" }), 'Container "agent"', "appArmorProfile.type"),
    reject("Unconfined only in an init container", (t) => (setup(t).appArmorProfile = { type: "Unconfined" }), 'Init container "setup"'),
    reject("no profile at pod or container level", (t) => delete pod(t).appArmorProfile, 'Container "agent"', "appArmorProfile"),
    reject("the deprecated annotation set to unconfined", (t) => (t.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/agent": "unconfined" }), "container.apparmor.security.beta.kubernetes.io/agent"),
    reject("a container without a profile when only the others set one", (t) => {
        everyContainer(t, (sc) => (sc.appArmorProfile = { type: "RuntimeDefault" }));
        delete pod(t).appArmorProfile;
        delete agent(t).appArmorProfile;
    }, 'Container "agent"'),
    accept("a Localhost container profile under a RuntimeDefault pod", (t) => (agent(t).appArmorProfile = { type: "Localhost", localhostProfile: "k8s-agent" })),
    accept("no pod-level profile when every container sets RuntimeDefault", (t) => {
        everyContainer(t, (sc) => (sc.appArmorProfile = { type: "RuntimeDefault" }));
        delete pod(t).appArmorProfile;
    }),
    accept("an ephemeral container inheriting the pod's profile", (t) => addEphemeral(t)),
]);

policyTable(
    "baseline-apparmor",
    [
        reject("a pod-level RuntimeDefault profile", (t) => (pod(t).appArmorProfile = { type: "RuntimeDefault" }), "The pod", "OpenShift"),
        reject("a container-level profile", (t) => (agent(t).appArmorProfile = { type: "RuntimeDefault" }), 'Container "agent"', "OpenShift"),
        reject("the deprecated annotation even with runtime/default", (t) => (t.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/agent": "runtime/default" }), "container.apparmor.security.beta.kubernetes.io/agent"),
        reject("Unconfined on an ephemeral container", (t) => addEphemeral(t, (c) => (securityContext(c).appArmorProfile = { type: "Unconfined" })), 'Ephemeral container "debugger"'),
        accept("other annotations", (t) => (t.metadata.annotations = { "openshift.io/scc": "restricted-v2" })),
    ],
    "openshift",
);

policyTable("baseline-no-privileged", [
    reject("a privileged container", (t) => (agent(t).privileged = true), 'Container "agent"', "privileged"),
    reject("a privileged init container", (t) => (setup(t).privileged = true), 'Init container "setup"'),
    reject("a privileged ephemeral container", (t) => addEphemeral(t, (c) => (securityContext(c).privileged = true)), 'Ephemeral container "debugger"'),
    accept("privileged false written out", (t) => (agent(t).privileged = false)),
]);

policyTable("baseline-proc-mount", [
    reject("procMount Unmasked", (t) => (agent(t).procMount = "Unmasked"), 'Container "agent"', "procMount"),
    reject("procMount Unmasked on an ephemeral container", (t) => addEphemeral(t, (c) => (securityContext(c).procMount = "Unmasked")), 'Ephemeral container "debugger"'),
    accept("procMount Default written out", (t) => (agent(t).procMount = "Default")),
]);

policyTable("baseline-selinux", [
    reject("the spc_t type on the pod", (t) => (pod(t).seLinuxOptions = { type: "spc_t" }), "The pod", "spc_t"),
    reject("an SELinux user", (t) => (agent(t).seLinuxOptions = { user: "system_u" }), 'Container "agent"', "seLinuxOptions.user"),
    reject("an SELinux role", (t) => (agent(t).seLinuxOptions = { role: "system_r" }), "seLinuxOptions.role"),
    reject("unconfined_t on an init container", (t) => (setup(t).seLinuxOptions = { type: "unconfined_t" }), 'Init container "setup"'),
    accept("container_t with an MCS level", (t) => (pod(t).seLinuxOptions = { type: "container_t", level: "s0:c123,c456" })),
    accept("container_init_t on an init container", (t) => (setup(t).seLinuxOptions = { type: "container_init_t" })),
]);
