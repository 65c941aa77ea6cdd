// Where SPIRE lives on each platform and which controller class reconciles our ClusterSPIFFEIDs.
// Pure constants and functions: the agent namespace (NetworkPolicy to the server under Kata), the
// in-pod spire-agent config and the Identity component must agree on them.
import { SPIRE_NAMESPACE, ZTWIM_NAMESPACE } from "../wellKnown";
import type { Platform } from "../wellKnown";

/** Helm release names of the spiffe/helm-charts-hardened install (Kubernetes). */
export const SPIRE_RELEASE = "spire";
export const SPIRE_CRDS_RELEASE = "spire-crds";

/**
 * The chart's controller manager only reconciles resources whose `spec.className` equals its
 * class, `<release-namespace>-<release-name>` by default, and ignores classless ones
 * (`watchClassless: false`): spiffe/helm-charts-hardened
 * `charts/spire/charts/spire-server/templates/_helpers.tpl` (`spire-server.controller-manager-class-name`).
 * We also set it explicitly in the chart values so a release rename cannot orphan our identities.
 */
export const HELM_SPIRE_CLASS_NAME = `${SPIRE_NAMESPACE}-${SPIRE_RELEASE}`;

/**
 * ZTWIM hard-codes its controller manager's class: openshift/zero-trust-workload-identity-manager
 * `pkg/controller/spire-server/configmap.go` (`generateControllerManagerConfig`,
 * `ClassName: "zero-trust-workload-identity-manager-spire"`, `WatchClassless: false`, branch
 * release-1.0.0). If a later ZTWIM release changes it, our ClusterSPIFFEIDs are silently ignored:
 * check `kubectl get cm spire-controller-manager -n zero-trust-workload-identity-manager`.
 */
export const ZTWIM_SPIRE_CLASS_NAME = "zero-trust-workload-identity-manager-spire";

export function spireClassName(platform: Platform): string {
    return platform === "openshift" ? ZTWIM_SPIRE_CLASS_NAME : HELM_SPIRE_CLASS_NAME;
}

/** The SPIRE server's gRPC listener inside its pod (`bind_port = "8081"` in both installs). */
export const SPIRE_SERVER_POD_PORT = 8081;
/** The Service port in front of it (`spire-server`, port 443 -> targetPort grpc). */
export const SPIRE_SERVER_SERVICE_PORT = 443;

export interface SpireServerEndpoint {
    /** Namespace of the SPIRE server pods. */
    readonly namespace: string;
    /** Service DNS name the in-pod spire-agent dials. */
    readonly address: string;
    readonly port: number;
    readonly podPort: number;
}

export function spireServerEndpoint(platform: Platform): SpireServerEndpoint {
    const namespace = platform === "openshift" ? ZTWIM_NAMESPACE : SPIRE_NAMESPACE;
    return { namespace, address: `spire-server.${namespace}.svc`, port: SPIRE_SERVER_SERVICE_PORT, podPort: SPIRE_SERVER_POD_PORT };
}

/** Audience of the projected token the in-pod spire-agent presents (the k8s_psat default on both installs). */
export const SPIRE_PSAT_AUDIENCE = "spire-server";

/** The SPIFFE ID every agent gets: one identity per ServiceAccount. */
export const AGENT_SPIFFE_ID_TEMPLATE = "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}";
