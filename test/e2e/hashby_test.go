package e2e

import (
	"fmt"
	"testing"
)

// TestUpstreamHashBy: upstream-hash-by (§ backend): requests with the same key (request URI,
// header, query argument, cookie) always reach the same endpoint, and different keys spread
// over the endpoints; affinity: cookie wins over the hash.
func TestUpstreamHashBy(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: hash-uri
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/upstream-hash-by: "$request_uri"
spec:
  ingressClassName: nginx
  rules:
  - host: hash.example.com
    http:
      paths:
      - {path: /uri, pathType: Prefix, backend: {service: {name: hashpool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: hash-combo
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/upstream-hash-by: "$http_x_user-$arg_tenant-$cookie_sid"
    nginx.ingress.kubernetes.io/upstream-hash-by-subset: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: hash.example.com
    http:
      paths:
      - {path: /combo, pathType: Prefix, backend: {service: {name: hashpool, port: {number: 80}}}}
{{.Service "e2e" "hashpool" "pool-a" "pool-b" "web"}}
`)
	h := "http://hash.example.com"
	// sticks sends each request n times and returns the endpoint it always reached.
	sticks := func(t *testing.T, req request) string {
		t.Helper()
		first := ""
		for i := range 4 {
			res := do(t, req)
			if res.status != 200 || res.backend == nil {
				t.Fatalf("%s: status %d, backend %v", req.url, res.status, res.backend)
			}
			if i == 0 {
				first = res.backend.Server
			} else if res.backend.Server != first {
				t.Fatalf("%s %v: reached %s, then %s", req.url, req.headers, first, res.backend.Server)
			}
		}
		return first
	}
	spreads := func(t *testing.T, name string, req func(i int) request) {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for i := range 24 {
				seen[sticks(t, req(i))] = true
			}
			if len(seen) < 2 {
				t.Errorf("24 keys all reached %v, want them spread over the endpoints", seen)
			}
		})
	}
	spreads(t, "request-uri", func(i int) request { return request{url: fmt.Sprintf("%s/uri/item-%d?page=%d", h, i, i)} })
	spreads(t, "header", func(i int) request {
		return request{url: h + "/combo", headers: map[string]string{"X-User": fmt.Sprintf("user-%d", i)}}
	})
	spreads(t, "query-argument", func(i int) request { return request{url: fmt.Sprintf("%s/combo?tenant=t%d", h, i)} })
	spreads(t, "cookie", func(i int) request {
		return request{url: h + "/combo", headers: map[string]string{"Cookie": fmt.Sprintf("sid=s%d", i)}}
	})
	t.Run("combination", func(t *testing.T) {
		sticks(t, request{url: h + "/combo?tenant=a", headers: map[string]string{"X-User": "u1", "Cookie": "sid=x"}})
	})
}
