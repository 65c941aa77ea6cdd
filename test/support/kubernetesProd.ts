// The prod profile on plain Kubernetes, every tool on and every chart the program can install
// (Falco, falcosidekick, Kyverno, kata-deploy, Cilium with `cilium.install`, Istio, SPIRE,
// Kuadrant, the MCP gateway). The committed prod stack is OpenShift, where OLM installs most of
// these; the chart-children spec and the real-engine spec both need this shape, and its pack
// settings must follow it (platform kubernetes, the registries those charts pull from).
import * as fs from "fs";
import * as path from "path";
import { loadSettings } from "../../cli/check";
import { REPO_ROOT, readStackConfig } from "../../cli/mockRuntime";
import type { PackSettings } from "../../policy-pack/checks/settings";

/** Registries the charts that OLM replaces on OpenShift pull from (istio, kuadrant-operator, cilium, kata-deploy, the spire CSI driver's node-driver-registrar). */
export const KUBERNETES_ONLY_REGISTRIES = ["registry.istio.io/release", "quay.io/kuadrant", "quay.io/cilium", "quay.io/kata-containers", "registry.k8s.io/sig-storage"];

export function registriesOf(config: Readonly<Record<string, unknown>>): string[] {
    const registries = config.registries;
    if (!Array.isArray(registries) || !registries.every((r) => typeof r === "string")) throw new Error("the stack lists no registries");
    return registries as string[];
}

export function kubernetesProdConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...readStackConfig("prod") };
    config.platform = "kubernetes";
    delete config.operators;
    config.cilium = { ...((config.cilium as Record<string, unknown> | undefined) ?? {}), install: true };
    config.registries = [...registriesOf(config), ...KUBERNETES_ONLY_REGISTRIES];
    return config;
}

/** The committed stack's pack settings (policy-pack/config/<stack>.json). */
export function packSettingsOf(stack: string): PackSettings {
    return loadSettings(path.join(REPO_ROOT, "policy-pack", "config", `${stack}.json`));
}

/** prod's pack settings for kubernetesProdConfig(), as loadSettings returns them. */
export function kubernetesProdPackSettings(): PackSettings {
    return { ...packSettingsOf("prod"), platform: "kubernetes", approvedRegistries: registriesOf(kubernetesProdConfig()) };
}

/** Writes prod's pack config (policy-pack/config/prod.json) adjusted to kubernetesProdConfig() for `--policy-pack-config`. */
export function writeKubernetesProdPackConfig(file: string): string {
    const committed = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policy-pack", "config", "prod.json"), "utf8")) as Record<string, Record<string, unknown>>;
    const settings = kubernetesProdPackSettings();
    committed["baseline-apparmor"] = { ...committed["baseline-apparmor"], platform: settings.platform };
    committed["baseline-approved-registries"] = { ...committed["baseline-approved-registries"], approvedRegistries: settings.approvedRegistries };
    fs.writeFileSync(file, JSON.stringify(committed, null, 2));
    return file;
}
