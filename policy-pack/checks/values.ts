// Narrowing helpers for untrusted object trees.
//
// The checks read two kinds of input: Pulumi resource properties (wrapped by the SDK's
// unknownCheckingProxy during preview) and manifests read from disk by `npm run check`. Neither is
// guaranteed to have the Kubernetes shape (`containers: "x"` parses fine as YAML), so every read
// narrows instead of casting. The helpers only read the fields they are asked for: touching a
// field that is unknown at preview makes the SDK downgrade the whole policy to advisory, so no
// helper walks a whole object (no JSON.stringify, no spreading).

export type Obj = Readonly<Record<string, unknown>>;

export function asObj(value: unknown): Obj | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function asArr(value: unknown): readonly unknown[] {
    return Array.isArray(value) ? value : [];
}

export function asStr(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** Reads a nested field; any non-object on the way yields undefined. */
export function get(value: unknown, ...path: readonly string[]): unknown {
    let current: unknown = value;
    for (const key of path) {
        const o = asObj(current);
        if (o === undefined) {
            return undefined;
        }
        current = o[key];
    }
    return current;
}

/**
 * The entries of a labels or annotations map whose key passes `wanted`. Only those values are
 * read: an unrelated annotation computed from an Output (a config checksum) stays unread.
 */
export function entriesWhere(value: unknown, wanted: (key: string) => boolean): [string, unknown][] {
    const o = asObj(value);
    return o === undefined ? [] : Object.keys(o).filter(wanted).map((key) => [key, o[key]]);
}

/** A value as it appears in a message: strings quoted, everything else in JSON. */
export function show(value: unknown): string {
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    if (value === undefined) {
        return "undefined";
    }
    if (typeof value === "object" && value !== null) {
        return Array.isArray(value) ? `[${value.map(show).join(", ")}]` : "an object";
    }
    return String(value);
}

/** A file mode the way people write it (`0400`), whatever base it was written in. */
export function showMode(mode: unknown): string {
    if (typeof mode === "number" && Number.isInteger(mode) && mode >= 0) {
        return `0${mode.toString(8)} (${mode} decimal)`;
    }
    return show(mode);
}

/** "does not set X" or "sets X to v", for the middle of a sentence. */
export function setsField(field: string, value: unknown): string {
    return value === undefined ? `does not set ${field}` : `sets ${field} to ${show(value)}`;
}
