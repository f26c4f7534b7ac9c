package e2e

import (
	"testing"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestAuthProxySetHeaders: auth-proxy-set-headers sends every key of the ConfigMap to the
// auth service, replacing the client's value and expanding nginx variables ($host); an
// Ingress whose ConfigMap is missing is denied (not served), as ingress-nginx denies it.
func TestAuthProxySetHeaders(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: auth-headers
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-proxy-set-headers: e2e/auth-headers
spec:
  ingressClassName: nginx
  rules:
  - host: authheaders.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: authheaders, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: auth-headers-missing
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://127.0.0.1:{{.Port "auth"}}/auth"
    nginx.ingress.kubernetes.io/auth-proxy-set-headers: e2e/absent
spec:
  ingressClassName: nginx
  rules:
  - host: authheaders-missing.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: authheaders, port: {number: 80}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: auth-headers, namespace: e2e}
data:
  X-Tenant: acme
  X-Seen-Host: "host=$host"
{{.Service "e2e" "authheaders" "web"}}
`)
	check(t, "headers-reach-auth-service", request{url: "http://authheaders.example.com/x",
		headers: map[string]string{"Authorization": "Bearer " + echo.TokenGood, "X-Tenant": "mallory"}},
		expect{status: 200, backend: "web", also: func(t *testing.T, res result) {
			last, ok := env.auth.Last()
			if !ok {
				t.Fatal("the auth service saw no request")
			}
			for k, want := range map[string]string{"X-Tenant": "acme", "X-Seen-Host": "host=authheaders.example.com"} {
				if got := last.Headers.Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("auth subrequest %s = %q, want %q", k, got, want)
				}
			}
		}})
	t.Run("missing-configmap-not-served", func(t *testing.T) {
		res := do(t, request{url: "http://authheaders-missing.example.com/x", headers: map[string]string{"Authorization": "Bearer " + echo.TokenGood}})
		if res.status == 200 && res.backend != nil {
			t.Errorf("served by %s without the auth headers ConfigMap", res.backend.Server)
		}
	})
}
