package dataplane_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// authNamesInput has Ingresses whose auth-url names Services of the input in every form,
// a public name, a Service without the port and a Service not in the input. e2e/auth's
// port 8080 targets the EndpointSlice port "http" (9000) of two ready endpoints and one
// that is not ready.
const authNamesInput = `
apiVersion: v1
kind: Service
metadata: {name: auth, namespace: e2e}
spec: {ports: [{name: http, port: 8080, targetPort: http}, {name: tls, port: 443, targetPort: 9443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: auth-1, namespace: e2e, labels: {kubernetes.io/service-name: auth}}
addressType: IPv4
endpoints:
- {addresses: [10.0.0.2], conditions: {ready: true}}
- {addresses: [10.0.0.1], conditions: {ready: true}}
- {addresses: [10.0.0.3], conditions: {ready: false}}
ports: [{name: http, port: 9000}, {name: tls, port: 9443}]
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: e2e}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: e2e}
spec: {ports: [{name: http, port: 80}]}
`

func authIngress(name, host, url string) string {
	return `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ` + name + `
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/auth-url: "` + url + `"}
spec:
  ingressClassName: nginx
  rules:
  - host: ` + host + `
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`
}

func buildModel(t *testing.T, yaml string) *dataplane.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := sources.ReadPaths([]string{path}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Problems) > 0 {
		t.Fatalf("input problems: %+v", loaded.Problems)
	}
	return pipeline.Build(loaded, converters.Options{}).Model
}

// TestServicesResolve: a Service port resolves like a backend cluster: Service port →
// the EndpointSlice port of the same name → the ready addresses, sorted.
func TestServicesResolve(t *testing.T) {
	s := dataplane.NewServices(buildModel(t, authNamesInput))
	for _, c := range []struct {
		ns, name string
		port     int32
		want     []string
		found    bool
		err      string
	}{
		{"e2e", "auth", 8080, []string{"10.0.0.1:9000", "10.0.0.2:9000"}, true, ""},
		{"e2e", "auth", 443, []string{"10.0.0.1:9443", "10.0.0.2:9443"}, true, ""},
		{"e2e", "auth", 9000, nil, true, "no port 9000 in Service e2e/auth"},
		{"e2e", "idle", 80, []string{}, true, ""},
		{"e2e", "missing", 80, nil, false, ""},
		{"other", "auth", 8080, nil, false, ""},
	} {
		got, found, err := s.ResolveService(c.ns, c.name, c.port)
		if found != c.found || !slices.Equal(got, c.want) || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("ResolveService(%s/%s, %d) = %v, %v, %v; want %v, %v, %q", c.ns, c.name, c.port, got, found, err, c.want, c.found, c.err)
		}
	}
}

// TestServedSaysWhereAuthGoes: the served listing names the destination of each route's
// auth subrequests.
func TestServedSaysWhereAuthGoes(t *testing.T) {
	in := authNamesInput +
		authIngress("fqdn", "fqdn.example.com", "http://auth.e2e.svc.cluster.local:8080/verify") +
		authIngress("short", "short.example.com", "https://auth.e2e/verify") +
		authIngress("noport", "noport.example.com", "http://auth.e2e.svc/verify") +
		authIngress("absent", "absent.example.com", "http://auth.other:8080/verify") +
		authIngress("public", "public.example.com", "https://auth.example.com/oauth2/auth") +
		authIngress("vars", "vars.example.com", "http://$host:8080/verify")
	out := dataplane.Translate(buildModel(t, in), goldenOptions)
	want := map[string]string{
		"fqdn.example.com":   "; auth → Service e2e/auth port 8080",
		"short.example.com":  "; auth → Service e2e/auth port 443",
		"noport.example.com": "; auth → Service e2e/auth has no port 80: auth fails, requests answer 500",
		"absent.example.com": "; auth → auth.other:8080 (not a Service of the input: system resolver)",
		"public.example.com": "; auth → auth.example.com:443",
		"vars.example.com":   "; auth → host set per request by variables in auth-url",
	}
	seen := map[string]bool{}
	for _, s := range out.Served() {
		suffix, ok := want[s.Host]
		if !ok {
			continue
		}
		seen[s.Host] = true
		if !strings.HasPrefix(s.Action, "→ ") || !strings.HasSuffix(s.Action, suffix) {
			t.Errorf("%s %s: action %q, want the backend and %q", s.Host, s.Match, s.Action, suffix)
		}
	}
	for h := range want {
		if !seen[h] {
			t.Errorf("%s is not served: %+v", h, out.Served())
		}
	}
}
