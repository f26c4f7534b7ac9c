package e2e

import "testing"

// TestHosts: which server answers a Host. server-alias serves the same locations under
// more names (§3.17); a wildcard host matches subdomains (nginx `server_name *.x` matches
// any number of labels, not the bare name); the Host header is matched without its port
// and case-insensitively; spec.defaultBackend of an Ingress without rules serves every
// host no rule names (the catch-all server), while a named host without a "/" path answers
// 404 for other paths (its implicit "/" location goes to the default backend of the
// controller, not to another Ingress's catch-all). The header gatebridge uses to pick a
// hostname's route table cannot be forged and never reaches a backend.
func TestHosts(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: main
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/server-alias: "alias-a.example.com, alias-b.example.net"}
spec:
  ingressClassName: nginx
  rules:
  - host: main.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: wild, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: "*.wild.example.com"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
  - host: exact.wild.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: solver, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: partial, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: partial.example.com
    http:
      paths:
      - {path: /only, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: catchall, namespace: e2e}
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: fallback, port: {number: 80}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}{{.Service "e2e" "solver" "solver"}}{{.Service "e2e" "fallback" "errors"}}
`)
	check(t, "main-host", request{url: "http://main.example.com/api/x"}, expect{status: 200, backend: "api", host: "main.example.com"})
	check(t, "alias-same-locations", request{url: "http://alias-a.example.com/api/x"}, expect{status: 200, backend: "api", uri: "/api/x", host: "alias-a.example.com"})
	check(t, "second-alias", request{url: "http://alias-b.example.net/"}, expect{status: 200, backend: "web", host: "alias-b.example.net"})
	check(t, "host-case-insensitive", request{url: "http://main.example.com/api", headers: map[string]string{"Host": "MAIN.Example.COM"}}, expect{status: 200, backend: "api"})
	check(t, "host-port-ignored", request{url: "http://main.example.com/api", headers: map[string]string{"Host": "main.example.com:8080"}}, expect{status: 200, backend: "api",
		upstream: map[string]string{"X-Forwarded-Host": "main.example.com:8080"}})
	check(t, "wildcard-one-label", request{url: "http://a.wild.example.com/x"}, expect{status: 200, backend: "v2", host: "a.wild.example.com"})
	check(t, "wildcard-more-labels", request{url: "http://a.b.wild.example.com/x"}, expect{status: 200, backend: "v2"})
	check(t, "exact-host-beats-wildcard", request{url: "http://exact.wild.example.com/x"}, expect{status: 200, backend: "solver"})
	check(t, "wildcard-not-bare-name", request{url: "http://wild.example.com/x"}, expect{status: 200, backend: "errors"})
	check(t, "unknown-host-catch-all", request{url: "http://unknown.example.org/some/path?q=1"}, expect{status: 200, backend: "errors", uri: "/some/path?q=1", host: "unknown.example.org"})
	check(t, "named-host-path", request{url: "http://partial.example.com/only/x"}, expect{status: 200, backend: "api"})
	check(t, "named-host-without-root-404", request{url: "http://partial.example.com/other"}, expect{status: 404})
	// Route tables are split per hostname and chosen through a header gatebridge sets itself
	// (docs/dataplane.md, "Route tables per hostname"): a client's value must neither choose
	// the table nor reach the backend.
	forged := map[string]string{"X-Gatebridge-Scope": "gatebridge-system/gatebridge/80|exact.wild.example.com"}
	check(t, "forged-scope-ignored", request{url: "http://a.wild.example.com/x", headers: forged}, expect{status: 200, backend: "v2",
		upstream: map[string]string{"X-Gatebridge-Scope": ""}})
	check(t, "forged-scope-unknown-host", request{url: "http://unknown.example.org/", headers: forged}, expect{status: 200, backend: "errors",
		upstream: map[string]string{"X-Gatebridge-Scope": ""}})
	check(t, "scope-header-not-sent-upstream", request{url: "http://main.example.com/api"}, expect{status: 200, backend: "api",
		upstream: map[string]string{"X-Gatebridge-Scope": ""}})
}
