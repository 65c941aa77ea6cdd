// Writes a stack config for `pulumi --config-file`: a committed Pulumi.<stack>.yaml plus
// key=value overrides, so offline and test runs never edit the users' stack files.
//
//   ts-node --transpile-only scripts/generate-stack-config.ts [--salt-from <stack.yaml>] <committed.yaml> <out.yaml> [key=value ...]
//
// A value that parses as JSON is taken as JSON (objects, lists, numbers, booleans), else as text.
// `pulumi stack init` has no --config-file: it writes the new stack's passphrase salt into
// Pulumi.<stack>.yaml of its working directory. So stacks are created in a scratch directory
// holding only Pulumi.yaml, and --salt-from carries that salt over; an existing output's
// `encryptionsalt` is kept so a regenerated file still opens the stack.
import * as fs from "fs";
import * as YAML from "yaml";

export function generateStackConfig(committedFile: string, outFile: string, overrides: Readonly<Record<string, unknown>>, saltFromFile?: string): void {
    const committed = (YAML.parse(fs.readFileSync(committedFile, "utf8")) ?? {}) as Record<string, unknown>;
    const previous = fs.existsSync(outFile) ? ((YAML.parse(fs.readFileSync(outFile, "utf8")) ?? {}) as Record<string, unknown>) : {};
    const config = { ...((committed.config as Record<string, unknown> | undefined) ?? {}), ...overrides };
    const document: Record<string, unknown> = { ...committed, config };
    const salted = saltFromFile ? ((YAML.parse(fs.readFileSync(saltFromFile, "utf8")) ?? {}) as Record<string, unknown>) : {};
    for (const source of [salted, previous]) {
        if (typeof source.encryptionsalt === "string" && document.encryptionsalt === undefined) {
            document.encryptionsalt = source.encryptionsalt;
        }
    }
    fs.writeFileSync(outFile, `# Generated from ${committedFile}; do not edit, regenerate.\n${YAML.stringify(document, { lineWidth: 0 })}`);
}

function parseOverride(pair: string): [string, unknown] {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`override ${JSON.stringify(pair)} is not key=value`);
    const text = pair.slice(at + 1);
    try {
        return [pair.slice(0, at), JSON.parse(text) as unknown];
    } catch {
        return [pair.slice(0, at), text];
    }
}

if (require.main === module) {
    const args = process.argv.slice(2);
    let saltFrom: string | undefined;
    if (args[0] === "--salt-from") {
        saltFrom = args[1];
        args.splice(0, 2);
    }
    const [committed, out, ...pairs] = args;
    if (!committed || !out || (args.length > 0 && saltFrom === "")) {
        console.error("usage: generate-stack-config.ts [--salt-from <stack.yaml>] <committed.yaml> <out.yaml> [key=value ...]");
        process.exit(2);
    }
    generateStackConfig(committed, out, Object.fromEntries(pairs.map(parseOverride)), saltFrom);
}
