// Transforms applied to Helm chart children (k8s.helm.v4.Chart passes `transforms` down to the
// resources it renders). Tested directly: under the mock runtime a chart is a leaf.
import type * as pulumi from "@pulumi/pulumi";

const POD_TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function withoutIds(context: unknown): unknown {
    if (!isObject(context)) return context;
    const rest: Json = { ...context };
    delete rest.runAsUser;
    delete rest.runAsGroup;
    delete rest.fsGroup;
    return rest;
}

/**
 * OpenShift assigns every pod a UID from its namespace's range; SCC `restricted-v2` refuses a pod
 * that asks for another one (design.md section 6: never hard-code `runAsUser` there). The
 * mcp-gateway chart's controller pins `runAsUser: 65532` (Kuadrant/mcp-gateway
 * charts/mcp-gateway/templates/deployment-controller.yaml), so on OpenShift the pinned user, group
 * and fsGroup are removed from pod and container security contexts. `runAsNonRoot` and everything
 * else stay.
 */
export function dropPinnedIds(args: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
    const props = args.props as Json;
    if (!args.type.startsWith("kubernetes:") || typeof props.kind !== "string" || !POD_TEMPLATE_KINDS.has(props.kind)) return undefined;
    const spec = isObject(props.spec) ? props.spec : undefined;
    const template = spec && isObject(spec.template) ? spec.template : undefined;
    const podSpec = template && isObject(template.spec) ? template.spec : undefined;
    if (!spec || !template || !podSpec) return undefined;
    const containers = (list: unknown): unknown =>
        Array.isArray(list) ? list.map((container) => (isObject(container) ? { ...container, securityContext: withoutIds(container.securityContext) } : container)) : list;
    const cleaned: Json = { ...podSpec, securityContext: withoutIds(podSpec.securityContext), containers: containers(podSpec.containers) };
    if (podSpec.initContainers !== undefined) cleaned.initContainers = containers(podSpec.initContainers);
    if (podSpec.securityContext === undefined) delete cleaned.securityContext;
    return { props: { ...props, spec: { ...spec, template: { ...template, spec: cleaned } } }, opts: args.opts };
}
