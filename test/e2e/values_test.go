package e2e

import "testing"

// TestValuesAsWritten: values read as ingress-nginx reads them (issue 15). A YAML block
// scalar (one entry a line, a final line break) in an allow list is trimmed line by line
// and entry by entry and served; a line break left inside a security value fails closed
// (503); the CORS lists are sent as written, blanks and case kept.
func TestValuesAsWritten(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: block-inside
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/whitelist-source-range: |
      10.0.0.0/8,
      127.0.0.0/8
spec:
  ingressClassName: nginx
  rules:
  - host: values.example.com
    http:
      paths:
      - {path: /inside, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: block-outside
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8\r\n"
spec:
  ingressClassName: nginx
  rules:
  - host: values.example.com
    http:
      paths:
      - {path: /outside, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: line-break-inside
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://auth.example.com/verify\nX-Injected: 1"
spec:
  ingressClassName: nginx
  rules:
  - host: values.example.com
    http:
      paths:
      - {path: /broken, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors-as-written
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-headers: "DNT, User-Agent,X-Custom"
    nginx.ingress.kubernetes.io/cors-expose-headers: "X-Total, X-Page"
    nginx.ingress.kubernetes.io/cors-allow-methods: "GET, post"
spec:
  ingressClassName: nginx
  rules:
  - host: cors-written.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors-refused-list
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-headers: "DNT,  User-Agent"
    nginx.ingress.kubernetes.io/cors-allow-methods: "GET,,POST"
spec:
  ingressClassName: nginx
  rules:
  - host: cors-written.example.com
    http:
      paths:
      - {path: /refused, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	h := "http://values.example.com"
	check(t, "block-scalar-allowlist-admits-peer", request{url: h + "/inside"}, expect{status: 200, backend: "web"})
	check(t, "crlf-trimmed-allowlist-denies-outsider", request{url: h + "/outside"}, expect{status: 403, local: true})
	check(t, "line-break-inside-auth-url-fails-closed", request{url: h + "/broken"}, expect{status: 503, local: true})

	c := "http://cors-written.example.com"
	check(t, "cors-lists-sent-as-written", request{method: "OPTIONS", url: c + "/x", headers: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}},
		expect{status: 204, local: true, headers: map[string]string{"Access-Control-Allow-Headers": "DNT, User-Agent,X-Custom", "Access-Control-Allow-Methods": "GET, post"}})
	check(t, "cors-expose-sent-as-written", request{url: c + "/x", headers: map[string]string{"Origin": "https://app.example.com"}},
		expect{status: 200, backend: "api", headers: map[string]string{"Access-Control-Expose-Headers": "X-Total, X-Page"}})
	check(t, "cors-lists-refused-by-validator-use-defaults", request{method: "OPTIONS", url: c + "/refused", headers: map[string]string{"Origin": "https://app.example.com"}},
		expect{status: 204, local: true, headers: map[string]string{
			"Access-Control-Allow-Headers": "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
			"Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, PATCH, OPTIONS"}})
}
