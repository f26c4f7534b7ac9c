// Package testenv starts the real kube-apiserver and etcd (controller-runtime's envtest) with
// the real CRDs — the Gateway API standard channel at the version in go.mod, optionally its
// experimental channel, and gatebridge's own kinds from manifests/crds — for tests that claim
// Kubernetes behaviour.
//
// The binaries come from KUBEBUILDER_ASSETS or, when it is unset, from hack/envtest.sh
// (which builds them on a fresh machine, about ten minutes cold). The skip policy is the
// project's: under `go test -short` the tests skip; without the binaries they skip too,
// except when CI=true, where a missing binary fails the run instead.
//
// Two ways to use it: Run from TestMain starts one environment shared by every test of the
// package (Get hands it to a test, or skips the test with the reason); Start starts a
// private one for a single test and stops it at the test's end.
//
// It must not hold test logic of any package: only starting, stopping and small helpers
// (namespaces, a client, a kubeconfig file).
package testenv
