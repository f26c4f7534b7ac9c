package pipeline

import (
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// bridgeFile is two Ingresses on one host: web ("/", migrating with the given weight
// annotation) and api ("/api", not migrated), with their Service.
func bridgeFile(weight string) string {
	ing := func(name, path, ann string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: default\n  annotations: {" + ann + "}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - {path: " + path + ", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\n"
	}
	return ing("web", "/", `gatebridge.dev/migrate: "true", gatebridge.dev/weight: "`+weight+`"`) + ing("api", "/api", "") +
		"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n"
}

// TestReloaderBridge: behind a bridge, only the migrating Ingress's HTTPRoute is in the
// model, with its weight; the other's location goes to the fallback; the model carries the
// bridge on the conversion's Gateway; an invalid weight keeps the last valid one across
// reloads, and a reload gives what a fresh BuildBridged with the remembered weights gives.
func TestReloaderBridge(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	bridge := &dataplane.Bridge{HTTP: dataplane.FallbackTarget{Address: "127.0.0.1:8081"}}
	r := NewBridgedReloader([]string{dir}, sources.Options{}, converters.Options{}, bridge)
	remembered := map[string]int{}
	for _, step := range []struct{ weight, want string }{{"30", "30"}, {"30 %", "30"}, {"60", "60"}, {"", "60"}, {"100", ""}, {"x", "100"}} {
		write("web.yaml", bridgeFile(step.weight))
		rl, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		r.Served()
		m := rl.Result.Model
		if len(m.HTTPRoutes) != 1 || m.HTTPRoutes[0].Labels[converters.LabelSourceIngress] != "web" {
			t.Fatalf("weight %q: %d HTTPRoutes in the model, want web's only", step.weight, len(m.HTTPRoutes))
		}
		got, has := m.HTTPRoutes[0].Annotations["gatebridge.dev/weight"]
		if step.want == "100" || step.want == "" {
			if has {
				t.Errorf("weight %q: HTTPRoute has weight %q, want none (100)", step.weight, got)
			}
		} else if got != step.want {
			t.Errorf("weight %q: HTTPRoute has weight %q, want %q", step.weight, got, step.want)
		}
		if b := m.Bridge; b == nil || b.GatewayNamespace != "gatebridge-system" || b.GatewayName != "gatebridge" || b.HTTP.Address != "127.0.0.1:8081" {
			t.Fatalf("model bridge %+v", m.Bridge)
		}
		if len(m.RefusedLocations) != 1 || m.RefusedLocations[0].Source != "default/api" || !strings.Contains(m.RefusedLocations[0].Reason, "not migrated") {
			t.Errorf("weight %q: refused locations %+v, want default/api's /api, not migrated", step.weight, m.RefusedLocations)
		}
		loaded, err := sources.ReadPaths([]string{dir}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fresh := BuildBridged(loaded, converters.Options{PreviousWeights: remembered}, bridge)
		if g, w := encode(t, rl.Result), encode(t, fresh); g != w {
			t.Fatalf("weight %q: the reload differs from a fresh build:\n%s\nwant:\n%s", step.weight, g, w)
		}
		remembered = converters.RememberWeights(remembered, &fresh.Report)
	}
}

// TestBuildWithoutBridgeServesEverything: without a bridge, weights change nothing and
// every Ingress is served, as before the bridge.
func TestBuildWithoutBridgeServesEverything(t *testing.T) {
	dir := t.TempDir()
	fileWriter(t, dir)("web.yaml", bridgeFile("30"))
	loaded, err := sources.ReadPaths([]string{dir}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Build(loaded, converters.Options{})
	if len(res.Model.HTTPRoutes) != 2 || res.Model.Bridge != nil || len(res.Model.RefusedLocations) != 0 || res.Native != res.Generated {
		t.Fatalf("without a bridge: %d HTTPRoutes, bridge %v, %d refused locations", len(res.Model.HTTPRoutes), res.Model.Bridge, len(res.Model.RefusedLocations))
	}
	for _, hr := range res.Model.HTTPRoutes {
		if len(hr.Annotations) != 0 {
			t.Errorf("HTTPRoute %s has annotations %v", hr.Name, hr.Annotations)
		}
	}
}

// TestBuildBridgedDropIn: behind a bridge, an Ingress of a gatebridge IngressClass is
// served natively without the annotation, and its report keeps its own class.
func TestBuildBridgedDropIn(t *testing.T) {
	dir := t.TempDir()
	fileWriter(t, dir)("drop.yaml", `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: gatebridge}
spec: {controller: gatebridge.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: drop, namespace: default, annotations: {gatebridge.dev/weight: "10"}}
spec:
  ingressClassName: gatebridge
  rules:
  - host: d.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{port: 80}]}
`)
	loaded, err := sources.ReadPaths([]string{dir}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := BuildBridged(loaded, converters.Options{}, &dataplane.Bridge{HTTP: dataplane.FallbackTarget{Address: "127.0.0.1:1"}})
	rep := res.Report.Ingresses[0]
	if m := rep.Migration; m == nil || m.State != converters.MigrationNative || rep.Class != "gatebridge" {
		t.Fatalf("drop-in Ingress: class %q, migration %+v; want gatebridge, native", rep.Class, rep.Migration)
	}
	if len(res.Model.HTTPRoutes) != 1 || len(res.Model.HTTPRoutes[0].Annotations) != 0 || len(res.Model.RefusedLocations) != 0 {
		t.Fatalf("drop-in Ingress: %d HTTPRoutes (annotations %v), %d refused locations; want it served whole", len(res.Model.HTTPRoutes), res.Model.HTTPRoutes, len(res.Model.RefusedLocations))
	}
}
