#!/usr/bin/env bash
# `npm start`: the main job on the embedded default. `pulumi up` of the dev stack on a
# project-local file backend, which renders the dev stack to rendered/dev (no cluster), with the
# baseline policy pack enforced. Where the Pulumi CLI cannot be had (an offline machine: the
# `pulumi` npm package downloads the CLI on first use), it says so and renders the same stack
# under the mock runtime instead, so the command still produces rendered/dev.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
# The dev stack holds no secrets; an empty passphrase keeps the local backend non-interactive.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
mkdir -p .pulumi-state

if npx --no-install pulumi version >/dev/null 2>&1; then
  echo "start: pulumi $(npx --no-install pulumi version) with backend $PULUMI_BACKEND_URL"
  npx --no-install pulumi stack select dev --create --non-interactive
  npx --no-install pulumi up --yes --stack dev --non-interactive \
    --policy-pack policy-pack --policy-pack-config policy-pack/config/dev.json
  echo "start: rendered the dev stack to rendered/dev"
else
  echo "start: the Pulumi CLI is not available here (the pulumi npm package could not download it);" >&2
  echo "start: rendering the dev stack with the mock runtime instead (same program, same stack file)." >&2
  npx --no-install ts-node --transpile-only cli/render.ts --stack dev --out rendered/dev
  npx --no-install ts-node --transpile-only cli/check.ts --config policy-pack/config/dev.json rendered/dev
fi
