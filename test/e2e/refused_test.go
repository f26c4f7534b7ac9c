package e2e

import "testing"

// TestRefused: a refused Ingress fails closed for the locations it owns — 503, as
// ingress-nginx answers a denied location — and never falls through to another Ingress's
// path, a wildcard or the catch-all (docs/dataplane.md, "Refused Ingresses"). Next to a
// hostless catch-all Ingress and an Ingress with `host: "*"` (invalid for the API server, so
// absent: it serves nothing), Ingresses refused for an invalid allowlist (TLS host), an
// invalid auth-url (one path of a shared host) and a snippet (with use-regex, so its host is
// in regex mode): their hosts and paths answer 503, never 200 from the catch-all; unknown
// hosts still reach the catch-all; the shared host's other paths are served.
func TestRefused(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: catch-all, namespace: e2e, creationTimestamp: "2024-03-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: fallback, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: star, namespace: e2e, creationTimestamp: "2023-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: "*"
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: star, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: allowlist
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/33"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [private.example.com], secretName: private-tls}]
  rules:
  - host: private.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: auth
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/auth-url: "ftp://auth.example.com/check"}
spec:
  ingressClassName: nginx
  rules:
  - host: shared.example.com
    http:
      paths:
      - {path: /admin, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shared, namespace: e2e, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: shared.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snippet
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers 'X-Env: prod';"
    nginx.ingress.kubernetes.io/use-regex: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: "/api/v[0-9]+", pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 80}}}}
  - host: snippet.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: regex-neighbour, namespace: e2e, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: solver, port: {number: 80}}}}
{{.TLSSecret "e2e" "private-tls" "private.example.com"}}{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "solver" "solver"}}{{.Service "e2e" "fallback" "errors"}}{{.Service "e2e" "star" "v2"}}
`)
	refused := expect{status: 503, local: true}
	// A host whose only Ingress is refused: 503 for its paths over HTTP, never the
	// catch-all (nor the "*" Ingress, which the API server would reject).
	check(t, "refused-host", request{url: "http://private.example.com/"}, refused)
	check(t, "refused-host-deep-path", request{url: "http://private.example.com/some/page?q=1"}, refused)
	// Over HTTPS there is no listener at all: nothing of a refused Ingress reaches the shared
	// Gateway, so no certificate is presented for the host and the handshake fails — closed.
	t.Run("refused-host-https", func(t *testing.T) {
		resp, err := newClient(true, false).Get("https://private.example.com/")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("https://private.example.com/ answered %d; want no TLS listener for a host only refused Ingresses name", resp.StatusCode)
		}
		t.Logf("fails closed as expected: %v", err)
	})
	check(t, "refused-host-snippet", request{url: "http://snippet.example.com/x"}, refused)
	// A refused path on a shared host: 503; the host's other paths are served, a prefix is
	// matched by path segments.
	check(t, "refused-path", request{url: "http://shared.example.com/admin"}, refused)
	check(t, "refused-path-below", request{url: "http://shared.example.com/admin/users"}, refused)
	check(t, "shared-host-other-path", request{url: "http://shared.example.com/shop"}, expect{status: 200, backend: "web", uri: "/shop"})
	check(t, "shared-host-not-a-segment", request{url: "http://shared.example.com/administrator"}, expect{status: 200, backend: "web"})
	// Regex mode (use-regex on the refused Ingress): the refused regular expression is tried
	// in nginx order (longest first, case-insensitive) before the neighbour's /api.
	check(t, "refused-regex", request{url: "http://regex.example.com/api/v2/items"}, refused)
	check(t, "refused-regex-case-insensitive", request{url: "http://regex.example.com/API/V3"}, refused)
	check(t, "regex-neighbour", request{url: "http://regex.example.com/api/other"}, expect{status: 200, backend: "solver"})
	// The catch-all still serves hosts nobody names; the "*" Ingress serves nothing.
	check(t, "unknown-host-catch-all", request{url: "http://unknown.example.org/x"}, expect{status: 200, backend: "errors", uri: "/x"})
	check(t, "star-host-is-absent", request{url: "http://anything.example.net/"}, expect{status: 200, backend: "errors"})
}
