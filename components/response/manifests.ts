// Pure builders of the Falco responder's objects (design.md section 6, response). The component
// (index.ts) only wraps them in Kubernetes resources, so the tests assert them without Pulumi.
//
// Facts that shaped them:
// - The pod keeps `automountServiceAccountToken: false` (baseline) and mounts an explicitly
//   projected API token plus the cluster CA from the `kube-root-ca.crt` ConfigMap every namespace
//   gets (Kubernetes >= 1.20, OpenShift too), at the paths the in-cluster client reads.
// - NetworkPolicy cannot name the API server: it is host-network on most distributions and reached
//   through the `kubernetes` Service's DNAT, which CNIs match differently. The egress allow is
//   therefore bound to the API server ports (443, 6443) and the responder is the only client in
//   its pod. Ingress is from falcosidekick's pods only, on the webhook port.
// - RBAC: one Role per agent namespace with exactly the verbs the actions use; the state
//   ConfigMaps are named per identity, so get/update are limited to those names (create cannot be
//   limited by name in RBAC); the audit ConfigMap is patch-only by name. No ClusterRole.
import type * as k8s from "@pulumi/kubernetes";
import type { ResponderSettings } from "../../responder/src/settings";
import type { Action, Mode } from "../../responder/src/settings";
import { AGENT_SPIFFE_LABEL, QUARANTINE_LABEL, breakerStateName } from "../../responder/src/identity";
import { hardenedContainer, hardenedPodSpec, SECRET_FILE_MODE } from "../baseline/hardening";
import type { PodSpec } from "../baseline/types";
import type { Platform } from "../wellKnown";
import { FALCO_NAMESPACE } from "../wellKnown";
import { FALCOSIDEKICK_RELEASE } from "../runtime/values";

export const RESPONDER_NAME = "falco-responder";
export const RESPONDER_PORT = 8080;
export const WEBHOOK_PATH = "/falco";
/** The Secret (platform namespace) holding the webhook token as the file `token`. */
export const RESPONDER_TOKEN_SECRET = "falco-responder-webhook";
export const RESPONDER_SETTINGS_CONFIGMAP = "falco-responder-settings";
/** The Secret (falco namespace) holding falcosidekick's config file with the Authorization header. */
export const FALCOSIDEKICK_AUTH_SECRET = "falcosidekick-webhook-auth";
/** The deny-all NetworkPolicy in each agent namespace that isolates quarantined pods. */
export const QUARANTINE_POLICY = "agent-security-quarantine";

const SETTINGS_DIR = "/etc/falco-responder";
const TOKEN_DIR = "/var/run/secrets/falco-responder";
const API_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Projected API token lifetime: the kubelet refreshes it at 80 %, the client re-reads it each minute. */
export const API_TOKEN_SECONDS = 3600;

export const RESPONDER_RESOURCES = { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } } as const;

export function responderLabels(): Record<string, string> {
    return { "app.kubernetes.io/name": RESPONDER_NAME, "app.kubernetes.io/part-of": "agent-security", "app.kubernetes.io/component": "response" };
}

export function responderSelector(): Record<string, string> {
    return { "app.kubernetes.io/name": RESPONDER_NAME };
}

/** The in-cluster URL falcosidekick posts to. */
export function responderWebhookUrl(namespace: string): string {
    return `http://${RESPONDER_NAME}.${namespace}.svc.cluster.local:${RESPONDER_PORT}${WEBHOOK_PATH}`;
}

export interface ResponderAgent {
    readonly name: string;
    readonly namespace: string;
    readonly serviceAccount: string;
    readonly deployment: string;
}

export interface ResponderSettingsInput {
    readonly mode: Mode;
    readonly trustDomain: string;
    readonly namespace: string;
    readonly auditConfigMap: string;
    readonly breaker: { readonly maxRecycles: number; readonly windowSeconds: number };
    readonly actions: { readonly rules: Readonly<Record<string, Action>>; readonly priorities: Readonly<Partial<Record<string, Action>>>; readonly default: Action };
    readonly agents: readonly ResponderAgent[];
}

/** settings.json of the responder; sorted so the ConfigMap only changes when config does. */
export function responderSettings(input: ResponderSettingsInput): ResponderSettings {
    const sortedRecord = <T>(record: Readonly<Record<string, T | undefined>>): Record<string, T> =>
        Object.fromEntries(Object.entries(record).filter((entry): entry is [string, T] => entry[1] !== undefined).sort(([a], [b]) => a.localeCompare(b)));
    return {
        mode: input.mode,
        trustDomain: input.trustDomain,
        stateNamespace: input.namespace,
        auditConfigMap: input.auditConfigMap,
        breaker: { maxRecycles: input.breaker.maxRecycles, windowSeconds: input.breaker.windowSeconds },
        actions: { rules: sortedRecord(input.actions.rules), priorities: sortedRecord(input.actions.priorities), default: input.actions.default },
        agents: [...input.agents]
            .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
            .map((agent) => ({ namespace: agent.namespace, name: agent.name, serviceAccount: agent.serviceAccount, deployment: agent.deployment })),
        maxBodyBytes: 64 * 1024,
    };
}

export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/** The Role in each agent namespace: exactly the calls of responder/src/kube.ts. */
export function agentNamespaceRules(): PolicyRule[] {
    return [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "delete", "patch"] },
        { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ];
}

