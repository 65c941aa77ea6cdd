// Pure builders for the mesh-wide Istio settings: the same mesh config goes into the Sail `Istio`
// patch (OpenShift) and the istiod chart values (Kubernetes), so both platforms enforce the same
// egress mode and talk to Authorino the same way.
import { AUTHORINO_AUTHZ_PORT, AUTHORINO_AUTHZ_SERVICE, EXT_AUTHZ_PROVIDER } from "../wellKnown";

export interface ExtAuthzGrpcProvider {
    readonly name: string;
    readonly envoyExtAuthzGrpc: {
        readonly service: string;
        readonly port: number;
        readonly timeout: string;
        readonly failOpen: false;
        readonly includeRequestBodyInCheck: {
            readonly maxRequestBytes: number;
            readonly allowPartialMessage: true;
            readonly packAsBytes: false;
        };
    };
}

export interface MeshConfig {
    readonly outboundTrafficPolicy: { readonly mode: "REGISTRY_ONLY" };
    readonly defaultConfig: { readonly holdApplicationUntilProxyStarts: true };
    readonly extensionProviders?: readonly ExtAuthzGrpcProvider[];
}

export interface MeshConfigArgs {
    /** Register the Authorino ext-authz provider (the tool policy, design.md section 7). */
    readonly toolPolicy: boolean;
    readonly extAuthzTimeout: string;
    readonly maxRequestBytes: number;
}

/**
 * The extension provider that the CUSTOM AuthorizationPolicy on the MCP gateway names.
 *
 * - `failOpen: false`: Authorino down or timing out means 403, never an unchecked tool call.
 * - `allowPartialMessage: true` (design.md section 6): a body over `maxRequestBytes` is sent
 *   truncated instead of answered with 413 by Envoy; the truncated JSON does not parse, so the
 *   generated Rego denies it. The denial is Authorino's and shows up in its decision log.
 * - `packAsBytes: false`: the body arrives as the UTF-8 string `input.request.body` that the Rego
 *   parses; with bytes it would be base64 in `raw_body` (upstream-apis 3.4).
 * - the timeout is short (config, default 2s); Istio's default is 600s.
 */
export function extAuthzProvider(args: Pick<MeshConfigArgs, "extAuthzTimeout" | "maxRequestBytes">): ExtAuthzGrpcProvider {
    return {
        name: EXT_AUTHZ_PROVIDER,
        envoyExtAuthzGrpc: {
            service: AUTHORINO_AUTHZ_SERVICE,
            port: AUTHORINO_AUTHZ_PORT,
            timeout: args.extAuthzTimeout,
            failOpen: false,
            includeRequestBodyInCheck: { maxRequestBytes: args.maxRequestBytes, allowPartialMessage: true, packAsBytes: false },
        },
    };
}

/**
 * `REGISTRY_ONLY`: a sidecar forwards only to hosts in its registry (Services, ServiceEntries),
 * everything else is dropped. `holdApplicationUntilProxyStarts` (a ProxyConfig field, hence under
 * `defaultConfig`): the app cannot race its own sidecar at start-up and send traffic that is not
 * yet subject to the egress rules.
 */
export function meshConfig(args: MeshConfigArgs): MeshConfig {
    return {
        outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
        defaultConfig: { holdApplicationUntilProxyStarts: true },
        ...(args.toolPolicy ? { extensionProviders: [extAuthzProvider(args)] } : {}),
    };
}

export interface IstioPatchSpec {
    readonly version: string;
    readonly values: {
        readonly meshConfig: MeshConfig;
        readonly pilot: { readonly cni: { readonly enabled: true } };
    };
}

/**
 * The fields this program owns in the existing Sail `Istio` named `default` (OpenShift). Sail's
 * values mirror the istiod chart but keep `pilot.*` nested (sailoperator.io_istios.yaml).
 * `pilot.cni.enabled`: injected pods get the unprivileged `istio-validation` init container
 * instead of `istio-init` (NET_ADMIN, root), which PSA `restricted` refuses.
 */
export function istioPatchSpec(args: MeshConfigArgs & { readonly istioVersion: string }): IstioPatchSpec {
    return { version: args.istioVersion, values: { meshConfig: meshConfig(args), pilot: { cni: { enabled: true } } } };
}

const RUNTIME_DEFAULT = { type: "RuntimeDefault" } as const;

/**
 * istiod chart values (Kubernetes). The chart keeps its defaults under
 * `_internal_defaults_do_not_set` and merges user values over them, so everything is set at the
 * top level (crds/istio/helm/istiod/values.yaml, first lines).
 *
 * - `cni.enabled` is the chart's spelling of `pilot.cni.enabled`: the injector config reads it as
 *   `pilot.cni` (istio/istio manifests/charts/istio-control/istio-discovery/templates/istiod-injector-configmap.yaml).
 * - seccomp `RuntimeDefault` for istiod, the sidecars and the gateway pods istiod deploys for
 *   Gateway API Gateways: the chart leaves all three `{}` and the gateway template only sets a
 *   profile when `gateways.seccompProfile` is set (files/kube-gateway.yaml), and PSA `restricted`
 *   in the gateway namespace refuses a pod without one.
 */
export function istiodValues(args: MeshConfigArgs): Record<string, unknown> {
    return {
        meshConfig: meshConfig(args),
        cni: { enabled: true },
        seccompProfile: RUNTIME_DEFAULT,
        global: { proxy: { seccompProfile: RUNTIME_DEFAULT } },
        gateways: { seccompProfile: RUNTIME_DEFAULT },
    };
}

/**
 * istio/cni chart values (Kubernetes). The node agent runs with `priorityClassName:
 * system-node-critical`, which some clusters only admit in kube-system unless a ResourceQuota in
 * the release namespace allows it; `cni.resourceQuotas.enabled` creates that quota (istio/istio
 * manifests/charts/istio-cni/values.yaml).
 */
export function istioCniValues(): Record<string, unknown> {
    return { cni: { resourceQuotas: { enabled: true } } };
}
