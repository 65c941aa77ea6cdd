// Children of a component do not inherit its `dependsOn` (the SDK only inherits provider and
// parent-level options), so a component that is told to wait, for example for its namespace,
// passes the wait on to every child it creates.
import * as pulumi from "@pulumi/pulumi";

/**
 * Options for a child: parented to the component, waiting for what the component was told to wait
 * for plus `extra`.
 */
export function childOptions(parent: pulumi.Resource, opts: pulumi.ComponentResourceOptions | undefined, extra: readonly pulumi.Resource[] = []): pulumi.CustomResourceOptions {
    const inherited = opts?.dependsOn;
    const dependsOn: pulumi.Input<pulumi.Resource>[] = [...extra];
    if (Array.isArray(inherited)) dependsOn.push(...inherited);
    // A single resource, or a promise/output of resources: the SDK flattens nested inputs when it
    // gathers dependencies (runtime/dependsOn.js, gatherExplicitDependencies).
    else if (inherited !== undefined) dependsOn.push(inherited as pulumi.Input<pulumi.Resource>);
    return dependsOn.length > 0 ? { parent, dependsOn } : { parent };
}
