// npm run probe -- --stack <name> [--kubeconfig f] [--context c] [--format text|json] [--outputs f] [--project dir]
// After `pulumi up`: attacks each admission layer of the live cluster and reports, per probe, the
// layer, the attack, what the stack promises, what the cluster did and which component refused
// (design.md section 9). Every attack is a server-side dry run (`dryRun=All`): admission runs in
// full, webhooks included, and nothing is persisted. What needs a running pod (network egress,
// runtime detection) is reported as not testable, never as held.
//
// Expectations come from the stack: its config (Pulumi.<stack>.yaml, parsed by the same schema as
// `pulumi up`) and, when available, its outputs (`pulumi stack output --json`, or --outputs), so a
// stack with Kyverno off does not expect Kyverno. Exit 0: every promised control held; 1: one did
// not; 2: bad usage, invalid config or an unreachable cluster.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { baselineAttacks, everyContainerLimited, podFromTemplate } from "./attacks";
import type { Attack, PodManifest, PodSpecLike } from "./attacks";
import { KubeClient, KubeconfigError, defaultKubeconfigPath, refusingComponent } from "./kube";
import type { KubeObject, KubeStatus } from "./kube";
import { REPO_ROOT, StackFileError, readStackConfig } from "./mockRuntime";
import { ConfigError, parseConfig } from "../config/schema";
import { failClosedPolicyName } from "../components/admission/failClosed";
import { AGENT_ROLE_LABEL, KYVERNO_NAMESPACE } from "../components/wellKnown";

const USAGE =
    "usage: npm run probe -- --stack <name> [--kubeconfig <file>] [--context <name>] [--format text|json] [--outputs <pulumi stack output --json file>] [--project <dir with Pulumi.<stack>.yaml>]";

export type ProbeResult = "held" | "broken" | "not-testable";

export interface ProbeLine {
    readonly result: ProbeResult;
    readonly layer: string;
    /** Namespace or cluster-wide object the probe aimed at. */
    readonly target: string;
    readonly attack: string;
    readonly expected: string;
    readonly observed: string;
    /** The admission component that refused, when one did. */
    readonly refusedBy: string | null;
    readonly detail?: string;
}

export interface ProbeArgs {
    readonly stack: string;
    readonly kubeconfig: string;
    readonly context?: string;
    readonly format: "text" | "json";
    readonly outputs?: string;
    readonly project: string;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ProbeArgs | "help" {
    const values = new Map<string, string>();
    for (let index = 0; index < argv.length; index++) {
        const arg = argv[index] ?? "";
        if (arg === "--help" || arg === "-h") return "help";
        const value = argv[index + 1];
        if (!["--stack", "--kubeconfig", "--context", "--format", "--outputs", "--project"].includes(arg) || value === undefined) {
            throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
        }
        values.set(arg, value);
        index++;
    }
    const stack = values.get("--stack");
    if (!stack) throw new UsageError("--stack is required");
    const format = values.get("--format") ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);
    return {
        stack,
        kubeconfig: values.get("--kubeconfig") ?? defaultKubeconfigPath(),
        context: values.get("--context"),
        format,
        outputs: values.get("--outputs"),
        project: values.get("--project") ?? REPO_ROOT,
    };
}

/** What the stack promises, from its config and outputs. */
export interface Expectations {
    readonly stack: string;
    readonly agents: readonly { readonly name: string; readonly namespace: string }[];
    readonly kyverno: { readonly enabled: boolean; readonly validationAction: "Audit" | "Deny" };
    readonly falco: boolean;
    readonly cilium: boolean;
    readonly envoy: boolean;
    readonly failClosed: readonly string[];
    readonly source: string;
}

interface StackOutputs {
    readonly agents?: readonly { readonly name: string; readonly namespace: string }[];
    readonly features?: Readonly<Record<string, boolean>>;
}

function readOutputs(args: ProbeArgs): { outputs?: StackOutputs; source: string } {
    if (args.outputs) return { outputs: JSON.parse(fs.readFileSync(args.outputs, "utf8")) as StackOutputs, source: `config + outputs ${args.outputs}` };
    // The outputs are what `pulumi up` actually built; without the CLI or a backend the config says the same.
    const result = spawnSync("pulumi", ["stack", "output", "--json", "--stack", args.stack], { cwd: args.project, encoding: "utf8", timeout: 60_000 });
    if (result.status === 0 && result.stdout.trim().startsWith("{")) return { outputs: JSON.parse(result.stdout) as StackOutputs, source: "config + pulumi stack output" };
    return { source: "config (no stack outputs: pulumi stack output was not available)" };
}

