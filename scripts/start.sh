#!/usr/bin/env bash
# `npm start`: the main job on the embedded default. The real `pulumi up --yes --stack dev` on a
# project-local file backend (.pulumi-state/), with the baseline policy pack enforced; the dev
# stack's provider renders every resource to rendered/dev instead of talking to a cluster.
#
# The toolchain comes from scripts/install-pulumi-toolchain.sh (built from Go modules where the CLI
# cannot be downloaded; cached, so only the first run is slow). Where the upstream chart
# repositories cannot be reached, the real upstream charts in ../shared/charts are served on
# 127.0.0.1 and the stack points at them through a generated stack config (--config-file): the
# committed Pulumi.dev.yaml is never edited.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
say() { echo "start: $*" >&2; }

fallback_to_mock_runtime() {
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  say "!! NOT the real engine: $1"
  say "!! Rendering the dev stack with the MOCK runtime instead (same program, same stack file);"
  say "!! Helm charts stay unexpanded and the pack sees only the program's own resources."
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  npx --no-install ts-node --transpile-only cli/render.ts --stack dev --out rendered/dev
  npx --no-install ts-node --transpile-only cli/check.ts --config policy-pack/config/dev.json rendered/dev
  exit 0
}

if ! toolchain=$(bash scripts/install-pulumi-toolchain.sh); then
  fallback_to_mock_runtime "the Pulumi toolchain could not be installed or built (see the messages above)"
fi
export PATH="$toolchain:$PATH"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
# The dev stack holds no secrets; an empty passphrase keeps the local backend non-interactive.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p .pulumi-state
say "pulumi $(pulumi version) with backend $PULUMI_BACKEND_URL"

# The stack config the engine reads is always a generated copy of Pulumi.dev.yaml
# (.pulumi-state/Pulumi.dev.generated.yaml): the engine writes the passphrase salt into the config
# file of a stack, and the committed one must stay as reviewed. Where the upstream chart
# repositories cannot be reached, the copy also points every chart at the local mirror. The first
# chart repository the dev stack uses answers whether upstream is reachable.
overrides=()
helper_pid=""
scratch=""
cleanup() {
  if [ -n "$helper_pid" ]; then kill "$helper_pid" 2>/dev/null || true; wait "$helper_pid" 2>/dev/null || true; fi
  if [ -n "$scratch" ]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT
upstream="https://spiffe.github.io/helm-charts-hardened/index.yaml"
serve_args=()
if [ -z "${AGENT_SECURITY_CHART_MIRROR:-}" ] && curl -fsS -m 5 -o /dev/null "$upstream" 2>/dev/null; then
  say "upstream chart repositories are reachable; the charts come from the repositories Pulumi.dev.yaml pins"
  serve_args=(--no-charts)
else
  charts_dir="${AGENT_SECURITY_CHART_MIRROR:-../shared/charts}"
  [ -f "$charts_dir/index.yaml" ] || { say "no chart repository at $charts_dir (index.yaml missing); set AGENT_SECURITY_CHART_MIRROR to a folder that has one"; exit 1; }
  say "upstream chart repositories cannot be reached from here; serving $charts_dir on 127.0.0.1"
  serve_args=(--dir "$charts_dir")
fi
# The dev stack renders without a cluster, so Helm's `lookup` must find nothing (as in
# `helm template`); the provider still asks an API server for it, so the same bounded helper
# serves an endpoint that knows no objects (scripts/empty-cluster.ts) and the render points at it.
mkdir -p .pulumi-state
url_file=$(mktemp)
empty_cluster_file=$(mktemp)
npx --no-install ts-node --transpile-only scripts/serve-charts.ts "${serve_args[@]}" \
  --empty-cluster-url-file "$empty_cluster_file" --max-seconds 1800 --parent-pid $$ --url-file "$url_file" >/dev/null &
helper_pid=$!
for _ in $(seq 1 120); do [ -s "$url_file" ] && break; sleep 0.5; done
[ -s "$url_file" ] && [ -s "$empty_cluster_file" ] || { say "the chart mirror did not start"; exit 1; }
mirror_url=$(head -n 1 "$url_file")
# Helm's own setting, not KUBECONFIG: the SDK would hand that to the provider, which refuses a
# kubeconfig beside renderYamlToDirectory.
HELM_KUBEAPISERVER=$(head -n 1 "$empty_cluster_file")
export HELM_KUBEAPISERVER
rm -f "$url_file" "$empty_cluster_file"
if [ "$mirror_url" != "-" ]; then overrides=("agent-security:chartRepository=$mirror_url"); fi

# `pulumi stack init` has no --config-file and would write the salt into the committed file; a
# scratch directory holding only Pulumi.yaml takes it instead, and the generated copy carries it.
salt_args=()
if ! pulumi stack ls --json 2>/dev/null | grep -q '"name": *"dev"'; then
  scratch=$(mktemp -d)
  cp Pulumi.yaml "$scratch/"
  (cd "$scratch" && pulumi stack init dev --non-interactive >/dev/null)
  salt_args=(--salt-from "$scratch/Pulumi.dev.yaml")
  say "created the dev stack in $PULUMI_BACKEND_URL"
fi
generated=.pulumi-state/Pulumi.dev.generated.yaml
npx --no-install ts-node --transpile-only scripts/generate-stack-config.ts "${salt_args[@]}" Pulumi.dev.yaml "$generated" "${overrides[@]}"
say "stack config: $generated (Pulumi.dev.yaml${overrides[*]:+ with ${overrides[*]}})"

pulumi up --yes --stack dev --non-interactive --config-file "$generated" \
  --policy-pack policy-pack --policy-pack-config policy-pack/config/dev.json
say "rendered the dev stack to rendered/dev with the real engine; the policy pack passed"
