// Destinations no agent or tool may be allowed to reach, and the URLs config accepts for chart
// repositories. Checked in config for every profile: without Cilium nothing else stops an agent
// from reaching what its egress list names (issue 12).

/**
 * Cloud instance-metadata services by name. Their addresses (169.254.169.254, fd00:ec2::254) are
 * refused already as IP literals; these names resolve to them.
 */
const METADATA_HOSTS: readonly string[] = [
    "metadata",
    "metadata.google.internal", // Google Cloud
    "metadata.goog", // Google Cloud
    "instance-data", // AWS
    "instance-data.ec2.internal", // AWS
    "metadata.tencentyun.com", // Tencent Cloud
    "metadata.platformequinix.com", // Equinix Metal
];

/**
 * Why an agent egress host or a tool's URL host must never be reached, or undefined. Covers cloud
 * metadata names, the cluster's own API and in-cluster Service names, loopback names, and names
 * that spell an IP address for wildcard DNS services (nip.io, sslip.io) to resolve.
 */
export function forbiddenDestinationProblem(host: string): string | undefined {
    const name = host.toLowerCase().replace(/\.$/, "");
    if (METADATA_HOSTS.includes(name)) {
        return `"${host}" is a cloud metadata service, which hands out the node's credentials; an agent must never reach it`;
    }
    const labels = name.split(".");
    if (labels[0] === "kubernetes" && (labels.length === 1 || labels[1] === "default")) {
        return `"${host}" is the cluster's own API server; agents reach the cluster only through the MCP gateway`;
    }
    if (name.endsWith(".svc") || name.includes(".svc.") || name.endsWith(".cluster.local")) {
        return `"${host}" is an in-cluster Service name (*.svc, *.cluster.local); egress lists name external hosts, and in-cluster tools are reached through the MCP gateway`;
    }
    if (name === "localhost" || name.endsWith(".localhost")) return `"${host}" is a loopback name`;
    if (/(^|\.)([0-9]{1,3}\.){3}[0-9]{1,3}(\.|$)/.test(name) || /(^|[.-])([0-9]{1,3}-){3}[0-9]{1,3}([.-]|$)/.test(name)) {
        return `"${host}" spells an IP address, which wildcard DNS services (nip.io, sslip.io) resolve to that address; name the real host`;
    }
    return undefined;
}

/** Hosts a plain-http chart repository may use: a mirror on this machine, never the network. */
export function isLoopbackHost(hostname: string): boolean {
    if (hostname === "localhost" || hostname === "[::1]") return true;
    const octets = /^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(hostname);
    return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Why a chart repository URL is unacceptable, or undefined. https:// (and oci:// where a single
 * chart is pinned), or http:// to a loopback host; never user info (a password would land in the
 * stack file and the rendered output: private repositories authenticate through the Kubernetes
 * provider's Helm registry configuration instead), never a query or fragment.
 */
export function chartRepositoryProblem(value: string, options: { readonly oci: boolean }): string | undefined {
    const schemes = options.oci ? "https:// or oci://" : "https://";
    const allowed = `${schemes} URL, or http:// to a loopback host (127.0.0.1, localhost, [::1])`;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (scheme === undefined || !URL.canParse(value)) return `"${value}" is not a URL; use an ${allowed}`;
    const url = new URL(value);
    const authority = value.slice(scheme.length + 3).split(/[/?#]/)[0] ?? "";
    if (url.username || url.password || authority.includes("@")) {
        return `must not carry user info (user:password@): credentials for a private repository come from the Kubernetes provider's Helm registry configuration, never from a URL in a stack file; use an ${allowed}`;
    }
    if (url.search || url.hash || value.includes("?") || value.includes("#")) return `"${value}" must not carry a query or fragment; use an ${allowed}`;
    if (scheme === "https" || (scheme === "oci" && options.oci)) return url.hostname ? undefined : `"${value}" names no host; use an ${allowed}`;
    if (scheme === "http" && isLoopbackHost(url.hostname)) return undefined;
    if (scheme === "http") return `"${value}" uses plain http:// to a host that is not loopback; use an ${allowed}`;
    return `"${value}" uses ${scheme}://; use an ${allowed}`;
}
