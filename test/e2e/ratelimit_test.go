package e2e

import (
	"fmt"
	"testing"
)

// TestRateLimit: limit-rps with limit-burst-multiplier is nginx `limit_req rate=<rps>r/s
// burst=<rps×multiplier> nodelay` per client address: limit + burst requests pass at once,
// the excess is answered 503 (§3.14). Other Ingresses are not limited.
func TestRateLimit(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: limited
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "1"
    nginx.ingress.kubernetes.io/limit-burst-multiplier: "1"
spec:
  ingressClassName: nginx
  rules:
  - host: ratelimit.example.com
    http:
      paths:
      - {path: /limited, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: allowlisted
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "1"
    nginx.ingress.kubernetes.io/limit-burst-multiplier: "1"
    nginx.ingress.kubernetes.io/limit-allowlist: "10.0.0.0/8, 127.0.0.0/24"
spec:
  ingressClassName: nginx
  rules:
  - host: ratelimit.example.com
    http:
      paths:
      - {path: /allowlisted, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: listed-elsewhere
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "1"
    nginx.ingress.kubernetes.io/limit-burst-multiplier: "1"
    nginx.ingress.kubernetes.io/limit-whitelist: "10.0.0.0/8"
spec:
  ingressClassName: nginx
  rules:
  - host: ratelimit.example.com
    http:
      paths:
      - {path: /listed-elsewhere, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: free, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: ratelimit.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	h := "http://ratelimit.example.com"
	check(t, "first-request-passes", request{url: h + "/limited"}, expect{status: 200, backend: "web"})
	check(t, "burst-request-passes", request{url: h + "/limited"}, expect{status: 200, backend: "web"})
	t.Run("excess-503", func(t *testing.T) {
		codes := map[int]int{}
		for range 3 {
			codes[do(t, request{url: h + "/limited/x"}).status]++
		}
		if codes[503] == 0 || codes[200]+codes[503] != 3 {
			t.Errorf("3 more requests at once: %v, want at least one 503 and nothing else than 200/503", codes)
		}
	})
	for i := range 5 {
		check(t, fmt.Sprintf("other-ingress-not-limited/%d", i), request{url: h + "/free"}, expect{status: 200, backend: "api"})
	}
	// limit-allowlist: the test client (127.0.0.1) is in the ranges, so it is never limited
	// (nginx's geo gives it an empty key); a list that does not hold it limits it.
	for i := range 6 {
		check(t, fmt.Sprintf("allowlisted-client-not-limited/%d", i), request{url: h + "/allowlisted"}, expect{status: 200, backend: "web"})
	}
	t.Run("client-outside-the-allowlist-limited", func(t *testing.T) {
		codes := map[int]int{}
		for range 5 {
			codes[do(t, request{url: h + "/listed-elsewhere"}).status]++
		}
		if codes[503] == 0 {
			t.Errorf("5 requests at once from a client outside limit-whitelist: %v, want some 503", codes)
		}
	})
}
