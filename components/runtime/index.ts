import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartPin } from "../../config/schema";
import { FALCO_NAMESPACE, MANAGED_BY_LABELS } from "../wellKnown";
import type { Platform } from "../wellKnown";
import { chartSource } from "../charts";
import { FALCO_RULES_FILE, renderFalcoRules } from "./rules";
import { FALCOSIDEKICK_RELEASE, FALCO_RELEASE, falcoValues, falcosidekickValues } from "./values";

export interface RuntimeAgent {
    readonly name: string;
    readonly namespace: string;
    readonly egressHosts: readonly string[];
    /** Falco on the host cannot see syscalls inside a Kata guest (falco#1413). */
    readonly kata: boolean;
}

export interface FalcoArgs {
    readonly platform: Platform;
    readonly charts: { readonly falco: ChartPin; readonly falcosidekick: ChartPin };
    readonly webhookUrl?: string;
    readonly minimumPriority: string;
    readonly agents: readonly RuntimeAgent[];
    /** falcosidekick's webhook authentication: the config file text (with the bearer token) for a Secret in the falco namespace. */
    readonly webhookAuth?: { readonly secretName: string; readonly configFile: pulumi.Input<string> };
}

export interface FalcoCoverage {
    readonly covered: readonly string[];
    readonly notCovered: readonly string[];
}

/** Which agents a host Falco can observe: everything except Kata guests (falcosecurity/falco#1413). */
export function falcoCoverage(agents: readonly RuntimeAgent[]): FalcoCoverage {
    return {
        covered: agents.filter((agent) => !agent.kata).map((agent) => agent.name),
        notCovered: agents.filter((agent) => agent.kata).map((agent) => agent.name),
    };
}

// Falco (modern eBPF) with the agent rules, and falcosidekick fanning alerts out to the webhook.
export class Falco extends pulumi.ComponentResource {
    public readonly coverage: FalcoCoverage;
    /** The generated rules file, as loaded from /etc/falco/rules.d. */
    public readonly rulesText: string;

    constructor(name: string, args: FalcoArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-security:runtime:Falco", name, {}, opts);
        this.coverage = falcoCoverage(args.agents);
        this.rulesText = renderFalcoRules({ agents: args.agents });

        // The Falco DaemonSet is privileged with host mounts: its namespace cannot be `restricted`.
        // On OpenShift the label syncer would otherwise rewrite the PSA labels from the SCCs.
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: FALCO_NAMESPACE,
                    labels: {
                        ...MANAGED_BY_LABELS,
                        "pod-security.kubernetes.io/enforce": "privileged",
                        ...(args.platform === "openshift" ? { "security.openshift.io/scc.podSecurityLabelSync": "false" } : {}),
                    },
                },
            },
            { parent: this },
        );

        // The Secret must exist before falcosidekick's pods mount it, so it is created here, in the
        // namespace this component owns, and the chart waits for it.
        const webhookAuth = args.webhookAuth
            ? new k8s.core.v1.Secret(
                  `${name}-webhook-auth`,
                  {
                      metadata: { name: args.webhookAuth.secretName, namespace: FALCO_NAMESPACE, labels: { ...MANAGED_BY_LABELS } },
                      type: "Opaque",
                      stringData: { "config.yaml": pulumi.secret(args.webhookAuth.configFile) },
                  },
                  { parent: this, dependsOn: [namespace] },
              )
            : undefined;

        new k8s.helm.v4.Chart(
            `${name}-falcosidekick`,
            {
                name: FALCOSIDEKICK_RELEASE,
                ...chartSource(args.charts.falcosidekick),
                version: args.charts.falcosidekick.version,
                namespace: FALCO_NAMESPACE,
                values: falcosidekickValues({
                    platform: args.platform,
                    webhookUrl: args.webhookUrl,
                    minimumPriority: args.minimumPriority,
                    webhookAuthSecret: args.webhookAuth?.secretName,
                }),
            },
            { parent: this, dependsOn: webhookAuth ? [namespace, webhookAuth] : [namespace] },
        );

        new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                name: FALCO_RELEASE,
                ...chartSource(args.charts.falco),
                version: args.charts.falco.version,
                namespace: FALCO_NAMESPACE,
                values: falcoValues({ platform: args.platform, rulesFileName: FALCO_RULES_FILE, rulesText: this.rulesText }),
            },
            { parent: this, dependsOn: [namespace] },
        );

        this.registerOutputs({ coverage: this.coverage });
    }
}