/** The Role in the platform namespace: its own state ConfigMaps and the audit record. */
export function stateNamespaceRules(agents: readonly ResponderAgent[], auditConfigMap: string): PolicyRule[] {
    const stateNames = [...new Set(agents.map((agent) => breakerStateName(agent.namespace, agent.serviceAccount)))].sort();
    const rules: PolicyRule[] = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["create"] }];
    if (stateNames.length > 0) rules.push({ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "update"], resourceNames: stateNames });
    rules.push({ apiGroups: [""], resources: ["configmaps"], verbs: ["patch"], resourceNames: [auditConfigMap] });
    return rules;
}

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Ingress from falcosidekick only; egress to the API server ports only. */
export function responderNetworkPolicy(): NetworkPolicySpec {
    return {
        podSelector: { matchLabels: responderSelector() },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
            {
                from: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": FALCO_NAMESPACE } },
                        podSelector: { matchLabels: { "app.kubernetes.io/name": FALCOSIDEKICK_RELEASE } },
                    },
                ],
                ports: [{ protocol: "TCP", port: RESPONDER_PORT }],
            },
        ],
        egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }] }],
    };
}

/**
 * Quarantine in an agent namespace: selects pods the responder labelled and allows nothing. Policies
 * are additive, so this isolates a pod only from traffic no other policy of the namespace allows;
 * the responder therefore also scales the Deployment to zero (see README, "Automated response").
 */
export function quarantinePolicy(): NetworkPolicySpec {
    return { podSelector: { matchLabels: { [QUARANTINE_LABEL]: "true" } }, policyTypes: ["Ingress", "Egress"] };
}

/** The namespace-wide default deny the baseline asks of every namespace a workload lands in. */
export function defaultDenyPolicy(): NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

export interface ResponderPodInput {
    readonly platform: Platform;
    readonly image: string;
    readonly serviceAccountName: string;
}

/** The responder pod: the baseline's hardened builders, plus the projected API credentials. */
export function responderPodSpec(input: ResponderPodInput): k8s.types.input.core.v1.PodSpec {
    const container = hardenedContainer(input.platform, {
        name: RESPONDER_NAME,
        image: input.image,
        ports: [{ name: "webhook", containerPort: RESPONDER_PORT, protocol: "TCP" }],
        env: [
            // Paths and the listen address only; the token is a file (design.md section 2).
            { name: "RESPONDER_SETTINGS_FILE", value: `${SETTINGS_DIR}/settings.json` },
            { name: "RESPONDER_TOKEN_FILE", value: `${TOKEN_DIR}/token` },
            { name: "RESPONDER_LISTEN", value: `0.0.0.0:${RESPONDER_PORT}` },
        ],
        volumeMounts: [
            { name: "settings", mountPath: SETTINGS_DIR, readOnly: true },
            { name: "webhook-token", mountPath: TOKEN_DIR, readOnly: true },
            { name: "api-token", mountPath: API_DIR, readOnly: true },
        ],
        resources: { requests: { ...RESPONDER_RESOURCES.requests }, limits: { ...RESPONDER_RESOURCES.limits } },
    });
    const spec: PodSpec = hardenedPodSpec(input.platform, {
        serviceAccountName: input.serviceAccountName,
        containers: [container],
        volumes: [
            { name: "settings", configMap: { name: RESPONDER_SETTINGS_CONFIGMAP, defaultMode: 0o444, optional: false } },
            {
                name: "webhook-token",
                secret: { secretName: RESPONDER_TOKEN_SECRET, defaultMode: SECRET_FILE_MODE, items: [{ key: "token", path: "token", mode: SECRET_FILE_MODE }], optional: false },
            },
            // Placeholder the builder validates the mount against; replaced below.
            { name: "api-token", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
        ],
    });
    return {
        ...spec,
        containers: spec.containers.map((c) => ({
            ...c,
            readinessProbe: { httpGet: { path: "/readyz", port: RESPONDER_PORT }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: "/healthz", port: RESPONDER_PORT }, periodSeconds: 10 },
        })),
        // The baseline's Volume type only knows audience-bound tokens for other services; the API
        // server's own token takes the default audience, so this volume is written out here.
        volumes: spec.volumes.map((volume) => (volume.name === "api-token" ? apiTokenVolume() : volume)),
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: responderSelector() } } },
                ],
            },
        },
    };
}

function apiTokenVolume(): k8s.types.input.core.v1.Volume {
    return {
        name: "api-token",
        projected: {
            defaultMode: SECRET_FILE_MODE,
            sources: [
                { serviceAccountToken: { path: "token", expirationSeconds: API_TOKEN_SECONDS } },
                { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt", mode: 0o444 }] } },
            ],
        },
    };
}

/**
 * falcosidekick's config file carrying the webhook's Authorization header. falcosidekick reads it
 * with `-c` (chart `config.extraArgs`); the chart's own env var WEBHOOK_CUSTOMHEADERS is empty, and
 * an empty value neither overrides the file in viper nor adds headers in falcosidekick's own parser
 * (falcosecurity/falcosidekick config.go), so the token never sits in an environment variable.
 */
export function falcosidekickAuthConfig(token: string): string {
    return `webhook:\n  customheaders:\n    Authorization: "Bearer ${token}"\n`;
}

export { AGENT_SPIFFE_LABEL, QUARANTINE_LABEL };
