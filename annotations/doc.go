// Package annotations is the catalog of every nginx.ingress.kubernetes.io/* annotation
// ingress-nginx v1.15.1 accepts (136 names plus 2 aliases), the legacy names still seen in
// the wild, and their parsing into typed values with ingress-nginx's validation.
//
// Each annotation has a support level (exact, approximate, ignored, refused, unsupported)
// and a one-sentence note that says the difference, the reason or what it does. Parsing
// never fails as a whole: every problem becomes a Finding that names the annotation, the
// value and what is accepted. Security-sensitive groups (auth, access lists) that do not
// validate are marked so the converter can fail closed.
//
// The package depends only on Kubernetes API types; it knows nothing of Gateway API.
// One file per family: rewrite.go, redirect.go, backend.go, canary.go, affinity.go, cors.go,
// auth.go, ratelimit.go, tls.go, observability.go, raw.go, legacy.go.
package annotations