export function expectationsOf(args: ProbeArgs, now: Date = new Date()): Expectations {
    const cfg = parseConfig(readStackConfig(args.stack, args.project), args.stack, now);
    const { outputs, source } = readOutputs(args);
    const features: Readonly<Record<string, boolean>> = outputs?.features ?? cfg.features;
    return {
        stack: args.stack,
        agents: outputs?.agents ?? cfg.agents.map((agent) => ({ name: agent.name, namespace: agent.namespace ?? agent.name })),
        kyverno: { enabled: features.kyverno === true, validationAction: cfg.kyverno.validationAction ?? (cfg.profile === "prod" ? "Deny" : "Audit") },
        falco: features.falco === true,
        cilium: features.cilium === true,
        envoy: features.envoy === true,
        failClosed: [...cfg.failClosed],
        source,
    };
}

interface Verdict {
    readonly admitted: boolean;
    readonly by: string | null;
    readonly message: string;
    readonly object?: PodManifest;
}

async function dryRun(client: KubeClient, object: KubeObject): Promise<Verdict> {
    const response = await client.create(object, { dryRun: true });
    if (response.status >= 200 && response.status < 300) return { admitted: true, by: null, message: response.warnings.join("; "), object: response.body as PodManifest };
    const status = (response.body ?? {}) as KubeStatus;
    return { admitted: false, by: refusingComponent(status), message: status.message ?? response.text.slice(0, 300) };
}

const KYVERNO_WEBHOOK = /^webhook .*kyverno/;
const OUR_POLICY = /^ValidatingAdmissionPolicy agent-security-/;

/** Who may refuse each baseline attack: PSA, our own policies, or Kyverno's webhook when it enforces. */
function refusers(id: string, expectations: Expectations): { expected: string; accepts: (by: string) => boolean } | undefined {
    const kyvernoEnforces = expectations.kyverno.enabled && expectations.kyverno.validationAction === "Deny";
    const psa = (by: string): boolean => by === "PodSecurity" || OUR_POLICY.test(by) || (kyvernoEnforces && KYVERNO_WEBHOOK.test(by));
    switch (id) {
        case "privileged":
        case "root":
        case "host-path":
        case "host-network":
        case "capability":
            return { expected: "refused (PodSecurity restricted)", accepts: psa };
        case "secret-env":
            return { expected: "refused (secrets only as files)", accepts: (by) => OUR_POLICY.test(by) || (kyvernoEnforces && KYVERNO_WEBHOOK.test(by)) };
        case "over-limit":
            return { expected: "refused (LimitRange max)", accepts: (by) => by === "LimitRanger" };
        case "over-quota":
            return { expected: "refused (ResourceQuota)", accepts: (by) => by === "ResourceQuota" };
        default:
            return undefined;
    }
}

const LAYER_OF: Readonly<Record<string, string>> = {
    privileged: "pod-security",
    root: "pod-security",
    "host-path": "pod-security",
    "host-network": "pod-security",
    capability: "pod-security",
    "secret-env": "secrets",
    "no-limits": "quota",
    "over-limit": "quota",
    "over-quota": "quota",
};

async function attackLine(client: KubeClient, attack: Attack, compliant: PodManifest, namespace: string, expectations: Expectations): Promise<ProbeLine> {
    const layer = LAYER_OF[attack.id] ?? "baseline";
    const verdict = await dryRun(client, attack.build(compliant));
    if (attack.id === "no-limits") {
        // The LimitRange fills in defaults, so the pod is admitted but never unlimited.
        const problem = verdict.admitted && verdict.object ? everyContainerLimited(verdict.object) : undefined;
        const held = verdict.admitted ? problem === undefined : verdict.by === "ResourceQuota" || verdict.by === "LimitRanger";
        return {
            result: held ? "held" : "broken",
            layer,
            target: namespace,
            attack: attack.attack,
            expected: "limits defaulted by the LimitRange (or refused)",
            observed: verdict.admitted ? (problem ?? "admitted with default limits") : "refused",
            refusedBy: verdict.by,
            detail: verdict.admitted ? undefined : verdict.message,
        };
    }
    const rule = refusers(attack.id, expectations);
    if (!rule) throw new Error(`no expectation for attack ${attack.id}`);
    const held = !verdict.admitted && verdict.by !== null && rule.accepts(verdict.by);
    return {
        result: held ? "held" : "broken",
        layer,
        target: namespace,
        attack: attack.attack,
        expected: rule.expected,
        observed: verdict.admitted ? "admitted" : "refused",
        refusedBy: verdict.by,
        detail: held ? undefined : verdict.message,
    };
}

