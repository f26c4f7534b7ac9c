package e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// Issue 15, second round (continued): the ingress-nginx details a migrated Ingress must
// keep, through the real Envoy. The test client connects from 127.0.0.1.

// TestFidelitySatisfyAny: satisfy: any with an allowlist and basic or external auth. One
// passing check admits (the listed address needs no credentials; an unlisted one with valid
// credentials passes); when all fail the auth answer (401 with its WWW-Authenticate) wins
// over the list's 403. Without satisfy: any the same Ingress needs both (403 first).
func TestFidelitySatisfyAny(t *testing.T) {
	b64s := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	sum := sha1.Sum([]byte("password"))
	htpasswd := "alice:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: listed
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/satisfy: any
    nginx.ingress.kubernetes.io/whitelist-source-range: "127.0.0.1/32"
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
    nginx.ingress.kubernetes.io/auth-realm: Listed
spec:
  ingressClassName: nginx
  rules:
  - host: any-listed.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: unlisted
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/satisfy: any
    nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/8"
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
    nginx.ingress.kubernetes.io/auth-realm: Unlisted
spec:
  ingressClassName: nginx
  rules:
  - host: any-unlisted.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: external
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/satisfy: any
    nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/8"
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-response-headers: X-Auth-Request-User
spec:
  ingressClassName: nginx
  rules:
  - host: any-external.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: all
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/8"
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
spec:
  ingressClassName: nginx
  rules:
  - host: all-unlisted.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: e2e}
