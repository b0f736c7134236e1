#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH, installing it first if needed.
# npm scripts go through this so that `npm start` and `npm test` behave the same
# on a machine whose system Node is older.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install-node.sh"
export PATH="$root/.local/node/bin:$PATH"
exec "$@"
