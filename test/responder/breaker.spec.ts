import { strict as assert } from "assert";
import * as fc from "fast-check";
import { CLOSED, decide, decodeState, encodeState } from "../../responder/src/breaker";
import type { BreakerState } from "../../responder/src/breaker";
import { breakerStateName } from "../../responder/src/identity";
import { KubeClient } from "../../responder/src/kube";
import { Responder } from "../../responder/src/responder";
import type { AlertRecord } from "../../responder/src/responder";
import type { Alert } from "../../responder/src/payload";
import type { AgentEntry } from "../../responder/src/settings";
import { FakeCluster } from "./fakeCluster";
import { STATE_NAMESPACE, agents, alertFor, ensurePod, podName, seedCluster, settings } from "./support";

const LIMITS = { maxRecycles: 3, windowSeconds: 600 };
const MIN = 60_000;

function run(state: BreakerState, pods: string[], now: number) {
    const verdicts: string[] = [];
    let current = state;
    for (const [index, pod] of pods.entries()) {
        const decision = decide(current, { kind: "recycle", pod, alert: `a${index}-${pod}`, now }, LIMITS);
        verdicts.push(decision.verdict);
        current = decision.next;
    }
    return { verdicts, state: current };
}

describe("responder breaker (pure)", () => {
    it("allows three recycles and trips on the fourth inside ten minutes", () => {
        const { verdicts, state } = run(CLOSED, ["p1", "p2", "p3", "p4", "p5"], 1_000_000);
        assert.deepEqual(verdicts, ["recycle", "recycle", "recycle", "trip", "suppressed"]);
        assert.equal(state.open, true);
        assert.match(state.reason ?? "", /3 recycles within 600s/);
    });

    it("forgets a recycle once it is a full window old", () => {
        let state = run(CLOSED, ["p1", "p2", "p3"], 0).state;
        assert.equal(decide(state, { kind: "recycle", pod: "p4", alert: "x", now: 10 * MIN - 1 }, LIMITS).verdict, "trip");
        state = run(CLOSED, ["p1", "p2", "p3"], 0).state;
        assert.equal(decide(state, { kind: "recycle", pod: "p4", alert: "x", now: 10 * MIN }, LIMITS).verdict, "recycle");
    });

    it("counts a second alert for an already recycled pod as a duplicate, not a recycle", () => {
        const { verdicts, state } = run(CLOSED, ["p1", "p1", "p1"], 0);
        assert.deepEqual(verdicts, ["recycle", "duplicate", "duplicate"]);
        assert.equal(state.recycles.length, 1);
    });

    it("lets a retry of the same alert reuse its slot and moves the slot to the retry's time", () => {
        const first = decide(CLOSED, { kind: "recycle", pod: "p1", alert: "a", now: 0 }, LIMITS);
        const retry = decide(first.next, { kind: "recycle", pod: "p1", alert: "a", now: 5000 }, LIMITS);
        assert.equal(retry.verdict, "recycle");
        assert.deepEqual(retry.next.recycles.map((entry) => entry.at), [5000]);
    });

    it("does not let a clock that steps back make old recycles look outside the window", () => {
        const state = run(CLOSED, ["p1", "p2", "p3"], 20 * MIN).state;
        // The replica's clock is now 30 minutes behind; the window is measured from the high-water mark.
        assert.equal(decide(state, { kind: "recycle", pod: "p4", alert: "x", now: -10 * MIN }, LIMITS).verdict, "trip");
    });

    it("opens on a quarantine rule and then records only", () => {
        const quarantine = decide(CLOSED, { kind: "quarantine", pod: "p1", alert: "q", now: 0 }, LIMITS);
        assert.equal(quarantine.verdict, "quarantine");
        assert.equal(decide(quarantine.next, { kind: "recycle", pod: "p2", alert: "r", now: 1 }, LIMITS).verdict, "suppressed");
        assert.equal(decide(quarantine.next, { kind: "quarantine", pod: "p1", alert: "q", now: 2 }, LIMITS).verdict, "quarantine", "a retry of the opening alert repeats its actions");
    });

    it("round-trips the stored state and treats an unreadable one as open", () => {
        const state = run(CLOSED, ["p1", "p2"], 42).state;
        assert.deepEqual(decodeState(encodeState(state)), state);
        assert.equal(decodeState("{not json").open, true);
        assert.equal(decodeState(JSON.stringify({ recycles: "nope", highWater: 0, open: false })).open, true);
        assert.equal(decodeState(undefined).open, false);
    });
});

