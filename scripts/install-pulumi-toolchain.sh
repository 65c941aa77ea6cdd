#!/usr/bin/env bash
# Installs the Pulumi toolchain the real engine needs: the CLI, the Node.js language host, the
# Kubernetes provider and the random provider. Prints one directory to put first on PATH.
#
# Offline path: each piece is built from Go modules (the Go module proxy is what a locked-down
# machine reaches; the npm `pulumi` package downloads its CLI from the internet and fails here).
# The language host and the random provider are not served by the proxy at all: their upstream
# source is in ../shared/vendor (see each UPSTREAM.md) and is copied out before building, because
# shared/ is read-only in CI.
#
# Cached by version under $AGENT_SECURITY_CACHE (default ~/.cache/agent-security): a piece whose
# binary already reports the wanted version is never rebuilt, so a warm run costs seconds. Builds
# take a lock, so two callers (CI and npm start) never build the same thing twice at once.
# Where an official CLI of the pinned version is already on PATH, it is used as is.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD

PULUMI_CLI_VERSION="${PULUMI_CLI_VERSION:-3.276.0}"
# The language host's source pins pkg/sdk v3.260.0 (UPSTREAM.md: v3.276.0 does not compile it).
PULUMI_NODEJS_HOST_VERSION="3.260.0"
# The only Kubernetes provider module the proxy serves: the commit tagged v4.25.0.
PULUMI_KUBERNETES_VERSION="4.25.0"
PULUMI_KUBERNETES_MODULE_VERSION="v4.0.0-20260115033456-f47bc2d6f199"
PULUMI_RANDOM_VERSION="4.19.1"
CLIPBOARD_REPLACE="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"

shared_dir="${AGENT_SECURITY_SHARED:-$repo_root/../shared}"
cache_root="${AGENT_SECURITY_CACHE:-$HOME/.cache/agent-security}"
toolchain="$cache_root/pulumi-toolchain"
bin="$toolchain/bin"
# shellcheck source=lib/go-build-cache.sh
. "$repo_root/scripts/lib/go-build-cache.sh"
go_build_cache_init install-pulumi-toolchain "$toolchain" "-buildvcs=false -trimpath"

# $1 binary, $2 wanted version, $3 command that prints the version
has_version() {
  [ -x "$1" ] || return 1
  local reported
  reported=$("$1" "${@:3}" 2>/dev/null | head -n 1 || true)
  case "$reported" in *"$2"*) return 0 ;; *) return 1 ;; esac
}

# Plugins have no common version flag: a stamp beside the binary records what was built, written
# only after the build succeeded.
is_built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

timed() {
  local started=$SECONDS
  "$@"
  log "  done in $((SECONDS - started)) s"
}

build_cli() {
  local dir="$toolchain/build/pulumi-cli-v$PULUMI_CLI_VERSION"
  mkdir -p "$dir"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init agent-security.local/pulumi-cli >/dev/null 2>&1
    go mod edit -replace "$CLIPBOARD_REPLACE"
    # Every query carries the version: a bare `go get <package>` means @upgrade and would pull a
    # newer release than the one the binary is labelled with.
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_CLI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_CLI_VERSION"
    local resolved
    resolved=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
    [ "$resolved" = "v$PULUMI_CLI_VERSION" ] || die "the build module resolved pkg/v3 $resolved, not v$PULUMI_CLI_VERSION"
    go build -o "$bin/pulumi" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
}

