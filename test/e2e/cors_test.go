package e2e

import (
	"strings"
	"testing"
)

// TestCORS: enable-cors as ingress-nginx renders it (§3.8). Origin list: an allowed origin
// (case-insensitive, "*." = one DNS label, port exact) gets Access-Control-Allow-Origin =
// its Origin plus the other headers; any OPTIONS from it is answered 204 by the proxy; other
// origins are proxied untouched. "*": every response carries "*", every OPTIONS is 204.
func TestCORS(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: list
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com, https://*.example.org, http://local.test:8080"
spec:
  ingressClassName: nginx
  rules:
  - host: cors.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: custom
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com"
    nginx.ingress.kubernetes.io/cors-allow-methods: "GET, POST"
    nginx.ingress.kubernetes.io/cors-allow-headers: "X-Custom,Content-Type"
    nginx.ingress.kubernetes.io/cors-expose-headers: "X-Total"
    nginx.ingress.kubernetes.io/cors-allow-credentials: "false"
    nginx.ingress.kubernetes.io/cors-max-age: "600"
spec:
  ingressClassName: nginx
  rules:
  - host: cors.example.com
    http:
      paths:
      - {path: /custom, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: star
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: cors-star.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: star-limits
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/proxy-body-size: 1k
spec:
  ingressClassName: nginx
  rules:
  - host: cors-star.example.com
    http:
      paths:
      - {path: /small, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: star-denied
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/allowlist-source-range: 10.0.0.0/8
spec:
  ingressClassName: nginx
  rules:
  - host: cors-star.example.com
    http:
      paths:
      - {path: /denied, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors-tls
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com"
spec:
  ingressClassName: nginx
  tls: [{hosts: [cors-tls.example.com], secretName: cors-tls}]
  rules:
  - host: cors-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors-moved
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/permanent-redirect: "https://api2.example.com/v2"
    nginx.ingress.kubernetes.io/app-root: /home
spec:
  ingressClassName: nginx
  rules:
  - host: cors-moved.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "cors-tls" "cors-tls.example.com"}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
`)
	h := "http://cors.example.com"
	origin := func(o string, more ...string) map[string]string {
		m := map[string]string{"Origin": o}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	const app = "https://app.example.com"
	defaultMethods := "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	defaultHeaders := "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	check(t, "preflight-allowed-origin-204", request{method: "OPTIONS", url: h + "/api", headers: origin(app, "Access-Control-Request-Method", "PUT")}, expect{status: 204, local: true,
		headers: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": defaultMethods,
			"Access-Control-Allow-Headers": defaultHeaders, "Access-Control-Max-Age": "1728000"}})
	check(t, "any-options-from-allowed-origin-204", request{method: "OPTIONS", url: h + "/api", headers: origin(app)}, expect{status: 204, local: true,
		headers: map[string]string{"Access-Control-Allow-Origin": app}})
	check(t, "options-other-origin-proxied", request{method: "OPTIONS", url: h + "/api", headers: origin("https://evil.example.net", "Access-Control-Request-Method", "PUT")}, expect{status: 200, backend: "web", method: "OPTIONS",
		headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "options-without-origin-proxied", request{method: "OPTIONS", url: h + "/api"}, expect{status: 200, backend: "web", method: "OPTIONS"})
	check(t, "get-allowed-origin-proxied-with-headers", request{url: h + "/api?q=1", headers: origin(app)}, expect{status: 200, backend: "web", uri: "/api?q=1",
		headers:  map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": defaultMethods, "Access-Control-Max-Age": "1728000"},
		upstream: map[string]string{"Origin": app}})
	check(t, "get-other-origin-no-cors-headers", request{url: h + "/api", headers: origin("https://app.example.com.evil.net")}, expect{status: 200, backend: "web",
		headers: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": ""}})
	check(t, "get-without-origin-no-cors-headers", request{url: h + "/api"}, expect{status: 200, backend: "web", headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "origin-case-insensitive", request{url: h + "/api", headers: origin("HTTPS://APP.Example.COM")}, expect{status: 200, backend: "web",
		headers: map[string]string{"Access-Control-Allow-Origin": "HTTPS://APP.Example.COM"}})
	check(t, "wildcard-one-label", request{url: h + "/api", headers: origin("https://shop.example.org")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": "https://shop.example.org"}})
	check(t, "wildcard-not-two-labels", request{url: h + "/api", headers: origin("https://a.b.example.org")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "wildcard-not-bare-domain", request{url: h + "/api", headers: origin("https://example.org")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "port-must-match", request{url: h + "/api", headers: origin("http://local.test:8080")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": "http://local.test:8080"}})
	check(t, "other-port-refused", request{url: h + "/api", headers: origin("http://local.test:9090")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "scheme-must-match", request{url: h + "/api", headers: origin("http://app.example.com")}, expect{status: 200, headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "upstream-cors-headers-overwritten", request{url: h + "/api", headers: origin(app, "X-Echo-Response-Header", "Access-Control-Allow-Origin: https://wrong.example")}, expect{status: 200, backend: "web",
		also: func(t *testing.T, res result) {
			if v := res.header.Values("Access-Control-Allow-Origin"); len(v) != 1 || v[0] != app {
				t.Errorf("Access-Control-Allow-Origin %q, want only %q", v, app)
			}
		}})
	check(t, "backend-error-gets-cors-headers", request{url: h + "/api?echo_status=500", headers: origin(app)}, expect{status: 500, backend: "web", headers: map[string]string{"Access-Control-Allow-Origin": app}})

	check(t, "custom-preflight", request{method: "OPTIONS", url: h + "/custom", headers: origin(app, "Access-Control-Request-Method", "POST")}, expect{status: 204, local: true,
		headers: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "X-Custom,Content-Type", "Access-Control-Max-Age": "600"}})
	check(t, "custom-expose-headers", request{url: h + "/custom", headers: origin(app)}, expect{status: 200, backend: "api",
		headers: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Expose-Headers": "X-Total", "Access-Control-Allow-Credentials": ""}})

	s := "http://cors-star.example.com"
	check(t, "star-get-without-origin", request{url: s + "/x"}, expect{status: 200, backend: "v2",
		headers: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": defaultMethods}})
	check(t, "star-get-with-origin-literal-star", request{url: s + "/x", headers: origin("https://anything.example")}, expect{status: 200, backend: "v2",
		headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "star-options-without-origin-204", request{method: "OPTIONS", url: s + "/x"}, expect{status: 204, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "star-preflight-204", request{method: "OPTIONS", url: s + "/x", headers: origin("https://anything.example", "Access-Control-Request-Method", "DELETE")}, expect{status: 204, local: true,
		headers: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "1728000"}})
	check(t, "star-preflight-before-access-list", request{method: "OPTIONS", url: s + "/denied"}, expect{status: 204, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "star-headers-on-403", request{url: s + "/denied"}, expect{status: 403, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "star-headers-on-413", request{method: "POST", url: s + "/small", body: strings.Repeat("x", 4096)}, expect{status: 413, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "preflight-over-http-answered-before-ssl-redirect", request{method: "OPTIONS", url: "http://cors-tls.example.com/x", headers: origin(app, "Access-Control-Request-Method", "GET")},
		expect{status: 204, local: true, headers: map[string]string{"Access-Control-Allow-Origin": app}})
	check(t, "ssl-redirect-carries-cors-headers", request{url: "http://cors-tls.example.com/x", headers: origin(app)}, expect{status: 308, location: httpsLoc("cors-tls.example.com", "/x"),
		headers: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true"}})
	check(t, "ssl-redirect-other-origin-no-cors", request{url: "http://cors-tls.example.com/x/", headers: origin("https://evil.example.net")}, expect{status: 308, location: httpsLoc("cors-tls.example.com", "/x"),
		headers: map[string]string{"Access-Control-Allow-Origin": ""}})
	check(t, "options-other-origin-over-http-redirected", request{method: "OPTIONS", url: "http://cors-tls.example.com/x", headers: origin("https://evil.example.net")}, expect{status: 308})
	m := "http://cors-moved.example.com"
	check(t, "preflight-before-permanent-redirect", request{method: "OPTIONS", url: m + "/api", headers: origin("https://any.example")}, expect{status: 204, local: true,
		headers: map[string]string{"Access-Control-Allow-Origin": "*"}, noLocation: true})
	check(t, "permanent-redirect-carries-cors-headers", request{url: m + "/api", headers: origin("https://any.example")}, expect{status: 301, location: "https://api2.example.com/v2",
		headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "app-root-is-server-level-no-cors", request{method: "OPTIONS", url: m + "/", headers: origin("https://any.example")}, expect{status: 302, location: m + "/home",
		headers: map[string]string{"Access-Control-Allow-Origin": ""}})
}