// ---------------------------------------------------------------------------------------------
// Property: the whole responder (two replicas, one fake API server) under any interleaving
// ---------------------------------------------------------------------------------------------

type Step =
    | { readonly type: "alerts"; readonly batch: readonly { readonly replica: number; readonly agent: number; readonly pod: number; readonly quarantine: boolean; readonly hint: number }[] }
    | { readonly type: "advance"; readonly ms: number }
    | { readonly type: "jump"; readonly ms: number }
    | { readonly type: "restart"; readonly replica: number }
    | { readonly type: "outage"; readonly failures: number };

const AGENTS = agents(4);

const stepArb = (allowBackwards: boolean): fc.Arbitrary<Step> =>
    fc.oneof(
        { weight: 6, arbitrary: fc.record({ type: fc.constant("alerts" as const), batch: fc.array(fc.record({ replica: fc.integer({ min: 0, max: 1 }), agent: fc.integer({ min: 0, max: AGENTS.length - 1 }), pod: fc.integer({ min: 0, max: 5 }), quarantine: fc.integer({ min: 0, max: 19 }).map((draw) => draw === 0), hint: fc.integer({ min: -1, max: AGENTS.length - 1 }) }), { minLength: 1, maxLength: 6 }) }) },
        { weight: 2, arbitrary: fc.record({ type: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 4 * MIN }) }) },
        { weight: 1, arbitrary: fc.record({ type: fc.constant("jump" as const), ms: fc.integer({ min: allowBackwards ? -30 * MIN : 0, max: 30 * MIN }) }) },
        { weight: 1, arbitrary: fc.record({ type: fc.constant("restart" as const), replica: fc.integer({ min: 0, max: 1 }) }) },
        { weight: 1, arbitrary: fc.record({ type: fc.constant("outage" as const), failures: fc.integer({ min: 1, max: 6 }) }) },
    );

interface Outcome {
    readonly records: AlertRecord[];
    readonly alerts: Alert[];
    readonly cluster: FakeCluster;
}

async function simulate(steps: readonly Step[]): Promise<Outcome> {
    let now = 1_764_928_800_000;
    const clock = () => now;
    const cluster = new FakeCluster(clock);
    cluster.recordRequests = false;
    seedCluster(cluster, AGENTS, 6);
    const records: AlertRecord[] = [];
    const config = settings({ agents: AGENTS });
    const replica = () => new Responder({ kube: new KubeClient(cluster.transport), settings: config, sink: (record) => records.push(record), clock, maxAttempts: 1000 });
    const replicas = [replica(), replica()];
    const alerts: Alert[] = [];
    const deferred = new Map<string, { alert: Alert; attempt: number }>();

    const runOne = async (responder: Responder, alert: Alert, attempt: number) => {
        const record = await responder.process(alert, attempt);
        if (record.outcome === "deferred") deferred.set(alert.uuid, { alert, attempt: attempt + 1 });
        else deferred.delete(alert.uuid);
    };

    for (const step of steps) {
        switch (step.type) {
            case "alerts": {
                const work: Promise<void>[] = [];
                for (const item of step.batch) {
                    const entry = AGENTS[item.agent] as AgentEntry;
                    ensurePod(cluster, entry, item.pod);
                    const plain = alertFor(entry, podName(entry, item.pod), item.quarantine ? "Agent quarantine me" : undefined);
                    // Falco's agent label, right, wrong or absent: it may save a read, never cause an action.
                    const alert = item.hint >= 0 ? { ...plain, agentHint: (AGENTS[item.hint] as AgentEntry).name } : plain;
                    alerts.push(alert);
                    work.push(runOne(replicas[item.replica] as Responder, alert, 1));
                }
                // Retries of earlier deferred alerts interleave with the new ones.
                for (const [, pending] of [...deferred].slice(0, 2)) work.push(runOne(replicas[pending.attempt % 2] as Responder, pending.alert, pending.attempt));
                await Promise.all(work);
                break;
            }
            case "advance":
            case "jump":
                now += step.ms;
                break;
            case "restart":
                replicas[step.replica] = replica();
                break;
            case "outage":
                cluster.failNext = step.failures;
                break;
        }
    }
    cluster.failNext = 0;
    for (let round = 0; deferred.size > 0 && round < 20; round++) {
        for (const [, pending] of [...deferred]) await runOne(replicas[0] as Responder, pending.alert, pending.attempt);
    }
    return { records, alerts, cluster };
}