build_nodejs_host() {
  local dir="$toolchain/build/pulumi-language-nodejs-v$PULUMI_NODEJS_HOST_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$shared_dir/vendor/pulumi-language-nodejs/." "$dir/"
  chmod -R u+w "$dir"
  (cd "$dir" && go build -o "$bin/pulumi-language-nodejs" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_NODEJS_HOST_VERSION" .)
}

build_kubernetes_provider() {
  local dir="$toolchain/build/pulumi-resource-kubernetes-v$PULUMI_KUBERNETES_VERSION"
  local module="github.com/pulumi/pulumi-kubernetes/provider/v4"
  mkdir -p "$dir/cmd/pulumi-resource-kubernetes"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init agent-security.local/pulumi-resource-kubernetes >/dev/null 2>&1
    go mod download "$module@$PULUMI_KUBERNETES_MODULE_VERSION"
    local src
    src=$(go mod download -json "$module@$PULUMI_KUBERNETES_MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$src" ] || die "could not locate the downloaded $module"
    # Repeat the provider's own non-local replace lines in our module, as Go ignores a
    # dependency's replaces.
    go mod edit -json "$src/go.mod" | node -e '
      const mod = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of mod.Replace ?? []) {
        if (r.New.Path.startsWith(".") || r.New.Path.startsWith("/")) continue;
        const from = r.Old.Version ? `${r.Old.Path}@${r.Old.Version}` : r.Old.Path;
        const to = r.New.Version ? `${r.New.Path}@${r.New.Version}` : r.New.Path;
        console.log(`${from}=${to}`);
      }' | while read -r replace; do go mod edit -replace "$replace"; done
    # Upstream's main only embeds two generated files (generate.go: read, set "version",
    # re-marshal); the module zip ships the inputs but not the outputs.
    cp "$src/cmd/pulumi-resource-kubernetes/main.go" cmd/pulumi-resource-kubernetes/main.go
    chmod u+w cmd/pulumi-resource-kubernetes/main.go
    for pair in "schema.json:schema-embed.json" "terraform-mapping.json:terraform-mapping-embed.json"; do
      local from="${pair%%:*}" to="${pair##*:}"
      local input="$src/cmd/pulumi-resource-kubernetes/$from"
      [ -f "$input" ] || die "the provider module has no cmd/pulumi-resource-kubernetes/$from"
      VERSION="$PULUMI_KUBERNETES_VERSION" node -e '
        const fs = require("fs");
        const doc = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
        if (process.argv[1].endsWith("/schema.json")) doc.version = process.env.VERSION;
        fs.writeFileSync(process.argv[2], JSON.stringify(doc));' "$input" "cmd/pulumi-resource-kubernetes/$to"
    done
    go get "$module@$PULUMI_KUBERNETES_MODULE_VERSION" >/dev/null 2>&1 || go get "$module@$PULUMI_KUBERNETES_MODULE_VERSION"
    go mod tidy >/dev/null 2>&1 || go mod tidy
    # Helm falls back to Kubernetes v1.20 for the capabilities of a chart rendered without a
    # cluster (renderYamlToDirectory) unless the build says otherwise, as Helm's own release build
    # does: the minor of the client-go the provider links. Charts that require >= 1.21 (spire)
    # would refuse to render in the dev stack otherwise.
    local client_go kube_minor
    client_go=$(go list -m -f '{{.Version}}' k8s.io/client-go)
    kube_minor=$(echo "$client_go" | sed -n 's/^v0\.\([0-9]*\)\..*/\1/p')
    [ -n "$kube_minor" ] || die "cannot read the Kubernetes minor from k8s.io/client-go $client_go"
    go build -o "$bin/pulumi-resource-kubernetes" \
      -ldflags "-s -w -X $module/pkg/version.Version=$PULUMI_KUBERNETES_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor" \
      ./cmd/pulumi-resource-kubernetes
  )
}

build_random_provider() {
  local dir="$toolchain/build/pulumi-resource-random-v$PULUMI_RANDOM_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$shared_dir/vendor/pulumi-random-provider/." "$dir/"
  chmod -R u+w "$dir"
  (
    cd "$dir"
    (cd cmd/pulumi-resource-random && VERSION="$PULUMI_RANDOM_VERSION" go run generate.go)
    go build -o "$bin/pulumi-resource-random" \
      -ldflags "-s -w -X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$PULUMI_RANDOM_VERSION" \
      ./cmd/pulumi-resource-random
  )
}

# The CLI distribution's two small shell shims (sdk/nodejs/dist), written anew: the language host
# runs the program through the first, and the engine loads a Node.js policy pack through the second
# when no language plugin serves it.
write_shims() {
  cat >"$bin/pulumi-language-nodejs-exec" <<'SH'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/run "$@"
SH
  cat >"$bin/pulumi-analyzer-policy" <<'SH'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/run-policy-pack "$@"
SH
  chmod +x "$bin/pulumi-language-nodejs-exec" "$bin/pulumi-analyzer-policy"
}

official=$(command -v pulumi 2>/dev/null || true)
if [ -n "$official" ] && [ "$official" != "$bin/pulumi" ] && has_version "$official" "$PULUMI_CLI_VERSION" version; then
  log "using the official pulumi $PULUMI_CLI_VERSION at $official"
  ln -sf "$official" "$bin/pulumi"
elif has_version "$bin/pulumi" "v$PULUMI_CLI_VERSION" version; then
  log "pulumi v$PULUMI_CLI_VERSION cached"
else
  log "building pulumi v$PULUMI_CLI_VERSION from Go modules (about 11 minutes cold on 2 cores)"
  timed build_cli
fi

if is_built pulumi-language-nodejs "$PULUMI_NODEJS_HOST_VERSION"; then
  log "pulumi-language-nodejs v$PULUMI_NODEJS_HOST_VERSION cached"
else
  log "building pulumi-language-nodejs v$PULUMI_NODEJS_HOST_VERSION from ../shared/vendor"
  timed build_nodejs_host
  stamp pulumi-language-nodejs "$PULUMI_NODEJS_HOST_VERSION"
fi

# The stamp names the build recipe too, so a changed recipe rebuilds (the Go build cache keeps it quick).
kubernetes_stamp="$PULUMI_KUBERNETES_VERSION helm-kube-version-from-client-go"
if is_built pulumi-resource-kubernetes "$kubernetes_stamp"; then
  log "pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION cached"
else
  log "building pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION from Go modules (about 12 minutes cold)"
  timed build_kubernetes_provider
  stamp pulumi-resource-kubernetes "$kubernetes_stamp"
fi

if is_built pulumi-resource-random "$PULUMI_RANDOM_VERSION"; then
  log "pulumi-resource-random $PULUMI_RANDOM_VERSION cached"
else
  log "building pulumi-resource-random $PULUMI_RANDOM_VERSION from ../shared/vendor (about 5 minutes cold)"
  timed build_random_provider
  stamp pulumi-resource-random "$PULUMI_RANDOM_VERSION"
fi

write_shims
echo "$bin"
