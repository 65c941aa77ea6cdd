// One alert in, one decision out, every alert recorded. The order of work is what makes the
// breaker safe:
//   1. resolve the pod to an agent identity with the API server (never from the alert's text);
//   2. read the identity's breaker state, decide, and write the new state with a resourceVersion
//      precondition (a 409 means another replica moved first: read again and decide again);
//   3. only then act. A failure anywhere before 3 acts on nothing: the alert is recorded as
//      deferred and retried with backoff (fail closed, never a blind recycle). A failure in 3 is
//      retried too; the retry finds its own slot in the state and repeats the idempotent action
//      instead of spending another slot.
import { performance } from "node:perf_hooks";
import { decide, decodeState, encodeState } from "./breaker";
import type { BreakerState, Decision } from "./breaker";
import { AGENT_SPIFFE_LABEL, QUARANTINE_LABEL, agentIndex, breakerStateName, identityKey, resolveIdentity, spiffeId } from "./identity";
import type { AgentIdentity, PodFacts } from "./identity";
import { KubeError } from "./kube";
import type { EventInput, KubeApi } from "./kube";
import type { Alert } from "./payload";
import { actionFor } from "./settings";
import type { Action, AgentEntry, ResponderSettings } from "./settings";

export type Outcome =
    | "host-event"
    | "not-agent"
    | "pod-gone"
    | "recorded"
    | "would-recycle"
    | "would-quarantine"
    | "recycled"
    | "duplicate"
    | "tripped"
    | "quarantined"
    | "suppressed"
    | "deferred"
    | "failed";

/** What is written for every alert. Deliberately without `output` and `output_fields`: they carry command lines. */
export interface AlertRecord {
    readonly event: "falco-alert";
    readonly uuid: string;
    readonly rule: string;
    readonly priority: string;
    readonly namespace?: string;
    readonly pod?: string;
    readonly identity?: string;
    readonly spiffeId?: string;
    readonly action: Action;
    readonly outcome: Outcome;
    readonly reason?: string;
    readonly attempt: number;
    /** Time spent deciding, without Kubernetes calls and without waiting for the identity's lock. */
    readonly decisionMs: number;
    readonly apiMs: number;
    readonly lockWaitMs: number;
    readonly at: string;
}

export type RecordSink = (record: AlertRecord) => void;

/** The command a person runs to close a tripped breaker (README, audit record, Event message). */
export function resetCommand(stateNamespace: string, identity: Pick<AgentIdentity, "namespace" | "serviceAccount">, deployment: string): string {
    return (
        `kubectl -n ${stateNamespace} delete configmap ${breakerStateName(identity.namespace, identity.serviceAccount)} && ` +
        `kubectl -n ${identity.namespace} scale deployment ${deployment} --replicas=<n>`
    );
}

export interface ResponderOptions {
    readonly kube: KubeApi;
    readonly settings: ResponderSettings;
    readonly sink: RecordSink;
    readonly clock?: () => number;
    /** Attempts per alert before it is recorded as failed (never acted on blindly). */
    readonly maxAttempts?: number;
    /** First retry delay; doubles per attempt up to 30 s. */
    readonly retryBaseMs?: number;
    readonly maxPendingRetries?: number;
}

interface CachedState {
    readonly state: BreakerState;
    readonly resourceVersion: string | undefined;
    readonly readAt: number;
}

/** How long an open breaker is trusted from cache before it is read again (a person may have reset it). */
const OPEN_RECHECK_MS = 5000;
const POD_CACHE_MS = 10_000;
const GONE_CACHE_MS = 2000;
const CAS_ROUNDS = 8;

const BREAKER_LABELS = (identity: AgentIdentity): Record<string, string> => ({
    "app.kubernetes.io/managed-by": "falco-responder",
    "agent-security.io/breaker-namespace": identity.namespace,
    "agent-security.io/breaker-service-account": identity.serviceAccount,
});

