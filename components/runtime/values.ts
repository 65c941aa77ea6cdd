// Helm values for the falco and falcosidekick charts. Pure, so the tests assert them directly.
// Keys and defaults: ../shared/crds/falco/helm/falco/values.yaml (chart 9.1.0, Falco 0.44.1) and
// ../shared/crds/falco/helm/falcosidekick/values.yaml (chart 0.14.0).
import { FALCO_NAMESPACE } from "../wellKnown";
import type { HelmValues } from "../charts";
import type { Platform } from "../wellKnown";

export const FALCO_RELEASE = "falco";
export const FALCOSIDEKICK_RELEASE = "falcosidekick";
/** The falcosidekick chart's Service port (`service.port`). */
export const FALCOSIDEKICK_PORT = 2801;

/**
 * Where Falco posts its alerts. falcosidekick runs as its own release (not the falco chart's
 * bundled subchart, which is pinned to the range `0.12.*` and so resolves to whatever the repository
 * index offers at install time); the release name equals the chart name, so its fullname, and the
 * Service, is `falcosidekick`.
 */
export const FALCOSIDEKICK_URL = `http://${FALCOSIDEKICK_RELEASE}.${FALCO_NAMESPACE}.svc.cluster.local:${FALCOSIDEKICK_PORT}/`;

export interface FalcoValuesInput {
    readonly platform: Platform;
    readonly rulesFileName: string;
    readonly rulesText: string;
}

export function falcoValues(input: FalcoValuesInput): HelmValues {
    return {
        driver: {
            enabled: true,
            kind: "modern_ebpf",
            // Least-privileged mode (capabilities instead of privileged) is not used: BPF from a
            // non-privileged container is refused by SELinux on RHCOS unless the pod runs as spc_t,
            // and the chart cannot express that portably. The privileged DaemonSet is confined to
            // the `falco` namespace (PSA privileged, policy-pack exemption by namespace + name).
            modernEbpf: { leastPrivileged: false },
        },
        // The container plugin supplies k8s.pod.label[...] from the CRI; the k8smeta collector (an
        // extra Deployment with cluster-wide read access) is not needed for the agent rules.
        collectors: { enabled: true, containerEngine: { enabled: true }, kubernetes: { enabled: false } },
        customRules: { [input.rulesFileName]: input.rulesText },
        // OpenShift: the chart's SCC is what lets the privileged DaemonSet run. Elsewhere there is no
        // SCC API, so say so instead of relying on the chart's capability probe.
        scc: { create: input.platform === "openshift" },
        // falcosidekick is a separate, pinned release (FALCOSIDEKICK_URL); the subchart stays off.
        falcosidekick: { enabled: false },
        // Automated response (Falco Talon) stays off until a rate-limited responder with the circuit
        // breaker of the security-tooling design exists; an attacker who can trigger rules could
        // otherwise force-recycle healthy agents.
        responseActions: { enabled: false },
        falco: {
            // The agent rules load first: with `rule_matching: first` only the first matching rule
            // fires, and the default ruleset's generic rules (e.g. "Terminal shell in container")
            // would otherwise shadow the agent-specific ones for the same event.
            rules_files: ["/etc/falco/rules.d", "/etc/falco/falco_rules.yaml", "/etc/falco/falco_rules.local.yaml"],
            rule_matching: "first",
            json_output: true,
            json_include_output_property: true,
            json_include_tags_property: true,
            http_output: { enabled: true, url: FALCOSIDEKICK_URL },
        },
    };
}

export interface FalcosidekickValuesInput {
    readonly platform: Platform;
    readonly webhookUrl?: string;
    readonly minimumPriority: string;
    /**
     * A Secret in the falco namespace with the key `config.yaml`: falcosidekick's config file
     * carrying the webhook's `Authorization: Bearer <token>` header (components/response).
     */
    readonly webhookAuthSecret?: string;
}

/** Where falcosidekick reads its config file with the webhook's Authorization header. */
export const FALCOSIDEKICK_AUTH_DIR = "/etc/falcosidekick/webhook-auth";

/**
 * The webhook token as a file, never an env var: the chart renders its `config.*` into a Secret
 * consumed with `envFrom` (templates/deployment.yaml), so `config.webhook.customHeaders` would put
 * the token in the environment. falcosidekick also reads a config file given with `-c`
 * (config.go); the chart passes `config.extraArgs` as the container args and mounts
 * `extraVolumes`. The chart's WEBHOOK_CUSTOMHEADERS stays empty, which leaves the file's headers in
 * place. The file is 0400 on a secret volume (tmpfs); falcosidekick reads it at start, so a new
 * token takes a rollout of falcosidekick.
 */
export function falcosidekickAuthValues(secretName: string | undefined): HelmValues {
    if (!secretName) return {};
    return {
        extraVolumes: [
            {
                name: "webhook-auth",
                secret: { secretName, defaultMode: 0o400, items: [{ key: "config.yaml", path: "config.yaml", mode: 0o400 }], optional: false },
            },
        ],
        extraVolumeMounts: [{ name: "webhook-auth", mountPath: FALCOSIDEKICK_AUTH_DIR, readOnly: true }],
    };
}

export function falcosidekickValues(input: FalcosidekickValuesInput): HelmValues {
    // The chart pins runAsUser/fsGroup 1234, which OpenShift's restricted-v2 SCC refuses (UIDs come
    // from the namespace range); null removes a chart default in Helm's value merge.
    const podSecurityContext: HelmValues =
        input.platform === "openshift"
            ? { runAsUser: null, fsGroup: null, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }
            : { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
    return {
        replicaCount: 2,
        podSecurityContext,
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
        },
        ...falcosidekickAuthValues(input.webhookAuthSecret),
        config: {
            ...(input.webhookAuthSecret ? { extraArgs: ["-c", `${FALCOSIDEKICK_AUTH_DIR}/config.yaml`] } : {}),
            // An empty address leaves the webhook output disabled (chart values.yaml); Falco still
            // logs every alert to stdout and falcosidekick still counts them for Prometheus.
            webhook: {
                address: input.webhookUrl ?? "",
                method: "POST",
                minimumpriority: input.minimumPriority,
                checkcert: true,
            },
        },
        webui: { enabled: false },
    };
}
