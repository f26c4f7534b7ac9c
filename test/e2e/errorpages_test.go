package e2e

import "testing"

// TestErrorPages: custom-http-errors (§3.16). A listed status from the backend, or from the
// proxy itself (an allowlist's 403), is replaced by the default backend's answer to the
// same method on "/" (query kept) with the original Host and X-Code, X-Format,
// X-Original-URI, X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port; the client
// gets the default backend's status. Unlisted codes pass through. Without default-backend
// the listed codes are answered 404 (ingress-nginx's own default backend); with
// disable-proxy-intercept-errors the backend's error reaches the client, while the proxy's
// own errors are still replaced.
func TestErrorPages(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: pages
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-http-errors: "404,503"
    nginx.ingress.kubernetes.io/default-backend: error-pages
spec:
  ingressClassName: nginx
  rules:
  - host: errorpages.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: guarded
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-http-errors: "403"
    nginx.ingress.kubernetes.io/default-backend: error-pages
    nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8"
spec:
  ingressClassName: nginx
  rules:
  - host: errorpages.example.com
    http:
      paths:
      - {path: /guarded, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: plain
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/custom-http-errors: "500"}
spec:
  ingressClassName: nginx
  rules:
  - host: errorpages-plain.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: passthrough
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-http-errors: "500"
    nginx.ingress.kubernetes.io/default-backend: error-pages
    nginx.ingress.kubernetes.io/disable-proxy-intercept-errors: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: errorpages-passthrough.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: passthrough-guarded
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-http-errors: "403"
    nginx.ingress.kubernetes.io/default-backend: error-pages
    nginx.ingress.kubernetes.io/disable-proxy-intercept-errors: "true"
    nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8"
spec:
  ingressClassName: nginx
  rules:
  - host: errorpages-passthrough.example.com
    http:
      paths:
      - {path: /guarded, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "error-pages" "errors"}}{{.Service "e2e" "web" "web"}}
`)
	h := "http://errorpages.example.com"
	check(t, "listed-code-replaced-by-default-backend", request{url: h + "/missing/page?q=1", headers: map[string]string{"Accept": "text/html", "X-Echo-Status-Of": "web=404"}},
		expect{status: 200, backend: "errors", uri: "/?q=1", host: "errorpages.example.com", method: "GET", upstream: map[string]string{
			"X-Code": "404", "X-Format": "text/html", "X-Original-URI": "/missing/page?q=1", "X-Namespace": "e2e", "X-Ingress-Name": "pages",
			"X-Service-Name": "web", "X-Service-Port": "80",
			// gatebridge's own bookkeeping never reaches the default backend.
			"X-Gatebridge-Host": "", "X-Gatebridge-Method": "", "X-Gatebridge-Scope": "",
		}})
	check(t, "second-listed-code", request{url: h + "/busy", headers: map[string]string{"X-Echo-Status-Of": "web=503"}},
		expect{status: 200, backend: "errors", uri: "/", upstream: map[string]string{"X-Code": "503", "X-Original-URI": "/busy"}})
	check(t, "default-backend-status-reaches-client", request{url: h + "/missing", headers: map[string]string{"X-Echo-Status-Of": "web=404, errors=410"}},
		expect{status: 410, backend: "errors", upstream: map[string]string{"X-Code": "404"}, headers: map[string]string{"X-Gatebridge-Status": ""}})
	check(t, "post-with-body", request{method: "POST", url: h + "/form", body: "a=1", headers: map[string]string{"X-Echo-Status-Of": "web=503"}},
		expect{status: 200, backend: "errors", method: "POST"})
	check(t, "method-kept", request{method: "DELETE", url: h + "/item/7", headers: map[string]string{"X-Echo-Status-Of": "web=404"}},
		expect{status: 200, backend: "errors", method: "DELETE", uri: "/", upstream: map[string]string{"X-Original-URI": "/item/7"}})
	check(t, "unlisted-code-passes-through", request{url: h + "/broken", headers: map[string]string{"X-Echo-Status-Of": "web=500"}},
		expect{status: 500, backend: "web", uri: "/broken"})
	check(t, "success-untouched", request{url: h + "/fine"}, expect{status: 200, backend: "web", uri: "/fine", upstream: map[string]string{"X-Code": ""}})
	check(t, "proxy-own-403-replaced", request{url: h + "/guarded/x"},
		expect{status: 200, backend: "errors", uri: "/", upstream: map[string]string{"X-Code": "403", "X-Ingress-Name": "guarded", "X-Original-URI": "/guarded/x"}})
	check(t, "no-default-backend-answers-404", request{url: "http://errorpages-plain.example.com/x", headers: map[string]string{"X-Echo-Status-Of": "web=500"}},
		expect{status: 404, local: true})
	check(t, "no-default-backend-unlisted-passes", request{url: "http://errorpages-plain.example.com/x", headers: map[string]string{"X-Echo-Status-Of": "web=502"}},
		expect{status: 502, backend: "web"})
	check(t, "interception-disabled", request{url: "http://errorpages-passthrough.example.com/x", headers: map[string]string{"X-Echo-Status-Of": "web=500"}},
		expect{status: 500, backend: "web", uri: "/x"})
	// nginx's own errors still get error pages; the backend's do not.
	check(t, "interception-disabled-proxy-403-replaced", request{url: "http://errorpages-passthrough.example.com/guarded/y"},
		expect{status: 200, backend: "errors", uri: "/", upstream: map[string]string{"X-Code": "403", "X-Ingress-Name": "passthrough-guarded"}})
}