/** Accumulates the time one alert spends waiting for the API server. */
class TimedKube implements KubeApi {
    apiMs = 0;
    constructor(private readonly inner: KubeApi) {}
    private async time<T>(call: () => Promise<T>): Promise<T> {
        const start = performance.now();
        try {
            return await call();
        } finally {
            this.apiMs += performance.now() - start;
        }
    }
    getPod(namespace: string, name: string) {
        return this.time(() => this.inner.getPod(namespace, name));
    }
    deletePod(namespace: string, name: string, uid: string) {
        return this.time(() => this.inner.deletePod(namespace, name, uid));
    }
    patchPodLabels(namespace: string, name: string, labels: Readonly<Record<string, string | null>>) {
        return this.time(() => this.inner.patchPodLabels(namespace, name, labels));
    }
    scaleDeployment(namespace: string, name: string, replicas: number) {
        return this.time(() => this.inner.scaleDeployment(namespace, name, replicas));
    }
    createEvent(event: EventInput) {
        return this.time(() => this.inner.createEvent(event));
    }
    getConfigMap(namespace: string, name: string) {
        return this.time(() => this.inner.getConfigMap(namespace, name));
    }
    createConfigMap(namespace: string, name: string, labels: Readonly<Record<string, string>>, data: Readonly<Record<string, string>>) {
        return this.time(() => this.inner.createConfigMap(namespace, name, labels, data));
    }
    replaceConfigMap(namespace: string, name: string, labels: Readonly<Record<string, string>>, data: Readonly<Record<string, string>>, resourceVersion: string) {
        return this.time(() => this.inner.replaceConfigMap(namespace, name, labels, data, resourceVersion));
    }
    mergeConfigMapData(namespace: string, name: string, data: Readonly<Record<string, string>>) {
        return this.time(() => this.inner.mergeConfigMapData(namespace, name, data));
    }
}

interface Verdict {
    readonly outcome: Outcome;
    readonly identity?: AgentIdentity;
    readonly reason?: string;
}

export class Responder {
    private readonly agentsByNamespace: Map<string, AgentEntry[]>;
    private readonly clock: () => number;
    private readonly maxAttempts: number;
    private readonly retryBaseMs: number;
    private readonly maxPendingRetries: number;
    private readonly locks = new Map<string, Promise<void>>();
    private readonly states = new Map<string, CachedState>();
    private readonly pods = new Map<string, { readonly facts: PodFacts | undefined; readonly at: number }>();
    private readonly pending = new Map<string, NodeJS.Timeout>();
    private readonly inFlight = new Set<Promise<AlertRecord>>();
    private stopped = false;

    constructor(private readonly options: ResponderOptions) {
        this.agentsByNamespace = agentIndex(options.settings.agents);
        this.clock = options.clock ?? Date.now;
        this.maxAttempts = options.maxAttempts ?? 8;
        this.retryBaseMs = options.retryBaseMs ?? 500;
        this.maxPendingRetries = options.maxPendingRetries ?? 10_000;
    }

    /** Processes an alert now; a deferred alert is retried in the background with backoff. */
    async submit(alert: Alert): Promise<AlertRecord> {
        const record = await this.track(this.process(alert, 1));
        if (record.outcome === "deferred") this.scheduleRetry(alert, 2);
        return record;
    }

    /** Alerts waiting for a retry. */
    get pendingRetries(): number {
        return this.pending.size;
    }

    /** Stops retrying: what is still pending is recorded as failed, so nothing goes unrecorded. */
    async stop(): Promise<void> {
        this.stopped = true;
        await Promise.allSettled([...this.inFlight]);
        for (const [uuid, timer] of this.pending) {
            clearTimeout(timer);
            this.options.sink(this.bare(uuid, "failed", "responder stopped before the retry"));
        }
        this.pending.clear();
    }

    private track(work: Promise<AlertRecord>): Promise<AlertRecord> {
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
        return work;
    }

