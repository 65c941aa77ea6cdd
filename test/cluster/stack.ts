// What the cluster tests put on the throw-away API server: a stack rendered under the mock runtime
// (the same resources `npm run render` writes), the upstream CRDs it needs from ../shared/crds
// (installed first, as the cluster's operators and charts would have), applied with server-side
// apply in dependency order. Helm charts are not expanded by the mock runtime, so what they would
// install (operators, webhooks, DaemonSets) is not here; the tests that need a DaemonSet make it.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KubeApiError, statusMessage } from "../../cli/kube";
import type { KubeClient, KubeObject } from "../../cli/kube";
import { manifestsOf, runStack } from "../../cli/mockRuntime";
import type { Manifest, StackRun } from "../../cli/mockRuntime";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** `AGENT_SECURITY_CRDS` (resolved against the working directory), else ../shared/crds next to the repo. */
export function crdsDir(): string {
    const fromEnv = process.env.AGENT_SECURITY_CRDS;
    return fromEnv ? path.resolve(fromEnv) : path.resolve(REPO_ROOT, "..", "shared", "crds");
}

export interface CrdDocument extends KubeObject {
    readonly spec: { readonly group: string; readonly names: { readonly kind: string; readonly plural: string }; readonly versions: readonly { readonly name: string }[] };
}

/** Every CustomResourceDefinition under the dir (Helm values and OpenAPI files skipped), keyed `group/Kind`. */
export function loadCrdIndex(dir: string = crdsDir()): Map<string, CrdDocument> {
    const index = new Map<string, CrdDocument>();
    const walk = (current: string): void => {
        for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
            const full = path.join(current, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "helm") walk(full);
            } else if (/\.ya?ml$/.test(entry.name)) {
                for (const document of YAML.parseAllDocuments(fs.readFileSync(full, "utf8"))) {
                    const value = document.toJS() as CrdDocument | null;
                    if (value?.kind !== "CustomResourceDefinition") continue;
                    index.set(`${value.spec.group}/${value.spec.names.kind}`, value);
                }
            }
        }
    };
    walk(dir);
    return index;
}

function groupOf(apiVersion: string): string {
    return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

/** The CRDs of every custom kind among the manifests (`*Patch` kinds count as their base kind). */
export function crdsFor(manifests: readonly Manifest[], index: ReadonlyMap<string, CrdDocument> = loadCrdIndex()): CrdDocument[] {
    const needed = new Map<string, CrdDocument>();
    for (const manifest of manifests) {
        const kind = manifest.kind.replace(/Patch$/, "");
        const key = `${groupOf(manifest.apiVersion)}/${kind}`;
        const crd = index.get(key);
        if (crd) needed.set(key, crd);
    }
    return [...needed.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** Applies the CRDs and waits until each is Established and its kind is served (bounded). */
export async function installCrds(client: KubeClient, crds: readonly CrdDocument[], timeoutMs = 60_000): Promise<void> {
    for (const crd of crds) {
        // Upstream CRD files carry status: {} or controller-gen annotations; the server ignores status on apply.
        const { status: _status, ...rest } = crd as CrdDocument & { status?: unknown };
        void _status;
        await client.apply(rest as KubeObject);
    }
    const deadline = Date.now() + timeoutMs;
    for (const crd of crds) {
        for (;;) {
            const current = await client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", undefined, crd.metadata.name);
            const conditions = ((current?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
            if (conditions.some((condition) => condition.type === "Established" && condition.status === "True")) break;
            if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established within ${timeoutMs / 1000} s`);
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    }
    client.forgetDiscovery();
}

/** Apply order: CRDs, then Namespaces, then the rest (a namespaced object needs its namespace). */
export function applyOrder(manifests: readonly Manifest[]): Manifest[] {
    const rank = (manifest: Manifest): number => (manifest.kind === "CustomResourceDefinition" ? 0 : manifest.kind === "Namespace" ? 1 : 2);
    return [...manifests].sort((a, b) => rank(a) - rank(b));
}

export interface ApplyResult {
    readonly manifest: Manifest;
    /** undefined when the server accepted the object. */
    readonly error?: string;
    /** Why it was not sent at all (a patch of an object that only an operator or chart creates). */
    readonly skipped?: string;
}

/**
 * Server-side-applies every manifest in dependency order and reports each verdict; never throws
 * on a refusal, so a test can name every refused object at once. `*Patch` kinds are applied as a
 * patch of their base kind when that object exists, and skipped (with the reason) when it does not.
 */
export async function applyAll(client: KubeClient, manifests: readonly Manifest[], fieldManager = "agent-security-test"): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    for (const manifest of applyOrder(manifests)) {
        const isPatch = manifest.kind.endsWith("Patch");
        const object = { ...manifest, kind: manifest.kind.replace(/Patch$/, "") } as KubeObject;
        try {
            if (isPatch && !(await client.get(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name))) {
                results.push({ manifest, skipped: `${object.kind} ${object.metadata.name} does not exist here; a chart or operator creates it` });
                continue;
            }
            await client.apply(object, { fieldManager });
            results.push({ manifest });
        } catch (error) {
            results.push({ manifest, error: error instanceof KubeApiError ? statusMessage(error.response) : String(error) });
        }
    }
    return results;
}

export interface RenderedStack {
    readonly run: StackRun;
    readonly manifests: readonly Manifest[];
}

/** The SDK's marker of a secret value in serialized inputs (sdk/nodejs/runtime/rpc.ts `specialSigKey`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

/**
 * Mocks record a `pulumi.secret` input as the SDK's wrapper ({<sig>: ..., value}); the engine
 * would send the plain value. A secret whose value the engine computes (a random password) is
 * unknown under mocks and becomes absent.
 */
export function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (SECRET_SIG_KEY in record) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, child]) => [key, unwrapSecrets(child)]).filter(([, child]) => child !== undefined));
}

/** The stack's resources under the mock runtime, from a config object (never a committed stack file edited). */
export async function renderStack(stack: string, raw: Readonly<Record<string, unknown>>, now: Date = new Date()): Promise<RenderedStack> {
    const run = await runStack(stack, raw, { now });
    return { run, manifests: manifestsOf(run.resources).map((manifest) => unwrapSecrets(manifest) as Manifest) };
}

/** Writes `Pulumi.<stack>.yaml` with these `agent-security:` keys into `dir`, for tools that read stack files (probe). */
export function writeStackFile(dir: string, stack: string, raw: Readonly<Record<string, unknown>>): string {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const config = Object.fromEntries(Object.entries(raw).map(([key, value]) => [`agent-security:${key}`, value]));
    fs.writeFileSync(file, YAML.stringify({ config }));
    return file;
}
