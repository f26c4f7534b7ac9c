package e2e

import (
	"testing"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestSnippetNestedLocations: configuration-snippet `location [=|^~] PATH { … }` blocks,
// nested in the Ingress's `location /`, answer as nginx chose them: only once the
// Ingress's location is the longest prefix of the host; a prefix compares characters
// (/__adminx too) case-sensitively; a return answers on both listeners before the https
// redirect; a location without return answers 503 (ingress-nginx's inherited Lua finds no
// backend) after it; the rest of the Ingress and another Ingress's longer path are proxied.
func TestSnippetNestedLocations(t *testing.T) {
	apply(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  allow-snippet-annotations: "true"
  annotations-risk-level: Critical
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nest-site
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      more_set_headers "X-Site: 1";
      location /__admin { allow 127.0.0.1; deny all; }
      location = /metrics { return 404; }
      location ^~ /old { return 301 https://example.com/new; }
      location = /robots.txt {
        more_set_headers "X-Robots-Tag: noindex";
        return 200 "User-agent: *\nDisallow: /\n";
      }
spec:
  ingressClassName: nginx
  tls: [{hosts: [nest.example.com], secretName: nest-tls}]
  rules:
  - host: nest.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nest-api
  namespace: e2e
  creationTimestamp: "2024-01-02T00:00:00Z"
spec:
  ingressClassName: nginx
  rules:
  - host: nest.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /__admin/api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nest-srv
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/server-snippet: |
      location /internal { deny all; }
      location ^~ /legacy { return 301 https://example.com/; }
spec:
  ingressClassName: nginx
  rules:
  - host: nest-srv.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nest-srv-app
  namespace: e2e
  creationTimestamp: "2024-01-02T00:00:00Z"
spec:
  ingressClassName: nginx
  rules:
  - host: nest-srv.example.com
    http:
      paths:
      - {path: /internal/app, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
{{.TLSSecret "e2e" "nest-tls" "nest.example.com"}}
{{.Service "e2e" "web" "web"}}
{{.Service "e2e" "api" "api"}}
`)
	h := "https://nest.example.com"
	for _, p := range []string{"/__admin", "/__admin/x", "/__adminx", "/__admin/apix"} {
		check(t, "no-backend-503"+p, request{url: h + p}, expect{status: 503, local: true, headers: map[string]string{"X-Site": "1"}})
	}
	check(t, "no-backend-after-https-redirect", request{url: "http://nest.example.com/__admin"}, expect{status: 308, local: true,
		location: httpsLoc("nest.example.com", "/__admin")})
	check(t, "prefix-is-case-sensitive", request{url: h + "/__ADMIN"}, expect{status: 200, backend: "web", uri: "/__ADMIN", headers: map[string]string{"X-Site": "1"}})
	for _, u := range []string{h + "/metrics", "http://nest.example.com/metrics"} {
		check(t, "exact-return-"+u[:5], request{url: u}, expect{status: 404, local: true, headers: map[string]string{"X-Site": "1"}})
	}
	check(t, "exact-is-exact", request{url: h + "/metrics/x"}, expect{status: 200, backend: "web", uri: "/metrics/x"})
	check(t, "noregex-prefix-return", request{url: "http://nest.example.com/old/page?a=1"}, expect{status: 301, local: true, location: "https://example.com/new"})
	check(t, "exact-return-text-with-own-and-inherited-headers", request{url: h + "/robots.txt"}, expect{status: 200, local: true,
		headers: map[string]string{"X-Site": "1", "X-Robots-Tag": "noindex"}, also: func(t *testing.T, res result) {
			if string(res.body) != "User-agent: *\nDisallow: /\n" {
				t.Errorf("body %q, want the text with nginx's \\n read as line feeds", res.body)
			}
		}})
	check(t, "rest-of-ingress-proxied", request{url: h + "/shop"}, expect{status: 200, backend: "web", uri: "/shop"})
	check(t, "other-ingress-longer-path-untouched", request{url: h + "/api/x"}, expect{status: 200, backend: "api", uri: "/api/x", headers: map[string]string{"X-Site": ""}})
	check(t, "other-ingress-longer-path-inside-nested-untouched", request{url: h + "/__admin/api/x"}, expect{status: 200, backend: "api", uri: "/__admin/api/x"})

	// server-snippet prefix locations: server-level, so the Ingress's auth-url does not
	// apply to them; a longer Ingress path inside one keeps its own.
	s := "http://nest-srv.example.com"
	for _, p := range []string{"/internal", "/internal/x", "/internalx"} {
		check(t, "server-prefix-deny"+p, request{url: s + p}, expect{status: 403, local: true})
	}
	check(t, "server-noregex-prefix-return", request{url: s + "/legacy/a"}, expect{status: 301, local: true, location: "https://example.com/"})
	check(t, "server-longer-ingress-path-untouched", request{url: s + "/internal/app/x"}, expect{status: 200, backend: "api", uri: "/internal/app/x"})
	check(t, "server-rest-needs-auth", request{url: s + "/other"}, expect{status: 401, local: true})
	check(t, "server-rest-proxied", request{url: s + "/other", headers: map[string]string{"Authorization": "Bearer " + echo.TokenGood}}, expect{status: 200, backend: "web", uri: "/other"})
}
