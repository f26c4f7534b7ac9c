package e2e

import "testing"

// TestPathMatching: pathType semantics of a normal host (§4): Exact is exact and
// case-sensitive, Prefix is segment-wise, the longest prefix wins, unknown hosts get 404.
func TestPathMatching(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: paths.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /health, pathType: Exact, backend: {service: {name: v2, port: {number: 80}}}}
      - {path: /impl, pathType: ImplementationSpecific, backend: {service: {name: v2, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
`)
	h := "http://paths.example.com"
	check(t, "prefix-exact-path", request{url: h + "/api"}, expect{status: 200, backend: "api", uri: "/api", host: "paths.example.com"})
	check(t, "prefix-subpath-keeps-query", request{url: h + "/api/v1/users?id=7&x=y"}, expect{status: 200, backend: "api", uri: "/api/v1/users?id=7&x=y"})
	check(t, "prefix-trailing-slash", request{url: h + "/api/"}, expect{status: 200, backend: "api", uri: "/api/"})
	check(t, "prefix-is-segment-wise", request{url: h + "/apiary"}, expect{status: 200, backend: "web", uri: "/apiary"})
	check(t, "prefix-is-case-sensitive", request{url: h + "/API"}, expect{status: 200, backend: "web"})
	check(t, "exact-matches", request{url: h + "/health"}, expect{status: 200, backend: "v2", uri: "/health"})
	check(t, "exact-not-trailing-slash", request{url: h + "/health/"}, expect{status: 200, backend: "web", uri: "/health/"})
	check(t, "implementation-specific-is-prefix", request{url: h + "/impl/x"}, expect{status: 200, backend: "v2", uri: "/impl/x"})
	check(t, "root-catches-the-rest", request{url: h + "/anything/else"}, expect{status: 200, backend: "web"})
	check(t, "method-kept", request{method: "DELETE", url: h + "/api/1"}, expect{status: 200, backend: "api", method: "DELETE"})
	check(t, "unknown-host-404", request{url: "http://nobody.example.com/"}, expect{status: 404, local: true})
	check(t, "dot-segments-normalised", request{url: h + "/x/../health"}, expect{status: 200, backend: "v2"})
	check(t, "forwarded-headers", request{url: h + "/api"}, expect{status: 200, upstream: map[string]string{
		"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "paths.example.com", "X-Forwarded-Port": "80", "X-Scheme": "http"}})
	check(t, "underscore-headers-dropped", request{url: h + "/api", headers: map[string]string{"X_Custom": "1", "X-Custom": "2"}}, expect{status: 200, upstream: map[string]string{"X_custom": "", "X-Custom": "2"}})
}
