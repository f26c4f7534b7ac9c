package e2e

import (
	"regexp"
	"testing"
)

// TestUpstreamHeaders: what ingress-nginx always sets towards the backend (§3.9): the
// X-Forwarded-* family computed from the connection (the client's X-Forwarded-For is not
// trusted: it is kept in X-Original-Forwarded-For), X-Request-ID (the client's, else a
// generated one), and no Proxy header (httpoxy); and no header of Envoy's towards the client.
func TestUpstreamHeaders(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: headers, namespace: e2e}
spec:
  ingressClassName: nginx
  tls: [{hosts: [headers-tls.example.com], secretName: headers-tls}]
  rules:
  - host: headers.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - host: headers-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "headers-tls" "headers-tls.example.com"}}
{{.Service "e2e" "web" "web"}}
`)
	h := "http://headers.example.com"
	check(t, "client-forwarded-for-not-trusted", request{url: h + "/", headers: map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-Ip": "203.0.113.8"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Original-Forwarded-For": "203.0.113.7"}})
	check(t, "client-forwarded-proto-overwritten", request{url: h + "/", headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Scheme": "http", "X-Forwarded-Host": "headers.example.com", "X-Forwarded-Port": "80"}})
	check(t, "no-original-forwarded-for-without-client-value", request{url: h + "/", headers: map[string]string{"X-Original-Forwarded-For": "spoofed"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Original-Forwarded-For": "", "X-Forwarded-For": "127.0.0.1"}})
	check(t, "client-forwarded-host-kept-as-original", request{url: h + "/", headers: map[string]string{"X-Forwarded-Host": "public.example.org"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Original-Forwarded-Host": "public.example.org", "X-Forwarded-Host": "headers.example.com"}})
	check(t, "request-id-generated", request{url: h + "/"}, expect{status: 200, backend: "web", also: func(t *testing.T, res result) {
		if res.backend != nil && !regexp.MustCompile(`^[0-9a-fA-F-]{32,36}$`).MatchString(res.backend.Headers.Get("X-Request-Id")) {
			t.Errorf("backend received X-Request-ID %q, want a generated id", res.backend.Headers.Get("X-Request-Id"))
		}
	}})
	check(t, "client-request-id-kept", request{url: h + "/", headers: map[string]string{"X-Request-Id": "client-chosen-id-42"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Request-Id": "client-chosen-id-42"}})
	check(t, "proxy-header-removed", request{url: h + "/", headers: map[string]string{"Proxy": "http://evil.example:8080"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"Proxy": ""}})
	// nginx sends no timing header of its own; Envoy's router adds one, which is removed.
	check(t, "no-upstream-time-header", request{url: h + "/"}, expect{status: 200, backend: "web",
		headers: map[string]string{"X-Envoy-Upstream-Service-Time": ""}})
	check(t, "https-forwarded-headers", request{url: "https://headers-tls.example.com/x"}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Scheme": "https", "X-Scheme": "https", "X-Forwarded-Port": "443", "X-Forwarded-Host": "headers-tls.example.com"}})
}
