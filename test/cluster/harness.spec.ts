// The harness itself: the control plane answers on 127.0.0.1 with the admin certificate only,
// reports the version it was built as, and stop() leaves no process and no files behind.
import * as assert from "assert";
import * as fs from "fs";
import * as https from "https";
import { startCluster } from "./harness";
import type { Cluster } from "./harness";
import { skipWithoutCluster } from "./support";

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe("cluster harness", function () {
    this.timeout(300_000);
    let cluster: Cluster | undefined;

    before(async function () {
        skipWithoutCluster(this);
        cluster = await startCluster();
    });

    after(async () => {
        await cluster?.stop();
    });

    it("serves /version as kube-apiserver v1.36.3 on 127.0.0.1", async () => {
        assert.ok(cluster);
        assert.match(cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
        const response = await cluster.request("GET", "/version");
        assert.strictEqual((response.body as { gitVersion?: string }).gitVersion, "v1.36.3");
    });

    it("refuses a request without the admin client certificate (401)", async () => {
        assert.ok(cluster);
        const status = await new Promise<number>((resolve, reject) => {
            const request = https.get(`${cluster?.server}/api/v1/namespaces`, { ca: cluster?.caPem }, (response) => {
                response.resume();
                resolve(response.statusCode ?? 0);
            });
            request.on("error", reject);
        });
        assert.strictEqual(status, 401);
    });

    it("stops every process by PID and removes its temp dir", async () => {
        assert.ok(cluster);
        const pids = [cluster.pids.etcd, cluster.pids.apiServer, cluster.pids.controllerManager].filter((pid): pid is number => pid !== undefined);
        assert.ok(pids.every(alive));
        await cluster.stop();
        assert.deepStrictEqual(pids.filter(alive), []);
        assert.ok(!fs.existsSync(cluster.workDir));
    });
});
