#!/usr/bin/env bash
# Makes sure Prometheus and promtool are installed, for the metrics tests (they start
# a real Prometheus on a loopback port). Installs Debian's prometheus package when
# either is missing; apt-get update runs only then.
set -euo pipefail

have_tools() {
  command -v prometheus >/dev/null && command -v promtool >/dev/null
}

if have_tools; then
  echo "prometheus and promtool are installed: $(command -v prometheus), $(command -v promtool)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "prometheus is missing and apt-get is not available: install Prometheus 2.x by hand" >&2
  exit 1
fi

sudo_if_needed() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Another install may hold the dpkg lock for a while: wait for it rather than fail.
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
if ! sudo_if_needed apt-get "${APT_LOCK_WAIT[@]}" update -qq ||
  ! sudo_if_needed apt-get "${APT_LOCK_WAIT[@]}" install -y -qq --no-install-recommends prometheus; then
  echo "could not install the Debian package prometheus" >&2
  exit 1
fi

if ! have_tools; then
  echo "the prometheus package was installed but prometheus or promtool is still missing" >&2
  exit 1
fi
echo "installed prometheus: $(prometheus --version 2>&1 | head -n 1)"
