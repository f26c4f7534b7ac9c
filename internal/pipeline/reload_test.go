package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestReloaderEndpointsOnly: a change to a file of EndpointSlices only is an endpoints-only
// reload and keeps the previous conversion (same objects); a changed Ingress is converted
// again; a reload that was not served keeps its changes pending.
func TestReloaderEndpointsOnly(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	write := func(name, body string) {
		n++
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := t0.Add(time.Duration(n) * time.Second)
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	ingress := func(path string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: default}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - {path: " + path + ", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n"
	}
	slice := func(addr string) string {
		return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints: [{addresses: [\"" + addr + "\"]}]\n"
	}
	write("web.yaml", ingress("/"))
	write("eps.yaml", slice("10.0.0.1"))
	r := NewReloader([]string{dir}, sources.Options{}, converters.Options{})
	next := func() *Reload {
		t.Helper()
		rl, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if len(rl.Result.Model.HTTPRoutes) == 0 {
			t.Fatal("no HTTPRoute converted")
		}
		return rl
	}
	first := next()
	if first.OnlyEndpoints {
		t.Errorf("first reload: OnlyEndpoints")
	}
	r.Served()

	write("eps.yaml", slice("10.0.0.2"))
	second := next()
	if !second.OnlyEndpoints {
		t.Errorf("EndpointSlice edited: not OnlyEndpoints")
	}
	if second.Result.Model.HTTPRoutes[0] != first.Result.Model.HTTPRoutes[0] {
		t.Errorf("EndpointSlice edited: the Ingresses were converted again")
	}
	if got := second.Result.Model.EndpointSlices[0].Endpoints[0].Addresses[0]; got != "10.0.0.2" {
		t.Errorf("EndpointSlice edited: model has %s", got)
	}
	r.Served()

	write("web.yaml", ingress("/v2"))
	third := next()
	if third.OnlyEndpoints || third.Result.Model.HTTPRoutes[0] == second.Result.Model.HTTPRoutes[0] {
		t.Errorf("Ingress edited: OnlyEndpoints=%v, same HTTPRoute object=%v", third.OnlyEndpoints, third.Result.Model.HTTPRoutes[0] == second.Result.Model.HTTPRoutes[0])
	}
	// Not served: the next endpoints-only change must still rebuild everything.
	write("eps.yaml", slice("10.0.0.3"))
	if fourth := next(); fourth.OnlyEndpoints {
		t.Errorf("endpoints change after an unserved Ingress change: OnlyEndpoints")
	}
}
