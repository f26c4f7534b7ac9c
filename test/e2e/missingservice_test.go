package e2e

import "testing"

// TestMissingBackendService: a path whose Service does not exist answers 500, Gateway API's
// answer for a backendRef that is not found (ingress-nginx answers 503; the conversion
// report says so on the Ingress); the other paths of the Ingress are served.
func TestMissingBackendService(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: missing-svc
  namespace: e2e
spec:
  ingressClassName: nginx
  rules:
  - host: missing-svc.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /gone, pathType: Prefix, backend: {service: {name: gone, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}
`)
	h := "http://missing-svc.example.com"
	check(t, "missing-service-answers-500", request{url: h + "/gone/x"}, expect{status: 500, local: true})
	check(t, "other-path-served", request{url: h + "/x"}, expect{status: 200, backend: "web"})
}
