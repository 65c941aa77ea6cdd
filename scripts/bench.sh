#!/usr/bin/env bash
# `npm run bench`: every benchmark in bench/, each printing its own figures.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH="$PATH:$( (go env GOPATH 2>/dev/null || echo "$HOME/go"))/bin"
for bench in bench/*.ts; do
  echo "== $bench"
  npx --no-install ts-node --transpile-only "$bench"
done
