//go:build tools

// Package controlplane pins the Kubernetes commands that the local control plane
// is built from, so that `go mod tidy` keeps them in the module graph.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
