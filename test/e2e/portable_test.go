package e2e

import (
	"crypto/tls"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// startPortableTLSBackend starts an HTTPS echo backend whose certificate, for
// backend.internal, the test CA issued; it is known to scenes as "portable-tls".
func startPortableTLSBackend(t *testing.T) {
	t.Helper()
	crt, key, err := env.ca.Issue("backend.internal")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := echo.Start("portable-tls", "127.0.0.1:0", echo.NewHandler("portable-tls"), &pair)
	if err != nil {
		t.Fatal(err)
	}
	env.backends["portable-tls"] = s
	t.Cleanup(func() {
		delete(env.backends, "portable-tls")
		_ = s.Close()
	})
}

// portableScene has one Ingress per standard construct: CORS from a list of origins, a
// gRPC backend, and an HTTPS backend verified against a CA with a name.
const portableScene = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "https://app.example.com"
spec:
  ingressClassName: nginx
  rules:
  - host: portable-cors.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
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
  - host: portable-grpc.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
      - {path: /helloworld.Greeter, pathType: Prefix, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tls-backend
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
    nginx.ingress.kubernetes.io/proxy-ssl-secret: e2e/backend-ca
    nginx.ingress.kubernetes.io/proxy-ssl-name: backend.internal
    nginx.ingress.kubernetes.io/proxy-ssl-server-name: "on"
spec:
  ingressClassName: nginx
  rules:
  - host: portable-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: tls-wrong-name
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
    nginx.ingress.kubernetes.io/proxy-ssl-secret: e2e/backend-ca
    nginx.ingress.kubernetes.io/proxy-ssl-name: other.internal
    nginx.ingress.kubernetes.io/proxy-ssl-server-name: "on"
spec:
  ingressClassName: nginx
  rules:
  - host: portable-tls-wrong.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: secure-wrong, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: backend-ca, namespace: e2e}
type: Opaque
data: {ca.crt: {{.PortableCA}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}
{{.Service "e2e" "secure" "portable-tls"}}{{.Service "e2e" "secure-wrong" "portable-tls"}}
`

// TestPortable serves the same Ingresses converted the default way and with --portable,
// through Envoy, and probes what each standard construct must do as gatebridge's form does:
//   - GRPCRoute (default and --portable for backend-protocol: GRPC): HTTP/2 without TLS
//     to the backend, a service's calls to its own backend, everything else to "/";
//   - BackendTLSPolicy (--portable; TrafficPolicy by default): TLS to the backend,
//     verified against the CA with the given name; a wrong name never reaches it;
//   - the CORS filter (--portable; gatebridge's CORS by default): an allowed origin gets
//     Access-Control-Allow-Origin on its preflight and its requests, another origin none.
//     The preflight's status differs (ingress-nginx and gatebridge's form: 204; the
//     standard filter through Envoy: 200): docs/portable.md says so.
func TestPortable(t *testing.T) {
	startPortableTLSBackend(t)
	scene := portableScene
	for _, mode := range []struct {
		name string
		opts converters.Options
	}{{"default", converters.Options{}}, {"portable", converters.Options{Portable: true}}} {
		t.Run(mode.name, func(t *testing.T) {
			res := applyWith(t, scene, mode.opts)
			kinds := res.Report.Totals.Objects
			if mode.opts.Portable && (kinds["TrafficPolicy"] > 0 || kinds["RouteFilter"] > 0 || kinds["BackendTLSPolicy"] != 2 || kinds["GRPCRoute"] != 1) {
				t.Fatalf("--portable emitted %v, want GRPCRoute and BackendTLSPolicies and no gatebridge kinds", kinds)
			}
			if !mode.opts.Portable && kinds["GRPCRoute"] != 1 {
				t.Fatalf("default emitted %v, want a GRPCRoute for the gRPC Ingress", kinds)
			}
			proto := func(wantTLS bool) func(*testing.T, result) {
				return func(t *testing.T, res result) {
					if res.backend != nil && (res.backend.Proto != "HTTP/2.0" || res.backend.TLS != wantTLS) {
						t.Errorf("backend saw %s tls=%v, want HTTP/2.0 tls=%v", res.backend.Proto, res.backend.TLS, wantTLS)
					}
				}
			}
			g := "http://portable-grpc.example.com"
			check(t, "grpc-h2c", request{method: "POST", url: g + "/grpc.Other/Call", body: "x", headers: map[string]string{"Content-Type": "application/grpc"}},
				expect{status: 200, backend: "api", uri: "/grpc.Other/Call", also: proto(false)})
			check(t, "grpc-service-to-its-backend", request{method: "POST", url: g + "/helloworld.Greeter/SayHello", body: "x", headers: map[string]string{"Content-Type": "application/grpc"}},
				expect{status: 200, backend: "v2", uri: "/helloworld.Greeter/SayHello", also: proto(false)})

			tlsProto := func(t *testing.T, res result) {
				if res.backend != nil && !res.backend.TLS {
					t.Errorf("backend saw a plaintext request, want TLS")
				}
			}
			check(t, "backend-tls-verified", request{url: "http://portable-tls.example.com/x"}, expect{status: 200, backend: "portable-tls", uri: "/x", also: tlsProto})
			check(t, "backend-tls-wrong-name-refused", request{url: "http://portable-tls-wrong.example.com/x"}, expect{local: true,
				also: func(t *testing.T, res result) {
					if res.status < 500 {
						t.Errorf("status %d, want a 5xx: the backend's certificate does not name other.internal", res.status)
					}
				}})

			c := "http://portable-cors.example.com"
			const app = "https://app.example.com"
			preflight := check(t, "cors-preflight-allowed", request{method: "OPTIONS", url: c + "/api", headers: map[string]string{"Origin": app, "Access-Control-Request-Method": "PUT"}},
				expect{local: true, headers: map[string]string{"Access-Control-Allow-Origin": app}})
			want := 204
			if mode.opts.Portable {
				want = 200
			}
			if preflight.status != want {
				t.Errorf("preflight status %d, want %d in %s mode", preflight.status, want, mode.name)
			}
			check(t, "cors-get-allowed", request{url: c + "/api", headers: map[string]string{"Origin": app}},
				expect{status: 200, backend: "web", headers: map[string]string{"Access-Control-Allow-Origin": app}})
			check(t, "cors-get-other-origin", request{url: c + "/api", headers: map[string]string{"Origin": "https://evil.example.net"}},
				expect{status: 200, backend: "web", headers: map[string]string{"Access-Control-Allow-Origin": ""}})
		})
	}
}

// PortableCA is the test CA's certificate, base64 PEM (a Secret's ca.crt).
func (d sceneData) PortableCA() string { return b64(d.e.ca.CertPEM()) }
