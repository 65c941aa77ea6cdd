// npm run render -- --stack <dev|ci|prod> --out <dir>
// Runs the program under the mock runtime with the real stack file and writes one YAML file per
// Kubernetes resource plus charts.yaml; no cluster and no Pulumi CLI (design.md section 9).
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../config/schema";
import { StackFileError, chartsOf, manifestFileName, manifestsOf, runStackFile, toYaml } from "./mockRuntime";

const USAGE = "usage: npm run render -- --stack <dev|ci|prod|name> --out <dir> [--project <dir with Pulumi.<stack>.yaml>]";

interface RenderArgs {
    readonly stack: string;
    readonly out: string;
    readonly project?: string;
}

function parseArgs(argv: readonly string[]): RenderArgs | string {
    let stack: string | undefined;
    let out: string | undefined;
    let project: string | undefined;
    for (let index = 0; index < argv.length; index++) {
        const arg = argv[index];
        const value = argv[index + 1];
        if (arg === "--stack" && value !== undefined) {
            stack = value;
            index++;
        } else if (arg === "--out" && value !== undefined) {
            out = value;
            index++;
        } else if (arg === "--project" && value !== undefined) {
            project = value;
            index++;
        } else if (arg === "--help" || arg === "-h") {
            return USAGE;
        } else {
            return `unexpected argument ${JSON.stringify(arg)}\n${USAGE}`;
        }
    }
    if (!stack || !out) return `--stack and --out are required\n${USAGE}`;
    return { stack, out, project };
}

export async function render(args: RenderArgs): Promise<{ files: number; charts: number }> {
    const run = await runStackFile(args.stack, { dir: args.project });
    const manifests = manifestsOf(run.resources);
    const charts = chartsOf(run.resources);
    fs.mkdirSync(args.out, { recursive: true });
    // Stale files from an earlier render would make the directory lie about the stack.
    for (const entry of fs.readdirSync(args.out)) {
        if (entry.endsWith(".yaml")) fs.rmSync(path.join(args.out, entry));
    }
    const seen = new Set<string>();
    for (const manifest of manifests) {
        const file = manifestFileName(manifest);
        if (seen.has(file)) throw new Error(`two resources render to ${file}; object names must be unique per kind and namespace`);
        seen.add(file);
        fs.writeFileSync(path.join(args.out, file), toYaml(manifest));
    }
    fs.writeFileSync(path.join(args.out, "charts.yaml"), toYaml({ charts }));
    return { files: manifests.length, charts: charts.length };
}

export async function main(): Promise<number> {
    const parsed = parseArgs(process.argv.slice(2));
    if (typeof parsed === "string") {
        process.stderr.write(`${parsed}\n`);
        return parsed === USAGE ? 0 : 2;
    }
    try {
        const result = await render(parsed);
        process.stdout.write(`rendered stack ${parsed.stack}: ${result.files} resources and ${result.charts} Helm charts to ${parsed.out}\n`);
        return 0;
    } catch (error) {
        if (error instanceof ConfigError) {
            process.stderr.write(`invalid config for stack ${parsed.stack}:\n${error.message}\n`);
            return 2;
        }
        if (error instanceof StackFileError) {
            process.stderr.write(`${error.message}\n`);
            return 2;
        }
        throw error;
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`render failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
            process.exit(1);
        },
    );
}