interface PodTemplate {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpecLike;
}

function quantityOf(object: KubeObject | undefined, pick: (spec: Record<string, unknown>) => unknown): string | undefined {
    const value = object ? pick((object.spec ?? {}) as Record<string, unknown>) : undefined;
    return typeof value === "string" ? value : undefined;
}

async function namespaceProbes(client: KubeClient, namespace: string, agentName: string, expectations: Expectations): Promise<{ lines: ProbeLine[]; agentPod?: PodManifest }> {
    const lines: ProbeLine[] = [];
    const ns = await client.get("v1", "Namespace", undefined, namespace);
    const enforce = ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"];
    lines.push({
        result: enforce === "restricted" ? "held" : "broken",
        layer: "pod-security",
        target: namespace,
        attack: "namespace enforces Pod Security restricted",
        expected: "label pod-security.kubernetes.io/enforce=restricted",
        observed: ns ? `enforce=${enforce ?? "(none)"}` : "namespace missing",
        refusedBy: null,
    });
    if (!ns) return { lines };

    const policies = await client.list("networking.k8s.io/v1", "NetworkPolicy", namespace);
    const defaultDeny = policies.find((policy) => {
        const spec = (policy.spec ?? {}) as {
            podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
            policyTypes?: string[];
            ingress?: unknown[];
            egress?: unknown[];
        };
        const selectsAll = Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 && (spec.podSelector?.matchExpressions ?? []).length === 0;
        return selectsAll && (spec.policyTypes ?? []).includes("Ingress") && (spec.policyTypes ?? []).includes("Egress") && (spec.ingress ?? []).length === 0 && (spec.egress ?? []).length === 0;
    });
    lines.push({
        result: defaultDeny ? "held" : "broken",
        layer: "network",
        target: namespace,
        attack: "default-deny NetworkPolicy (ingress and egress) in place",
        expected: "present",
        observed: defaultDeny ? `present (${defaultDeny.metadata.name})` : "absent",
        refusedBy: null,
    });

    const limitRanges = await client.list("v1", "LimitRange", namespace);
    const quotas = await client.list("v1", "ResourceQuota", namespace);
    const limitRange = limitRanges.find((range) => ((range.spec as { limits?: { type?: string; default?: Record<string, string> }[] }).limits ?? []).some((limit) => limit.type === "Container" && limit.default?.cpu && limit.default.memory));
    const quota = quotas.find((candidate) => {
        const hard = (candidate.spec as { hard?: Record<string, string> }).hard ?? {};
        return "limits.cpu" in hard && "limits.memory" in hard;
    });
    lines.push({
        result: limitRange && quota ? "held" : "broken",
        layer: "quota",
        target: namespace,
        attack: "LimitRange (container defaults) and ResourceQuota (limits.cpu, limits.memory) in place",
        expected: "both present",
        observed: `LimitRange ${limitRange ? limitRange.metadata.name : "absent"}, ResourceQuota ${quota ? quota.metadata.name : "absent"}`,
        refusedBy: null,
    });

    const deployment = await client.get("apps/v1", "Deployment", namespace, agentName);
    if (!deployment) {
        lines.push({ result: "broken", layer: "workload", target: namespace, attack: `agent Deployment ${agentName} to take the pod template from`, expected: "present", observed: "absent", refusedBy: null });
        return { lines };
    }
    const template = (deployment.spec as { template: PodTemplate }).template;
    const pod = podFromTemplate(template, namespace, `agent-security-probe-${agentName}`, { keepRoleLabel: false, roleLabel: AGENT_ROLE_LABEL });
    const agentPod = podFromTemplate(template, namespace, `agent-security-probe-${agentName}-agent`, { keepRoleLabel: true, roleLabel: AGENT_ROLE_LABEL });

    const compliant = await dryRun(client, pod);
    lines.push({
        result: compliant.admitted ? "held" : "broken",
        layer: "baseline",
        target: namespace,
        attack: "the stack's own agent pod (control: nothing broken)",
        expected: "admitted",
        observed: compliant.admitted ? "admitted" : "refused",
        refusedBy: compliant.by,
        detail: compliant.admitted ? undefined : compliant.message,
    });
    const limitMaxCpu = quantityOf(limitRange, (spec) => (spec.limits as { max?: { cpu?: string } }[] | undefined)?.[0]?.max?.cpu);
    const quotaCpu = quantityOf(quota, (spec) => (spec.hard as Record<string, string> | undefined)?.["limits.cpu"]);
    for (const attack of baselineAttacks({ limitMaxCpu, quotaCpu })) {
        lines.push(await attackLine(client, attack, pod, namespace, expectations));
    }
    lines.push({
        result: "not-testable",
        layer: "egress",
        target: namespace,
        attack: "connect to a host outside the agent's allowlist",
        expected: "blocked (NetworkPolicy" + (expectations.cilium ? ", CiliumNetworkPolicy FQDN" : "") + (expectations.envoy ? ", mesh REGISTRY_ONLY" : "") + ")",
        observed: "not testable without running pods",
        refusedBy: null,
    });
    return { lines, agentPod };
}

