// Benchmark of `npm run check` (design.md section 10: over 10,000 resources per second).
// Generates 10,000 resources in memory (every pod-bearing kind, Patch resources, namespace
// isolation objects, unrelated kinds; about one in eight workloads violating a rule) and
// prints figures. It asserts nothing.

import { performance } from "perf_hooks";
import { stringify } from "yaml";
import { parseManifests, toResources } from "../cli/check";
import type { PackSettings } from "../policy-pack/checks/settings";
import { typeTokenOf } from "../policy-pack/checks/workload";
import { evaluate, OfflineResource } from "../policy-pack/evaluate";

const TOTAL = 10_000;
const NAMESPACES = 100;

const SETTINGS: PackSettings = {
    profile: "prod",
    platform: "kubernetes",
    approvedRegistries: ["registry.redhat.io", "quay.io/agent-security", "ghcr.io/spiffe"],
    kataRuntimeClasses: ["kata"],
    auditNamespace: "agent-security",
};

type Doc = Record<string, unknown>;

function hardened(name: string, image: string): Doc {
    return {
        name,
        image,
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        resources: { limits: { cpu: "500m", memory: "256Mi" } },
    };
}

function podTemplate(i: number, violating: boolean): Doc {
    const agent = hardened("agent", violating && i % 3 === 0 ? "nginx:latest" : "quay.io/agent-security/agent:1.0.0");
    if (violating && i % 3 === 1) {
        (agent.securityContext as Doc).privileged = true;
    }
    if (violating && i % 3 === 2) {
        agent.env = [{ name: "KEY", valueFrom: { secretKeyRef: { name: "k", key: "k" } } }];
    }
    return {
        metadata: { labels: { app: `agent-${i}`, "agent-security.io/role": "agent" } },
        spec: {
            automountServiceAccountToken: false,
            runtimeClassName: "kata",
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, appArmorProfile: { type: "RuntimeDefault" } },
            initContainers: [hardened("setup", "quay.io/agent-security/setup:1.0.0")],
            containers: [
                { ...agent, volumeMounts: [{ name: "svid", mountPath: "/svid", readOnly: true }] },
                {
                    ...hardened("spiffe-helper", "ghcr.io/spiffe/spiffe-helper:0.10.0"),
                    volumeMounts: [
                        { name: "spiffe", mountPath: "/spiffe" },
                        { name: "svid", mountPath: "/svid" },
                    ],
                },
            ],
            volumes: [
                { name: "spiffe", csi: { driver: "csi.spiffe.io", readOnly: true } },
                { name: "svid", emptyDir: { medium: "Memory" } },
                { name: "creds", secret: { secretName: "creds", defaultMode: 256 } },
            ],
        },
    };
}

function workload(i: number, namespace: string): Doc {
    const violating = i % 8 === 0;
    const metadata = { name: `w-${i}`, namespace };
    const template = podTemplate(i, violating);
    switch (i % 9) {
        case 0:
            return { apiVersion: "v1", kind: "Pod", metadata: { ...metadata, ...(template.metadata as Doc) }, spec: template.spec };
        case 1:
            return { apiVersion: "apps/v1", kind: "StatefulSet", metadata, spec: { serviceName: metadata.name, template } };
        case 2:
            return { apiVersion: "apps/v1", kind: "DaemonSet", metadata, spec: { template } };
        case 3:
            return { apiVersion: "batch/v1", kind: "Job", metadata, spec: { template } };
        case 4:
            return { apiVersion: "batch/v1", kind: "CronJob", metadata, spec: { schedule: "@hourly", jobTemplate: { spec: { template } } } };
        case 5:
            return { apiVersion: "apps/v1", kind: "DeploymentPatch", metadata, spec: { template: { spec: { containers: [{ name: "agent", image: "quay.io/agent-security/agent:1.0.1" }] } } } };
        case 6:
            return { apiVersion: "v1", kind: "ConfigMap", metadata, data: { key: "value" } };
        case 7:
            return { apiVersion: "v1", kind: "Service", metadata, spec: { selector: { app: `agent-${i}` }, ports: [{ port: 80 }] } };
        default:
            return { apiVersion: "apps/v1", kind: "Deployment", metadata, spec: { template } };
    }
}

function isolation(namespace: string): Doc[] {
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { "pod-security.kubernetes.io/enforce": "restricted", "agent-security.io/agents": "true" } } },
        { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
        { apiVersion: "v1", kind: "LimitRange", metadata: { name: "limits", namespace }, spec: { limits: [{ type: "Container", default: { cpu: "1", memory: "1Gi" } }] } },
        { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "quota", namespace }, spec: { hard: { "limits.cpu": "64", "limits.memory": "128Gi" } } },
    ];
}

function generate(): Doc[] {
    const docs: Doc[] = [
        {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "agent-security-audit", namespace: "agent-security" },
            data: { profile: "prod", tools: JSON.stringify({ envoy: true, opa: true, cilium: true, kyverno: true, falco: true, kata: true }), emergencyOverride: "null" },
        },
    ];
    for (let n = 0; n < NAMESPACES; n++) {
        docs.push(...isolation(`agents-${n}`));
    }
    for (let i = 0; docs.length < TOTAL; i++) {
        docs.push(workload(i, `agents-${i % NAMESPACES}`));
    }
    return docs;
}

function resourcesOf(docs: readonly Doc[]): OfflineResource[] {
    return docs.map((doc, i) => {
        const type = typeTokenOf(doc.apiVersion as string, doc.kind as string);
        return { type, props: doc, urn: `urn:pulumi:bench::manifests::${type}::${i}`, name: String(i) };
    });
}

function rate(count: number, ms: number): string {
    return `${Math.round((count / ms) * 1000).toLocaleString("en-US")} resources/s`;
}

async function main(): Promise<void> {
    const docs = generate();
    const resources = resourcesOf(docs);
    const kinds = new Map<string, number>();
    for (const d of docs) {
        kinds.set(d.kind as string, (kinds.get(d.kind as string) ?? 0) + 1);
    }
    console.log(`check bench: ${resources.length} resources (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")})`);

    const runs: number[] = [];
    let findings = 0;
    for (let run = 0; run < 5; run++) {
        const start = performance.now();
        findings = (await evaluate(resources, SETTINGS)).length;
        runs.push(performance.now() - start);
    }
    const best = Math.min(...runs);
    console.log(`  evaluate (policies only): first run ${runs[0].toFixed(1)} ms (${rate(resources.length, runs[0])}), best of 5 ${best.toFixed(1)} ms (${rate(resources.length, best)}); ${findings} violations`);

    const text = docs.map((d) => stringify(d)).join("---\n");
    const start = performance.now();
    const loaded = parseManifests(text, "bench.yaml");
    const parsed = performance.now();
    const viaYaml = await evaluate(toResources(loaded.manifests), SETTINGS);
    const done = performance.now();
    console.log(
        `  parse YAML (${(text.length / 1024 / 1024).toFixed(1)} MiB) + evaluate: ${(done - start).toFixed(1)} ms (${rate(loaded.manifests.length, done - start)}; parse ${(parsed - start).toFixed(1)} ms); ${viaYaml.length} violations`,
    );
}

main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
});
