// Cross-field rules of the stack config (issue 12). Every rule runs for every profile, whether or
// not the tool that uses the value is on, so `dev` refuses what `ci` and `prod` would; each names
// the full key. The one exception is a rule about a tool's own behaviour (Kata memory, fail-closed
// gating), which needs to know whether the tool is on.
import { forbiddenDestinationProblem } from "./hosts";
import { prodImageProblem } from "./images";
import { pathsOverlap } from "./paths";
import type { FeatureSet, Profile } from "./profiles";
import { memoryBytes } from "./quantities";
import type { ParsedConfig } from "./schema";
import { GATEWAY_NAMESPACE, PLATFORM_READ_ONLY_DIRS, RESERVED_ENV, RESERVED_ENV_PREFIXES, namespaceOwnershipProblem } from "./wellKnown";

export const KATA_MIN_MEMORY = "2Gi";

/**
 * Linux refuses an environment string ("NAME=value" and its NUL) longer than MAX_ARG_STRLEN, 32
 * pages of 4 KiB (include/uapi/linux/binfmts.h): the container would fail at exec, not at deploy.
 */
export const MAX_ENV_STRING_BYTES = 128 * 1024;
/** All of an agent's env together: far below ARG_MAX, and the Deployment stays a small object. */
export const MAX_ENV_TOTAL_BYTES = 256 * 1024;

/** The GatewayClass served by the mesh's istiod, the only one whose Gateways see its ext-authz. */
export const MESH_GATEWAY_CLASS = "istio";
/** Names the gateway's own objects take; a server with one of them would collide with them. */
const GATEWAY_OWN_NAMES: readonly string[] = ["mcp-gateway"];

