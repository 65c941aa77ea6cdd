// The Falco responder (responder/): the service that answers falcosidekick's webhook with
// automated response under a per-identity circuit breaker. This component deploys it hardened,
// two replicas behind a PodDisruptionBudget, reachable from falcosidekick only, with a Role per
// agent namespace, and creates the shared webhook token (RandomPassword) both sides read as a file.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Action, Mode } from "../../responder/src/settings";
import { limitRangeSpec, resourceQuotaSpec } from "../baseline/quota";
import type { Platform } from "../wellKnown";
import { MANAGED_BY_LABELS } from "../wellKnown";
import {
    QUARANTINE_POLICY,
    RESPONDER_NAME,
    RESPONDER_PORT,
    RESPONDER_RESOURCES,
    RESPONDER_SETTINGS_CONFIGMAP,
    RESPONDER_TOKEN_SECRET,
    agentNamespaceRules,
    defaultDenyPolicy,
    falcosidekickAuthConfig,
    quarantinePolicy,
    responderLabels,
    responderNetworkPolicy,
    responderPodSpec,
    responderSelector,
    responderSettings,
    responderWebhookUrl,
    stateNamespaceRules,
} from "./manifests";
import type { ResponderAgent } from "./manifests";

export * from "./manifests";

export interface FalcoResponderArgs {
    readonly platform: Platform;
    /** The platform namespace: the responder, its state ConfigMaps and the audit ConfigMap live here. */
    readonly namespace: string;
    readonly auditConfigMap: string;
    readonly image: string;
    readonly replicas: number;
    /** record: decide and record only (ci); enforce: act (prod). */
    readonly mode: Mode;
    readonly trustDomain: string;
    readonly breaker: { readonly maxRecycles: number; readonly windowSeconds: number };
    readonly actions: { readonly rules: Readonly<Record<string, Action>>; readonly priorities: Readonly<Partial<Record<string, Action>>>; readonly default: Action };
    readonly agents: readonly ResponderAgent[];
}

export class FalcoResponder extends pulumi.ComponentResource {
    /** The URL falcosidekick's webhook output posts to. */
    public readonly webhookUrl: string;
    /** The shared webhook token; secret. */
    public readonly webhookToken: pulumi.Output<string>;
    /** falcosidekick's config file with the Authorization header; secret. */
    public readonly falcosidekickConfigFile: pulumi.Output<string>;

    constructor(name: string, args: FalcoResponderArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:response:FalcoResponder", name, {}, opts);
        const child: pulumi.CustomResourceOptions = { parent: this };
        const labels = { ...MANAGED_BY_LABELS, ...responderLabels() };
        const meta = (resourceName: string, namespace = args.namespace) => ({ name: resourceName, namespace, labels });
        this.webhookUrl = responderWebhookUrl(args.namespace);

        // No special characters: the token travels in an HTTP header and a YAML string.
        const token = new random.RandomPassword(`${name}-webhook-token`, { length: 48, special: false }, child);
        this.webhookToken = pulumi.secret(token.result);
        this.falcosidekickConfigFile = pulumi.secret(token.result.apply(falcosidekickAuthConfig));

        // RandomPassword.result is secret, and the SDK marks a Secret's stringData secret anyway.
        const secret = new k8s.core.v1.Secret(`${name}-webhook-token`, { metadata: meta(RESPONDER_TOKEN_SECRET), type: "Opaque", stringData: { token: this.webhookToken } }, child);
        const settings = new k8s.core.v1.ConfigMap(
            `${name}-settings`,
            {
                metadata: meta(RESPONDER_SETTINGS_CONFIGMAP),
                data: {
                    "settings.json": `${JSON.stringify(
                        responderSettings({
                            mode: args.mode,
                            trustDomain: args.trustDomain,
                            namespace: args.namespace,
                            auditConfigMap: args.auditConfigMap,
                            breaker: args.breaker,
                            actions: args.actions,
                            agents: args.agents,
                        }),
                        null,
                        2,
                    )}\n`,
                },
            },
            child,
        );

        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(RESPONDER_NAME), automountServiceAccountToken: false }, child);
        const subjects = [{ kind: "ServiceAccount", name: RESPONDER_NAME, namespace: args.namespace }];
        const stateRole = new k8s.rbac.v1.Role(`${name}-state`, { metadata: meta(RESPONDER_NAME), rules: stateNamespaceRules(args.agents, args.auditConfigMap) }, child);
        new k8s.rbac.v1.RoleBinding(
            `${name}-state`,
            { metadata: meta(RESPONDER_NAME), roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: RESPONDER_NAME }, subjects },
            { ...child, dependsOn: [stateRole] },
        );
        for (const namespace of [...new Set(args.agents.map((agent) => agent.namespace))].sort()) {
            const role = new k8s.rbac.v1.Role(`${name}-${namespace}`, { metadata: meta(RESPONDER_NAME, namespace), rules: agentNamespaceRules() }, child);
            new k8s.rbac.v1.RoleBinding(
                `${name}-${namespace}`,
                { metadata: meta(RESPONDER_NAME, namespace), roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: RESPONDER_NAME }, subjects },
                { ...child, dependsOn: [role] },
            );
            new k8s.networking.v1.NetworkPolicy(`${name}-${namespace}-quarantine`, { metadata: meta(QUARANTINE_POLICY, namespace), spec: quarantinePolicy() }, child);
        }

        // The platform namespace gets the guards the baseline asks of any namespace a workload
        // lands in: default deny, container defaults, a quota sized for the responder's rollout.
        new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, { metadata: meta("default-deny"), spec: defaultDenyPolicy() }, child);
        new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, { metadata: meta(RESPONDER_NAME), spec: responderNetworkPolicy() }, child);
        const cpuMillis = Number(RESPONDER_RESOURCES.limits.cpu) * 1000;
        const memoryBytes = 256 * 2 ** 20;
        const quota = { workloads: [{ name: RESPONDER_NAME, replicas: args.replicas, cpuMillis, memoryBytes }], mesh: false, kata: false };
        new k8s.core.v1.LimitRange(`${name}-limits`, { metadata: meta("agent-security-limits"), spec: limitRangeSpec(quota) }, child);
        new k8s.core.v1.ResourceQuota(`${name}-quota`, { metadata: meta("agent-security-quota"), spec: resourceQuotaSpec(quota) }, child);

        const podLabels = { ...responderLabels() };
        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: meta(RESPONDER_NAME),
                spec: {
                    replicas: args.replicas,
                    revisionHistoryLimit: 3,
                    selector: { matchLabels: responderSelector() },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    template: {
                        metadata: { labels: podLabels },
                        spec: responderPodSpec({ platform: args.platform, image: args.image, serviceAccountName: RESPONDER_NAME }),
                    },
                },
            },
            { ...child, dependsOn: [serviceAccount, secret, settings] },
        );
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: meta(RESPONDER_NAME), spec: { minAvailable: 1, selector: { matchLabels: responderSelector() } } }, child);
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: meta(RESPONDER_NAME),
                spec: { selector: responderSelector(), ports: [{ name: "webhook", port: RESPONDER_PORT, targetPort: RESPONDER_PORT, protocol: "TCP" }] },
            },
            child,
        );

        this.registerOutputs({ webhookUrl: this.webhookUrl });
    }
}