    private scheduleRetry(alert: Alert, attempt: number): void {
        if (this.stopped) {
            this.options.sink({ ...this.bare(alert.uuid, "failed", "responder stopping"), rule: alert.rule, priority: alert.priority, attempt });
            return;
        }
        if (this.pending.size >= this.maxPendingRetries) {
            this.options.sink({ ...this.bare(alert.uuid, "failed", "retry queue full"), rule: alert.rule, priority: alert.priority, attempt });
            return;
        }
        const delay = Math.min(30_000, this.retryBaseMs * 2 ** (attempt - 2));
        const timer = setTimeout(() => {
            this.pending.delete(alert.uuid);
            void this.track(this.process(alert, attempt)).then((record) => {
                if (record.outcome === "deferred") this.scheduleRetry(alert, attempt + 1);
            });
        }, delay);
        this.pending.set(alert.uuid, timer);
    }

    private bare(uuid: string, outcome: Outcome, reason: string): AlertRecord {
        return { event: "falco-alert", uuid, rule: "", priority: "", action: "record", outcome, reason, attempt: 0, decisionMs: 0, apiMs: 0, lockWaitMs: 0, at: new Date(this.clock()).toISOString() };
    }

    /** One attempt at one alert. Never throws: failures become `deferred` (or `failed` on the last attempt). */
    async process(alert: Alert, attempt: number): Promise<AlertRecord> {
        const started = performance.now();
        const api = new TimedKube(this.options.kube);
        const action = actionFor(this.options.settings.actions, alert.rule, alert.priority);
        let lockWaitMs = 0;
        let verdict: Verdict;
        try {
            verdict = await this.decideAndAct(alert, action, api, (waited) => (lockWaitMs += waited));
        } catch (error) {
            const reason = error instanceof KubeError ? `${error.kind}: ${error.message}` : `error: ${error instanceof Error ? error.message : String(error)}`;
            verdict = { outcome: attempt >= this.maxAttempts ? "failed" : "deferred", reason };
        }
        const total = performance.now() - started;
        const identity = verdict.identity;
        const record: AlertRecord = {
            event: "falco-alert",
            uuid: alert.uuid,
            rule: alert.rule,
            priority: alert.priority,
            ...(alert.pod ? { namespace: alert.pod.namespace, pod: alert.pod.name } : {}),
            ...(identity ? { identity: identityKey(identity), spiffeId: identity.spiffeId } : {}),
            action,
            outcome: verdict.outcome,
            ...(verdict.reason ? { reason: verdict.reason } : {}),
            attempt,
            decisionMs: round(Math.max(0, total - api.apiMs - lockWaitMs)),
            apiMs: round(api.apiMs),
            lockWaitMs: round(lockWaitMs),
            at: new Date(this.clock()).toISOString(),
        };
        this.options.sink(record);
        return record;
    }