const SECRET_LOOKING_ENV = /(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Whether an image reference comes from a registry entry: host[:port] exact, path by `/` prefix. */
export function imageFromRegistry(image: string, registry: string): boolean {
    return image.startsWith(`${registry}/`);
}

/** The prefix the gateway puts before a server's tool names (components/gateway toolPrefix agrees). */
export function effectiveToolPrefix(server: { readonly name: string; readonly prefix?: string | undefined }): string {
    return server.prefix ?? `${server.name.replace(/-/g, "_")}_`;
}

/** What Go's encoding/json treats as the same field name (components/gateway/rego.ts agrees). */
function foldArgumentName(name: string): string {
    return name.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
}

export interface RuleContext {
    /** Undefined when a custom stack names none: profile-dependent rules stay quiet then. */
    readonly profile: Profile | undefined;
    readonly features: FeatureSet;
    /** False when the profile could not be decided (a custom stack without one): tool-dependent rules stay quiet. */
    readonly toolsKnown: boolean;
}

export type Report = (path: string, message: string) => void;

export function crossFieldIssues(cfg: ParsedConfig, context: RuleContext, at: Report): void {
    toolRules(cfg, context, at);
    namespaceRules(cfg, at);
    serverRules(cfg, at);
    agentRules(cfg, context, at);
}

function toolRules(cfg: ParsedConfig, { features, toolsKnown }: RuleContext, at: Report): void {
    const seen = new Set<string>();
    cfg.failClosed.forEach((tool, index) => {
        if (seen.has(tool)) at(`failClosed[${index}]`, `${tool} is listed twice; list each tool once`);
        else if (toolsKnown && !features[tool]) {
            at(`failClosed[${index}]`, `${tool} is off in this stack, so it cannot gate agent admission; turn ${tool} on or remove it from failClosed`);
        }
        seen.add(tool);
    });
    if (toolsKnown && features.envoy && cfg.mesh.mode === "ambient") {
        at("mesh.mode", "ambient mode ignores REGISTRY_ONLY egress, so it cannot be combined with the envoy flag; use sidecar");
    }
    if (toolsKnown && cfg.cilium.install && !features.cilium) {
        at("cilium.install", "installs the Cilium chart, which only makes sense with the cilium flag on");
    }
    // The ext-authz provider lives in the mesh's istiod; OpenShift's `openshift-default` class (and
    // any class another controller serves) never sees it, so its Gateway would skip the tool policy.
    if (toolsKnown && features.opa && cfg.gateway.className !== undefined && cfg.gateway.className !== MESH_GATEWAY_CLASS) {
        at(
            "gateway.className",
            `"${cfg.gateway.className}" is not served by the mesh's istiod, so a Gateway of that class would skip the tool policy (ext-authz); with opa on the class must be ${MESH_GATEWAY_CLASS} (or left out)`,
        );
    }
}

function namespaceRules(cfg: ParsedConfig, at: Report): void {
    const platformProblem = namespaceOwnershipProblem(cfg.platformNamespace);
    if (platformProblem) at("platformNamespace", platformProblem);
    cfg.agents.forEach((agent, index) => {
        const key = agent.namespace === undefined ? `agents[${index}].name` : `agents[${index}].namespace`;
        const namespace = agent.namespace ?? agent.name;
        const why = agent.namespace === undefined ? ` (an agent without a namespace gets one named after it)` : "";
        const problem = namespaceOwnershipProblem(namespace);
        if (problem) at(key, `${problem}${why}`);
        else if (namespace === cfg.platformNamespace) {
            at(key, `"${namespace}" is the platform namespace (agent-security:platformNamespace), which holds the audit trail; agents need a namespace of their own${why}`);
        }
    });
    cfg.mcpServers.forEach((server, index) => {
        const namespace = server.backend.namespace;
        // Left out, or named explicitly, the gateway's own namespace needs no ReferenceGrant.
        if (namespace === undefined || namespace === GATEWAY_NAMESPACE) return;
        const problem = namespaceOwnershipProblem(namespace);
        if (problem) at(`mcpServers[${index}].backend.namespace`, `${problem}: the gateway would create a ReferenceGrant there`);
        else if (namespace === cfg.platformNamespace) at(`mcpServers[${index}].backend.namespace`, `"${namespace}" is the platform namespace (agent-security:platformNamespace); run MCP servers elsewhere`);
    });
}

function serverRules(cfg: ParsedConfig, at: Report): void {
    const names = new Map<string, number>();
    const hosts = new Map<string, number>();
    cfg.mcpServers.forEach((server, index) => {
        const base = `mcpServers[${index}]`;
        // Servers are routed on the gateway's wildcard listener, so their hosts must sit under it.
        if (!server.host.endsWith(`.${cfg.gateway.internalDomain}`)) {
            at(`${base}.host`, `"${server.host}" must be a name under the gateway's internal domain ${cfg.gateway.internalDomain} (for example ${server.name}-mcp.${cfg.gateway.internalDomain})`);
        } else if (server.host === cfg.gateway.publicHost) {
            at(`${base}.host`, `"${server.host}" is the gateway's public host (agent-security:gateway.publicHost), whose tool policy covers every server; give the server a host of its own`);
        }
        if (names.has(server.name)) at(`${base}.name`, `"${server.name}" is used by another MCP server; names must be unique`);
        else if (GATEWAY_OWN_NAMES.includes(server.name)) {
            at(`${base}.name`, `"${server.name}" is the name of the gateway's own objects (its Gateway and public tool policy); choose another server name`);
        }
        if (hosts.has(server.host)) at(`${base}.host`, `"${server.host}" is used by another MCP server; hosts must be unique`);
        names.set(server.name, index);
        hosts.set(server.host, index);

        // Prefix-free prefixes give every client-facing tool name one server (rego.ts explains).
        const prefix = effectiveToolPrefix(server);
        cfg.mcpServers.slice(0, index).forEach((other, otherIndex) => {
            const otherPrefix = effectiveToolPrefix(other);
            if (prefix.startsWith(otherPrefix) || otherPrefix.startsWith(prefix)) {
                const how = prefix === otherPrefix ? "is the same as" : prefix.startsWith(otherPrefix) ? "starts with" : "is the start of";
                at(
                    `${base}.prefix`,
                    `tool prefix "${prefix}"${server.prefix === undefined ? " (from the name)" : ""} ${how} "${otherPrefix}" of mcpServers[${otherIndex}] (${other.name}), so a tool name could belong to either server; choose prefixes where neither starts the other`,
                );
            }
        });

        for (const [toolName, tool] of Object.entries(server.tools)) {
            const toolBase = `${base}.tools.${toolName}`;
            const folded = new Map<string, string>();
            for (const [argName, rule] of Object.entries(tool.arguments)) {
                const argBase = `${toolBase}.arguments.${argName}`;
                const clash = folded.get(foldArgumentName(argName));
                if (clash !== undefined) at(argBase, `"${argName}" and "${clash}" differ only in letter case, which an MCP server decoding JSON cannot tell apart; keep one`);
                folded.set(foldArgumentName(argName), argName);
                if (rule.type === "url") {
                    rule.allow.forEach((entry, entryIndex) => {
                        const problem = URL.canParse(entry) ? forbiddenDestinationProblem(new URL(entry).hostname) : undefined;
                        if (problem) at(`${argBase}.allow[${entryIndex}]`, problem);
                    });
                }
                if (rule.type === "enum" || rule.type === "currency") {
                    const denied = new Set((rule.deny ?? []).map((value) => value.trim().toUpperCase()));
                    const allowed = rule.allow?.map((value) => value.trim().toUpperCase());
                    if (allowed !== undefined && allowed.every((value) => denied.has(value))) {
                        at(`${argBase}.deny`, "denies every allowed value, so the argument could never be given; remove the overlap or the argument");
                    }
                }
            }
        }
    });
}

function agentRules(cfg: ParsedConfig, { profile, features, toolsKnown }: RuleContext, at: Report): void {
    const serverNames = cfg.mcpServers.map((server) => server.name);
    const agentNames = new Set<string>();
    cfg.agents.forEach((agent, index) => {
        const base = `agents[${index}]`;
        if (agentNames.has(agent.name)) at(`${base}.name`, `"${agent.name}" is used by another agent; agent names must be unique`);
        agentNames.add(agent.name);
        agent.mcpServers.forEach((server, serverIndex) => {
            if (!serverNames.includes(server)) at(`${base}.mcpServers[${serverIndex}]`, `"${server}" is not a configured MCP server; known: ${serverNames.join(", ") || "(none)"}`);
        });
        if (!cfg.registries.some((registry) => imageFromRegistry(agent.image, registry))) {
            at(`${base}.image`, `"${agent.image}" is not from an approved registry; approved: ${cfg.registries.join(", ")}`);
        } else if (profile === "prod") {
            const problem = prodImageProblem(agent.image);
            if (problem) at(`${base}.image`, problem);
        }
        agent.egress.forEach((host, hostIndex) => {
            const problem = forbiddenDestinationProblem(host);
            if (problem) at(`${base}.egress[${hostIndex}]`, problem);
        });

        let envBytes = 0;
        let oversized = false;
        for (const [name, value] of Object.entries(agent.env)) {
            const key = `${base}.env.${name}`;
            const bytes = Buffer.byteLength(`${name}=${value}`, "utf8") + 1;
            envBytes += bytes;
            if (RESERVED_ENV.includes(name) || RESERVED_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) {
                at(key, `is set by the platform (reserved: ${RESERVED_ENV_PREFIXES.map((prefix) => `${prefix}*`).join(", ")}, ${RESERVED_ENV.filter((env) => !RESERVED_ENV_PREFIXES.some((prefix) => env.startsWith(prefix))).join(", ")}); choose another name`);
            } else if (SECRET_LOOKING_ENV.test(name)) {
                at(key, "looks like a secret; secrets are delivered only as files: list the Secret under secrets instead");
            } else if (bytes > MAX_ENV_STRING_BYTES) {
                oversized = true;
                at(key, `is ${bytes} bytes as NAME=value; Linux refuses an environment string over ${MAX_ENV_STRING_BYTES} bytes (128 KiB), so the container could not start: mount large values as a file`);
            }
        }
        // One mistake, one message: an oversized value is reported as itself, not also as the total.
        if (!oversized && envBytes > MAX_ENV_TOTAL_BYTES) at(`${base}.env`, `adds up to ${envBytes} bytes; at most ${MAX_ENV_TOTAL_BYTES} (256 KiB) in all: mount large values as files`);

        const memory = memoryBytes(agent.resources.memory) ?? 0;
        if (toolsKnown && features.kata && memory > 0 && memory < (memoryBytes(KATA_MIN_MEMORY) ?? 0)) {
            at(
                `${base}.resources.memory`,
                `"${agent.resources.memory}" is below ${KATA_MIN_MEMORY}, which an agent in a Kata micro-VM needs (QEMU overhead); allowed: ${KATA_MIN_MEMORY} or more`,
            );
        }
        const secretKeys = new Set<string>();
        agent.secrets.forEach((secret, secretIndex) => {
            const id = `${secret.name}/${secret.key}`;
            if (secretKeys.has(id)) at(`${base}.secrets[${secretIndex}]`, `${id} is listed twice`);
            secretKeys.add(id);
        });
        // Paths arrive normalised (config/paths.ts), so "a/./b" and "a/b" compare equal here.
        const writable = new Set<string>();
        agent.writablePaths.forEach((path, pathIndex) => {
            const key = `${base}.writablePaths[${pathIndex}]`;
            const owned = PLATFORM_READ_ONLY_DIRS.find((dir) => pathsOverlap(path, dir));
            if (owned !== undefined) at(key, `"${path}" overlaps ${owned}, which the platform mounts read-only; choose a directory outside it`);
            else if (writable.has(path)) at(key, `"${path}" is listed twice (after normalising the path)`);
            writable.add(path);
        });
    });
}
