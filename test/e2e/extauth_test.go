package e2e

import (
	"testing"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestExternalAuth: auth-url as nginx's auth_request (§3.12). The auth service gets a
// bodyless subrequest with the client's method and headers plus X-Original-URL/-Method;
// 2xx lets the request through with auth-response-headers copied upstream (replacing the
// client's) and its Set-Cookie added to the response; 401 and 403 are passed on (with the
// auth service's WWW-Authenticate); anything else or an unreachable service gives 500;
// auth-signin turns the 401 into a 302 with the escaped original URL in rd.
func TestExternalAuth(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: guarded
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-response-headers: "X-Auth-Request-User, X-Auth-Request-Email"
spec:
  ingressClassName: nginx
  rules:
  - host: extauth.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: signin
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-signin: "https://login.example.com/start"
spec:
  ingressClassName: nginx
  rules:
  - host: signin.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: signin-query
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-signin: "https://login.example.com/start?app=shop"
    nginx.ingress.kubernetes.io/auth-signin-redirect-param: next
spec:
  ingressClassName: nginx
  rules:
  - host: signin-query.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: method
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/check?via=get"
    nginx.ingress.kubernetes.io/auth-method: GET
spec:
  ingressClassName: nginx
  rules:
  - host: extauth-method.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: unreachable
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.DeadPort}}/auth"
spec:
  ingressClassName: nginx
  rules:
  - host: extauth-down.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}
`)
	h := "http://extauth.example.com"
	bearer := func(tok string, more ...string) map[string]string {
		m := map[string]string{"Authorization": "Bearer " + tok}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	check(t, "good-token-200-response-headers-upstream", request{url: h + "/data?x=1", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/data?x=1",
		upstream: map[string]string{"X-Auth-Request-User": echo.AuthUser, "X-Auth-Request-Email": echo.AuthEmail, "Authorization": "Bearer good"},
		headers:  map[string]string{"Set-Cookie": echo.AuthCookie}})
	check(t, "auth-response-header-replaces-client-value", request{url: h + "/data", headers: bearer(echo.TokenGood, "X-Auth-Request-User", "mallory")}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Auth-Request-User": echo.AuthUser}})
	check(t, "no-token-401-with-challenge", request{url: h + "/data"}, expect{status: 401, local: true, headers: map[string]string{"WWW-Authenticate": `Bearer realm="test"`}})
	check(t, "forbidden-403", request{url: h + "/data", headers: bearer(echo.TokenForbidden)}, expect{status: 403, local: true})
	check(t, "auth-service-error-500", request{url: h + "/data", headers: bearer(echo.TokenBroken)}, expect{status: 500, local: true})
	check(t, "subrequest-carries-original-request", request{method: "POST", url: h + "/submit/it?a=b", body: "secret body", headers: bearer(echo.TokenGood, "X-Client", "kept")}, expect{status: 200, backend: "web", method: "POST",
		also: func(t *testing.T, res result) {
			last, ok := env.auth.Last()
			if !ok {
				t.Fatal("the auth service saw no request")
			}
			if last.Method != "POST" {
				t.Errorf("auth subrequest method %s, want the client's POST", last.Method)
			}
			if last.URI != "/auth" {
				t.Errorf("auth subrequest URI %q, want /auth", last.URI)
			}
			hd := last.Headers
			for k, want := range map[string]string{
				"X-Original-Url":          "http://extauth.example.com/submit/it?a=b",
				"X-Original-Method":       "POST",
				"X-Sent-From":             "nginx-ingress-controller",
				"X-Client":                "kept",
				"Authorization":           "Bearer good",
				"X-Auth-Request-Redirect": "/submit/it?a=b",
			} {
				if got := hd.Get(k); got != want {
					t.Errorf("auth subrequest %s = %q, want %q", k, got, want)
				}
			}
			if last.Host != "127.0.0.1" {
				t.Errorf("auth subrequest Host %q, want the auth-url host 127.0.0.1", last.Host)
			}
			if cl := hd.Get("Content-Length"); cl != "" && cl != "0" {
				t.Errorf("auth subrequest Content-Length %q, want no body", cl)
			}
			if res.backend != nil && res.backend.BodyBytes != int64(len("secret body")) {
				t.Errorf("backend read %d body bytes, want the client's %d", res.backend.BodyBytes, len("secret body"))
			}
		}})

	s := "http://signin.example.com"
	check(t, "signin-302-with-escaped-rd", request{url: s + "/?a=b&c=d"}, expect{status: 302, local: true,
		location: "https://login.example.com/start?rd=http://signin.example.com%2F%3Fa%3Db%26c%3Dd"})
	check(t, "signin-rd-path", request{url: s + "/deep/page"}, expect{status: 302,
		location: "https://login.example.com/start?rd=http://signin.example.com%2Fdeep%2Fpage"})
	check(t, "signin-not-for-403", request{url: s + "/", headers: bearer(echo.TokenForbidden)}, expect{status: 403, noLocation: true})
	check(t, "signin-good-token-200", request{url: s + "/p", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/p"})

	check(t, "signin-url-with-query-and-param-name", request{url: "http://signin-query.example.com/a?b=c"}, expect{status: 302,
		location: "https://login.example.com/start?app=shop&next=http://signin-query.example.com%2Fa%3Fb%3Dc"})
	check(t, "auth-method-overrides-client-method", request{method: "PUT", url: "http://extauth-method.example.com/item/7?v=1", body: "new", headers: bearer(echo.TokenGood)},
		expect{status: 200, backend: "web", method: "PUT", also: func(t *testing.T, res result) {
			last, _ := env.auth.Last()
			if last.Method != "GET" || last.URI != "/check?via=get" {
				t.Errorf("auth subrequest %s %s, want GET /check?via=get", last.Method, last.URI)
			}
			for k, want := range map[string]string{"X-Original-Method": "PUT", "X-Original-Uri": "/item/7?v=1", "X-Scheme": "http",
				"X-Original-Url": "http://extauth-method.example.com/item/7?v=1", "X-Gatebridge-Scope": ""} {
				if got := last.Headers.Get(k); got != want {
					t.Errorf("auth subrequest %s = %q, want %q", k, got, want)
				}
			}
		}})
	check(t, "auth-service-unreachable-500", request{url: "http://extauth-down.example.com/", headers: bearer(echo.TokenGood)}, expect{status: 500, local: true})
}
