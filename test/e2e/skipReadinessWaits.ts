// Loaded only by the engine harness's wrapper program (EngineWorkspace.harnessProject), never by
// the committed program: the throw-away API server has no scheduler or kubelet, so no workload
// ever becomes ready, and the provider would wait out its timeouts on every Deployment. The
// provider's documented switches are used: `skipAwait` on Helm v4 charts and the
// `pulumi.com/skipAwait` annotation on every other Kubernetes object.
import * as pulumi from "@pulumi/pulumi";

const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

interface ObjectMetaInput {
    readonly annotations?: Record<string, unknown>;
    readonly [key: string]: unknown;
}

export function skipReadinessWaits(): void {
    pulumi.runtime.registerResourceTransform((args) => {
        if (args.type === "kubernetes:helm.sh/v4:Chart") {
            return { props: { ...args.props, skipAwait: true }, opts: args.opts };
        }
        const metadata = args.props.metadata as ObjectMetaInput | undefined;
        if (!args.type.startsWith("kubernetes:") || metadata === undefined || typeof metadata !== "object") return undefined;
        const annotations = { ...(metadata.annotations ?? {}), [SKIP_AWAIT_ANNOTATION]: "true" };
        return { props: { ...args.props, metadata: { ...metadata, annotations } }, opts: args.opts };
    });
}
