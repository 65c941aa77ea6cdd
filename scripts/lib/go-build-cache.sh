# Sourced by the install scripts that build tools from Go modules into a cache by version
# (install-pulumi-toolchain.sh, install-kube-apiserver.sh): one way to log, fail, and serialise
# builds across processes.
#
#   go_build_cache_init <log name> <cache dir> <GOFLAGS>
#
# Creates <cache dir>/bin and <cache dir>/build, checks for go, exports GOFLAGS and
# CGO_ENABLED=0, and holds <cache dir>/.lock until the script exits.

log() { echo "${go_build_cache_name:-install}: $*" >&2; }
die() { log "$*"; exit 1; }

go_build_cache_init() {
  go_build_cache_name=$1
  mkdir -p "$2/bin" "$2/build"
  command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH; these tools are built from Go modules with go"
  export GOFLAGS="$3"
  export CGO_ENABLED=0
  exec 9>"$2/.lock"
  if ! flock -n 9; then
    log "another install is running; waiting for it"
    flock 9
  fi
}