    private async decideAndAct(alert: Alert, action: Action, api: KubeApi, waited: (ms: number) => void): Promise<Verdict> {
        const settings = this.options.settings;
        if (!alert.pod) return { outcome: "host-event", reason: "the event names no pod" };
        const candidates = this.agentsByNamespace.get(alert.pod.namespace);
        // No API call for namespaces without agents: the responder has no rights there anyway.
        if (!candidates) return { outcome: "not-agent", reason: "namespace holds no agent of this stack" };

        // Under a flood after a trip, the answer is "suppressed" whoever the pod is within that
        // agent: skip the pod read when Falco's agent label names an identity whose breaker this
        // replica read as open moments ago. Nothing is ever done on the hint alone.
        if (action !== "record" && settings.mode === "enforce" && alert.agentHint) {
            const hinted = candidates.find((entry) => entry.name === alert.agentHint);
            const cached = hinted ? this.states.get(`${hinted.namespace}/${hinted.serviceAccount}`) : undefined;
            const age = cached ? this.clock() - cached.readAt : -1;
            if (hinted && cached?.state.open && age >= 0 && age < OPEN_RECHECK_MS) {
                const identity: AgentIdentity = { namespace: hinted.namespace, serviceAccount: hinted.serviceAccount, spiffeId: spiffeId(settings.trustDomain, hinted.namespace, hinted.serviceAccount), agent: hinted };
                return { outcome: "suppressed", identity, reason: `breaker open: ${cached.state.reason ?? "tripped"} (identity from Falco's agent label, no API call)` };
            }
        }

        const pod = await this.lookupPod(api, alert.pod.namespace, alert.pod.name);
        if (!pod) return { outcome: "pod-gone", reason: "the pod no longer exists" };
        const resolution = resolveIdentity(pod, candidates, settings.trustDomain);
        if (resolution.kind === "not-agent") return { outcome: "not-agent", reason: resolution.reason };
        const identity = resolution.identity;

        if (action === "record") return { outcome: "recorded", identity };
        if (settings.mode === "record") return { outcome: action === "recycle" ? "would-recycle" : "would-quarantine", identity, reason: "responder runs in record mode" };

        const key = identityKey(identity);
        const queued = performance.now();
        return this.withLock(key, async () => {
            waited(performance.now() - queued);
            const decision = await this.decideWithState(api, identity, { kind: action, pod: pod.name, alert: alert.uuid, now: this.clock() });
            switch (decision.verdict) {
                case "recycle": {
                    const result = await api.deletePod(pod.namespace, pod.name, pod.uid);
                    this.pods.delete(`${pod.namespace}/${pod.name}`);
                    return { outcome: "recycled", identity, ...(result === "gone" ? { reason: "the pod was already gone" } : {}) };
                }
                case "duplicate":
                    return { outcome: "duplicate", identity, reason: "this pod was already recycled inside the window" };
                case "suppressed":
                    return { outcome: "suppressed", identity, reason: `breaker open: ${decision.next.reason ?? "tripped"}` };
                case "trip":
                case "quarantine":
                    await this.quarantine(api, identity, pod, alert, decision);
                    return { outcome: decision.verdict === "trip" ? "tripped" : "quarantined", identity, reason: decision.next.reason ?? "" };
            }
        });
    }

    private async lookupPod(api: KubeApi, namespace: string, name: string): Promise<PodFacts | undefined> {
        const key = `${namespace}/${name}`;
        const now = this.clock();
        const cached = this.pods.get(key);
        if (cached && now - cached.at >= 0 && now - cached.at < (cached.facts ? POD_CACHE_MS : GONE_CACHE_MS)) return cached.facts;
        const facts = await api.getPod(namespace, name);
        this.pods.set(key, { facts, at: now });
        if (this.pods.size > 50_000) this.pods.clear();
        return facts;
    }

    private async readState(api: KubeApi, identity: AgentIdentity, fresh: boolean): Promise<CachedState> {
        const key = identityKey(identity);
        const now = this.clock();
        const cached = this.states.get(key);
        if (!fresh && cached && (!cached.state.open || (now - cached.readAt >= 0 && now - cached.readAt < OPEN_RECHECK_MS))) return cached;
        const stored = await api.getConfigMap(this.options.settings.stateNamespace, breakerStateName(identity.namespace, identity.serviceAccount));
        const entry: CachedState = { state: decodeState(stored?.data.state), resourceVersion: stored?.resourceVersion, readAt: now };
        this.states.set(key, entry);
        return entry;
    }

