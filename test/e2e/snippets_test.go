package e2e

import (
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestSnippets: with a ConfigMap under which ingress-nginx runs snippets
// (allow-snippet-annotations "true", annotations-risk-level Critical), the idioms of
// docs/snippets.md behave as nginx ran them: response headers (with add_header's
// inheritance from server-snippet and into `if ($scheme = https)`), request headers,
// return, rewrite … break, allow/deny, and auth-snippet's auth request headers.
func TestSnippets(t *testing.T) {
	apply(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  allow-snippet-annotations: "true"
  annotations-risk-level: Critical
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-headers
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/server-snippet: |
      add_header X-Server-Level yes;
      location = /metrics { return 404; }
    nginx.ingress.kubernetes.io/configuration-snippet: |
      # response headers
      add_header X-Frame-Options "DENY" always;
      more_set_headers "X-Served-By: gatebridge";
      more_clear_headers X-Secret;
      proxy_hide_header X-Backend;
      if ($scheme = https) {
        add_header Strict-Transport-Security "max-age=0" always;
      }
      # request headers
      proxy_set_header X-Tenant blue;
      proxy_set_header l5d-dst-override $service_name.$namespace.svc.cluster.local:$service_port;
      proxy_set_header Accept-Encoding "";
      more_set_input_headers "X-Env: prod";
spec:
  ingressClassName: nginx
  tls: [{hosts: [snip-headers.example.com], secretName: snip-tls}]
  rules:
  - host: snip-headers.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-inherit
  namespace: e2e
  creationTimestamp: "2024-01-02T00:00:00Z"
spec:
  ingressClassName: nginx
  rules:
  - host: snip-headers.example.com
    http:
      paths:
      - {path: /inherit, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-return
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: "return 301 https://new.example.com$request_uri;"
spec:
  ingressClassName: nginx
  rules:
  - host: snip-old.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-if-xfp
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      if ($http_x_forwarded_ssl != "on") {
        return 301 https://$host$request_uri;
      }
spec:
  ingressClassName: nginx
  rules:
  - host: snip-if.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-if-bot
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      if ($http_user_agent = "bad-bot") { return 403 "go away"; }
spec:
  ingressClassName: nginx
  rules:
  - host: snip-if.example.com
    http:
      paths:
      - {path: /bot, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-maintenance
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: 'return 503 "maintenance";'
spec:
  ingressClassName: nginx
  rules:
  - host: snip-old.example.com
    http:
      paths:
      - {path: /down, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-rewrite
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      rewrite /api/(.*) /$1 break;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Client "$remote_addr $request_method $scheme $http_host";
      proxy_set_header X-Ua $http_user_agent;
      more_set_headers "Request-Id: $req_id";
      add_header X-Served-For "$host via $server_name" always;
spec:
  ingressClassName: nginx
  rules:
  - host: snip-rewrite.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-allow
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      allow 127.0.0.1;
      deny all;
spec:
  ingressClassName: nginx
  rules:
  - host: snip-allow.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-deny
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      deny 127.0.0.0/8;
spec:
  ingressClassName: nginx
  rules:
  - host: snip-deny.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: snip-auth
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-snippet: |
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Forwarded-Host $http_host;
spec:
  ingressClassName: nginx
  rules:
  - host: snip-auth.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "snip-tls" "snip-headers.example.com"}}
{{.Service "e2e" "web" "web"}}
`)
	backendHeaders := map[string]string{echo.HeaderResponseHeader: "X-Secret: s3cret"}
	h := "https://snip-headers.example.com"
	check(t, "response-headers-https", request{url: h + "/", headers: backendHeaders}, expect{status: 200, backend: "web",
		// The if block's add_header replaces the location's and the server's on HTTPS; it
		// appends to ingress-nginx's own HSTS header (set by Lua before add_header runs).
		headers: map[string]string{"X-Frame-Options": "", "X-Server-Level": "", "X-Served-By": "gatebridge", "X-Secret": ""},
		also: func(t *testing.T, res result) {
			if got := strings.Join(res.header.Values("Strict-Transport-Security"), " | "); got != "max-age=31536000; includeSubDomains | max-age=0" {
				t.Errorf("Strict-Transport-Security %q, want ingress-nginx's then the snippet's", got)
			}
		}})
	check(t, "request-headers", request{url: h + "/", headers: map[string]string{"Accept-Encoding": "gzip", "X-Tenant": "red"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Tenant": "blue", "L5d-Dst-Override": "web.e2e.svc.cluster.local:80", "Accept-Encoding": "", "X-Env": "prod"}})
	check(t, "response-headers-http", request{url: "http://snip-headers.example.com/", headers: map[string]string{"X-Forwarded-Proto": "https"}}, expect{status: 308,
		// ssl-redirect answers from the location: its add_header (always) applies.
		headers: map[string]string{"X-Frame-Options": "DENY", "Strict-Transport-Security": ""}})
	check(t, "server-add-header-inherited-without-location-one", request{url: h + "/inherit"}, expect{status: 200, backend: "web",
		headers: map[string]string{"X-Server-Level": "yes", "X-Frame-Options": "", "X-Served-By": ""}})

	check(t, "return-301-keeps-request-uri", request{url: "http://snip-old.example.com/a/b?c=d"}, expect{status: 301, local: true,
		location: "https://new.example.com/a/b?c=d"})
	check(t, "return-text", request{url: "http://snip-old.example.com/down/x"}, expect{status: 503, local: true,
		headers: map[string]string{"Content-Type": "text/plain"}, also: func(t *testing.T, res result) {
			if string(res.body) != "maintenance" {
				t.Errorf("body %q, want maintenance", res.body)
			}
		}})
	for _, u := range []string{"http://snip-headers.example.com/metrics", "https://snip-headers.example.com/metrics"} {
		check(t, "server-snippet-exact-location-"+u[:5], request{url: u}, expect{status: 404, local: true})
	}
	check(t, "server-snippet-location-is-exact", request{url: h + "/metrics/x"}, expect{status: 200, backend: "web"})
	check(t, "if-header-not-equal-returns", request{url: "http://snip-if.example.com/a?b=c"}, expect{status: 301, local: true,
		location: httpsLoc("snip-if.example.com", "/a?b=c")})
	check(t, "if-header-not-equal-other-value-returns", request{url: "http://snip-if.example.com/a", headers: map[string]string{"X-Forwarded-Ssl": "ON"}}, expect{status: 301, local: true})
	check(t, "if-header-equal-forwards", request{url: "http://snip-if.example.com/a", headers: map[string]string{"X-Forwarded-Ssl": "on"}}, expect{status: 200, backend: "web", uri: "/a"})
	check(t, "if-header-equal-returns", request{url: "http://snip-if.example.com/bot", headers: map[string]string{"User-Agent": "bad-bot"}}, expect{status: 403, local: true,
		also: func(t *testing.T, res result) {
			if string(res.body) != "go away" {
				t.Errorf("body %q, want go away", res.body)
			}
		}})
	check(t, "if-header-other-forwards", request{url: "http://snip-if.example.com/bot", headers: map[string]string{"User-Agent": "good-bot"}}, expect{status: 200, backend: "web"})
	check(t, "rewrite-break", request{url: "http://snip-rewrite.example.com/v1/api/items?x=1"}, expect{status: 200, backend: "web", uri: "/items?x=1"})
	check(t, "header-variables", request{method: "PUT", url: "http://snip-rewrite.example.com/v1/api/items?x=1",
		headers: map[string]string{"User-Agent": "probe/1", "X-Request-Id": "rid-42", "X-Original-URI": "spoofed"}},
		expect{status: 200, backend: "web", uri: "/items?x=1",
			// $request_uri is the client's, before the rewrite.
			upstream: map[string]string{"X-Original-Uri": "/v1/api/items?x=1", "X-Client": "127.0.0.1 PUT http snip-rewrite.example.com", "X-Ua": "probe/1"},
			headers:  map[string]string{"Request-Id": "rid-42", "X-Served-For": "snip-rewrite.example.com via snip-rewrite.example.com"}})
	check(t, "rewrite-no-match-unchanged", request{url: "http://snip-rewrite.example.com/other"}, expect{status: 200, backend: "web", uri: "/other"})

	check(t, "allow-listed-address", request{url: "http://snip-allow.example.com/"}, expect{status: 200, backend: "web"})
	check(t, "deny-listed-address-403", request{url: "http://snip-deny.example.com/"}, expect{status: 403, local: true})

	check(t, "auth-snippet-headers", request{method: "PATCH", url: "http://snip-auth.example.com/x", headers: map[string]string{"Authorization": "Bearer " + echo.TokenGood}},
		expect{status: 200, backend: "web", also: func(t *testing.T, res result) {
			last, ok := env.auth.Last()
			if !ok {
				t.Fatal("the auth service saw no request")
			}
			for k, want := range map[string]string{"X-Forwarded-Method": "PATCH", "X-Forwarded-Host": "snip-auth.example.com"} {
				if got := last.Headers.Get(k); got != want {
					t.Errorf("auth request %s = %q, want %q", k, got, want)
				}
			}
		}})
}