function readyCount(daemonSet: KubeObject | undefined): { ready: boolean; text: string } {
    if (!daemonSet) return { ready: false, text: "missing" };
    const status = (daemonSet.status ?? {}) as { desiredNumberScheduled?: number; numberReady?: number };
    const desired = status.desiredNumberScheduled ?? 0;
    const ready = status.numberReady ?? 0;
    return { ready: desired > 0 && ready === desired, text: `${ready} of ${desired} ready` };
}

async function failClosedProbes(client: KubeClient, tools: readonly string[], agentPod: PodManifest | undefined): Promise<ProbeLine[]> {
    const lines: ProbeLine[] = [];
    for (const tool of tools) {
        const name = failClosedPolicyName(tool);
        const binding = await client.get("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", undefined, name);
        const policy = await client.get("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", undefined, name);
        const paramRef = (binding?.spec as { paramRef?: { name?: string; namespace?: string } } | undefined)?.paramRef;
        if (!binding || !policy || !paramRef?.name || !paramRef.namespace) {
            lines.push({
                result: "broken",
                layer: "fail-closed",
                target: name,
                attack: `fail-closed policy for ${tool} in place`,
                expected: "ValidatingAdmissionPolicy and binding with a DaemonSet paramRef",
                observed: `policy ${policy ? "present" : "absent"}, binding ${binding ? "present" : "absent"}`,
                refusedBy: null,
            });
            continue;
        }
        if (!agentPod) continue;
        const daemonSet = await client.get("apps/v1", "DaemonSet", paramRef.namespace, paramRef.name);
        const state = readyCount(daemonSet);
        const verdict = await dryRun(client, { ...agentPod, metadata: { ...agentPod.metadata, name: `${agentPod.metadata.name}-${tool}`.slice(0, 63) } });
        const refusedByFailClosed = !verdict.admitted && /^ValidatingAdmissionPolicy agent-security-require-/.test(verdict.by ?? "");
        const held = state.ready ? !(verdict.by === `ValidatingAdmissionPolicy ${name}`) : refusedByFailClosed;
        lines.push({
            result: held ? "held" : "broken",
            layer: "fail-closed",
            target: `${paramRef.namespace}/${paramRef.name}`,
            attack: `new agent pod while the ${tool} DaemonSet is ${state.text}`,
            expected: state.ready ? "admitted" : "refused",
            observed: verdict.admitted ? "admitted" : "refused",
            refusedBy: verdict.by,
            detail: held ? undefined : verdict.message,
        });
    }
    return lines;
}

