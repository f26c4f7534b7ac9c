// Package apiserver validates gatebridge's generated objects against a real kube-apiserver + etcd (envtest) with the real Gateway API CRDs.
package apiserver