type: Opaque
data: {auth: `+b64s(htpasswd)+`}
{{.Service "e2e" "web" "web"}}
`)
	alice := map[string]string{"Authorization": "Basic " + b64s("alice:password")}
	check(t, "listed-address-needs-no-credentials", request{url: "http://any-listed.example.com/x"}, expect{status: 200, backend: "web"})
	check(t, "listed-address-credentials-not-forwarded", request{url: "http://any-listed.example.com/x", headers: alice}, expect{status: 200, backend: "web",
		upstream: map[string]string{"Authorization": ""}})
	check(t, "unlisted-address-valid-credentials", request{url: "http://any-unlisted.example.com/x", headers: alice}, expect{status: 200, backend: "web"})
	check(t, "unlisted-address-no-credentials-401-wins", request{url: "http://any-unlisted.example.com/x"}, expect{status: 401, local: true,
		headers: map[string]string{"WWW-Authenticate": `Basic realm="Unlisted"`}})

	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	check(t, "external-admits-unlisted-address", request{url: "http://any-external.example.com/x", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Auth-Request-User": echo.AuthUser}})
	check(t, "external-401-wins-over-403", request{url: "http://any-external.example.com/x"}, expect{status: 401, local: true,
		headers: map[string]string{"WWW-Authenticate": `Bearer realm="test"`}})
	check(t, "external-403-and-list-403", request{url: "http://any-external.example.com/x", headers: bearer(echo.TokenForbidden)}, expect{status: 403, local: true})

	check(t, "satisfy-all-needs-both-403", request{url: "http://all-unlisted.example.com/x", headers: alice}, expect{status: 403, local: true})
}

// TestFidelityAffinityCookieAttributes: the affinity cookie as sticky.lua writes it:
// Expires = now + session-cookie-expires and Max-Age = session-cookie-max-age (both when both
// are set), Domain = session-cookie-domain, Secure on HTTPS even with
// session-cookie-secure: false, Secure on HTTP with session-cookie-secure: true.
func TestFidelityAffinityCookieAttributes(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: attrs
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: sid
    nginx.ingress.kubernetes.io/session-cookie-expires: "172800"
    nginx.ingress.kubernetes.io/session-cookie-max-age: "3600"
    nginx.ingress.kubernetes.io/session-cookie-domain: cookie-attrs.example.com
    nginx.ingress.kubernetes.io/session-cookie-samesite: Lax
spec:
  ingressClassName: nginx
  rules:
  - host: cookie-attrs.example.com
    http:
      paths:
      - {path: /both, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: expires-only
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-expires: "60"
    nginx.ingress.kubernetes.io/session-cookie-secure: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: cookie-attrs.example.com
    http:
      paths:
      - {path: /expires, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: insecure-on-https
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-secure: "false"
spec:
  ingressClassName: nginx
  tls: [{hosts: [cookie-tls.example.com], secretName: cookie-tls}]
  rules:
  - host: cookie-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: pool, port: {number: 80}}}}
{{.TLSSecret "e2e" "cookie-tls" "cookie-tls.example.com"}}
{{.Service "e2e" "pool" "pool-a" "pool-b"}}
`)
	cookieNamed := func(t *testing.T, res result, name string) *http.Cookie {
		t.Helper()
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no cookie %q in %q", name, res.header.Values("Set-Cookie"))
		return nil
	}
	// nginx's cookie_time writes a two-digit year ("Sun, 06-Dec-26 21:15:42 GMT"), which
	// browsers read (RFC 6265 §5.1.1) but Go's cookie parser does not: read it here.
	near := func(t *testing.T, _ time.Time, want time.Duration, raw []string) {
		t.Helper()
		v := strings.Join(raw, "\n")
		i := strings.Index(v, "; Expires=")
		if i < 0 {
			t.Fatalf("no Expires in %q", raw)
		}
		date, _, _ := strings.Cut(v[i+len("; Expires="):], ";")
		got, err := time.Parse("Mon, 02-Jan-06 15:04:05 MST", date)
		if err != nil {
			t.Fatalf("Expires %q is not in nginx's cookie_time format: %v", date, err)
		}
		if d := time.Until(got) - want; d < -time.Minute || d > time.Minute {
			t.Errorf("cookie Expires %v, want about now + %v (%q)", got, want, raw)
		}
	}
	h := "http://cookie-attrs.example.com"
	check(t, "expires-max-age-domain-samesite", request{url: h + "/both/x"}, expect{status: 200, also: func(t *testing.T, res result) {
		c := cookieNamed(t, res, "sid")
		raw := res.header.Values("Set-Cookie")
		near(t, c.Expires, 172800*time.Second, raw)
		if c.MaxAge != 3600 {
			t.Errorf("Max-Age %d, want 3600 (%q)", c.MaxAge, raw)
		}
		if c.Domain != "cookie-attrs.example.com" || c.Path != "/both" || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || c.Secure {
			t.Errorf("cookie %q: want Domain=cookie-attrs.example.com, Path=/both, SameSite=Lax, HttpOnly, not Secure", raw)
		}
		if strings.Contains(strings.Join(raw, "\n"), "gatebridge-in-") {
			t.Errorf("placeholder left in %q", raw)
		}
	}})
	check(t, "expires-only-and-secure-on-http", request{url: h + "/expires"}, expect{status: 200, also: func(t *testing.T, res result) {
		c := cookieNamed(t, res, "INGRESSCOOKIE")
		raw := res.header.Values("Set-Cookie")
		near(t, c.Expires, time.Minute, raw)
		if c.MaxAge != 0 || !c.Secure {
			t.Errorf("cookie %q: want no Max-Age and Secure (session-cookie-secure: true)", raw)
		}
	}})
	check(t, "secure-on-https-despite-false", request{url: "https://cookie-tls.example.com/"}, expect{status: 200, also: func(t *testing.T, res result) {
		if c := cookieNamed(t, res, "INGRESSCOOKIE"); !c.Secure {
			t.Errorf("cookie over HTTPS with session-cookie-secure: false: %q, want Secure (as sticky.lua)", res.header.Values("Set-Cookie"))
		}
	}})
}

