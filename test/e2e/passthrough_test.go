package e2e

import "testing"

// TestSSLPassthrough: ssl-passthrough (§3.17): the TLS stream for the host is piped to the
// Service of its "/" path without being terminated, chosen by SNI; the backend's own
// certificate is what the client sees. Other TLS hosts on the same port are still
// terminated by the proxy.
func TestSSLPassthrough(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: passthrough
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/ssl-passthrough: "true"}
spec:
  ingressClassName: nginx
  rules:
  - host: passthrough.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: terminated, namespace: e2e}
spec:
  ingressClassName: nginx
  tls: [{hosts: [terminated.example.com], secretName: terminated-tls}]
  rules:
  - host: terminated.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "terminated-tls" "terminated.example.com"}}
{{.Service "e2e" "secure" "tls-backend"}}{{.Service "e2e" "web" "web"}}
`)
	check(t, "tls-stream-reaches-backend", request{url: "https://passthrough.example.com/x?y=1", insecure: true}, expect{status: 200, backend: "tls-backend", uri: "/x?y=1", host: "passthrough.example.com",
		cert: "secure-backend.internal",
		also: func(t *testing.T, res result) {
			if res.backend == nil {
				return
			}
			if !res.backend.TLS || res.backend.SNI != "passthrough.example.com" {
				t.Errorf("backend saw tls=%v sni=%q, want the client's TLS session with SNI passthrough.example.com", res.backend.TLS, res.backend.SNI)
			}
			if _, ok := res.backend.Headers["X-Forwarded-For"]; ok {
				t.Errorf("backend received X-Forwarded-For: the proxy terminated TLS and rewrote the request")
			}
		}})
	check(t, "passthrough-post", request{method: "POST", url: "https://passthrough.example.com/p", body: "raw", insecure: true}, expect{status: 200, backend: "tls-backend", method: "POST"})
	check(t, "other-host-terminated", request{url: "https://terminated.example.com/t"}, expect{status: 200, backend: "web", uri: "/t", cert: "terminated.example.com",
		upstream: map[string]string{"X-Forwarded-Proto": "https"}})
}
