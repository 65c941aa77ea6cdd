#!/usr/bin/env bash
# Installs a real Kubernetes control plane for the cluster tests (test/cluster), the real-engine
# tests and `npm run probe` against a throw-away cluster: etcd, kube-apiserver and
# kube-controller-manager. Prints one directory holding the three.
#
# kube-controller-manager is there for what a user of the API expects without a node: a deleted
# Namespace is emptied and goes away (the namespace controller), owned objects are collected, and
# every namespace gets its `default` ServiceAccount. The harness runs only those controllers; the
# DaemonSet and Deployment controllers stay off so a test can play them through the status
# subresource. No scheduler or kubelet, so no pod ever runs: what this proves is admission (PSA,
# ValidatingAdmissionPolicy CEL, quota, LimitRange, CRD validation rules, server-side apply), not
# runtime.
#
# Offline path: both are built from Go modules, as the Go module proxy is what a locked-down
# machine reaches. kube-apiserver is built in a module of our own that requires k8s.io/kubernetes
# and repeats its staging replaces (kubernetes' go.mod replaces 30-odd k8s.io/* modules with
# ./staging/src/..., which Go ignores in a dependency; the staging modules are published as
# v0.<minor>.<patch>). The list is read from kubernetes' own go.mod, never hard-coded.
#
# Cached by version under $AGENT_SECURITY_CACHE (default ~/.cache/agent-security)/kube: a stamp
# beside each binary records the version it was built from, written only after the build
# succeeded, so a cached version is never rebuilt and a warm run costs milliseconds. Builds take a
# lock, so two callers never build the same thing at once. Measured cold on 2 cores shared with
# another Go build: etcd 328 s, kube-apiserver 1217 s, then kube-controller-manager 430 s (it
# reuses kube-apiserver's compiled packages); warm, all three cached: well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION="${KUBE_VERSION:-1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"

cache_root="${AGENT_SECURITY_CACHE:-$HOME/.cache/agent-security}"
kube="$cache_root/kube"
bin="$kube/bin"
# shellcheck source=lib/go-build-cache.sh
. scripts/lib/go-build-cache.sh
go_build_cache_init install-kube-apiserver "$kube" "-buildvcs=false"

is_built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

timed() {
  local started=$SECONDS
  "$@"
  log "  done in $((SECONDS - started)) s"
}

# $1: the command under k8s.io/kubernetes/cmd to build (kube-apiserver, kube-controller-manager).
# Both share one build module, so the second reuses the first's downloads and compiled packages.
build_kube_command() {
  local command="$1"
  local dir="$kube/build/kubernetes-v$KUBE_VERSION"
  local module="k8s.io/kubernetes"
  local minor="${KUBE_VERSION#*.}"
  minor="${minor%%.*}"
  # Staging modules carry the same minor and patch under major 0: v1.36.3 -> v0.36.3.
  local staging_version="v0.${KUBE_VERSION#*.}"
  mkdir -p "$dir"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init agent-security.local/kube-apiserver >/dev/null 2>&1
    local src
    src=$(go mod download -json "$module@v$KUBE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$src" ] || die "could not download $module@v$KUBE_VERSION"
    local replaces
    replaces=$(go mod edit -json "$src/go.mod" | node -e '
      const mod = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of mod.Replace ?? []) {
        if (!r.New.Path.startsWith("./staging/")) continue;
        console.log(`${r.Old.Path}=${r.Old.Path}@${process.argv[1]}`);
      }' "$staging_version")
    [ -n "$replaces" ] || die "kubernetes' go.mod has no ./staging replaces; the build recipe no longer fits"
    log "  $(echo "$replaces" | wc -l) staging modules replaced by their $staging_version releases"
    while read -r replace; do go mod edit -replace "$replace"; done <<<"$replaces"
    go mod edit -require "$module@v$KUBE_VERSION"
    go get "$module/cmd/$command@v$KUBE_VERSION" >/dev/null 2>&1 || go get "$module/cmd/$command@v$KUBE_VERSION"
    # Without these, /version says v0.0.0-master and clients that gate on the server version
    # (the Pulumi provider among them) misjudge what the server supports.
    local pkg="k8s.io/component-base/version"
    go build -trimpath -o "$bin/$command" \
      -ldflags "-s -w -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z" \
      "$module/cmd/$command"
  )
}

build_etcd() {
  local dir="$kube/build/etcd-v$ETCD_VERSION"
  local module="go.etcd.io/etcd/server/v3"
  mkdir -p "$dir"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init agent-security.local/etcd >/dev/null 2>&1
    go get "$module@v$ETCD_VERSION" >/dev/null 2>&1 || go get "$module@v$ETCD_VERSION"
    go build -trimpath -ldflags "-s -w" -o "$bin/etcd" "$module"
  )
}

if is_built etcd "$ETCD_VERSION"; then
  log "etcd v$ETCD_VERSION cached"
else
  log "building etcd v$ETCD_VERSION from Go modules (about 5 minutes cold on 2 busy cores)"
  timed build_etcd
  stamp etcd "$ETCD_VERSION"
fi

if is_built kube-apiserver "$KUBE_VERSION"; then
  log "kube-apiserver v$KUBE_VERSION cached"
else
  log "building kube-apiserver v$KUBE_VERSION from Go modules (about 20 minutes cold on a busy 2-core machine)"
  timed build_kube_command kube-apiserver
  stamp kube-apiserver "$KUBE_VERSION"
fi

if is_built kube-controller-manager "$KUBE_VERSION"; then
  log "kube-controller-manager v$KUBE_VERSION cached"
else
  log "building kube-controller-manager v$KUBE_VERSION from Go modules (about 7 minutes after kube-apiserver)"
  timed build_kube_command kube-controller-manager
  stamp kube-controller-manager "$KUBE_VERSION"
fi

echo "$bin"
