// The Falco rules file for agent containers (design.md section 6, runtime). Pure: the Falco
// component puts the returned text into the chart's `customRules`, the tests parse it.
//
// Falco 0.44 facts the rules rely on:
// - Pod labels come from the container plugin (`k8s.pod.label[<key>]`, bracket form allows `/` in
//   the key; falcosecurity/plugins plugins/container/README.md), which the falco chart 9.x loads by
//   default (`collectors.containerEngine`). No k8smeta collector is needed.
// - Enter events are gone since Falco 0.42, so `evt.dir` is deprecated and not used here
//   (falcosecurity/falco#3690, falcosecurity/rules#307).
// - `fd.sip.name in (...)` makes Falco resolve the listed names itself and match the IP of the
//   event against the resolved A records (falco.org/docs/rules/fd-sip-name).
// The file defines its own macros and lists (prefixed `agent_security_`) instead of reusing those
// of falco_rules.yaml, so it loads even when the default ruleset is absent (air-gapped installs
// without falcoctl) and nothing here changes when the default ruleset is upgraded.
import * as YAML from "yaml";
import { AGENT_NAME_LABEL, AGENT_ROLE_LABEL, AGENT_ROLE_VALUE, SPIFFE_HELPER_CONTAINER, SPIRE_AGENT_CONTAINER } from "../wellKnown";

/** The macro every agent rule is anchored on: containers of pods labelled as agents. */
export const AGENT_CONTAINER_MACRO = "agent_security_container";

/** File name under the chart's `customRules` (mounted at /etc/falco/rules.d). */
export const FALCO_RULES_FILE = "agent-security-rules.yaml";

// Paths as components/agent.ts mounts them. `/var/run` is a symlink to `/run` in most images, so
// the same files are reachable under both prefixes and both are watched: Falco reports the path as
// the process passed it, without resolving symlinks.
/** Agent secrets (one secret volume per Secret under this directory), plus the in-pod spire-agent's projected token. */
export const AGENT_SECRET_DIRS: readonly string[] = [
    "/run/secrets/agent-security",
    "/run/secrets/tokens",
    "/var/run/secrets/agent-security",
    "/var/run/secrets/tokens",
];
/** SVIDs written by the SPIFFE sidecar for the agent (`/var/run/spiffe/svid`, read-only for the agent). */
export const SPIFFE_SVID_DIRS: readonly string[] = ["/run/spiffe", "/var/run/spiffe"];
/**
 * The SPIRE Workload API socket: the CSI mount `/spiffe-workload-api` (runc pods), or the in-pod
 * spire-agent's socket directory under Kata (listed for completeness: a host Falco cannot see Kata
 * guests, falcosecurity/falco#1413).
 */
export const SPIFFE_SOCKET_DIRS: readonly string[] = ["/run/spire/agent-sockets", "/spiffe-workload-api", "/var/run/spire/agent-sockets"];

/**
 * Addresses treated as in-cluster for the outbound-connect rule: RFC 1918 plus RFC 6598 (used by
 * OVN-Kubernetes for its join and transit subnets). The stack config does not carry the cluster's
 * pod and service CIDRs, so these ranges are a superset: a connect from an agent to another private
 * address is not flagged by this rule (the NetworkPolicy baseline and Cilium restrict it instead).
 */
export const DEFAULT_CLUSTER_NETWORKS: readonly string[] = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"];
/** Link-local, where cloud instance metadata lives (169.254.169.254). Never allowed for agents. */
export const LINK_LOCAL_NETWORK = "169.254.0.0/16";

export type FalcoPriority = "CRITICAL" | "WARNING" | "NOTICE";
const PRIORITY_ORDER: Readonly<Record<FalcoPriority, number>> = { CRITICAL: 0, WARNING: 1, NOTICE: 2 };

export interface FalcoRulesAgent {
    readonly name: string;
    readonly namespace: string;
    readonly egressHosts: readonly string[];
}

export interface FalcoRulesOptions {
    readonly agents: readonly FalcoRulesAgent[];
    readonly secretDirs?: readonly string[];
    readonly svidDirs?: readonly string[];
    readonly spiffeSocketDirs?: readonly string[];
    readonly clusterNetworks?: readonly string[];
}

