#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint (built from the Go module proxy when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONLINT_VERSION=v1.7.12
GOBIN_DIR="$(go env GOPATH)/bin"
if ! "$GOBIN_DIR/actionlint" -version 2>/dev/null | head -n 1 | grep -qx "${ACTIONLINT_VERSION}"; then
  echo "lint-workflows: installing actionlint ${ACTIONLINT_VERSION}"
  GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
fi
"$GOBIN_DIR/actionlint" .github/workflows/*.yml
echo "lint-workflows: $(ls .github/workflows/*.yml | wc -l) workflow(s) clean"
