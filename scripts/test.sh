#!/usr/bin/env bash
# The README's test command (`npm test`): type-check, then every mocha spec.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-node.sh):$PATH"
GOBIN_DIR="$( (command -v go >/dev/null && go env GOPATH) 2>/dev/null || echo "$HOME/go")/bin"
export PATH="$PATH:$GOBIN_DIR"
echo "test: node $(node --version), opa $( (opa version 2>/dev/null || echo missing) | head -n 1)"
echo "test: kube-apiserver ${AGENT_SECURITY_KUBE_BIN:-not built: the test/cluster specs skip (bash scripts/install-kube-apiserver.sh, then export AGENT_SECURITY_KUBE_BIN=<its output>)}"
echo "test: type-checking (tsc --noEmit, strict)"
npx --no-install tsc --noEmit -p .
echo "test: running the mocha suites"
npx --no-install mocha 'test/**/*.spec.ts' "$@"
