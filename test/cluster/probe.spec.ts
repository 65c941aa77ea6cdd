// `npm run probe` against the real API server with the ci stack applied: every promised admission
// control is reported held, what needs running pods (egress) or a running webhook (Kyverno) is
// reported not testable, never held, and removing a control (the namespace's PSA label) makes the
// probe say broken and exit 1. The CLI runs as a user runs it, in its own process.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProbeLine } from "../../cli/probe";
import { readStackConfig } from "../../cli/mockRuntime";
import { startCluster } from "./harness";
import type { Cluster } from "./harness";
import { agentTargets, ensureQuotaStatus, skipWithoutCluster, waitForBaselinePolicies } from "./support";
import { REPO_ROOT, applyAll, crdsFor, installCrds, renderStack } from "./stack";

interface ProbeRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

describe("npm run probe on the real API server (ci stack applied)", function () {
    this.timeout(600_000);
    let cluster: Cluster;
    let dir: string;
    let outputsFile: string;

    const runProbe = (...extra: string[]): ProbeRun => {
        const result = spawnSync(
            process.execPath,
            [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(REPO_ROOT, "cli", "probe.ts"), "--stack", "ci", "--kubeconfig", cluster.kubeconfigPath, "--outputs", outputsFile, ...extra],
            { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 },
        );
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    const probesOf = (run: ProbeRun): ProbeLine[] => (JSON.parse(run.stdout) as { probes: ProbeLine[] }).probes;

    before(async function () {
        skipWithoutCluster(this);
        const rendered = await renderStack("ci", readStackConfig("ci"));
        cluster = await startCluster();
        await installCrds(cluster.client, crdsFor(rendered.manifests));
        const applied = await applyAll(cluster.client, rendered.manifests);
        assert.deepStrictEqual(applied.filter((result) => result.error), []);
        for (const agent of rendered.run.outputs.agents) await ensureQuotaStatus(cluster.client, agent.namespace, cluster.pids.controllerManager !== undefined);
        await waitForBaselinePolicies(cluster.client, agentTargets(rendered.manifests, rendered.run.outputs.agents).map((target) => target.pod));
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-probe-"));
        // What `pulumi stack output --json` would print after `pulumi up`.
        outputsFile = path.join(dir, "outputs.json");
        fs.writeFileSync(outputsFile, JSON.stringify(rendered.run.outputs));
    });

    after(async () => {
        await cluster?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reports every promised control held, exits 0, and leaves nothing behind (dry runs only)", async () => {
        const podsBefore = await cluster.client.list("v1", "Pod", "fetch-agent");
        const run = runProbe("--format", "json");
        assert.strictEqual(run.status, 0, `${run.stdout}\n${run.stderr}`);
        const probes = probesOf(run);
        assert.deepStrictEqual(probes.filter((line) => line.result === "broken"), []);
        for (const namespace of ["fetch-agent", "currency-agent"]) {
            const held = probes.filter((line) => line.target === namespace && line.result === "held");
            const by = (attack: RegExp): string | null | undefined => held.find((line) => attack.test(line.attack))?.refusedBy;
            assert.strictEqual(by(/^privileged container/), "PodSecurity", namespace);
            assert.strictEqual(by(/^hostPath volume/), "PodSecurity", namespace);
            assert.strictEqual(by(/running as root/), "PodSecurity", namespace);
            assert.match(by(/^secret in an environment variable/) ?? "", /^ValidatingAdmissionPolicy agent-security-secrets-as-files-/, namespace);
            assert.strictEqual(by(/above the namespace LimitRange max/), "LimitRanger", namespace);
            assert.strictEqual(by(/above the namespace quota/), "ResourceQuota", namespace);
            assert.ok(held.some((line) => line.attack.startsWith("default-deny NetworkPolicy")), namespace);
            assert.ok(held.some((line) => line.attack.startsWith("the stack's own agent pod") && line.observed === "admitted"), namespace);
        }
        // Needs running pods or a running webhook: never reported as held.
        const untestable = probes.filter((line) => line.result === "not-testable").map((line) => line.layer);
        assert.deepStrictEqual([...new Set(untestable)].sort(), ["egress", "kyverno"]);
        assert.deepStrictEqual(await cluster.client.list("v1", "Pod", "fetch-agent"), podsBefore);
    });

    it("prints one human-readable line per probe with layer, attack, expected, observed and refused-by", () => {
        const run = runProbe();
        assert.strictEqual(run.status, 0, run.stderr);
        assert.match(run.stdout, /^RESULT\s+LAYER\s+TARGET\s+ATTACK\s+EXPECTED\s+OBSERVED\s+REFUSED BY$/m);
        assert.match(run.stdout, /^held\s+pod-security\s+fetch-agent\s+privileged container\s+refused \(PodSecurity restricted\)\s+refused\s+PodSecurity$/m);
        assert.match(run.stdout, /^not-testable\s+egress\s+fetch-agent\s+.*not testable without running pods/m);
        assert.match(run.stdout, /^summary: \d+ held, 0 broken, \d+ not testable here$/m);
    });

    it("exits 1 and names the broken control when an agent namespace loses its Pod Security label", async () => {
        await cluster.client.ok("PATCH", "/api/v1/namespaces/fetch-agent", { metadata: { labels: { "pod-security.kubernetes.io/enforce": null } } }, "application/merge-patch+json");
        try {
            const run = runProbe("--format", "json");
            assert.strictEqual(run.status, 1, run.stderr);
            const broken = probesOf(run).filter((line) => line.result === "broken");
            assert.ok(broken.some((line) => line.target === "fetch-agent" && line.attack === "namespace enforces Pod Security restricted"));
            const privileged = broken.find((line) => line.target === "fetch-agent" && line.attack === "privileged container");
            assert.strictEqual(privileged?.observed, "admitted");
            // The other namespace still holds.
            assert.ok(!broken.some((line) => line.target === "currency-agent"));
        } finally {
            await cluster.client.ok("PATCH", "/api/v1/namespaces/fetch-agent", { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } }, "application/merge-patch+json");
        }
    });

    it("exits 2 on a usage error", () => {
        const run = runProbe("--format", "yaml");
        assert.strictEqual(run.status, 2);
        assert.match(run.stderr, /--format must be text or json/);
    });
});
