#!/usr/bin/env bash
# A throw-away Kubernetes API server for another process (the real-engine tests, trying
# `npm run probe` by hand): `start <dir>` builds or reuses kube-apiserver and etcd
# (scripts/install-kube-apiserver.sh), starts them on 127.0.0.1 with certificates made for this
# run, prints the kubeconfig path (<dir>/kubeconfig) and returns; `stop <dir>` stops them by the
# PIDs in <dir>/pids.json (SIGTERM, then SIGKILL after 10 s). Logs are in <dir>/logs.
# `crds <dir> <stack> [<project dir>]` installs the upstream CRDs (../shared/crds) of every custom
# kind the stack renders, as the cluster's operators would have, and waits until they are served.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-node.sh):$PATH"
export PATH

case "${1:-}" in
  start | stop | crds) ;;
  *) echo "usage: bash scripts/cluster.sh start|stop <dir> | crds <dir> <stack> [<project dir>]" >&2; exit 2 ;;
esac
[ -n "${2:-}" ] || { echo "usage: bash scripts/cluster.sh start|stop <dir> | crds <dir> <stack> [<project dir>]" >&2; exit 2; }
mkdir -p "$2"

if [ "$1" = start ] && [ -z "${AGENT_SECURITY_KUBE_BIN:-}" ]; then
  AGENT_SECURITY_KUBE_BIN="$(bash scripts/install-kube-apiserver.sh)"
  export AGENT_SECURITY_KUBE_BIN
fi
exec npx --no-install ts-node --transpile-only test/cluster/run.ts "$@"