function maxInAnyWindow(times: readonly number[], windowMs: number): number {
    const sorted = [...times].sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < sorted.length; end++) {
        while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
        best = Math.max(best, end - start + 1);
    }
    return best;
}

/** Outcomes seen across all runs of a property, so a property that never reaches a trip fails. */
const seen = new Map<string, number>();
function tally(outcome: Outcome): void {
    for (const record of outcome.records) seen.set(record.outcome, (seen.get(record.outcome) ?? 0) + 1);
}

function assertEveryAlertRecordedOnce(outcome: Outcome): void {
    const finals = new Map<string, number>();
    for (const record of outcome.records) if (record.outcome !== "deferred") finals.set(record.uuid, (finals.get(record.uuid) ?? 0) + 1);
    for (const alert of outcome.alerts) assert.equal(finals.get(alert.uuid), 1, `alert ${alert.uuid} has exactly one final record`);
}

describe("responder breaker (property: replicas, interleavings, clock jumps, restarts, outages)", function () {
    this.timeout(120_000);

    it("never deletes more than 3 pods of one identity in any 10 minutes of a forward-only clock, and records every alert", async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(stepArb(false), { minLength: 1, maxLength: 40 }), async (steps) => {
                const outcome = await simulate(steps);
                tally(outcome);
                assertEveryAlertRecordedOnce(outcome);
                for (const entry of AGENTS) {
                    const deletions = outcome.cluster.deletions.filter((deletion) => deletion.namespace === entry.namespace && deletion.name.startsWith(`${entry.name}-`));
                    assert.ok(maxInAnyWindow(deletions.map((deletion) => deletion.at), 10 * MIN) <= 3, `${entry.name}: ${deletions.map((d) => d.at).join(", ")}`);
                    const recycled = outcome.records.filter((record) => record.outcome === "recycled" && record.identity === `${entry.namespace}/${entry.serviceAccount}`);
                    assert.ok(deletions.length <= recycled.length, "every deletion is a recorded recycle");
                }
            }),
            { numRuns: 150 },
        );
        for (const reached of ["recycled", "tripped", "suppressed", "duplicate", "deferred", "quarantined"]) {
            assert.ok((seen.get(reached) ?? 0) > 0, `the generated runs reached outcome ${reached} (seen: ${JSON.stringify(Object.fromEntries(seen))})`);
        }
    });

    it("keeps the recorded recycle times of each identity within the limit when clocks also step back", async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(stepArb(true), { minLength: 1, maxLength: 40 }), async (steps) => {
                const outcome = await simulate(steps);
                assertEveryAlertRecordedOnce(outcome);
                for (const entry of AGENTS) {
                    const stored = outcome.cluster.configMaps.get(`${STATE_NAMESPACE}/${breakerStateName(entry.namespace, entry.serviceAccount)}`);
                    const state = decodeState(stored?.data.state);
                    const times = state.recycles.map((recycle) => recycle.at);
                    assert.ok(maxInAnyWindow(times, 10 * MIN) <= 3);
                    assert.ok(state.recycles.every((recycle) => recycle.at <= state.highWater), "no recycle is stamped after the high-water mark");
                    const deletions = outcome.cluster.deletions.filter((deletion) => deletion.namespace === entry.namespace && deletion.name.startsWith(`${entry.name}-`));
                    const recycled = outcome.records.filter((record) => record.outcome === "recycled" && record.identity === `${entry.namespace}/${entry.serviceAccount}`);
                    assert.ok(deletions.length <= recycled.length);
                }
            }),
            { numRuns: 150 },
        );
    });
});
