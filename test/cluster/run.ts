// Starts or stops a throw-away cluster for another process (the real-engine tests, a person
// trying `npm run probe`): `start <dir>` leaves etcd, kube-apiserver [and kube-controller-manager]
// running on 127.0.0.1, writes <dir>/kubeconfig and <dir>/pids.json, prints the kubeconfig path
// and exits; `stop <dir>` stops them by PID (bounded); `crds <dir> <stack> [<project dir>]` installs
// from ../shared/crds (AGENT_SECURITY_CRDS) the CRDs of every custom kind the stack renders, as the
// cluster's operators would have, and waits until they are Established. Usually called through
// scripts/cluster.sh.
import * as path from "path";
import { KubeClient } from "../../cli/kube";
import { readStackConfig } from "../../cli/mockRuntime";
import { startCluster, stopClusterIn } from "./harness";
import { crdsFor, installCrds, renderStack } from "./stack";

const USAGE = "usage: ts-node test/cluster/run.ts start|stop <dir> | crds <dir> <stack> [<project dir with Pulumi.<stack>.yaml>]";

async function main(argv: readonly string[]): Promise<number> {
    const [command, dirArg, stack, project] = argv;
    if (command === "crds" && dirArg && stack) {
        const rendered = await renderStack(stack, readStackConfig(stack, project ? path.resolve(project) : undefined));
        const crds = crdsFor(rendered.manifests);
        const client = KubeClient.fromKubeconfig(path.join(path.resolve(dirArg), "kubeconfig"));
        try {
            await installCrds(client, crds);
        } finally {
            client.close();
        }
        process.stderr.write(`installed ${crds.length} CRDs for stack ${stack}: ${crds.map((crd) => crd.metadata.name).join(", ")}\n`);
        return 0;
    }
    if ((command !== "start" && command !== "stop") || !dirArg) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
    const workDir = path.resolve(dirArg);
    if (command === "stop") {
        await stopClusterIn(workDir);
        process.stderr.write(`cluster in ${workDir} stopped\n`);
        return 0;
    }
    const started = Date.now();
    const cluster = await startCluster({ workDir, detached: true });
    cluster.client.close();
    process.stderr.write(`cluster ready at ${cluster.server} in ${((Date.now() - started) / 1000).toFixed(1)} s; stop with: bash scripts/cluster.sh stop ${workDir}\n`);
    process.stdout.write(`${cluster.kubeconfigPath}\n`);
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
        process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    },
);
