package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"text/template"
	"time"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// authNamesScene: auth-urls name in-cluster Services, which `run` resolves through the
// input's Services and EndpointSlices as it resolves backends (Service port → target port
// → ready endpoints), since there is no cluster DNS. e2e/auth's ports 8080 and 80 target
// the EndpointSlice ports of the echo auth backend named by the Sprintf arguments;
// e2e/auth-down has no ready endpoint.
const authNamesScene = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: fqdn
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://auth.e2e.svc.cluster.local:8080/verify"
    nginx.ingress.kubernetes.io/auth-response-headers: X-Auth-Request-User
spec:
  ingressClassName: nginx
  rules:
  - host: authnames.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: short
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://auth.e2e/verify"
spec:
  ingressClassName: nginx
  rules:
  - host: authnames-short.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: down
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-url: "http://auth-down.e2e.svc:8080/verify"
spec:
  ingressClassName: nginx
  rules:
  - host: authnames-down.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: auth, namespace: e2e}
spec: {ports: [{name: http, port: 8080, targetPort: http}, {name: plain, port: 80, targetPort: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: auth-1, namespace: e2e, labels: {kubernetes.io/service-name: auth}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: {{.Port "%s"}}}, {name: plain, port: {{.Port "%s"}}}]
---
apiVersion: v1
kind: Service
metadata: {name: auth-down, namespace: e2e}
spec: {ports: [{name: http, port: 8080, targetPort: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: auth-down-1, namespace: e2e, labels: {kubernetes.io/service-name: auth-down}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: false}}]
ports: [{name: http, port: {{.Port "auth"}}}]
{{.Service "e2e" "web" "web"}}
`

// TestAuthNames: an external-auth Ingress whose auth-url is a cluster DNS name is served by
// `run`: allowed requests reach the app backend, denied ones get the auth service's 401 or
// 403, and a Service without a ready endpoint fails closed with 500. When the Service's
// endpoints move, the auth calls follow.
func TestAuthNames(t *testing.T) {
	apply(t, fmt.Sprintf(authNamesScene, "auth", "auth"))
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	h := "http://authnames.example.com"
	before := env.auth.Count()
	check(t, "fqdn-allowed-reaches-backend", request{url: h + "/data?x=1", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/data?x=1",
		upstream: map[string]string{"X-Auth-Request-User": echo.AuthUser},
		also: func(t *testing.T, _ result) {
			last, ok := env.auth.Last()
			if !ok || env.auth.Count() == before {
				t.Fatal("the auth backend behind Service e2e/auth saw no request")
			}
			if last.URI != "/verify" || last.Host != "auth.e2e.svc.cluster.local" {
				t.Errorf("auth subrequest %s with Host %q, want /verify with the auth-url host auth.e2e.svc.cluster.local", last.URI, last.Host)
			}
		}})
	check(t, "fqdn-no-token-401", request{url: h + "/data"}, expect{status: 401, local: true, headers: map[string]string{"WWW-Authenticate": `Bearer realm="test"`}})
	check(t, "fqdn-forbidden-403", request{url: h + "/data", headers: bearer(echo.TokenForbidden)}, expect{status: 403, local: true})

	s := "http://authnames-short.example.com"
	check(t, "short-name-default-port-allowed", request{url: s + "/p", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/p",
		also: func(t *testing.T, _ result) {
			if last, _ := env.auth.Last(); last.Host != "auth.e2e" {
				t.Errorf("auth subrequest Host %q, want auth.e2e", last.Host)
			}
		}})
	check(t, "short-name-denied-401", request{url: s + "/p"}, expect{status: 401, local: true})

	check(t, "no-ready-endpoint-fails-closed-500", request{url: "http://authnames-down.example.com/", headers: bearer(echo.TokenGood)}, expect{status: 500, local: true})

	// The Service's endpoint moves to another auth service: the next calls go there.
	apply(t, fmt.Sprintf(authNamesScene, "mirror", "mirror"))
	mirrored := env.mirror.Count()
	check(t, "endpoints-moved-allowed", request{url: h + "/moved", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/moved",
		also: func(t *testing.T, _ result) {
			if env.mirror.Count() != mirrored+1 {
				t.Errorf("the new endpoint saw %d auth requests, want 1", env.mirror.Count()-mirrored)
			}
		}})
	check(t, "endpoints-moved-denied", request{url: h + "/moved"}, expect{status: 401, local: true})

	// Only the EndpointSlice changes back, as `run` publishes it (endpoints only, no new
	// translation): the auth calls follow too.
	applyEndpoints(t, fmt.Sprintf(authNamesScene, "auth", "auth"))
	counted := env.auth.Count()
	check(t, "endpoints-only-update-allowed", request{url: h + "/back", headers: bearer(echo.TokenGood)}, expect{status: 200, backend: "web", uri: "/back",
		also: func(t *testing.T, _ result) {
			if env.auth.Count() != counted+1 {
				t.Errorf("the endpoint published alone saw %d auth requests, want 1", env.auth.Count()-counted)
			}
		}})
}

// applyEndpoints publishes only the endpoints of a scene (Stack.ApplyEndpoints), as `run`
// does when nothing but EndpointSlices changed.
func applyEndpoints(t *testing.T, yamlTemplate string) {
	t.Helper()
	var buf bytes.Buffer
	if err := template.Must(template.New("scene").Parse(yamlTemplate)).Execute(&buf, sceneData{env}); err != nil {
		t.Fatalf("scene template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "scene.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := sources.ReadPaths([]string{path}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	version, _, err := env.stack.ApplyEndpoints(pipeline.Build(loaded, converters.Options{}).Model)
	if err != nil {
		t.Fatalf("apply endpoints: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.stack.WaitApplied(ctx, version); err != nil {
		t.Fatal(err)
	}
}
