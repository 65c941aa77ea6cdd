#!/usr/bin/env bash
# Installs the pinned Helm CLI that test/charts/children.spec.ts uses to render the real upstream
# charts (../shared/charts) the way pulumi-kubernetes' helm.v4.Chart does. Idempotent: nothing
# happens when a helm binary built from the pinned module version is already on PATH or in
# $(go env GOPATH)/bin. Otherwise it is built from source with the Go toolchain (the Go module
# proxy is what a locked-down machine can reach; no prebuilt binary download). Prints where helm is.
#
# v3.18.6 is the Helm library the Kubernetes provider we run links (pulumi-kubernetes provider
# 4.25.0, provider/go.mod; scripts/install-pulumi-toolchain.sh), so the children rendered here are
# the ones a real preview registers.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-3.18.6}"

# A plain `go install` injects no version ldflags, so `helm version` prints only major.minor; the
# module version recorded in the binary is the exact one.
version_of() {
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" { sub(/^v/, "", $3); print $3 }' | head -n 1
}

if ! command -v go >/dev/null 2>&1; then
  echo "install-helm: there is no Go toolchain to check or build helm $HELM_VERSION (go install helm.sh/helm/v3/cmd/helm@v$HELM_VERSION)" >&2
  exit 1
fi
gobin="$(go env GOPATH)/bin"

for candidate in "$(command -v helm 2>/dev/null || true)" "$gobin/helm"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(version_of "$candidate")" = "$HELM_VERSION" ]; then
    echo "install-helm: helm $HELM_VERSION already at $candidate"
    exit 0
  fi
done

echo "install-helm: building helm $HELM_VERSION with go install (several minutes the first time)" >&2
# -buildvcs=false: the module cache is not a VCS checkout, and stamping would fail in CI sandboxes.
GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"

installed="$gobin/helm"
if [ "$(version_of "$installed")" != "$HELM_VERSION" ]; then
  echo "install-helm: $installed does not record helm.sh/helm/v3 v$HELM_VERSION after go install" >&2
  exit 1
fi
echo "install-helm: helm $HELM_VERSION installed at $installed"
case ":$PATH:" in
  *":$gobin:"*) ;;
  *) echo "install-helm: $gobin is not on PATH; test/charts looks there too" ;;
esac