    private async decideWithState(api: KubeApi, identity: AgentIdentity, request: Parameters<typeof decide>[1]): Promise<Decision> {
        const settings = this.options.settings;
        const key = identityKey(identity);
        const name = breakerStateName(identity.namespace, identity.serviceAccount);
        for (let round = 0; round < CAS_ROUNDS; round++) {
            const current = await this.readState(api, identity, round > 0);
            const decision = decide(current.state, request, settings.breaker);
            if (!decision.changed) return decision;
            const data = { state: encodeState(decision.next), namespace: identity.namespace, serviceAccount: identity.serviceAccount, spiffeId: identity.spiffeId };
            try {
                const written =
                    current.resourceVersion === undefined
                        ? await api.createConfigMap(settings.stateNamespace, name, BREAKER_LABELS(identity), data)
                        : await api.replaceConfigMap(settings.stateNamespace, name, BREAKER_LABELS(identity), data, current.resourceVersion);
                this.states.set(key, { state: decision.next, resourceVersion: written.resourceVersion, readAt: this.clock() });
                return decision;
            } catch (error) {
                // Another replica wrote first (409), or a person reset the breaker (404): read again.
                if (error instanceof KubeError && (error.kind === "conflict" || error.kind === "not-found")) {
                    this.states.delete(key);
                    continue;
                }
                this.states.delete(key);
                throw error;
            }
        }
        throw new KubeError("unavailable", undefined, `breaker state of ${key} changed ${CAS_ROUNDS} times while deciding`);
    }

    private async quarantine(api: KubeApi, identity: AgentIdentity, pod: PodFacts, alert: Alert, decision: Decision): Promise<void> {
        const settings = this.options.settings;
        const deployment = identity.agent.deployment;
        // Label first: the quarantine NetworkPolicy selects the pod and the ClusterSPIFFEID stops
        // selecting it (no new SVID); then scale to zero so nothing restarts the agent.
        await api.patchPodLabels(pod.namespace, pod.name, { [QUARANTINE_LABEL]: "true", [AGENT_SPIFFE_LABEL]: null });
        await api.scaleDeployment(identity.namespace, deployment, 0);
        this.pods.delete(`${pod.namespace}/${pod.name}`);
        const reset = resetCommand(settings.stateNamespace, identity, deployment);
        const tripped = decision.verdict === "trip";
        await api.createEvent({
            name: `${deployment}.${eventSuffix(alert.uuid)}`,
            namespace: identity.namespace,
            involved: { kind: "Deployment", apiVersion: "apps/v1", name: deployment },
            type: "Warning",
            reason: tripped ? "ResponderCircuitOpen" : "ResponderQuarantine",
            action: "Quarantine",
            message:
                `falco-responder quarantined pod ${pod.name} and scaled ${deployment} to 0 after Falco rule "${alert.rule}" (${alert.priority}): ` +
                `${decision.next.reason ?? ""}. Automated recycling of ${identity.spiffeId} is stopped until reset: ${reset}`,
            time: new Date(decision.at),
        });
        await api.mergeConfigMapData(settings.stateNamespace, settings.auditConfigMap, {
            [`falco-responder.${identity.namespace}.${identity.serviceAccount}`]: JSON.stringify({
                at: new Date(decision.at).toISOString(),
                verdict: decision.verdict,
                reason: decision.next.reason ?? "",
                spiffeId: identity.spiffeId,
                pod: pod.name,
                deployment,
                alert: { uuid: alert.uuid, rule: alert.rule, priority: alert.priority, time: alert.time },
                recycles: decision.next.recycles.map((entry) => new Date(entry.at).toISOString()),
                reset,
            }),
        });
    }

    private async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
        const previous = this.locks.get(key) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((resolve) => (release = resolve));
        const tail = previous.then(() => mine);
        this.locks.set(key, tail);
        await previous;
        try {
            return await work();
        } finally {
            release();
            if (this.locks.get(key) === tail) this.locks.delete(key);
        }
    }
}

/** A DNS-subdomain-safe suffix from the alert uuid, so a retried Event is the same object (409, not a second Event). */
function eventSuffix(uuid: string): string {
    const cleaned = uuid.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return cleaned || "alert";
}

function round(ms: number): number {
    return Math.round(ms * 1000) / 1000;
}