// TestFidelityWWWRedirectHTTPS: from-to-www-redirect answers the other name on HTTPS too
// (the host's certificate covers it) with 308 to the host, and the Location drops one final
// "/" of the request URI as the redirect server's Lua does ("/" → no path; a query string
// keeps the URI as it is).
func TestFidelityWWWRedirectHTTPS(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: site
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/from-to-www-redirect: "true"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [wwwsite.example.com, www.wwwsite.example.com], secretName: wwwsite-tls}]
  rules:
  - host: wwwsite.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "wwwsite-tls" "wwwsite.example.com" "www.wwwsite.example.com"}}{{.Service "e2e" "web" "web"}}
`)
	w := "https://www.wwwsite.example.com"
	// nginx writes "https://wwwsite.example.com" (no path); Envoy cannot write an empty path
	// and writes "/": the same URL (RFC 3986 §6.2.3).
	check(t, "https-www-308-root", request{url: w + "/"}, expect{status: 308, local: true, location: "https://wwwsite.example.com/"})
	check(t, "https-www-308-final-slash-dropped", request{url: w + "/a/b/"}, expect{status: 308, location: "https://wwwsite.example.com/a/b"})
	check(t, "https-www-308-path-kept", request{url: w + "/a/b"}, expect{status: 308, location: "https://wwwsite.example.com/a/b"})
	check(t, "https-www-308-query-kept", request{url: w + "/a/?x=1"}, expect{status: 308, location: "https://wwwsite.example.com/a/?x=1"})
	check(t, "http-www-308-final-slash-dropped", request{url: "http://www.wwwsite.example.com/docs/"}, expect{status: 308, location: "http://wwwsite.example.com/docs"})
	check(t, "host-itself-served", request{url: "https://wwwsite.example.com/x"}, expect{status: 200, backend: "web"})
}

// TestFidelityHeadersOnLocalAnswers: ingress-nginx's more_set_headers (custom-headers) and
// the HSTS header act on every answer of the location, the ones nginx makes itself included:
// a basic-auth 401, an allowlist 403, a body-limit 413, a CORS preflight's 204.
func TestFidelityHeadersOnLocalAnswers(t *testing.T) {
	apply(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  global-allowed-response-headers: "X-Frame-Options"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frame-headers, namespace: e2e}
data: {X-Frame-Options: DENY}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: guarded
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-headers: e2e/frame-headers
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
spec:
  ingressClassName: nginx
  tls: [{hosts: [local-headers.example.com], secretName: local-headers-tls}]
  rules:
  - host: local-headers.example.com
    http:
      paths:
      - {path: /auth, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: listed
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-headers: e2e/frame-headers
    nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/8"
spec:
  ingressClassName: nginx
  tls: [{hosts: [local-headers.example.com], secretName: local-headers-tls}]
  rules:
  - host: local-headers.example.com
    http:
      paths:
      - {path: /listed, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: small
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-headers: e2e/frame-headers
    nginx.ingress.kubernetes.io/proxy-body-size: "10"
spec:
  ingressClassName: nginx
  tls: [{hosts: [local-headers.example.com], secretName: local-headers-tls}]
  rules:
  - host: local-headers.example.com
    http:
      paths:
      - {path: /small, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/custom-headers: e2e/frame-headers
    nginx.ingress.kubernetes.io/enable-cors: "true"
spec:
  ingressClassName: nginx
  tls: [{hosts: [local-headers.example.com], secretName: local-headers-tls}]
  rules:
  - host: local-headers.example.com
    http:
      paths:
      - {path: /cors, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: e2e}
type: Opaque
data: {auth: YWxpY2U6e1NIQX1XNnBoNU1tNVB6OEdnaVVMYlBnekczN21qOWc9Cg==}
{{.TLSSecret "e2e" "local-headers-tls" "local-headers.example.com"}}{{.Service "e2e" "web" "web"}}
`)
	const sts = "max-age=31536000; includeSubDomains"
	both := map[string]string{"Strict-Transport-Security": sts, "X-Frame-Options": "DENY"}
	h := "https://local-headers.example.com"
	check(t, "forwarded", request{url: h + "/auth", headers: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:password"))}},
		expect{status: 200, backend: "web", headers: both})
	check(t, "basic-auth-401", request{url: h + "/auth"}, expect{status: 401, local: true, headers: both})
	check(t, "allowlist-403", request{url: h + "/listed"}, expect{status: 403, local: true, headers: both})
	check(t, "body-limit-413", request{method: "POST", url: h + "/small", body: strings.Repeat("x", 100)}, expect{status: 413, local: true, headers: both})
	check(t, "cors-preflight-204", request{method: "OPTIONS", url: h + "/cors", headers: map[string]string{"Origin": "https://app.example.org"}},
		expect{status: 204, local: true, headers: map[string]string{"Strict-Transport-Security": sts, "X-Frame-Options": "DENY", "Access-Control-Allow-Origin": "*"}})
	check(t, "plain-http-ssl-redirect-custom-headers", request{url: "http://local-headers.example.com/listed"},
		expect{status: 308, headers: map[string]string{"X-Frame-Options": "DENY", "Strict-Transport-Security": ""}})
}

