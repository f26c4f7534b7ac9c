package e2e

import "testing"

// TestResponseRewrite: proxy-redirect-from/-to rewrite the prefix of the backend's
// Location and Refresh url= (case-sensitive); proxy-cookie-domain rewrites a Set-Cookie
// Domain equal to FROM (any case, leading dot kept), proxy-cookie-path a Path starting with
// FROM; other headers, cookies and Ingresses are untouched.
func TestResponseRewrite(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rewrite
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/proxy-redirect-from: http://backend.internal:8080/
    nginx.ingress.kubernetes.io/proxy-redirect-to: https://rewrite.example.com/
    nginx.ingress.kubernetes.io/proxy-cookie-domain: backend.internal rewrite.example.com
    nginx.ingress.kubernetes.io/proxy-cookie-path: /internal/ /app/
spec:
  ingressClassName: nginx
  rules:
  - host: rewrite.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: rewrite, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: rewrite-plain.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: rewrite, port: {number: 80}}}}
{{.Service "e2e" "rewrite" "web"}}
`)
	h := "http://rewrite.example.com"
	header := func(name string, want string) func(*testing.T, result) {
		return func(t *testing.T, res result) {
			if got := res.header.Get(name); got != want {
				t.Errorf("%s %q, want %q", name, got, want)
			}
		}
	}
	redirect := func(location string) map[string]string {
		return map[string]string{"X-Echo-Status": "302", "X-Echo-Response-Header": "Location: " + location}
	}
	check(t, "location-prefix", request{url: h + "/a", headers: redirect("http://backend.internal:8080/login?next=/x")},
		expect{status: 302, also: header("Location", "https://rewrite.example.com/login?next=/x")})
	check(t, "location-other-prefix-kept", request{url: h + "/a", headers: redirect("http://other.internal/login")},
		expect{status: 302, also: header("Location", "http://other.internal/login")})
	check(t, "location-case-sensitive", request{url: h + "/a", headers: redirect("HTTP://BACKEND.INTERNAL:8080/login")},
		expect{status: 302, also: header("Location", "HTTP://BACKEND.INTERNAL:8080/login")})
	check(t, "refresh-url", request{url: h + "/a", headers: map[string]string{"X-Echo-Response-Header": "Refresh: 5; url=http://backend.internal:8080/next"}},
		expect{status: 200, also: header("Refresh", "5; url=https://rewrite.example.com/next")})
	cookies := func(value string) map[string]string { return map[string]string{"X-Echo-Set-Cookie": value} }
	check(t, "cookie-domain-and-path", request{url: h + "/a", headers: cookies("sid=1; Domain=.Backend.Internal; Path=/internal/x; HttpOnly")},
		expect{status: 200, also: header("Set-Cookie", "sid=1; Domain=.rewrite.example.com; Path=/app/x; HttpOnly")})
	check(t, "cookie-other-domain-kept", request{url: h + "/a", headers: cookies("sid=1; domain=sub.backend.internal; path=/other")},
		expect{status: 200, also: header("Set-Cookie", "sid=1; domain=sub.backend.internal; path=/other")})
	check(t, "other-ingress-untouched", request{url: "http://rewrite-plain.example.com/a", headers: redirect("http://backend.internal:8080/login")},
		expect{status: 302, also: func(t *testing.T, res result) {
			if got := res.header.Get("Location"); got != "http://backend.internal:8080/login" {
				t.Errorf("Location %q rewritten on an Ingress without proxy-redirect", got)
			}
		}})
}
