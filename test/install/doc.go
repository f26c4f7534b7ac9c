// Package install tests what `kubectl apply -k manifests/` and the Helm chart in
// manifests/charts/gatebridge install: both are rendered with the tools' own Go modules
// (kustomize's krusty, Helm's install action in client-only mode, as `helm template`),
// applied object by object to a real kube-apiserver (envtest), and checked for the facts
// the install promises (replicas, leader election, probes, a locked-down security context,
// least-privilege RBAC). The controller then runs as its ServiceAccount under that RBAC,
// and an Envoy runs with the Deployment's flags, bootstrap and pre-stop hook.
//
// It is a module of its own (see go.mod); `make test` runs it.
package install
