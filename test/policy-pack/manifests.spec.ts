// How `npm run check` reads manifests and options, without a child process.

import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InputError, loadSettings, parseArgs, parseManifests, toResources } from "../../cli/check";

function docs(text: string, file = "m.yaml"): Record<string, unknown>[] {
    return parseManifests(text, file).manifests.map((m) => m.doc);
}

function inputError(f: () => unknown): InputError {
    try {
        f();
    } catch (e) {
        if (e instanceof InputError) {
            return e;
        }
        throw e;
    }
    throw new Error("expected an InputError");
}

describe("manifest reading", () => {
    it("reads 0400 as octal and yes/on as true, like kubectl's YAML 1.1", () => {
        const [pod] = docs("apiVersion: v1\nkind: Pod\nspec:\n  mode: 0400\n  sneaky: 0256\n  flag: yes\n  other: on\n  decimal: 256\n");
        assert.deepStrictEqual(pod.spec, { mode: 256, sneaky: 0o256, flag: true, other: true, decimal: 256 });
    });

    it("refuses a %YAML 1.2 directive, which would turn 0400 into decimal", () => {
        const e = inputError(() => parseManifests("%YAML 1.2\n---\napiVersion: v1\nkind: Pod\nspec: {mode: 0400}\n", "v12.yaml"));
        assert.match(e.message, /YAML 1\.1 only/);
    });

    it("keeps timestamps and base-60 looking values as strings, as go-yaml v2 does", () => {
        const [cm] = docs("apiVersion: v1\nkind: ConfigMap\ndata:\n  expires: 2026-12-01T00:00:00Z\n  ratio: 1:20\n");
        assert.deepStrictEqual(cm.data, { expires: "2026-12-01T00:00:00Z", ratio: "1:20" });
    });

    it("resolves merge keys, so an anchor cannot hide a privileged flag", () => {
        const text = [
            "apiVersion: v1",
            "kind: Pod",
            "metadata: {name: p}",
            "x-hidden: &sc {privileged: true}",
            "spec:",
            "  containers:",
            "  - name: a",
            "    securityContext:",
            "      <<: *sc",
            "      readOnlyRootFilesystem: true",
        ].join("\n");
        const [pod] = docs(text);
        assert.deepStrictEqual((pod.spec as { containers: { securityContext: unknown }[] }).containers[0].securityContext, {
            privileged: true,
            readOnlyRootFilesystem: true,
        });
    });

    it("reports duplicate keys with their line instead of picking one", () => {
        const e = inputError(() => parseManifests("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: false\n  hostNetwork: true\n", "dup.yaml"));
        assert.strictEqual(e.file, "dup.yaml");
        assert.strictEqual(e.line, 5);
        assert.match(e.message, /unique/);
    });

    it("expands Lists and skips documents that are not Kubernetes objects", () => {
        const text = "releases: [falco]\n---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n";
        const loaded = parseManifests(text, "l.yaml");
        assert.deepStrictEqual(loaded.manifests.map((m) => [m.line, (m.doc.metadata as { name: string }).name]), [
            [4, "a"],
            [4, "b"],
        ]);
        assert.strictEqual(loaded.skipped, 1);
    });

    it("rejects a document with a kind but no apiVersion", () => {
        const e = inputError(() => parseManifests("a: 1\n---\nkind: Pod\nmetadata: {name: p}\n", "k.yaml"));
        assert.deepStrictEqual([e.file, e.line], ["k.yaml", 3]);
    });

    it("reads *.json strictly, arrays as several objects", () => {
        const json = JSON.stringify([
            { apiVersion: "apps/v1", kind: "DeploymentPatch", metadata: { name: "d" } },
            { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } },
        ]);
        const loaded = parseManifests(json, "x.json");
        assert.deepStrictEqual(toResources(loaded.manifests).map((r) => r.type), ["kubernetes:apps/v1:DeploymentPatch", "kubernetes:core/v1:Pod"]);
        const e = inputError(() => parseManifests('{"apiVersion": "v1",\n "kind": "Pod",}', "bad.json"));
        assert.strictEqual(e.line, 2);
    });
});

describe("check options", () => {
    it("parses flags in both spellings and keeps paths after --", () => {
        assert.deepStrictEqual(parseArgs(["--config=c.json", "--format", "json", "a", "--", "--b"]), {
            config: "c.json",
            format: "json",
            paths: ["a", "--b"],
            help: false,
        });
    });

    it("refuses unknown flags, a missing value and no paths", () => {
        assert.throws(() => parseArgs(["--strict", "a"]), /unknown option --strict/);
        assert.throws(() => parseArgs(["a", "--config"]), /--config needs a value/);
        assert.throws(() => parseArgs([]), /no file or directory given/);
    });

    it("refuses a pack config file that lowers the enforcement level or disagrees with itself", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-settings-"));
        try {
            const write = (name: string, value: object) => {
                const file = path.join(dir, name);
                fs.writeFileSync(file, JSON.stringify(value));
                return file;
            };
            const base = {
                "baseline-apparmor": { platform: "kubernetes" },
                "baseline-approved-registries": { approvedRegistries: ["quay.io/agent-security"] },
                "baseline-kata-runtime": { profile: "prod" },
                "baseline-prod-tool-flags": { profile: "prod" },
            };
            assert.strictEqual(loadSettings(write("ok.json", base)).profile, "prod");
            assert.match(inputError(() => loadSettings(write("all.json", { ...base, all: "advisory" }))).message, /cannot be lowered/);
            assert.match(
                inputError(() => loadSettings(write("off.json", { ...base, "baseline-seccomp": { enforcementLevel: "disabled" } }))).message,
                /cannot be lowered/,
            );
            assert.match(
                inputError(() => loadSettings(write("split.json", { ...base, "baseline-prod-tool-flags": { profile: "local" } }))).message,
                /disagree on profile/,
            );
            assert.match(inputError(() => loadSettings(write("typo.json", { profile: "prod", platfrom: "kubernetes" }))).message, /unknown key "platfrom"/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
