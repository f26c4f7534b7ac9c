package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCookieAffinity: affinity: cookie (§3.15): the first response sets the cookie
// (INGRESSCOOKIE or session-cookie-name) with Path = the Ingress path (or
// session-cookie-path) and HttpOnly; requests carrying it always reach the same endpoint;
// another Ingress on the same Service gets no cookie.
func TestCookieAffinity(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
spec:
  ingressClassName: nginx
  rules:
  - host: sticky.example.com
    http:
      paths:
      - {path: /app, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky-named
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: route
    nginx.ingress.kubernetes.io/session-cookie-path: /
    nginx.ingress.kubernetes.io/session-cookie-max-age: "3600"
spec:
  ingressClassName: nginx
  rules:
  - host: sticky.example.com
    http:
      paths:
      - {path: /named, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: sticky.example.com
    http:
      paths:
      - {path: /plain, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky-tls
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
spec:
  ingressClassName: nginx
  tls: [{hosts: [sticky-tls.example.com], secretName: sticky-tls}]
  rules:
  - host: sticky-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
{{.TLSSecret "e2e" "sticky-tls" "sticky-tls.example.com"}}
{{.Service "e2e" "pool" "pool-a" "pool-b"}}
`)
	h := "http://sticky.example.com"
	cookieNamed := func(res result, name string) *http.Cookie {
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	var cookie *http.Cookie
	var first string
	check(t, "first-response-sets-cookie", request{url: h + "/app/x"}, expect{status: 200, also: func(t *testing.T, res result) {
		cookie = cookieNamed(res, "INGRESSCOOKIE")
		if cookie == nil {
			t.Fatalf("no INGRESSCOOKIE in %q", res.header.Values("Set-Cookie"))
		}
		if cookie.Path != "/app" {
			t.Errorf("cookie Path %q, want the Ingress path /app", cookie.Path)
		}
		if !cookie.HttpOnly {
			t.Errorf("cookie is not HttpOnly: %q", res.header.Values("Set-Cookie"))
		}
		if cookie.MaxAge != 0 || !cookie.Expires.IsZero() {
			t.Errorf("session cookie has an expiry without session-cookie-expires/max-age: %q", res.header.Values("Set-Cookie"))
		}
		if res.backend != nil {
			first = res.backend.Server
		}
	}})
	if cookie == nil {
		t.FailNow()
	}
	for i := range 10 {
		check(t, fmt.Sprintf("cookie-sticks/%d", i), request{url: h + "/app/y", headers: map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}}, expect{status: 200, backend: first})
	}
	check(t, "no-new-cookie-when-sticky", request{url: h + "/app/z", headers: map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}}, expect{status: 200, also: func(t *testing.T, res result) {
		if c := cookieNamed(res, "INGRESSCOOKIE"); c != nil {
			t.Errorf("a new cookie was set though the request carried one: %q", res.header.Values("Set-Cookie"))
		}
	}})
	t.Run("new-sessions-spread-and-stick", func(t *testing.T) {
		// New clients are balanced over the endpoints; each then sticks to its own.
		sessions := map[string]string{}
		for range 30 {
			res := do(t, request{url: h + "/app/new"})
			if c := cookieNamed(res, "INGRESSCOOKIE"); c != nil && res.backend != nil {
				sessions[c.Value] = res.backend.Server
			}
		}
		seen := map[string]bool{}
		for value, server := range sessions {
			seen[server] = true
			for range 3 {
				res := do(t, request{url: h + "/app/again", headers: map[string]string{"Cookie": "INGRESSCOOKIE=" + value}})
				if res.backend == nil || res.backend.Server != server {
					t.Fatalf("session %s started on %s, then reached %v", value, server, res.backend)
				}
			}
		}
		if !seen["pool-a"] || !seen["pool-b"] {
			t.Errorf("30 new sessions all started on %v, want both pool-a and pool-b", seen)
		}
	})
	check(t, "named-cookie-path-max-age", request{url: h + "/named"}, expect{status: 200, also: func(t *testing.T, res result) {
		c := cookieNamed(res, "route")
		if c == nil {
			t.Fatalf("no cookie \"route\" in %q", res.header.Values("Set-Cookie"))
		}
		if c.Path != "/" {
			t.Errorf("cookie Path %q, want session-cookie-path /", c.Path)
		}
		if c.MaxAge != 3600 {
			t.Errorf("cookie Max-Age %d, want 3600 (%q)", c.MaxAge, res.header.Values("Set-Cookie"))
		}
	}})
	check(t, "cookie-secure-over-https", request{url: "https://sticky-tls.example.com/s"}, expect{status: 200, also: func(t *testing.T, res result) {
		c := cookieNamed(res, "INGRESSCOOKIE")
		if c == nil {
			t.Fatalf("no INGRESSCOOKIE in %q", res.header.Values("Set-Cookie"))
		}
		if !c.Secure || c.Path != "/" {
			t.Errorf("cookie over HTTPS: %q, want Secure and Path=/", res.header.Values("Set-Cookie"))
		}
	}})
	check(t, "cookie-not-secure-over-http", request{url: h + "/app/plain"}, expect{status: 200, also: func(t *testing.T, res result) {
		if c := cookieNamed(res, "INGRESSCOOKIE"); c == nil || c.Secure {
			t.Errorf("cookie over HTTP: %q, want one without Secure", res.header.Values("Set-Cookie"))
		}
	}})
	check(t, "other-ingress-same-service-no-cookie", request{url: h + "/plain"}, expect{status: 200, also: func(t *testing.T, res result) {
		for _, v := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "INGRESSCOOKIE=") || strings.HasPrefix(v, "route=") {
				t.Errorf("affinity cookie set by an Ingress without affinity: %q", v)
			}
		}
	}})
	t.Run("without-cookie-both-endpoints-serve", func(t *testing.T) {
		seen := map[string]bool{}
		for range 20 {
			if res := do(t, request{url: h + "/plain"}); res.backend != nil {
				seen[res.backend.Server] = true
			}
		}
		if !seen["pool-a"] || !seen["pool-b"] {
			t.Errorf("20 requests without affinity reached %v, want pool-a and pool-b", seen)
		}
	})
}

// TestCookieAffinityConditionalSameSiteNone: session-cookie-conditional-samesite-none with
// SameSite None omits the attribute for the user agents ingress-nginx's same_site.lua lists
// (Chrome 40-69, iOS 12, Safari on macOS 10.14) and keeps it for every other one, including
// a request without User-Agent.
func TestCookieAffinityConditionalSameSiteNone(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: samesite-conditional
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-samesite: None
    nginx.ingress.kubernetes.io/session-cookie-conditional-samesite-none: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: samesite.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: samesite, port: {number: 80}}}}
{{.Service "e2e" "samesite" "web"}}
`)
	for _, c := range []struct {
		name, ua string
		none     bool
	}{
		{"no-user-agent", "", true},
		{"chrome-120", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", true},
		{"chrome-51", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36", false},
		{"chrome-66", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.139 Safari/537.36", false},
		{"ios-12", "Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1", false},
		{"ios-13", "Mozilla/5.0 (iPhone; CPU iPhone OS 13_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Mobile/15E148 Safari/604.1", true},
		{"safari-macos-10-14", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15", false},
		{"chrome-macos-10-14", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36", true},
	} {
		headers := map[string]string{"User-Agent": c.ua}
		check(t, c.name, request{url: "http://samesite.example.com/", headers: headers}, expect{status: 200, also: func(t *testing.T, res result) {
			var cookie string
			for _, v := range res.header.Values("Set-Cookie") {
				if strings.HasPrefix(v, "INGRESSCOOKIE=") {
					cookie = v
				}
			}
			if cookie == "" {
				t.Fatalf("no INGRESSCOOKIE in %q", res.header.Values("Set-Cookie"))
			}
			if got := strings.Contains(cookie, "; SameSite=None"); got != c.none || strings.Contains(cookie, "gatebridge") {
				t.Errorf("User-Agent %q: cookie %q, want SameSite=None: %v", c.ua, cookie, c.none)
			}
		}})
	}
}
