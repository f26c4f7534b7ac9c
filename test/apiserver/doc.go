// Package apiserver validates gatebridge's generated objects against a real kube-apiserver +
// etcd (envtest) with the real Gateway API CRDs (standard channel) and manifests/crds:
// everything `convert` emits for the golden cases, the fuzz seeds, manifests/examples and the
// real-world corpus (test/corpus/real-world), and for thousands of random Ingress sets
// (test/ingressgen), is created with a server-side dry run and strict field validation; the
// offline validator (package validation) must agree with the server on every object. It also
// reads a live cluster as `report --kubeconfig` does.
package apiserver
