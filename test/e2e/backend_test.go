package e2e

import "testing"

// TestBackend: backend-protocol HTTPS speaks TLS to the backend without verifying its
// certificate and without SNI (nginx defaults), with the versions and ciphers of
// proxy-ssl-protocols and proxy-ssl-ciphers; upstream-vhost replaces the Host the backend
// sees; x-forwarded-prefix is sent only together with a rewrite-target (§3.9).
func TestBackend(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/backend-protocol: HTTPS}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /secure, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: vhost
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/upstream-vhost: internal.svc.local}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /vhost, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: prefixed
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    nginx.ingress.kubernetes.io/x-forwarded-prefix: /app
spec:
  ingressClassName: nginx
  rules:
  - host: prefix.example.com
    http:
      paths:
      - {path: /app(/|$)(.*), pathType: ImplementationSpecific, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: prefix-alone
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/x-forwarded-prefix: /ignored}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /alone, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: grpc
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/backend-protocol: GRPC}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /grpc.Service, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: grpcs
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/backend-protocol: GRPCS}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /grpcs.Service, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tls13
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-protocols: TLSv1.3
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /tls13, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tls12-cipher
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-protocols: TLSv1.2
    nginx.ingress.kubernetes.io/proxy-ssl-ciphers: ECDHE-ECDSA-AES256-GCM-SHA384
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /tls12-cipher, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: backend.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "secure" "tls-backend"}}{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
`)
	h := "http://backend.example.com"
	check(t, "https-backend-unverified", request{url: h + "/secure/x?y=1"}, expect{status: 200, backend: "tls-backend", uri: "/secure/x?y=1", host: "backend.example.com",
		also: func(t *testing.T, res result) {
			if res.backend != nil && !res.backend.TLS {
				t.Errorf("the backend saw a cleartext connection, want TLS")
			}
			if res.backend != nil && res.backend.SNI != "" {
				t.Errorf("the backend saw SNI %q, want none (proxy-ssl-server-name is off)", res.backend.SNI)
			}
		}})
	// proxy-ssl-protocols and proxy-ssl-ciphers reach the backend's handshake (Envoy alone
	// would speak TLS 1.2 with its own first choice of cipher).
	tlsParams := func(version, cipher string) func(*testing.T, result) {
		return func(t *testing.T, res result) {
			if res.backend != nil && (res.backend.TLSVersion != version || (cipher != "" && res.backend.Cipher != cipher)) {
				t.Errorf("the backend saw %s with %s, want %s with %s", res.backend.TLSVersion, res.backend.Cipher, version, cipher)
			}
		}
	}
	check(t, "proxy-ssl-protocols-tls13", request{url: h + "/tls13"}, expect{status: 200, backend: "tls-backend", also: tlsParams("TLS 1.3", "")})
	check(t, "proxy-ssl-ciphers-tls12", request{url: h + "/tls12-cipher"}, expect{status: 200, backend: "tls-backend", also: tlsParams("TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")})
	check(t, "https-backend-default-tls12", request{url: h + "/secure"}, expect{status: 200, backend: "tls-backend", also: tlsParams("TLS 1.2", "")})
	check(t, "https-backend-post", request{method: "POST", url: h + "/secure", body: "hello"}, expect{status: 200, backend: "tls-backend", method: "POST"})
	proto := func(wantTLS bool) func(*testing.T, result) {
		return func(t *testing.T, res result) {
			if res.backend != nil && (res.backend.Proto != "HTTP/2.0" || res.backend.TLS != wantTLS) {
				t.Errorf("backend saw %s tls=%v, want HTTP/2.0 tls=%v", res.backend.Proto, res.backend.TLS, wantTLS)
			}
		}
	}
	check(t, "grpc-speaks-h2c", request{method: "POST", url: h + "/grpc.Service/Method", body: "x"}, expect{status: 200, backend: "api", uri: "/grpc.Service/Method", also: proto(false)})
	check(t, "grpcs-speaks-h2-over-tls", request{method: "POST", url: h + "/grpcs.Service/Method", body: "x"}, expect{status: 200, backend: "tls-backend", also: proto(true)})
	check(t, "http-backend-speaks-http1", request{url: h + "/other"}, expect{status: 200, backend: "web", also: func(t *testing.T, res result) {
		if res.backend != nil && res.backend.Proto != "HTTP/1.1" {
			t.Errorf("backend saw %s, want HTTP/1.1 (nginx proxies with HTTP/1.1)", res.backend.Proto)
		}
	}})
	check(t, "upstream-vhost-replaces-host", request{url: h + "/vhost/a"}, expect{status: 200, backend: "api", uri: "/vhost/a", host: "internal.svc.local",
		upstream: map[string]string{"X-Forwarded-Host": "backend.example.com"}})
	check(t, "other-ingress-keeps-host", request{url: h + "/other"}, expect{status: 200, backend: "web", host: "backend.example.com"})
	check(t, "x-forwarded-prefix-with-rewrite", request{url: "http://prefix.example.com/app/users/1?z=2"}, expect{status: 200, backend: "v2", uri: "/users/1?z=2",
		upstream: map[string]string{"X-Forwarded-Prefix": "/app"}})
	check(t, "x-forwarded-prefix-alone-not-sent", request{url: h + "/alone/x"}, expect{status: 200, backend: "web", uri: "/alone/x",
		upstream: map[string]string{"X-Forwarded-Prefix": ""}})
	check(t, "client-x-forwarded-prefix-passes-without-annotation", request{url: h + "/other", headers: map[string]string{"X-Forwarded-Prefix": "/client"}}, expect{status: 200, backend: "web",
		upstream: map[string]string{"X-Forwarded-Prefix": "/client"}})
}
