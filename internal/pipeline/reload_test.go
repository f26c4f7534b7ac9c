package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestReloaderEndpointsOnly: a change to a file of EndpointSlices only is an endpoints-only
// reload and keeps the previous conversion (same objects); a changed Ingress is converted
// again; a reload that was not served keeps its changes pending.
func TestReloaderEndpointsOnly(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
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

// TestReloaderMatchesBuild edits a tree of files the way people do — one Ingress, a file
// renamed, removed, a Service, an Ingress moving to another host — and checks after each
// reload that the incremental result is what a fresh read and conversion give, and that
// the objects of an untouched host are the very same objects as before.
func TestReloaderMatchesBuild(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	ingress := func(name, host, path string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: " + name + ", namespace: default}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: " + host + "\n    http:\n      paths:\n      - {path: " + path + ", pathType: Prefix, backend: {service: {name: " + name + ", port: {name: http}}}}\n---\n"
	}
	service := func(name string, port int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {ports: [{name: http, port: %d}]}\n---\n", name, port)
	}
	write("a.yaml", ingress("a1", "a.example.com", "/one")+ingress("a2", "a.example.com", "/two"))
	write("b.yaml", ingress("b1", "b.example.com", "/"))
	write("svc.yaml", service("a1", 80)+service("a2", 80)+service("b1", 80))
	r := NewReloader([]string{dir}, sources.Options{}, converters.Options{})
	var prev *Reload
	steps := []struct {
		name string
		do   func()
		// bKept: b.example.com's HTTPRoute must be the object of the previous reload.
		bKept bool
	}{
		{"first", func() {}, false},
		{"path edited", func() { write("a.yaml", ingress("a1", "a.example.com", "/uno")+ingress("a2", "a.example.com", "/two")) }, true},
		{"file renamed", func() {
			if err := os.Rename(filepath.Join(dir, "a.yaml"), filepath.Join(dir, "c.yaml")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"Ingress moves to b's host and path", func() { write("c.yaml", ingress("a1", "b.example.com", "/")+ingress("a2", "a.example.com", "/two")) }, false},
		{"and back", func() { write("c.yaml", ingress("a1", "a.example.com", "/uno")+ingress("a2", "a.example.com", "/two")) }, false},
		{"Service port renumbered", func() { write("svc.yaml", service("a1", 8080)+service("a2", 80)+service("b1", 80)) }, false},
		{"file removed", func() { _ = os.Remove(filepath.Join(dir, "c.yaml")) }, true},
		{"Service added", func() { write("svc.yaml", service("a1", 8080)+service("a2", 80)+service("b1", 80)+service("d1", 80)) }, false},
		// Same Services, one more Ingress in their file: only the new Ingress is converted.
		{"Ingress added next to the Services", func() {
			write("svc.yaml", service("a1", 8080)+service("a2", 80)+service("b1", 80)+service("d1", 80)+ingress("d1", "d.example.com", "/"))
		}, true},
	}
	for _, s := range steps {
		s.do()
		rl, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		r.Served()
		loaded, err := sources.ReadPaths([]string{dir}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := Build(loaded, converters.Options{})
		if g, w := encode(t, rl.Result), encode(t, want); g != w {
			t.Fatalf("%s: the reload differs from a fresh build:\n%s\nwant:\n%s", s.name, g, w)
		}
		if s.bKept && routeFor(rl, "b1") != routeFor(prev, "b1") {
			t.Errorf("%s: b.example.com's HTTPRoute was converted again", s.name)
		}
		prev = rl
	}
}

func routeFor(rl *Reload, ingress string) *gwv1.HTTPRoute {
	for _, r := range rl.Result.Model.HTTPRoutes {
		if r.Labels[converters.LabelSourceIngress] == ingress {
			return r
		}
	}
	return nil
}

func encode(t *testing.T, res Result) string {
	t.Helper()
	var b bytes.Buffer
	m := res.Model
	var objs []client.Object
	objs = appendObjects(objs, m.GatewayClasses)
	objs = appendObjects(objs, m.Gateways)
	objs = appendObjects(objs, m.ListenerSets)
	objs = appendObjects(objs, m.ReferenceGrants)
	objs = appendObjects(objs, m.RouteFilters)
	objs = appendObjects(objs, m.HTTPRoutes)
	objs = appendObjects(objs, m.TLSRoutes)
	objs = appendObjects(objs, m.TrafficPolicies)
	if err := converters.EncodeObjects(&b, objs, "yaml"); err != nil {
		t.Fatal(err)
	}
	rep, err := json.Marshal(res.Report)
	if err != nil {
		t.Fatal(err)
	}
	return b.String() + string(rep)
}

func appendObjects[T client.Object](out []client.Object, objs []T) []client.Object {
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}

// fileWriter returns a function that writes a file in dir, each write with a modification
// time one second later than the one before (a Reader notices changes by size and time).
func fileWriter(t *testing.T, dir string) func(name, body string) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	return func(name, body string) {
		t.Helper()
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
}
