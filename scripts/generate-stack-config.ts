// Writes a stack config for `pulumi --config-file`: a committed Pulumi.<stack>.yaml plus
// key=value overrides, so offline and test runs never edit the users' stack files.
//
//   ts-node --transpile-only scripts/generate-stack-config.ts <committed.yaml> <out.yaml> [key=value ...]
//
// A value that parses as JSON is taken as JSON (objects, lists, numbers, booleans), else as text.
// The engine stores the passphrase salt of a new stack in the config file it was given; an
// existing output's `encryptionsalt` is kept so a regenerated file still opens the stack.
import * as fs from "fs";
import * as YAML from "yaml";

export function generateStackConfig(committedFile: string, outFile: string, overrides: Readonly<Record<string, unknown>>): void {
    const committed = (YAML.parse(fs.readFileSync(committedFile, "utf8")) ?? {}) as Record<string, unknown>;
    const previous = fs.existsSync(outFile) ? ((YAML.parse(fs.readFileSync(outFile, "utf8")) ?? {}) as Record<string, unknown>) : {};
    const config = { ...((committed.config as Record<string, unknown> | undefined) ?? {}), ...overrides };
    const document: Record<string, unknown> = { ...committed, config };
    if (typeof previous.encryptionsalt === "string" && document.encryptionsalt === undefined) {
        document.encryptionsalt = previous.encryptionsalt;
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
    const [committed, out, ...pairs] = process.argv.slice(2);
    if (!committed || !out) {
        console.error("usage: generate-stack-config.ts <committed.yaml> <out.yaml> [key=value ...]");
        process.exit(2);
    }
    generateStackConfig(committed, out, Object.fromEntries(pairs.map(parseOverride)));
}