// TestFidelityAffinityCanaryBehavior: with affinity on the primary, a canary Ingress with
// affinity-canary-behavior: legacy keeps its own affinity (none): the canary's answers set
// no cookie, by weight or by header; the primary's do. A sticky canary (the default) takes
// the primary's: its answers set the cookie too.
func TestFidelityAffinityCanaryBehavior(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: primary
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/affinity: cookie}
spec:
  ingressClassName: nginx
  rules:
  - host: legacy-canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: sticky-canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: main2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "50"
    nginx.ingress.kubernetes.io/canary-by-header: X-Canary
    nginx.ingress.kubernetes.io/affinity-canary-behavior: legacy
spec:
  ingressClassName: nginx
  rules:
  - host: legacy-canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sticky
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:02Z"
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-by-header: X-Canary
spec:
  ingressClassName: nginx
  rules:
  - host: sticky-canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "main2" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "other" "api"}}
`)
	hasCookie := func(res result) bool {
		for _, v := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "INGRESSCOOKIE=") {
				return true
			}
		}
		return false
	}
	check(t, "legacy-canary-by-header-no-cookie", request{url: "http://legacy-canary.example.com/x", headers: map[string]string{"X-Canary": "always"}},
		expect{status: 200, backend: "api", also: func(t *testing.T, res result) {
			if hasCookie(res) {
				t.Errorf("the legacy canary's answer set %q", res.header.Values("Set-Cookie"))
			}
			if v := res.header.Get("X-Gatebridge-No-Affinity-Cookie"); v != "" {
				t.Errorf("internal marker leaked: %q", v)
			}
		}})
	check(t, "primary-by-header-sets-cookie", request{url: "http://legacy-canary.example.com/x", headers: map[string]string{"X-Canary": "never"}},
		expect{status: 200, backend: "web", also: func(t *testing.T, res result) {
			if !hasCookie(res) {
				t.Errorf("the primary's answer set no cookie: %q", res.header.Values("Set-Cookie"))
			}
		}})
	t.Run("legacy-canary-by-weight", func(t *testing.T) {
		seen := map[string]int{}
		for range 40 {
			res := do(t, request{url: "http://legacy-canary.example.com/w"})
			if res.backend == nil {
				t.Fatalf("status %d without backend", res.status)
			}
			seen[res.backend.Server]++
			if got, want := hasCookie(res), res.backend.Server == "web"; got != want {
				t.Fatalf("answer of %s: cookie %v, want %v (%q)", res.backend.Server, got, want, res.header.Values("Set-Cookie"))
			}
		}
		if seen["web"] == 0 || seen["api"] == 0 {
			t.Errorf("40 weighted requests reached %v, want both", seen)
		}
	})
	check(t, "sticky-canary-sets-cookie", request{url: "http://sticky-canary.example.com/x", headers: map[string]string{"X-Canary": "always"}},
		expect{status: 200, backend: "api", also: func(t *testing.T, res result) {
			if !hasCookie(res) {
				t.Errorf("the sticky canary's answer set no cookie: %q", res.header.Values("Set-Cookie"))
			}
		}})
}
