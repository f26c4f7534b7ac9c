package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestBackendTLSPolicy: a BackendTLSPolicy makes Envoy originate TLS to the Service it
// targets, with the policy's hostname as SNI, and verify the backend's certificate against
// the CA of its ConfigMap and the hostname. A wrong hostname, a wrong CA, a CA ConfigMap
// that does not exist or a backend that speaks plain HTTP answer 5xx: the request never
// reaches a backend unverified, and never goes out in plaintext.
func TestBackendTLSPolicy(t *testing.T) {
	cert, err := env.ca.IssueTLS("backend.internal")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := echo.Start("secure-backend", "127.0.0.1:0", echo.NewHandler("secure-backend"), &cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = secure.Close() })
	otherCA, err := echo.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	indent := func(pem []byte) string {
		return "    " + strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", "\n    ")
	}
	service := func(name string, port int) string {
		return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: shop}
spec: {ports: [{name: https, port: 443, targetPort: %[2]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s-1, namespace: shop, labels: {kubernetes.io/service-name: %[1]s}}
addressType: IPv4
ports: [{name: https, port: %[2]d}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
`, name, port)
	}
	policy := func(name, configMap, hostname string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: %[1]s, namespace: shop}
spec:
  targetRefs: [{group: "", kind: Service, name: %[1]s, sectionName: https}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: %[2]s}]
    hostname: %[3]s
`, name, configMap, hostname)
	}
	scene := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatebridge}
spec: {controllerName: gatebridge.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: gatebridge
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [btls.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /ok}}]
    backendRefs: [{name: ok, port: 443}]
  - matches: [{path: {type: PathPrefix, value: /wrong-host}}]
    backendRefs: [{name: wrong-host, port: 443}]
  - matches: [{path: {type: PathPrefix, value: /wrong-ca}}]
    backendRefs: [{name: wrong-ca, port: 443}]
  - matches: [{path: {type: PathPrefix, value: /missing-ca}}]
    backendRefs: [{name: missing-ca, port: 443}]
  - matches: [{path: {type: PathPrefix, value: /plaintext}}]
    backendRefs: [{name: plaintext, port: 443}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: test-ca, namespace: shop}
data:
  ca.crt: |
%s
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other-ca, namespace: shop}
data:
  ca.crt: |
%s
`, indent(env.ca.CertPEM()), indent(otherCA.CertPEM()))
	scene += service("ok", secure.Port()) + policy("ok", "test-ca", "backend.internal")
	scene += service("wrong-host", secure.Port()) + policy("wrong-host", "test-ca", "other.internal")
	scene += service("wrong-ca", secure.Port()) + policy("wrong-ca", "other-ca", "backend.internal")
	scene += service("missing-ca", secure.Port()) + policy("missing-ca", "no-such-ca", "backend.internal")
	scene += service("plaintext", env.backends["web"].Port()) + policy("plaintext", "test-ca", "backend.internal")
	apply(t, scene)

	check(t, "valid CA and hostname: TLS to the backend, SNI = hostname", request{url: "http://btls.example.com/ok"}, expect{
		status: 200, backend: "secure-backend", uri: "/ok",
		also: func(t *testing.T, res result) {
			if res.backend == nil || !res.backend.TLS || res.backend.SNI != "backend.internal" {
				t.Errorf("backend saw %+v, want TLS with SNI backend.internal", res.backend)
			}
		},
	})
	for _, c := range []struct{ name, path string }{
		{"hostname the certificate does not hold", "/wrong-host"},
		{"certificate of another CA", "/wrong-ca"},
		{"CA ConfigMap that does not exist (fail closed)", "/missing-ca"},
		{"backend speaking plain HTTP", "/plaintext"},
	} {
		check(t, c.name, request{url: "http://btls.example.com" + c.path}, expect{
			local: true,
			also: func(t *testing.T, res result) {
				if res.status < 500 || res.status > 599 {
					t.Errorf("status %d, want 5xx", res.status)
				}
			},
		})
	}
	check(t, "missing CA answers 500", request{url: "http://btls.example.com/missing-ca"}, expect{status: 500, local: true})
}