export interface FalcoRule {
    readonly rule: string;
    readonly desc: string;
    readonly condition: string;
    readonly output: string;
    readonly priority: FalcoPriority;
    readonly tags: readonly string[];
}

interface FalcoMacro {
    readonly macro: string;
    readonly condition: string;
}

interface FalcoList {
    readonly list: string;
    readonly items: readonly string[];
}

type FalcoEntry = FalcoMacro | FalcoList | FalcoRule;

const SHELLS = ["ash", "bash", "busybox", "csh", "dash", "fish", "ksh", "sh", "tcsh", "zsh"];
// Programs that dump or ship file contents; reading a credential with one of them is not what an
// agent runtime does.
const FILE_DUMP_TOOLS = ["base64", "cat", "cp", "curl", "dd", "head", "less", "more", "nc", "ncat", "od", "openssl", "scp", "socat", "strings", "tail", "tar", "tee", "wget", "xxd"];
// Container runtimes set up namespaces, mounts and credentials inside the new container before the
// entrypoint runs (runc init, crun on CRI-O); those syscalls are attributed to the container.
// Names are as Falco reports them (comm, truncated to 15 characters).
const CONTAINER_RUNTIME_PROCS = ["conmon", "containerd-shim", "crun", "runc", "runc:[0:PARENT]", "runc:[1:CHILD]", "runc:[2:INIT]"];
// Sidecars the platform injects into agent pods; they spawn helper processes by design.
const SIDECAR_CONTAINERS = ["istio-proxy", "istio-validation", SPIFFE_HELPER_CONTAINER, SPIRE_AGENT_CONTAINER];
const SPIFFE_SIDECARS = [SPIFFE_HELPER_CONTAINER, SPIRE_AGENT_CONTAINER];
const MOUNT_NAMESPACE_SYSCALLS = ["chroot", "mount", "setns", "umount", "umount2", "unshare"];
const PRIVILEGE_SYSCALLS = ["bpf", "capset", "finit_module", "init_module", "ptrace", "setgid", "setregid", "setresgid", "setresuid", "setreuid", "setuid", "userfaultfd"];

const COMMON_OUTPUT =
    `agent=%k8s.pod.label[${AGENT_NAME_LABEL}] ns=%k8s.ns.name pod=%k8s.pod.name container=%container.name ` +
    "image=%container.image.repository proc=%proc.name exe=%proc.exepath cmdline=%proc.cmdline parent=%proc.pname user_uid=%user.uid";

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();
const inList = (values: Iterable<string>): string => `(${sorted(values).join(", ")})`;
const quotedInList = (values: Iterable<string>): string => `(${sorted(values).map((value) => `"${value}"`).join(", ")})`;
const pathPrefixes = (dirs: readonly string[]): string => `(${sorted(dirs).map((dir) => `fd.name startswith ${dir.replace(/\/+$/, "")}/`).join(" or ")})`;

/** The per-agent egress allowlist as one macro: agent label, namespace and the resolved names. */
export function allowedDestinationCondition(agents: readonly FalcoRulesAgent[]): string {
    const clauses = [...agents]
        .filter((agent) => agent.egressHosts.length > 0)
        .sort((a, b) => a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace))
        .map(
            (agent) =>
                `(k8s.pod.label[${AGENT_NAME_LABEL}] = ${agent.name} and k8s.ns.name = ${agent.namespace} and fd.sip.name in ${inList(agent.egressHosts)})`,
        );
    // An agent without egress hosts may connect nowhere outside the cluster; with no agent having
    // any, the macro must still exist and never match.
    return clauses.length > 0 ? clauses.join(" or ") : "(evt.num = 0)";
}

