//go:build tools

// Package etcd pins the etcd server that backs the local control plane. It is a
// module of its own because Kubernetes 1.37 requires the etcd 3.7 client
// libraries, while the server we run is the 3.6 line.
package etcd

import _ "go.etcd.io/etcd/server/v3"
