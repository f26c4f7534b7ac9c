package e2e

import "testing"

// TestDefaultBackend: default-backend (§3.16): when the rule's Service has no ready
// endpoints, the request (path unchanged) goes to the default-backend Service with X-Code:
// 503 and the X-Namespace/X-Ingress-Name/X-Service-Name/X-Service-Port/X-Format headers, and
// the client gets that Service's answer; with endpoints, the rule's Service answers. Without
// default-backend, a Service without endpoints answers 503.
func TestDefaultBackend(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: fallback
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/default-backend: error-pages}
spec:
  ingressClassName: nginx
  rules:
  - host: defaultbackend.example.com
    http:
      paths:
      - {path: /empty, pathType: Prefix, backend: {service: {name: empty, port: {number: 80}}}}
      - {path: /live, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bare, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: defaultbackend.example.com
    http:
      paths:
      - {path: /bare, pathType: Prefix, backend: {service: {name: empty, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: e2e}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
{{.Service "e2e" "error-pages" "errors"}}{{.Service "e2e" "web" "web"}}
`)
	h := "http://defaultbackend.example.com"
	check(t, "no-endpoints-goes-to-default-backend", request{url: h + "/empty/page?q=1", headers: map[string]string{"Accept": "text/html"}}, expect{status: 200, backend: "errors", uri: "/empty/page?q=1",
		upstream: map[string]string{"X-Code": "503", "X-Format": "text/html", "X-Namespace": "e2e", "X-Ingress-Name": "fallback", "X-Service-Name": "empty", "X-Service-Port": "80"}})
	check(t, "default-backend-status-passed-through", request{url: h + "/empty/x", headers: map[string]string{"X-Echo-Status": "503"}}, expect{status: 503, backend: "errors"})
	check(t, "default-backend-keeps-method", request{method: "POST", url: h + "/empty", body: "x"}, expect{status: 200, backend: "errors", method: "POST"})
	check(t, "live-service-answers", request{url: h + "/live/x"}, expect{status: 200, backend: "web", uri: "/live/x", upstream: map[string]string{"X-Code": ""}})
	check(t, "no-default-backend-503", request{url: h + "/bare"}, expect{status: 503, local: true})
}
