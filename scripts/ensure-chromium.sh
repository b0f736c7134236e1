#!/usr/bin/env bash
# Makes sure a Chromium the Bull Board browser test can drive is installed, from
# Debian's "chromium" package (the test uses the system browser and never downloads
# one). Idempotent: apt-get runs only when no chromium binary is found.
set -euo pipefail

find_chromium() {
  command -v chromium || command -v chromium-browser || return 1
}

if binary="$(find_chromium)"; then
  echo "chromium found at ${binary}"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "chromium is missing and apt-get is not available: install Chromium and put it on PATH" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "installing the Debian package chromium (a few minutes)..."
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "installing the Debian package chromium failed (run as root: apt-get install chromium)" >&2
  exit 1
fi

if binary="$(find_chromium)"; then
  echo "installed chromium at ${binary}"
  exit 0
fi
echo "the chromium package installed no chromium binary on PATH" >&2
exit 1
