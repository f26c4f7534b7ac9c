package e2e

import "testing"

// TestAccessLists: allowlist-source-range (alias whitelist-source-range) and
// denylist-source-range check the TCP peer (127.0.0.1 here, X-Forwarded-For is not
// trusted by default); the denylist is checked first; outsiders get 403; locations that
// redirect answer before the access phase and are not filtered (§3.11, §3 phases).
func TestAccessLists(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: outside
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8, 192.168.0.0/16"}
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /outside, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/whitelist-source-range: "172.16.0.0/12"}
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /legacy, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: inside
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8,127.0.0.0/8"}
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /inside, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: deny-wins
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/allowlist-source-range: "127.0.0.0/8"
    nginx.ingress.kubernetes.io/denylist-source-range: "127.0.0.1/32"
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /denied, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: deny-other
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/denylist-source-range: "10.0.0.0/8"}
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /deny-other, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: moved
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8"
    nginx.ingress.kubernetes.io/permanent-redirect: "https://elsewhere.example.com/"
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /moved, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: access.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/allowlist-source-range: "10.0.0.0/8"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [access-tls.example.com], secretName: access-tls}]
  rules:
  - host: access-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "access-tls" "access-tls.example.com"}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
`)
	h := "http://access.example.com"
	check(t, "allowlist-without-client-403", request{url: h + "/outside"}, expect{status: 403, local: true})
	check(t, "allowlist-post-403", request{method: "POST", url: h + "/outside/x", body: "x"}, expect{status: 403, local: true})
	check(t, "xff-not-trusted", request{url: h + "/outside", headers: map[string]string{"X-Forwarded-For": "10.1.2.3"}}, expect{status: 403, local: true})
	check(t, "whitelist-alias-403", request{url: h + "/legacy"}, expect{status: 403, local: true})
	check(t, "allowlist-with-client-200", request{url: h + "/inside/x"}, expect{status: 200, backend: "api", uri: "/inside/x"})
	check(t, "denylist-beats-allowlist", request{url: h + "/denied"}, expect{status: 403, local: true})
	check(t, "denylist-other-range-200", request{url: h + "/deny-other"}, expect{status: 200, backend: "v2"})
	check(t, "unfiltered-location-200", request{url: h + "/open"}, expect{status: 200, backend: "web"})
	check(t, "redirect-not-filtered", request{url: h + "/moved/x"}, expect{status: 301, location: "https://elsewhere.example.com/"})
	check(t, "ssl-redirect-not-filtered", request{url: "http://access-tls.example.com/p"}, expect{status: 308, location: httpsLoc("access-tls.example.com", "/p")})
	check(t, "https-filtered", request{url: "https://access-tls.example.com/p"}, expect{status: 403, local: true})
}
