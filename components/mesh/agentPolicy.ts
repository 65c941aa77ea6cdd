// Pure builders for the per-agent-namespace mesh objects: the namespace's sidecars reach only the
// registry (REGISTRY_ONLY) and the registry holds only the agents' allowlisted hosts.
import { ISTIO_NAMESPACE, MANAGED_BY_LABELS } from "../wellKnown";

export interface IstioManifest<Spec> {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
    readonly spec: Spec;
}

const labels = { ...MANAGED_BY_LABELS };

export const HTTPS_PORT = { number: 443, name: "https", protocol: "HTTPS" } as const;

/** Sorted, de-duplicated hosts: the preview diff moves only when the allowlist does. */
export function normalizeHosts(hosts: readonly string[]): string[] {
    return [...new Set(hosts)].sort();
}

/**
 * Hosts a ServiceEntry may carry. The CRD's CEL rule refuses `*` and config already refuses
 * wildcards; a wildcard here would mean "the whole internet" on 443, so it is refused again rather
 * than trusted.
 */
export function assertEgressHost(host: string): string {
    if (host === "" || host.includes("*") || host.includes("/")) {
        throw new Error(`egress host ${JSON.stringify(host)} is not a plain DNS name; the mesh allowlist takes exact hosts only`);
    }
    return host;
}

export interface ServiceEntrySpec {
    readonly hosts: readonly string[];
    readonly location: "MESH_EXTERNAL";
    readonly resolution: "DNS";
    readonly ports: readonly (typeof HTTPS_PORT)[];
    readonly exportTo: readonly ["."];
}

/**
 * One ServiceEntry per host, named after it: adding or removing a host adds or removes one object
 * and never rewrites another, so a reviewer sees exactly which destination changed. HTTPS on 443
 * only (the app originates TLS; Envoy routes on SNI); `exportTo: ["."]` keeps one namespace's
 * allowlist from opening egress for every other namespace.
 */
export function serviceEntryManifest(namespace: string, host: string): IstioManifest<ServiceEntrySpec> {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "ServiceEntry",
        metadata: { name: `egress-${assertEgressHost(host)}`, namespace, labels },
        spec: { hosts: [host], location: "MESH_EXTERNAL", resolution: "DNS", ports: [HTTPS_PORT], exportTo: ["."] },
    };
}

export interface SidecarSpec {
    readonly outboundTrafficPolicy: { readonly mode: "REGISTRY_ONLY" };
    readonly egress: readonly { readonly hosts: readonly string[] }[];
}

/**
 * The namespace-wide `Sidecar` (name `default`, no workload selector): REGISTRY_ONLY even if the
 * mesh default were ever relaxed, and a registry view limited to the namespace itself, the
 * control plane, the MCP gateway and the allowlisted hosts.
 */
export function sidecarManifest(namespace: string, hosts: readonly string[], mcpGatewayNamespace?: string): IstioManifest<SidecarSpec> {
    const egressHosts = ["./*", `${ISTIO_NAMESPACE}/*`, ...(mcpGatewayNamespace ? [`${mcpGatewayNamespace}/*`] : []), ...normalizeHosts(hosts).map((host) => `./${assertEgressHost(host)}`)];
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Sidecar",
        metadata: { name: "default", namespace, labels },
        spec: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" }, egress: [{ hosts: egressHosts }] },
    };
}

export interface PeerAuthenticationSpec {
    readonly mtls: { readonly mode: "STRICT" };
}

/** Namespace-wide STRICT mTLS: the agents accept only mesh peers with a verified identity. */
export function peerAuthenticationManifest(namespace: string): IstioManifest<PeerAuthenticationSpec> {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "default", namespace, labels },
        spec: { mtls: { mode: "STRICT" } },
    };
}
