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
import { agentTargets, ensureQuotaStatus, setDaemonSetReadiness, skipWithoutCluster, standInDaemonSet, waitForBaselinePolicies } from "./support";
import { REPO_ROOT, applyAll, crdsFor, installCrds, renderStack, writeStackFile } from "./stack";

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

describe("npm run probe on the real API server (prod-shaped stack on kubernetes, fail-closed on)", function () {
    this.timeout(600_000);
    let cluster: Cluster;
    let dir: string;

    const runProbe = (): { status: number | null; probes: ProbeLine[]; stderr: string } => {
        const result = spawnSync(
            process.execPath,
            [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(REPO_ROOT, "cli", "probe.ts"), "--stack", "prod", "--project", dir, "--kubeconfig", cluster.kubeconfigPath, "--outputs", path.join(dir, "outputs.json"), "--format", "json"],
            { cwd: REPO_ROOT, encoding: "utf8", timeout: 300_000 },
        );
        return { status: result.status, probes: result.status === 2 ? [] : (JSON.parse(result.stdout) as { probes: ProbeLine[] }).probes, stderr: result.stderr };
    };

    before(async function () {
        skipWithoutCluster(this);
        // A generated stack file in a temp dir: the committed Pulumi.prod.yaml is never edited.
        const raw = { ...readStackConfig("prod"), platform: "kubernetes" };
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-probe-prod-"));
        writeStackFile(dir, "prod", raw);
        const rendered = await renderStack("prod", raw);
        fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(rendered.run.outputs));
        cluster = await startCluster();
        await installCrds(cluster.client, crdsFor(rendered.manifests));
        assert.deepStrictEqual((await applyAll(cluster.client, rendered.manifests)).filter((result) => result.error), []);
        await cluster.client.apply({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: "kata" }, handler: "kata", overhead: { podFixed: { cpu: "250m", memory: "350Mi" } } });
        for (const [namespace, name] of [["falco", "falco"], ["kube-system", "cilium"]] as const) {
            await cluster.client.apply(standInDaemonSet(namespace, name));
            await setDaemonSetReadiness(cluster.client, namespace, name, 3, 3);
        }
        for (const agent of rendered.run.outputs.agents) await ensureQuotaStatus(cluster.client, agent.namespace, cluster.pids.controllerManager !== undefined);
        await waitForBaselinePolicies(cluster.client, agentTargets(rendered.manifests, rendered.run.outputs.agents).map((target) => target.pod));
    });

    after(async () => {
        await cluster?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("expects agent pods admitted while Falco and Cilium are ready, refused while Falco is not, and reports runtime detection as not testable", async () => {
        const ready = runProbe();
        assert.strictEqual(ready.status, 0, ready.stderr);
        const failClosed = ready.probes.filter((line) => line.layer === "fail-closed");
        assert.deepStrictEqual(failClosed.map((line) => [line.target, line.expected, line.observed, line.result]), [
            ["falco/falco", "admitted", "admitted", "held"],
            ["kube-system/cilium", "admitted", "admitted", "held"],
        ]);
        assert.ok(ready.probes.some((line) => line.layer === "runtime" && line.result === "not-testable"));

        await setDaemonSetReadiness(cluster.client, "falco", "falco", 2, 3);
        const degraded = runProbe();
        assert.strictEqual(degraded.status, 0, degraded.stderr);
        const falco = degraded.probes.find((line) => line.layer === "fail-closed" && line.target === "falco/falco");
        assert.deepStrictEqual([falco?.expected, falco?.observed, falco?.refusedBy, falco?.result], ["refused", "refused", "ValidatingAdmissionPolicy agent-security-require-falco-ready", "held"]);
        await setDaemonSetReadiness(cluster.client, "falco", "falco", 3, 3);
    });

    it("exits 1 when a fail-closed binding the stack promises is gone", async () => {
        await cluster.client.delete("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", undefined, "agent-security-require-cilium-ready");
        const run = runProbe();
        assert.strictEqual(run.status, 1, run.stderr);
        assert.ok(run.probes.some((line) => line.layer === "fail-closed" && line.result === "broken" && line.observed === "policy present, binding absent"));
    });
});
