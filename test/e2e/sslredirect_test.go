package e2e

import "testing"

// TestSSLRedirect: a host with a TLS certificate redirects plain HTTP with 308 to
// https://host + request URI, dropping one trailing "/" unless the URI has a query or
// preserve-trailing-slash is set; ACME challenge locations are exempt; ssl-redirect
// "false" opts one Ingress out; force-ssl-redirect redirects without a certificate (§3.5).
// HTTPS is served with each host's own certificate, chosen by SNI.
func TestSSLRedirect(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site-a, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [tls-a.example.com], secretName: tls-a}]
  rules:
  - host: tls-a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /.well-known/acme-challenge, pathType: Prefix, backend: {service: {name: solver, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: open-a
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: nginx
  rules:
  - host: tls-a.example.com
    http:
      paths:
      - {path: /open, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site-b, namespace: e2e, creationTimestamp: "2024-01-01T00:00:02Z"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [tls-b.example.net], secretName: tls-b}]
  rules:
  - host: tls-b.example.net
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: no-redirect
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:03Z"
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [tls-c.example.com], secretName: tls-c}]
  rules:
  - host: tls-c.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: keep-slash
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:04Z"
  annotations: {nginx.ingress.kubernetes.io/preserve-trailing-slash: "true"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [tls-d.example.com], secretName: tls-d}]
  rules:
  - host: tls-d.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: forced
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:05Z"
  annotations: {nginx.ingress.kubernetes.io/force-ssl-redirect: "true"}
spec:
  ingressClassName: nginx
  rules:
  - host: plain.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: no-tls, namespace: e2e, creationTimestamp: "2024-01-01T00:00:06Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: http-only.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "tls-a" "tls-a.example.com"}}{{.TLSSecret "e2e" "tls-b" "tls-b.example.net"}}
{{.TLSSecret "e2e" "tls-c" "tls-c.example.com"}}{{.TLSSecret "e2e" "tls-d" "tls-d.example.com"}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}{{.Service "e2e" "solver" "solver"}}
`)
	a := "tls-a.example.com"
	check(t, "redirect-308-keeps-path", request{url: "http://" + a + "/x/y"}, expect{status: 308, location: httpsLoc(a, "/x/y"), local: true})
	check(t, "redirect-drops-trailing-slash", request{url: "http://" + a + "/a/"}, expect{status: 308, location: httpsLoc(a, "/a")})
	check(t, "redirect-root", request{url: "http://" + a + "/"}, expect{status: 308, also: locationOneOf(httpsLoc(a, ""), httpsLoc(a, "/"))})
	check(t, "redirect-keeps-query", request{url: "http://" + a + "/a?x=1&y=2"}, expect{status: 308, location: httpsLoc(a, "/a?x=1&y=2")})
	check(t, "redirect-slash-kept-with-query", request{url: "http://" + a + "/a/?x=1"}, expect{status: 308, location: httpsLoc(a, "/a/?x=1")})
	check(t, "redirect-post", request{method: "POST", url: "http://" + a + "/form", body: "x=1"}, expect{status: 308, location: httpsLoc(a, "/form")})
	check(t, "acme-challenge-served-over-http", request{url: "http://" + a + "/.well-known/acme-challenge/token123"}, expect{status: 200, backend: "solver", uri: "/.well-known/acme-challenge/token123", noLocation: true})
	check(t, "ingress-opt-out-on-shared-host", request{url: "http://" + a + "/open/x"}, expect{status: 200, backend: "api", uri: "/open/x"})
	check(t, "https-served-with-host-cert", request{url: "https://" + a + "/x?q=1"}, expect{status: 200, backend: "web", uri: "/x?q=1", cert: a,
		upstream: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", "X-Scheme": "https"}})
	check(t, "https-second-host-own-cert", request{url: "https://tls-b.example.net/y"}, expect{status: 200, backend: "v2", uri: "/y", cert: "tls-b.example.net"})
	check(t, "https-acme-path", request{url: "https://" + a + "/.well-known/acme-challenge/t"}, expect{status: 200, backend: "solver"})
	check(t, "second-host-redirects-too", request{url: "http://tls-b.example.net/z/"}, expect{status: 308, location: httpsLoc("tls-b.example.net", "/z")})
	check(t, "ssl-redirect-false-serves-http", request{url: "http://tls-c.example.com/p/"}, expect{status: 200, backend: "web", uri: "/p/"})
	check(t, "ssl-redirect-false-https-still-served", request{url: "https://tls-c.example.com/p"}, expect{status: 200, backend: "web", cert: "tls-c.example.com"})
	check(t, "preserve-trailing-slash", request{url: "http://tls-d.example.com/a/"}, expect{status: 308, location: httpsLoc("tls-d.example.com", "/a/")})
	check(t, "preserve-trailing-slash-root", request{url: "http://tls-d.example.com/"}, expect{status: 308, location: httpsLoc("tls-d.example.com", "/")})
	check(t, "force-ssl-redirect-without-tls", request{url: "http://plain.example.com/f/?k=v"}, expect{status: 308, location: httpsLoc("plain.example.com", "/f/?k=v")})
	check(t, "force-ssl-redirect-drops-slash", request{url: "http://plain.example.com/f/"}, expect{status: 308, location: httpsLoc("plain.example.com", "/f")})
	check(t, "no-tls-no-redirect", request{url: "http://http-only.example.com/n/"}, expect{status: 200, backend: "web", uri: "/n/"})
}