/** Lists and macros first (Falco resolves names in load order), then the rules. */
export function falcoRuleEntries(options: FalcoRulesOptions): FalcoEntry[] {
    const secretDirs = options.secretDirs ?? AGENT_SECRET_DIRS;
    const svidDirs = options.svidDirs ?? SPIFFE_SVID_DIRS;
    const socketDirs = options.spiffeSocketDirs ?? SPIFFE_SOCKET_DIRS;
    const clusterNetworks = options.clusterNetworks ?? DEFAULT_CLUSTER_NETWORKS;

    const lists: FalcoList[] = [
        { list: "agent_security_shells", items: sorted(SHELLS) },
        { list: "agent_security_file_dump_tools", items: sorted(FILE_DUMP_TOOLS) },
        // Quoted: names with brackets and colons are otherwise split by the rule parser.
        { list: "agent_security_container_runtime_procs", items: sorted(CONTAINER_RUNTIME_PROCS).map((name) => `"${name}"`) },
        { list: "agent_security_sidecars", items: sorted(SIDECAR_CONTAINERS) },
        { list: "agent_security_spiffe_sidecars", items: sorted(SPIFFE_SIDECARS) },
    ];
    const macros: FalcoMacro[] = [
        {
            macro: AGENT_CONTAINER_MACRO,
            condition: `(container.id != host and k8s.pod.label[${AGENT_ROLE_LABEL}] = ${AGENT_ROLE_VALUE})`,
        },
        { macro: "agent_security_spawned_process", condition: "(evt.type in (execve, execveat))" },
        { macro: "agent_security_open_read", condition: "(evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.typechar = f and fd.num >= 0)" },
        { macro: "agent_security_runtime_proc", condition: "(proc.name in (agent_security_container_runtime_procs))" },
        { macro: "agent_security_credential_path", condition: pathPrefixes([...secretDirs, ...svidDirs]) },
        {
            macro: "agent_security_spiffe_socket_access",
            condition:
                `((evt.type = connect and fd.typechar = u and (${sorted(socketDirs).map((dir) => `fd.name contains "${dir.replace(/\/+$/, "")}/"`).join(" or ")})) or ` +
                `(evt.type in (open, openat, openat2) and ${pathPrefixes(socketDirs)}))`,
        },
        {
            macro: "agent_security_outbound_connect",
            condition: `(evt.type = connect and (fd.typechar = 4 or fd.typechar = 6) and fd.sip != "0.0.0.0" and not fd.snet in ("127.0.0.0/8") and (evt.rawres >= 0 or evt.res = EINPROGRESS))`,
        },
        { macro: "agent_security_cluster_destination", condition: `(fd.snet in ${quotedInList(clusterNetworks)})` },
        { macro: "agent_security_link_local_destination", condition: `(fd.snet in ("${LINK_LOCAL_NETWORK}"))` },
        { macro: "agent_security_allowed_destination", condition: `(${allowedDestinationCondition(options.agents)})` },
    ];

    const rules: FalcoRule[] = [
        {
            rule: "Agent SPIFFE socket access by non-sidecar",
            desc: "A process outside the SPIFFE sidecar (spiffe-helper / spire-agent) opened or connected to the SPIRE Workload API socket; only the sidecar may fetch SVIDs (design.md section 2).",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_spiffe_socket_access and not container.name in (agent_security_spiffe_sidecars)`,
            output: `SPIFFE Workload API socket used by a non-sidecar process (socket=%fd.name evt=%evt.type res=%evt.res ${COMMON_OUTPUT})`,
            priority: "CRITICAL",
            tags: ["agent-security", "credential_access", "mitre_credential_access", "spiffe", "T1552"],
        },
        {
            rule: "Agent credential read by shell or file tool",
            desc: "A shell, a child of a shell or a file-dumping tool read an agent secret or SVID file. The agent runtime itself reads these files by design; other readers mean command execution inside the pod.",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_open_read and agent_security_credential_path and (proc.name in (agent_security_shells, agent_security_file_dump_tools) or proc.pname in (agent_security_shells))`,
            output: `Agent credential file read by a shell or tool (file=%fd.name ${COMMON_OUTPUT})`,
            priority: "CRITICAL",
            tags: ["agent-security", "credential_access", "mitre_credential_access", "T1552.001"],
        },
        {
            rule: "Agent connect to link-local metadata range",
            desc: `An agent container connected to ${LINK_LOCAL_NETWORK}, where cloud instance metadata and its credentials live; never needed by an agent.`,
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_outbound_connect and agent_security_link_local_destination`,
            output: `Agent connected to the link-local metadata range (connection=%fd.name dest=%fd.sip:%fd.sport ${COMMON_OUTPUT})`,
            priority: "CRITICAL",
            tags: ["agent-security", "mitre_credential_access", "network", "T1552.005"],
        },
        {
            rule: "Agent mount or namespace change",
            desc: "A process in an agent container called mount, umount, unshare, setns or chroot (attempts included: they fail without CAP_SYS_ADMIN, and trying is the signal). Container runtime set-up is excluded.",
            condition: `${AGENT_CONTAINER_MACRO} and evt.type in ${inList(MOUNT_NAMESPACE_SYSCALLS)} and not agent_security_runtime_proc`,
            output: `Mount or namespace change in an agent container (evt=%evt.type res=%evt.res ${COMMON_OUTPUT})`,
            priority: "CRITICAL",
            tags: ["agent-security", "container_escape", "mitre_privilege_escalation", "T1611"],
        },
        {
            rule: "Agent privilege escalation syscall",
            desc: "A process in an agent container called a credential-changing or kernel-reaching syscall (setuid family, capset, ptrace, bpf, module loading, userfaultfd). Agent containers run non-root with no capabilities and no-new-privileges, so any attempt is hostile. Container runtime set-up is excluded.",
            condition: `${AGENT_CONTAINER_MACRO} and evt.type in ${inList(PRIVILEGE_SYSCALLS)} and not agent_security_runtime_proc`,
            output: `Privilege escalation syscall in an agent container (evt=%evt.type res=%evt.res ${COMMON_OUTPUT})`,
            priority: "CRITICAL",
            tags: ["agent-security", "mitre_privilege_escalation", "privilege_escalation", "T1068"],
        },
        {
            rule: "Agent outbound connection outside allowlist",
            desc: "An agent container connected to a non-cluster address that does not resolve from the agent's egress allowlist. Falco sees IPs; it resolves the allowlisted names itself, so CDN answers that differ from the agent's can raise false positives.",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_outbound_connect and not agent_security_cluster_destination and not agent_security_link_local_destination and not agent_security_allowed_destination`,
            output: `Agent connected outside its egress allowlist (connection=%fd.name dest=%fd.sip:%fd.sport ${COMMON_OUTPUT})`,
            priority: "WARNING",
            tags: ["agent-security", "mitre_exfiltration", "network", "T1041"],
        },
        {
            rule: "Agent process environment read",
            desc: "A process in an agent container read /proc/<pid>/environ. Agent secrets are never in the environment (baseline), so this is reconnaissance for credentials.",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_open_read and fd.name glob "/proc/*/environ"`,
            output: `Process environment read in an agent container (file=%fd.name ${COMMON_OUTPUT})`,
            priority: "WARNING",
            tags: ["agent-security", "credential_access", "mitre_credential_access", "T1552"],
        },
        {
            rule: "Agent shell spawned",
            desc: "A shell started in a container of an agent pod. Agent images run their runtime directly; a shell means command execution (for example through prompt injection).",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_spawned_process and proc.name in (agent_security_shells)`,
            output: `Shell spawned in an agent pod (tty=%proc.tty ${COMMON_OUTPUT})`,
            priority: "WARNING",
            tags: ["agent-security", "mitre_execution", "process", "T1059"],
        },
        {
            rule: "Agent unexpected process spawned",
            desc: "An agent container executed a program after its entrypoint (not a shell, which has its own rule). Some agents shell out by design, so this is a low-severity signal.",
            condition: `${AGENT_CONTAINER_MACRO} and agent_security_spawned_process and not proc.name in (agent_security_shells) and not container.name in (agent_security_sidecars) and proc.vpid != 1 and not agent_security_runtime_proc`,
            output: `Process spawned in an agent container (${COMMON_OUTPUT})`,
            priority: "NOTICE",
            tags: ["agent-security", "mitre_execution", "process", "T1059"],
        },
    ];
    // Falco's default `rule_matching: first` fires only the first matching rule for an event, so the
    // most severe rules come first; ties by name keep the order stable.
    rules.sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || a.rule.localeCompare(b.rule));
    return [...lists, ...macros, ...rules.map((rule) => ({ ...rule, tags: sorted(rule.tags) }))];
}

/** The rules file text: deterministic for a given agent set (sorted agents, hosts and lists). */
export function renderFalcoRules(options: FalcoRulesOptions): string {
    const header =
        "# Generated by agent-security (components/runtime/rules.ts); do not edit.\n" +
        "# Agent rules are anchored on the pod label macro " +
        `${AGENT_CONTAINER_MACRO}. Kata (runtimeClassName kata) pods are not observable by a host Falco (falcosecurity/falco#1413).\n`;
    return header + YAML.stringify(falcoRuleEntries(options), { lineWidth: 0 });
}
