package e2e

import "testing"

// Issue 15, second part: the ingress-nginx details a migrated Ingress must keep, through
// the real Envoy.

// TestDeniedValues: values ingress-nginx refuses and then denies fail closed with 503 — an
// allowlist with an empty entry, custom-headers naming a missing ConfigMap or a header
// outside global-allowed-response-headers, a missing proxy-ssl-secret — while a valid
// custom-headers ConfigMap sets its headers (replacing the backend's) on every answer of
// the location.
func TestDeniedValues(t *testing.T) {
	apply(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  global-allowed-response-headers: "X-Frame-Options,Content-Security-Policy"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: security-headers, namespace: e2e}
data: {X-Frame-Options: DENY, Content-Security-Policy: "default-src 'self'"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-allowed, namespace: e2e}
data: {X-Powered-By: gatebridge}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: empty-entry
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations: {nginx.ingress.kubernetes.io/whitelist-source-range: "127.0.0.0/8,"}
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /empty-entry, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: headers-missing
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:02Z"
  annotations: {nginx.ingress.kubernetes.io/custom-headers: e2e/no-such-configmap}
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /headers-missing, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: headers-not-allowed
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:03Z"
  annotations: {nginx.ingress.kubernetes.io/custom-headers: e2e/not-allowed}
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /headers-not-allowed, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: headers
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:04Z"
  annotations: {nginx.ingress.kubernetes.io/custom-headers: e2e/security-headers}
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /headers, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: proxy-ssl-missing
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:05Z"
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-secret: e2e/no-such-secret
spec:
  ingressClassName: nginx
  rules:
  - host: denied.example.com
    http:
      paths:
      - {path: /proxy-ssl, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
{{.TLSSecret "e2e" "unrelated" "unrelated.example.com"}}{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	h := "http://denied.example.com"
	check(t, "allowlist-empty-entry-denied", request{url: h + "/empty-entry"}, expect{status: 503, local: true})
	check(t, "custom-headers-missing-configmap-denied", request{url: h + "/headers-missing"}, expect{status: 503, local: true})
	check(t, "custom-headers-not-allowed-denied", request{url: h + "/headers-not-allowed"}, expect{status: 503, local: true})
	check(t, "proxy-ssl-secret-missing-denied", request{url: h + "/proxy-ssl"}, expect{status: 503, local: true})
	check(t, "neighbour-served", request{url: h + "/other"}, expect{status: 200, backend: "web",
		headers: map[string]string{"X-Frame-Options": ""}})
	check(t, "custom-headers-set", request{url: h + "/headers", headers: map[string]string{"X-Echo-Response-Header": "X-Frame-Options: SAMEORIGIN"}},
		expect{status: 200, backend: "api", headers: map[string]string{"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'"},
			also: func(t *testing.T, res result) {
				if n := len(res.header.Values("X-Frame-Options")); n != 1 {
					t.Errorf("X-Frame-Options sent %d times, want once (replacing the backend's)", n)
				}
			}})
	check(t, "custom-headers-on-backend-errors", request{url: h + "/headers/x", headers: map[string]string{"X-Echo-Status": "500"}},
		expect{status: 500, backend: "api", headers: map[string]string{"X-Frame-Options": "DENY"}})
}

// TestHSTS: ingress-nginx's default Strict-Transport-Security on the HTTPS answers of a
// host with a certificate — forwarded ones (replacing the backend's own value), backend
// errors and the route's own redirects — and never over plain HTTP or on a host without
// a certificate.
func TestHSTS(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [hsts.example.com], secretName: hsts-tls}]
  rules:
  - host: hsts.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: moved
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: "https://elsewhere.example.com/"}
spec:
  ingressClassName: nginx
  rules:
  - host: hsts.example.com
    http:
      paths:
      - {path: /moved, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e, creationTimestamp: "2024-01-01T00:00:02Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: plain-hsts.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "hsts-tls" "hsts.example.com"}}{{.Service "e2e" "web" "web"}}
`)
	const sts = "max-age=31536000; includeSubDomains"
	check(t, "https-answer-has-hsts", request{url: "https://hsts.example.com/page"},
		expect{status: 200, backend: "web", cert: "hsts.example.com", headers: map[string]string{"Strict-Transport-Security": sts}})
	check(t, "backend-value-replaced", request{url: "https://hsts.example.com/page", headers: map[string]string{"X-Echo-Response-Header": "Strict-Transport-Security: max-age=5"}},
		expect{status: 200, backend: "web", headers: map[string]string{"Strict-Transport-Security": sts}})
	check(t, "backend-error-has-hsts", request{url: "https://hsts.example.com/page", headers: map[string]string{"X-Echo-Status": "502"}},
		expect{status: 502, backend: "web", headers: map[string]string{"Strict-Transport-Security": sts}})
	check(t, "https-redirect-has-hsts", request{url: "https://hsts.example.com/moved"},
		expect{status: 301, location: "https://elsewhere.example.com/", headers: map[string]string{"Strict-Transport-Security": sts}})
	check(t, "plain-http-has-none", request{url: "http://hsts.example.com/page"},
		expect{status: 200, backend: "web", headers: map[string]string{"Strict-Transport-Security": ""}})
	check(t, "host-without-certificate-has-none", request{url: "http://plain-hsts.example.com/page"},
		expect{status: 200, backend: "web", headers: map[string]string{"Strict-Transport-Security": ""}})
}

// TestRewriteTargetEqualsPrefixPath: rewrite-target /same on Prefix /same — ingress-nginx
// compares the target with the prefix location /same/ it makes of the path, so sub-paths
// (any case) are rewritten to /same, /same itself and /samefoo are proxied unchanged, and
// the host's other paths become case-insensitive regular expressions.
func TestRewriteTargetEqualsPrefixPath(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: same
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /same}
spec:
  ingressClassName: nginx
  rules:
  - host: same.example.com
    http:
      paths:
      - {path: /same, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: other, namespace: e2e, creationTimestamp: "2024-01-01T00:00:01Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: same.example.com
    http:
      paths:
      - {path: /other, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	h := "http://same.example.com"
	check(t, "sub-path-rewritten", request{url: h + "/same/deep/page?q=1"}, expect{status: 200, backend: "api", uri: "/same?q=1"})
	check(t, "sub-path-any-case-rewritten", request{url: h + "/SAME/x"}, expect{status: 200, backend: "api", uri: "/same"})
	check(t, "trailing-slash-rewritten", request{url: h + "/same/"}, expect{status: 200, backend: "api", uri: "/same"})
	check(t, "path-itself-unchanged", request{url: h + "/same"}, expect{status: 200, backend: "api", uri: "/same"})
	check(t, "longer-name-unchanged", request{url: h + "/samefoo"}, expect{status: 200, backend: "api", uri: "/samefoo"})
	check(t, "host-in-regex-mode", request{url: h + "/OTHER/x"}, expect{status: 200, backend: "web", uri: "/OTHER/x"})
}

// TestRedirectDetails: relative-redirects keeps a redirect to a path relative; a relative
// temporal-redirect fails ingress-nginx's URL check and the request is proxied as if the
// redirect annotations were absent; a path ending in "/" answers its bare form with 301
// (query kept) unless another path of the host matches it.
func TestRedirectDetails(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: relative
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/permanent-redirect: /new
    nginx.ingress.kubernetes.io/relative-redirects: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: redir2.example.com
    http:
      paths:
      - {path: /relative, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: absolute
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: /new}
spec:
  ingressClassName: nginx
  rules:
  - host: redir2.example.com
    http:
      paths:
      - {path: /absolute, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: temporal-relative
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:02Z"
  annotations:
    nginx.ingress.kubernetes.io/temporal-redirect: /busy
    nginx.ingress.kubernetes.io/permanent-redirect: "https://ignored.example.com/"
spec:
  ingressClassName: nginx
  rules:
  - host: redir2.example.com
    http:
      paths:
      - {path: /temporal, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: docs, namespace: e2e, creationTimestamp: "2024-01-01T00:00:03Z"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [slash.example.com], secretName: slash-tls}]
  rules:
  - host: slash.example.com
    http:
      paths:
      - {path: /docs/, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /guide/, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: guide, namespace: e2e, creationTimestamp: "2024-01-01T00:00:04Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: slash.example.com
    http:
      paths:
      - {path: /guide, pathType: Exact, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: vhost-port
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:05Z"
  annotations: {nginx.ingress.kubernetes.io/upstream-vhost: "backend.internal:8080"}
spec:
  ingressClassName: nginx
  rules:
  - host: vhost2.example.com
    http:
      paths:
      - {path: /port, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: vhost-variable
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:06Z"
  annotations: {nginx.ingress.kubernetes.io/upstream-vhost: "$host.internal"}
spec:
  ingressClassName: nginx
  rules:
  - host: vhost2.example.com
    http:
      paths:
      - {path: /variable, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "slash-tls" "slash.example.com"}}{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	h := "http://redir2.example.com"
	check(t, "relative-redirects-keeps-path", request{url: h + "/relative?x=1"}, expect{status: 301, location: "/new"})
	check(t, "absolute-by-default", request{url: h + "/absolute?x=1"}, expect{status: 301, location: "http://redir2.example.com/new"})
	check(t, "relative-temporal-redirect-proxied", request{url: h + "/temporal"}, expect{status: 200, backend: "api", uri: "/temporal", noLocation: true})

	s := "http://slash.example.com"
	check(t, "bare-path-301-query-kept", request{url: s + "/docs?a=1&b=2"}, expect{status: 301, location: "http://slash.example.com/docs/?a=1&b=2"})
	check(t, "bare-path-301-before-ssl-redirect", request{url: s + "/docs"}, expect{status: 301, location: "http://slash.example.com/docs/"})
	check(t, "bare-path-301-over-https-with-hsts", request{url: "https://slash.example.com/docs"},
		expect{status: 301, location: "https://slash.example.com/docs/", headers: map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}})
	check(t, "path-with-slash-served", request{url: "https://slash.example.com/docs/page"}, expect{status: 200, backend: "web", uri: "/docs/page"})
	check(t, "bare-path-of-another-ingress-served", request{url: "https://slash.example.com/guide"}, expect{status: 200, backend: "api", uri: "/guide"})

	v := "http://vhost2.example.com"
	check(t, "upstream-vhost-port-dropped", request{url: v + "/port"}, expect{status: 200, backend: "web", host: "backend.internal"})
	check(t, "upstream-vhost-host-variable", request{url: v + "/variable"}, expect{status: 200, backend: "web", host: "vhost2.example.com.internal"})
}
