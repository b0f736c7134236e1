#!/usr/bin/env bash
# Builds the local Kubernetes control plane (etcd, kube-apiserver, kube-scheduler,
# kube-controller-manager and kubectl) from the Go module proxy into .local/bin.
#
# A finished build is also kept in a per-machine cache (ASO_CONTROLPLANE_CACHE,
# default ~/.cache/ai-storage-orchestrator), so a fresh clone on the same machine
# copies the binaries instead of linking them again. Nothing here is committed.
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
ETCD_VERSION=v3.6.16

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$root/.local/bin"
cache="${ASO_CONTROLPLANE_CACHE:-$HOME/.cache/ai-storage-orchestrator}/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
binaries=(etcd kube-apiserver kube-scheduler kube-controller-manager kubectl)

all_present() {
  local dir="$1" name
  for name in "${binaries[@]}"; do
    [ -x "$dir/$name" ] || return 1
  done
}

if all_present "$bin" && [ "$(cat "$bin/.version" 2>/dev/null)" = "$(basename "$cache")" ]; then
  echo "control plane binaries present in .local/bin"
  exit 0
fi

mkdir -p "$bin"
if ! all_present "$cache"; then
  command -v go >/dev/null || { echo "Go is needed to build the control plane" >&2; exit 1; }
  echo "building the control plane ($KUBERNETES_VERSION, etcd $ETCD_VERSION); the first build takes several minutes"
  start=$(date +%s)
  mkdir -p "$cache.tmp"
  version_flags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  version_flags+=" -X k8s.io/component-base/version.gitMajor=1"
  version_flags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"
  version_flags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $version_flags" -o "$cache.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
  (cd "$here/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$cache.tmp/etcd" \
    go.etcd.io/etcd/server/v3)
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
  echo "control plane built in $(( $(date +%s) - start )) s"
fi

for name in "${binaries[@]}"; do
  cp -f "$cache/$name" "$bin/$name"
done
basename "$cache" > "$bin/.version"
echo "control plane binaries installed in .local/bin"
