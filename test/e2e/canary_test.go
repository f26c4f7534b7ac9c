package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// canaryPair is a primary Ingress (Service prod-<name> → web) and a canary Ingress
// (Service canary-<name> → v2) for host <name>.example.com with the canary annotations.
// Each pair has its own Services: ingress-nginx attaches a canary to the primary's upstream.
func canaryPair(name string, annotations ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: %[1]s, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: %[1]s.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: prod-%[1]s, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s-canary
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
`, name)
	for i := 0; i+1 < len(annotations); i += 2 {
		fmt.Fprintf(&b, "    nginx.ingress.kubernetes.io/%s: %q\n", annotations[i], annotations[i+1])
	}
	fmt.Fprintf(&b, `spec:
  ingressClassName: nginx
  rules:
  - host: %[1]s.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: canary-%[1]s, port: {number: 80}}}}
{{.Service "e2e" "prod-%[1]s" "web"}}{{.Service "e2e" "canary-%[1]s" "v2"}}
`, name)
	return b.String()
}

// TestCanary: the per-request canary decision of ingress-nginx (§3.7): header
// always/never/other, header value (exact, case-sensitive; "always" then means nothing),
// header pattern (unanchored), cookie always/never, the header deciding before the cookie,
// and weights.
func TestCanary(t *testing.T) {
	apply(t, canaryPair("cy-header", "canary-by-header", "X-Canary")+
		canaryPair("cy-value", "canary-by-header", "X-Canary", "canary-by-header-value", "blue")+
		canaryPair("cy-pattern", "canary-by-header", "X-Canary", "canary-by-header-pattern", "bl(ue|ack)")+
		canaryPair("cy-cookie", "canary-by-cookie", "use_canary")+
		canaryPair("cy-both", "canary-by-header", "X-Canary", "canary-by-cookie", "use_canary")+
		canaryPair("cy-w0", "canary-weight", "0")+
		canaryPair("cy-w100", "canary-weight", "100", "canary-by-header", "X-Canary")+
		canaryPair("cy-w50", "canary-weight", "50")+
		canaryPair("cy-wt200", "canary-weight", "200", "canary-weight-total", "200")+
		canaryPair("cy-wt50", "canary-weight", "50", "canary-weight-total", "50")+`
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: cy-nopath, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: cy-nopath.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: prod-cy-nopath, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cy-nopath-canary
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "100"
spec:
  ingressClassName: nginx
  rules:
  - host: cy-nopath.example.com
    http:
      paths:
      - {path: /beta, pathType: Prefix, backend: {service: {name: canary-cy-nopath, port: {number: 80}}}}
  - host: cy-nohost.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: canary-cy-nopath, port: {number: 80}}}}
{{.Service "e2e" "prod-cy-nopath" "web"}}{{.Service "e2e" "canary-cy-nopath" "v2"}}
`)

	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	u := func(host string) string { return "http://" + host + ".example.com/c?x=1" }
	check(t, "header-always", request{url: u("cy-header"), headers: hdr("X-Canary", "always")}, expect{status: 200, backend: "v2", uri: "/c?x=1"})
	check(t, "header-never", request{url: u("cy-header"), headers: hdr("X-Canary", "never")}, expect{status: 200, backend: "web"})
	check(t, "header-other-value-falls-to-weight-0", request{url: u("cy-header"), headers: hdr("X-Canary", "sometimes")}, expect{status: 200, backend: "web"})
	check(t, "header-absent", request{url: u("cy-header")}, expect{status: 200, backend: "web"})
	check(t, "header-name-case-insensitive", request{url: u("cy-header"), headers: hdr("x-canary", "always")}, expect{status: 200, backend: "v2"})

	check(t, "header-value-match", request{url: u("cy-value"), headers: hdr("X-Canary", "blue")}, expect{status: 200, backend: "v2"})
	check(t, "header-value-case-sensitive", request{url: u("cy-value"), headers: hdr("X-Canary", "Blue")}, expect{status: 200, backend: "web"})
	check(t, "header-value-set-always-means-nothing", request{url: u("cy-value"), headers: hdr("X-Canary", "always")}, expect{status: 200, backend: "web"})

	check(t, "header-pattern-match", request{url: u("cy-pattern"), headers: hdr("X-Canary", "black")}, expect{status: 200, backend: "v2"})
	check(t, "header-pattern-unanchored", request{url: u("cy-pattern"), headers: hdr("X-Canary", "deep-blue-sea")}, expect{status: 200, backend: "v2"})
	check(t, "header-pattern-no-match", request{url: u("cy-pattern"), headers: hdr("X-Canary", "red")}, expect{status: 200, backend: "web"})

	check(t, "cookie-always", request{url: u("cy-cookie"), headers: hdr("Cookie", "a=1; use_canary=always; b=2")}, expect{status: 200, backend: "v2"})
	check(t, "cookie-never", request{url: u("cy-cookie"), headers: hdr("Cookie", "use_canary=never")}, expect{status: 200, backend: "web"})
	check(t, "cookie-other-name", request{url: u("cy-cookie"), headers: hdr("Cookie", "not_use_canary=always")}, expect{status: 200, backend: "web"})
	check(t, "cookie-absent", request{url: u("cy-cookie")}, expect{status: 200, backend: "web"})

	check(t, "header-never-beats-cookie-always", request{url: u("cy-both"), headers: hdr("X-Canary", "never", "Cookie", "use_canary=always")}, expect{status: 200, backend: "web"})
	check(t, "header-always-beats-cookie-never", request{url: u("cy-both"), headers: hdr("X-Canary", "always", "Cookie", "use_canary=never")}, expect{status: 200, backend: "v2"})
	check(t, "header-other-then-cookie", request{url: u("cy-both"), headers: hdr("X-Canary", "maybe", "Cookie", "use_canary=always")}, expect{status: 200, backend: "v2"})

	for i := range 5 {
		check(t, fmt.Sprintf("weight-0-never/%d", i), request{url: u("cy-w0")}, expect{status: 200, backend: "web"})
	}
	for i := range 5 {
		check(t, fmt.Sprintf("weight-100-always/%d", i), request{url: u("cy-w100")}, expect{status: 200, backend: "v2"})
	}
	check(t, "weight-100-header-never-wins", request{url: u("cy-w100"), headers: hdr("X-Canary", "never")}, expect{status: 200, backend: "web"})

	for i := range 3 {
		check(t, fmt.Sprintf("weight-total-200-weight-200-always/%d", i), request{url: u("cy-wt200")}, expect{status: 200, backend: "v2"})
	}
	t.Run("weight-total-at-most-100-means-100", func(t *testing.T) {
		// canary-weight 50 of canary-weight-total 50: nginx only honours totals above 100,
		// so this is 50 %, not "always".
		seen := map[string]int{}
		for range 40 {
			if res := do(t, request{url: u("cy-wt50")}); res.backend != nil {
				seen[res.backend.Server]++
			}
		}
		if seen["web"] == 0 || seen["v2"] == 0 {
			t.Errorf("40 requests at weight 50 of total 50 reached %v, want both web and v2", seen)
		}
	})
	check(t, "canary-without-same-path-is-dropped", request{url: "http://cy-nopath.example.com/beta/x"}, expect{status: 200, backend: "web", uri: "/beta/x"})
	check(t, "canary-never-creates-a-host", request{url: "http://cy-nohost.example.com/"}, expect{status: 404, local: true})
	t.Run("weight-50-both-served", func(t *testing.T) {
		seen := map[string]int{}
		for range 100 {
			res := do(t, request{url: u("cy-w50")})
			if res.status != 200 || res.backend == nil {
				t.Fatalf("status %d, backend %v", res.status, res.backend)
			}
			seen[res.backend.Server]++
		}
		if seen["web"] < 20 || seen["v2"] < 20 || len(seen) != 2 {
			t.Errorf("100 requests at weight 50 reached %v, want both web and v2 (at least 20 each)", seen)
		}
	})
}
