// The circuit breaker of the security-tooling seed: at most `maxRecycles` recycles per agent
// identity in any sliding window of `windowSeconds`; the request after that trips it, and it stays
// open (record only) until a person resets it. Pure: the caller loads the state, asks `decide`, and
// writes `next` back with a resourceVersion precondition before it acts, so two replicas never
// both spend the same slot.
//
// Time: windows are measured on a clock that never runs backwards, the later of the caller's clock
// and the newest instant the state has seen (`highWater`). A replica whose clock steps back (NTP)
// therefore cannot see old recycles as outside the window, and the recorded recycle times of an
// identity are non-decreasing, which is what makes "any window" checkable.

export interface RecycleEntry {
    /** Effective time of the recycle, ms since the epoch. */
    readonly at: number;
    readonly pod: string;
    /** The alert that spent the slot; its retries reuse the slot instead of spending another. */
    readonly alert: string;
}

export interface BreakerState {
    readonly recycles: readonly RecycleEntry[];
    readonly highWater: number;
    readonly open: boolean;
    readonly openedAt?: number;
    readonly openedBy?: string;
    readonly reason?: string;
}

export const CLOSED: BreakerState = Object.freeze({ recycles: [], highWater: 0, open: false });

export interface BreakerLimits {
    readonly maxRecycles: number;
    readonly windowSeconds: number;
}

export interface BreakerRequest {
    readonly kind: "recycle" | "quarantine";
    readonly pod: string;
    readonly alert: string;
    readonly now: number;
}

export type Verdict =
    /** Spend a slot (or reuse this alert's slot on a retry) and delete the pod. */
    | "recycle"
    /** Another alert already recycled this pod inside the window: nothing more to do. */
    | "duplicate"
    /** The limit is reached: quarantine, Event, audit record; the breaker is now open. */
    | "trip"
    /** The rule asks for quarantine: same actions as a trip, and the breaker opens. */
    | "quarantine"
    /** The breaker is open: record only until a person resets it. */
    | "suppressed";

export interface Decision {
    readonly verdict: Verdict;
    readonly next: BreakerState;
    /** Whether `next` differs from the state read and must be written before acting. */
    readonly changed: boolean;
    /** The effective time the decision was taken at. */
    readonly at: number;
}

export function decide(state: BreakerState, request: BreakerRequest, limits: BreakerLimits): Decision {
    const at = Math.max(request.now, state.highWater);
    const windowMs = limits.windowSeconds * 1000;
    if (state.open) {
        // A retry of the alert that opened the breaker repeats its (idempotent) actions.
        if (state.openedBy === request.alert) return { verdict: request.kind === "quarantine" ? "quarantine" : "trip", next: state, changed: false, at };
        return { verdict: "suppressed", next: state, changed: false, at };
    }
    const recent = state.recycles.filter((entry) => entry.at > at - windowMs);
    if (request.kind === "quarantine") {
        return { verdict: "quarantine", next: open(state, recent, at, request.alert, "the alert's rule asks for quarantine"), changed: true, at };
    }
    const own = recent.find((entry) => entry.alert === request.alert);
    if (own) {
        // A retry after a failed delete: the slot moves to now, so the slot time stays the time
        // the pod is really deleted and "any window" holds for actual deletions too.
        if (own.at === at) return { verdict: "recycle", next: state, changed: false, at };
        const recycles = recent.map((entry) => (entry === own ? { ...entry, at } : entry));
        return { verdict: "recycle", next: { recycles, highWater: at, open: false }, changed: true, at };
    }
    if (recent.some((entry) => entry.pod === request.pod)) return { verdict: "duplicate", next: state, changed: false, at };
    if (recent.length < limits.maxRecycles) {
        return {
            verdict: "recycle",
            next: { recycles: [...recent, { at, pod: request.pod, alert: request.alert }], highWater: at, open: false },
            changed: true,
            at,
        };
    }
    return {
        verdict: "trip",
        next: open(state, recent, at, request.alert, `${limits.maxRecycles} recycles within ${limits.windowSeconds}s`),
        changed: true,
        at,
    };
}

function open(state: BreakerState, recent: readonly RecycleEntry[], at: number, alert: string, reason: string): BreakerState {
    return { recycles: [...recent], highWater: Math.max(at, state.highWater), open: true, openedAt: at, openedBy: alert, reason };
}

/** The state as stored in the ConfigMap's `state` key. */
export function encodeState(state: BreakerState): string {
    return JSON.stringify(state);
}

/**
 * Reads a stored state. Anything unreadable (a hand edit gone wrong) counts as open: the responder
 * fails closed rather than forgetting the recycles it cannot read.
 */
export function decodeState(text: string | undefined): BreakerState {
    if (text === undefined) return CLOSED;
    try {
        const raw = JSON.parse(text) as Partial<BreakerState>;
        const entries = Array.isArray(raw.recycles) ? raw.recycles : undefined;
        const valid =
            entries !== undefined &&
            entries.every((entry) => typeof entry?.at === "number" && typeof entry.pod === "string" && typeof entry.alert === "string") &&
            typeof raw.highWater === "number" &&
            typeof raw.open === "boolean";
        if (!valid) return unreadable();
        return {
            recycles: entries.map((entry) => ({ at: entry.at, pod: entry.pod, alert: entry.alert })),
            highWater: raw.highWater as number,
            open: raw.open as boolean,
            ...(typeof raw.openedAt === "number" ? { openedAt: raw.openedAt } : {}),
            ...(typeof raw.openedBy === "string" ? { openedBy: raw.openedBy } : {}),
            ...(typeof raw.reason === "string" ? { reason: raw.reason } : {}),
        };
    } catch {
        return unreadable();
    }
}

function unreadable(): BreakerState {
    return { recycles: [], highWater: 0, open: true, reason: "stored breaker state is unreadable; reset it to close the breaker" };
}
