// Package validation checks, offline, that the API server would accept the objects gatebridge
// emits: it runs the CustomResourceDefinitions' own OpenAPI schemas and CEL rules
// (x-kubernetes-validations) through the apiextensions-apiserver libraries — the code the API
// server itself runs for custom resources — and never a hand-written copy of the rules.
//
// For every object it does what kube-apiserver does on a create with strict field
// validation (what `kubectl apply` asks for): decode (unknown fields are refused, ObjectMeta
// is coerced), apply the schema defaults, then validate ObjectMeta (name rules), the
// OpenAPI schema, list-type invariants and the CEL rules. Problems are reported in the API
// server's own words, with the field path it would name.
//
// The CRDs are embedded (crds/): the Gateway API v1.6.3 standard channel and gatebridge's
// own (manifests/crds). TestEmbeddedCRDsAreCurrent fails when they differ from their
// sources; `go generate ./validation/` copies them again.
//
// Cost: the library's CEL values look up a field's schema on every access through an adaptor
// that rebuilds the map of all properties each time; celmemo.go gives the library's CEL
// validator the same adaptor with those lookups memoised (same answers, checked by
// TestMemoisedSchemasGiveTheSameAnswers), ~4 times cheaper: about 0.2 ms of CPU per small
// object, 0.6 ms per HTTPRoute, 30 ms per ListenerSet of 64 listeners (its uniqueness rules
// compare every pair of listeners: quadratic in the listeners per ListenerSet).
//
// It must not change what it validates, reach a cluster, or know converter rules. It does
// not change the garbage collector's settings; its caller may (cmd/gatebridge/validate.go).
package validation

//go:generate go test -run TestEmbeddedCRDsAreCurrent -update .