async function kyvernoProbes(client: KubeClient, expectations: Expectations, target: PodManifest | undefined): Promise<ProbeLine[]> {
    if (!expectations.kyverno.enabled) return [];
    const deployment = await client.get("apps/v1", "Deployment", KYVERNO_NAMESPACE, "kyverno-admission-controller");
    const ready = ((deployment?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0) > 0;
    const endpoints = await client.list("discovery.k8s.io/v1", "EndpointSlice", KYVERNO_NAMESPACE, "kubernetes.io/service-name=kyverno-svc");
    const serving = endpoints.some((slice) => ((slice.endpoints as { conditions?: { ready?: boolean } }[] | undefined) ?? []).some((endpoint) => endpoint.conditions?.ready !== false));
    if (!ready || !serving || !target) {
        return [
            {
                result: "not-testable",
                layer: "kyverno",
                target: KYVERNO_NAMESPACE,
                attack: "image from an unapproved registry",
                expected: expectations.kyverno.validationAction === "Deny" ? "refused by Kyverno" : "admitted, audited by Kyverno",
                observed: `not testable here: the Kyverno admission webhook is not running (deployment ${ready ? "ready" : "not ready"}, service endpoints ${serving ? "ready" : "none"})`,
                refusedBy: null,
            },
        ];
    }
    const pod = structuredClone(target);
    pod.metadata.name = `${target.metadata.name}-registry`.slice(0, 63);
    const container = pod.spec.containers[0];
    if (container) container.image = "docker.io/library/busybox:1.37";
    const verdict = await dryRun(client, pod);
    const enforcing = expectations.kyverno.validationAction === "Deny";
    const held = enforcing ? !verdict.admitted && KYVERNO_WEBHOOK.test(verdict.by ?? "") : verdict.admitted;
    return [
        {
            result: held ? "held" : "broken",
            layer: "kyverno",
            target: pod.metadata.namespace,
            attack: "image from an unapproved registry",
            expected: enforcing ? "refused by Kyverno" : "admitted, audited by Kyverno (validationAction Audit)",
            observed: verdict.admitted ? "admitted" : "refused",
            refusedBy: verdict.by,
            detail: held ? undefined : verdict.message,
        },
    ];
}

export async function probe(client: KubeClient, expectations: Expectations): Promise<ProbeLine[]> {
    const lines: ProbeLine[] = [];
    let agentPod: PodManifest | undefined;
    let baselinePod: PodManifest | undefined;
    const seen = new Set<string>();
    for (const agent of expectations.agents) {
        // One set of probes per namespace: the guards are per namespace, not per agent.
        if (seen.has(agent.namespace)) continue;
        seen.add(agent.namespace);
        const result = await namespaceProbes(client, agent.namespace, agent.name, expectations);
        lines.push(...result.lines);
        agentPod ??= result.agentPod;
        if (result.agentPod && !baselinePod) {
            baselinePod = structuredClone(result.agentPod);
            delete baselinePod.metadata.labels?.[AGENT_ROLE_LABEL];
        }
    }
    lines.push(...(await failClosedProbes(client, expectations.failClosed, agentPod)));
    lines.push(...(await kyvernoProbes(client, expectations, baselinePod)));
    if (expectations.falco) {
        lines.push({
            result: "not-testable",
            layer: "runtime",
            target: "falco",
            attack: "shell in an agent container, read of a secret file",
            expected: "detected by Falco",
            observed: "not testable without running pods",
            refusedBy: null,
        });
    }
    return lines;
}

export function formatText(lines: readonly ProbeLine[], header: string): string {
    const rows = [["RESULT", "LAYER", "TARGET", "ATTACK", "EXPECTED", "OBSERVED", "REFUSED BY"], ...lines.map((line) => [line.result, line.layer, line.target, line.attack, line.expected, line.observed, line.refusedBy ?? "-"])];
    const widths = rows[0]?.map((_cell, column) => Math.min(60, Math.max(...rows.map((row) => (row[column] ?? "").length)))) ?? [];
    const out = [header];
    for (const row of rows) out.push(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd());
    for (const line of lines.filter((candidate) => candidate.result === "broken" && candidate.detail)) out.push(`broken: ${line.layer} ${line.target} ${line.attack}: ${line.detail}`);
    out.push(summaryOf(lines));
    return `${out.join("\n")}\n`;
}

export function summaryOf(lines: readonly ProbeLine[]): string {
    const count = (result: ProbeResult): number => lines.filter((line) => line.result === result).length;
    return `summary: ${count("held")} held, ${count("broken")} broken, ${count("not-testable")} not testable here`;
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
    let args: ProbeArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
        return 2;
    }
    if (args === "help") {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    let expectations: Expectations;
    let client: KubeClient;
    try {
        expectations = expectationsOf(args);
        client = KubeClient.fromKubeconfig(args.kubeconfig, args.context);
    } catch (error) {
        if (error instanceof ConfigError) {
            process.stderr.write(`invalid config for stack ${args.stack}:\n${error.message}\n`);
            return 2;
        }
        if (error instanceof StackFileError || error instanceof KubeconfigError || error instanceof SyntaxError) {
            process.stderr.write(`${error.message}\n`);
            return 2;
        }
        throw error;
    }
    try {
        const ready = await client.request("GET", "/readyz", undefined, undefined, 10_000).catch((error: unknown) => ({ status: 0, text: String(error) }));
        if (ready.status !== 200) {
            process.stderr.write(`cannot reach the cluster at ${client.connection.server}: ${ready.status === 0 ? ready.text : `HTTP ${ready.status}`}\n`);
            return 2;
        }
        const lines = await probe(client, expectations);
        if (args.format === "json") {
            process.stdout.write(`${JSON.stringify({ stack: args.stack, server: client.connection.server, expectations: expectations.source, probes: lines, summary: summaryOf(lines) }, null, 2)}\n`);
        } else {
            process.stdout.write(formatText(lines, `probe: stack ${args.stack} on ${client.connection.server}; expectations from ${expectations.source}; every attack is a dry run (nothing persists)`));
        }
        return lines.some((line) => line.result === "broken") ? 1 : 0;
    } finally {
        client.close();
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
            process.exit(2);
        },
    );
}
