// Shared by the real-API-server specs: when to run, how to build a stack's attack pods, how to
// play the controllers that do not run here (ResourceQuota status without the quota controller,
// DaemonSet status, the RuntimeClass a Kata installer would create).
import { baselineAttacks, everyContainerLimited, podFromTemplate } from "../../cli/attacks";
import type { PodManifest, PodSpecLike } from "../../cli/attacks";
import { KubeApiError, refusingComponent } from "../../cli/kube";
import type { KubeClient, KubeObject, KubeStatus } from "../../cli/kube";
import type { Manifest } from "../../cli/mockRuntime";
import { AGENT_ROLE_LABEL } from "../../components/wellKnown";
import { KUBE_BIN_ENV, missingBinaries } from "./harness";

/**
 * Why the cluster specs cannot run here, or undefined. Only an unset AGENT_SECURITY_KUBE_BIN
 * skips (a developer without the ~25 min build); when it is set (CI), missing binaries fail.
 */
export function clusterSkipReason(): string | undefined {
    if (process.env[KUBE_BIN_ENV] !== undefined) {
        const missing = missingBinaries();
        if (missing) throw new Error(`${KUBE_BIN_ENV} is set but the cluster cannot start: ${missing}`);
        return undefined;
    }
    return missingBinaries();
}

/** mocha `before` body: skip the whole suite with a visible reason when the binaries are not built. */
export function skipWithoutCluster(context: Mocha.Context): void {
    const reason = clusterSkipReason();
    if (reason) {
        process.stdout.write(`      cluster specs skipped: ${reason}\n`);
        context.skip();
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it returns undefined (success) or the bound passes; the last complaint is the error. */
export async function eventually(what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined = "never checked";
    while (Date.now() < deadline) {
        last = await check();
        if (last === undefined) return;
        await sleep(250);
    }
    throw new Error(`${what}: still not true after ${timeoutMs / 1000} s: ${last}`);
}

export interface Verdict {
    readonly admitted: boolean;
    readonly status: number;
    /** Which admission component refused (see refusingComponent), when refused. */
    readonly by?: string;
    readonly message?: string;
    readonly object?: PodManifest;
}

/** Creates the object with dryRun=All and reports the API server's verdict. */
export async function dryRunCreate(client: KubeClient, object: KubeObject): Promise<Verdict> {
    const response = await client.create(object, { dryRun: true });
    if (response.status >= 200 && response.status < 300) return { admitted: true, status: response.status, object: response.body as PodManifest };
    const status = (response.body ?? {}) as KubeStatus;
    return { admitted: false, status: response.status, by: refusingComponent(status), message: status.message ?? response.text };
}

export interface AgentTarget {
    readonly agent: string;
    readonly namespace: string;
    /** The stack's own pod, without the agent role label (fail-closed does not decide baseline verdicts). */
    readonly pod: PodManifest;
    /** The same pod with the agent role label, as the Deployment would create it. */
    readonly agentPod: PodManifest;
}

/** Agent pods from the rendered Deployments (the template `pulumi up` would send). */
export function agentTargets(manifests: readonly Manifest[], agents: readonly { readonly name: string; readonly namespace: string }[]): AgentTarget[] {
    return agents.map((agent) => {
        const deployment = manifests.find((manifest) => manifest.kind === "Deployment" && manifest.metadata.name === agent.name && manifest.metadata.namespace === agent.namespace);
        if (!deployment) throw new Error(`no Deployment ${agent.namespace}/${agent.name} in the rendered stack`);
        const template = (deployment.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpecLike } }).template;
        return {
            agent: agent.name,
            namespace: agent.namespace,
            pod: podFromTemplate(template, agent.namespace, `probe-${agent.name}`, { keepRoleLabel: false, roleLabel: AGENT_ROLE_LABEL }),
            agentPod: podFromTemplate(template, agent.namespace, `probe-${agent.name}-agent`, { keepRoleLabel: true, roleLabel: AGENT_ROLE_LABEL }),
        };
    });
}

/**
 * ResourceQuota admission refuses every pod while a quota has no status ("status unknown for
 * quota"); the quota controller fills it in. Waits for it, or plays it when kube-controller-manager
 * is not running (status.hard = spec.hard, nothing used).
 */
export async function ensureQuotaStatus(client: KubeClient, namespace: string, controllerRunning: boolean): Promise<void> {
    const quotas = await client.list("v1", "ResourceQuota", namespace);
    for (const quota of quotas) {
        const hard = (quota.spec as { hard?: Record<string, string> }).hard ?? {};
        if (controllerRunning) {
            await eventually(`ResourceQuota ${namespace}/${quota.metadata.name} status`, 30_000, async () => {
                const current = await client.get("v1", "ResourceQuota", namespace, quota.metadata.name);
                const statusHard = (current?.status as { hard?: Record<string, string> } | undefined)?.hard ?? {};
                return Object.keys(hard).every((key) => key in statusHard) ? undefined : "quota controller has not reported yet";
            });
        } else {
            const used = Object.fromEntries(Object.keys(hard).map((key) => [key, "0"]));
            await client.patchStatus("v1", "ResourceQuota", namespace, quota.metadata.name, { hard, used });
        }
    }
}

/** A minimal DaemonSet standing in for a tool's (the chart that makes the real one is not expanded here). */
export function standInDaemonSet(namespace: string, name: string): KubeObject {
    const labels = { "app.kubernetes.io/name": name };
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name, namespace, labels },
        spec: {
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name, image: `registry.example/${name}:test` }] } },
        },
    };
}

/** Plays the DaemonSet controller: `ready` of `desired` pods ready. */
export async function setDaemonSetReadiness(client: KubeClient, namespace: string, name: string, ready: number, desired: number): Promise<void> {
    await client.patchStatus("apps/v1", "DaemonSet", namespace, name, {
        currentNumberScheduled: desired,
        desiredNumberScheduled: desired,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: desired,
        observedGeneration: 1,
    });
}

/**
 * A new ValidatingAdmissionPolicy takes effect once the API server's policy informer has seen it
 * (about a second). Waits (bounded) until the secrets-as-files policy of each namespace refuses a
 * secretKeyRef pod, so the specs' verdicts do not race the informer; a policy that never works
 * fails here with the last verdict.
 */
export async function waitForBaselinePolicies(client: KubeClient, pods: readonly PodManifest[]): Promise<void> {
    const attack = baselineAttacks({}).find((candidate) => candidate.id === "secret-env");
    if (!attack) throw new Error("no secret-env attack");
    for (const pod of pods) {
        await eventually(`secrets-as-files policy effective in ${pod.metadata.namespace}`, 30_000, async () => {
            const verdict = await dryRunCreate(client, attack.build(pod));
            return !verdict.admitted && verdict.by?.startsWith("ValidatingAdmissionPolicy") ? undefined : `${verdict.admitted ? "admitted" : `refused by ${verdict.by}`}`;
        });
    }
}

export { everyContainerLimited, KubeApiError };
