#!/usr/bin/env bash
# Installs the pinned Open Policy Agent CLI that the tool-policy tests and benchmarks run
# (test/support/opa.ts, bench/opa.ts). Idempotent: nothing happens when `opa version` already
# reports the pinned version, on PATH or in $(go env GOPATH)/bin. Otherwise it is built from source
# with the Go toolchain, because the Go module proxy is what a locked-down machine can reach (no
# prebuilt binary download). Prints where opa is.
set -euo pipefail

OPA_VERSION="${OPA_VERSION:-1.22.2}"

version_of() {
  "$1" version 2>/dev/null | sed -n 's/^Version: *//p' | head -n 1
}

gobin=""
if command -v go >/dev/null 2>&1; then
  gobin="$(go env GOPATH)/bin"
fi

for candidate in "$(command -v opa 2>/dev/null || true)" "${gobin:+$gobin/opa}"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(version_of "$candidate")" = "$OPA_VERSION" ]; then
    echo "install-opa: opa $OPA_VERSION already at $candidate"
    exit 0
  fi
done

if [ -z "$gobin" ]; then
  echo "install-opa: opa $OPA_VERSION is not installed and there is no Go toolchain to build it (go install github.com/open-policy-agent/opa@v$OPA_VERSION)" >&2
  exit 1
fi

echo "install-opa: building opa $OPA_VERSION with go install (a few minutes the first time)" >&2
# -buildvcs=false: the module cache is not a VCS checkout, and stamping would fail in CI sandboxes.
GOFLAGS=-buildvcs=false go install "github.com/open-policy-agent/opa@v$OPA_VERSION"

installed="$gobin/opa"
if [ "$(version_of "$installed")" != "$OPA_VERSION" ]; then
  echo "install-opa: $installed does not report version $OPA_VERSION after go install" >&2
  exit 1
fi
echo "install-opa: opa $OPA_VERSION installed at $installed"
case ":$PATH:" in
  *":$gobin:"*) ;;
  *) echo "install-opa: $gobin is not on PATH; the tests also look there (or set OPA_BIN=$installed)" ;;
esac
