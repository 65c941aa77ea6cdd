// Kubernetes resource quantities for agent containers. The accepted forms are a subset of the
// Kubernetes quantity grammar (apimachinery resource.Quantity: <digits>[.<digits>]<suffix>) that
// the API server stores unchanged, and the bounds keep every sum the quota makes (replicas x
// agents x sidecars) an exact integer: without them "99999999999999999999Gi" rendered as
// `2.097152e+26Mi`, which no API server parses (issue 12).

// The parsers read namespace totals too (quota tests), so they take up to 15 digits (exact in a
// double); the per-agent ceilings are the job of cpuProblem and memoryProblem.
/** Whole cores or up to three decimals, or millicores; no leading zeros (the server would rewrite them). */
const CPU = /^((0|[1-9][0-9]{0,14})m|(0|[1-9][0-9]{0,11})(\.[0-9]{1,3})?)$/;
/** An integer with a binary suffix; no leading zeros. */
const MEMORY = /^(0|[1-9][0-9]{0,14})(Ki|Mi|Gi|Ti)$/;

const MEMORY_UNITS: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** The largest agent container: 64 cores, 512Gi (more than any agent needs, far below overflow). */
export const MAX_CPU_MILLIS = 64_000;
export const MAX_MEMORY_BYTES = 512 * 2 ** 30;
export const MAX_CPU = "64";
export const MAX_MEMORY = "512Gi";

/** Bytes of a binary-suffixed memory quantity (`2Gi`); undefined when not in the accepted form. */
export function memoryBytes(quantity: string): number | undefined {
    const match = MEMORY.exec(quantity);
    if (!match) return undefined;
    return Number(match[1]) * (MEMORY_UNITS[match[2] ?? ""] ?? 0);
}

/** Millicores of a cpu quantity (`500m`, `1`, `1.5`); undefined when not in the accepted form. */
export function cpuMillis(quantity: string): number | undefined {
    if (!CPU.test(quantity)) return undefined;
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** Why a cpu quantity is unacceptable, or undefined. */
export function cpuProblem(quantity: string): string | undefined {
    const millis = cpuMillis(quantity);
    if (millis === undefined) {
        return `"${quantity}" is not a cpu quantity: write millicores such as "250m" or cores such as "1" or "1.5" (at most three decimals, no leading zeros)`;
    }
    if (millis === 0) return "must be greater than zero";
    if (millis > MAX_CPU_MILLIS) return `"${quantity}" is more than ${MAX_CPU} cores, the most one agent container may ask for`;
    return undefined;
}

/** Why a memory quantity is unacceptable, or undefined. */
export function memoryProblem(quantity: string): string | undefined {
    const bytes = memoryBytes(quantity);
    if (bytes === undefined) {
        return `"${quantity}" is not a memory quantity: write an integer with a binary suffix, Ki, Mi, Gi or Ti (for example "2Gi"; no decimals, no leading zeros)`;
    }
    if (bytes === 0) return "must be greater than zero";
    if (bytes > MAX_MEMORY_BYTES) return `"${quantity}" is more than ${MAX_MEMORY}, the most one agent container may ask for`;
    return undefined;
}
