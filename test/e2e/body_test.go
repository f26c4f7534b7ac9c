package e2e

import (
	"strings"
	"testing"
)

// TestBodySize: client_max_body_size is 1 MiB by default and proxy-body-size sets it per
// Ingress ("0" = unlimited); a bigger body is answered 413 by the proxy, whether it is
// announced by Content-Length or sent chunked (§3.10).
func TestBodySize(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: default-limit, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: body.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: small
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 1k}
spec:
  ingressClassName: nginx
  rules:
  - host: body.example.com
    http:
      paths:
      - {path: /small, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: unlimited
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/proxy-body-size: "0"}
spec:
  ingressClassName: nginx
  rules:
  - host: body.example.com
    http:
      paths:
      - {path: /unlimited, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
`)
	h := "http://body.example.com"
	size := func(n int) string { return strings.Repeat("x", n) }
	bodyBytes := func(n int64) func(*testing.T, result) {
		return func(t *testing.T, res result) {
			if res.backend != nil && res.backend.BodyBytes != n {
				t.Errorf("backend read %d body bytes, want %d", res.backend.BodyBytes, n)
			}
		}
	}
	check(t, "default-2MiB-413", request{method: "POST", url: h + "/upload", body: size(2 << 20)}, expect{status: 413, local: true})
	check(t, "default-512KiB-passes", request{method: "POST", url: h + "/upload", body: size(512 << 10)}, expect{status: 200, backend: "web", also: bodyBytes(512 << 10)})
	check(t, "default-exactly-1MiB-passes", request{method: "PUT", url: h + "/upload", body: size(1 << 20)}, expect{status: 200, backend: "web", also: bodyBytes(1 << 20)})
	check(t, "default-chunked-2MiB-413", request{method: "POST", url: h + "/upload", body: size(2 << 20), chunked: true}, expect{status: 413, local: true})
	check(t, "1k-2k-413", request{method: "POST", url: h + "/small", body: size(2048)}, expect{status: 413, local: true})
	check(t, "1k-100-bytes-pass", request{method: "POST", url: h + "/small", body: size(100)}, expect{status: 200, backend: "api", also: bodyBytes(100)})
	check(t, "1k-chunked-2k-413", request{method: "POST", url: h + "/small/x", body: size(2048), chunked: true}, expect{status: 413, local: true})
	check(t, "unlimited-2MiB-passes", request{method: "POST", url: h + "/unlimited", body: size(2 << 20)}, expect{status: 200, backend: "v2", also: bodyBytes(2 << 20)})
	check(t, "unlimited-chunked-3MiB-passes", request{method: "POST", url: h + "/unlimited", body: size(3 << 20), chunked: true}, expect{status: 200, backend: "v2", also: bodyBytes(3 << 20)})
}
