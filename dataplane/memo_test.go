package dataplane_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

func loadModel(t *testing.T, in string) *dataplane.Model {
	t.Helper()
	loaded, err := sources.ReadPaths([]string{in}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := pipeline.Build(loaded, converters.Options{}).Model
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := bridgeDirectives(raw, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTranslatorBridgeToggle: turning the bridge off and on again (the same objects) gives
// exactly what a fresh translation gives: nothing remembered from the other mode is reused.
func TestTranslatorBridgeToggle(t *testing.T) {
	m := loadModel(t, filepath.Join("testdata", "bridge-fallback.in.yaml"))
	bridge := m.Bridge
	tr := dataplane.NewTranslator(goldenOptions)
	for i, b := range []*dataplane.Bridge{bridge, nil, bridge, {GatewayNamespace: bridge.GatewayNamespace, GatewayName: bridge.GatewayName, HTTP: dataplane.FallbackTarget{Address: "10.9.9.9:80"}}} {
		step := *m
		step.Bridge = b
		got, want := tr.Translate(&step), dataplane.Translate(&step, goldenOptions)
		if g, w := RenderOutput(t, got), RenderOutput(t, want); !bytes.Equal(g, w) {
			t.Fatalf("step %d: the Translator's output differs from Translate's\n%s", i, firstDiff(w, g))
		}
	}
}

// TestTranslatorMatchesTranslate checks, on every golden case, that a Translator which
// remembers earlier translations gives exactly what a fresh translation gives, after each
// kind of change: none, one HTTPRoute edited, one removed, one re-created as a new object
// with equal content, and a change outside the HTTPRoutes.
func TestTranslatorMatchesTranslate(t *testing.T) {
	ins, _ := filepath.Glob("testdata/*.in.yaml")
	for _, in := range ins {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".in.yaml"), func(t *testing.T) {
			m := loadModel(t, in)
			tr := dataplane.NewTranslator(goldenOptions)
			check := func(step string, m *dataplane.Model) *dataplane.Output {
				t.Helper()
				got := tr.Translate(m)
				want := dataplane.Translate(m, goldenOptions)
				if g, w := RenderOutput(t, got), RenderOutput(t, want); !bytes.Equal(g, w) {
					t.Fatalf("%s: the Translator's output differs from Translate's\n%s", step, firstDiff(w, g))
				}
				return got
			}
			first := check("first translation", m)
			again := check("same model again", m)
			if len(first.Resources.Routes) != len(again.Resources.Routes) {
				t.Fatal("route table count changed")
			}
			for i := range first.Resources.Routes {
				if first.Resources.Routes[i] != again.Resources.Routes[i] {
					t.Errorf("route table %s was rebuilt although nothing changed", first.Resources.Routes[i].Name)
				}
			}
			for i, r := range m.HTTPRoutes {
				edited := *m
				edited.HTTPRoutes = append([]*gwv1.HTTPRoute(nil), m.HTTPRoutes...)
				c := r.DeepCopy()
				for ri := range c.Spec.Rules {
					c.Spec.Rules[ri].Filters = append(c.Spec.Rules[ri].Filters, gwv1.HTTPRouteFilter{
						Type:                  gwv1.HTTPRouteFilterRequestHeaderModifier,
						RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Add: []gwv1.HTTPHeader{{Name: "X-Edited", Value: "yes"}}},
					})
				}
				edited.HTTPRoutes[i] = c
				before := check("before editing "+r.Name, m)
				after := check("route "+r.Name+" edited", &edited)
				// The edit changes no cluster, listener or secret: they are handed over as
				// the same protos, though the route's clusters and every listener were made
				// again (xds.Publish skips them).
				same := map[string]any{}
				for _, c := range before.Resources.EncodedClusters {
					same["cluster "+c.GetName()] = c
				}
				for _, l := range before.Resources.Listeners {
					same["listener "+l.Name] = l
				}
				for _, sec := range before.Resources.Secrets {
					same["secret "+sec.Name] = sec
				}
				now := map[string]any{}
				for _, c := range after.Resources.EncodedClusters {
					now["cluster "+c.GetName()] = c
				}
				for _, l := range after.Resources.Listeners {
					now["listener "+l.Name] = l
				}
				for _, sec := range after.Resources.Secrets {
					now["secret "+sec.Name] = sec
				}
				for name, p := range now {
					if old, ok := same[name]; ok && old != p && proto.Equal(old.(proto.Message), p.(proto.Message)) {
						t.Errorf("route %s edited: %s is a new proto with the same content", r.Name, name)
					}
				}
				check("back to the original", m)
				// What a route's status depends on: its hostnames and parentRefs.
				moved := r.DeepCopy()
				moved.Spec.Hostnames = append(moved.Spec.Hostnames, "edited.example.com")
				edited.HTTPRoutes[i] = moved
				check("route "+r.Name+" given another hostname", &edited)
				if len(moved.Spec.ParentRefs) > 0 {
					moved = moved.DeepCopy()
					section := gwv1.SectionName("no-such-listener")
					moved.Spec.ParentRefs[0].SectionName = &section
					edited.HTTPRoutes[i] = moved
					check("route "+r.Name+" parentRef edited", &edited)
				}
				check("back to the original again", m)
				edited.HTTPRoutes[i] = r.DeepCopy()
				check("route "+r.Name+" re-created", &edited)
				edited.HTTPRoutes = append(append([]*gwv1.HTTPRoute(nil), m.HTTPRoutes[:i]...), m.HTTPRoutes[i+1:]...)
				check("route "+r.Name+" removed", &edited)
			}
			// TrafficPolicies that target HTTPRoutes only keep the memo (the routes they
			// target are translated again); one that targets a Gateway drops it.
			for i, p := range m.TrafficPolicies {
				edited := *m
				edited.TrafficPolicies = append(append([]*v1alpha1.TrafficPolicy(nil), m.TrafficPolicies[:i]...), m.TrafficPolicies[i+1:]...)
				check("policy "+p.Name+" removed", &edited)
				check("policy "+p.Name+" back", m)
				if len(m.HTTPRoutes) > 0 {
					r := m.HTTPRoutes[len(m.HTTPRoutes)-1]
					added := p.DeepCopy()
					added.Name, added.Namespace = "added-"+p.Name, r.Namespace
					added.Spec.TargetRefs = []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
						Group: gwv1.GroupName, Kind: "HTTPRoute", Name: gwv1.ObjectName(r.Name),
					}}}
					edited.TrafficPolicies = append(append([]*v1alpha1.TrafficPolicy(nil), m.TrafficPolicies...), added)
					check("policy "+p.Name+" copied onto route "+r.Name, &edited)
					check("the copy of policy "+p.Name+" removed", m)
				}
			}
			if len(m.Services) > 0 {
				fewer := *m
				fewer.Services = m.Services[1:]
				check("a Service removed", &fewer)
			}
			if len(m.RefusedLocations) > 0 {
				fewer := *m
				fewer.RefusedLocations = m.RefusedLocations[1:]
				check("a refused location gone", &fewer)
				check("the refused location back", m)
			}
			check("the original model", m)
		})
	}
}

// TestRoutesDependOnReadiness: only a default backend makes routes depend on which
// Services have ready endpoints.
func TestRoutesDependOnReadiness(t *testing.T) {
	m := &dataplane.Model{TrafficPolicies: []*v1alpha1.TrafficPolicy{{Spec: v1alpha1.TrafficPolicySpec{ErrorPages: &v1alpha1.ErrorPagesPolicy{Codes: []int32{404}}}}}}
	if m.RoutesDependOnReadiness() {
		t.Errorf("error codes without a default backend: routes do not depend on readiness")
	}
	m.TrafficPolicies[0].Spec.ErrorPages.DefaultBackend = &gwv1.BackendObjectReference{Name: "errors"}
	if !m.RoutesDependOnReadiness() {
		t.Errorf("a default backend: routes depend on readiness")
	}
}

// TestTranslatorSharedCluster: routes that share a Service port share its cluster and load
// assignment. A Translator must keep them while any route uses them and drop them with the
// last one, whatever order routes are edited, deleted and added back in.
func TestTranslatorSharedCluster(t *testing.T) {
	const shared = "ns-0/svc-0/80"
	m := bench.GenerateRoutes(401, 8080) // routes 0, 200 and 400 are in namespace ns-0
	useShared := func(i int) *gwv1.HTTPRoute {
		r := bench.Route(i, "")
		for ri := range r.Spec.Rules {
			r.Spec.Rules[ri].BackendRefs[0].Name = "svc-0"
		}
		return r
	}
	m.HTTPRoutes[200], m.HTTPRoutes[400] = useShared(200), useShared(400)
	tr := dataplane.NewTranslator(goldenOptions)
	check := func(step string, m *dataplane.Model, wantShared bool) {
		t.Helper()
		got := tr.Translate(m)
		if g, w := RenderOutput(t, got), RenderOutput(t, dataplane.Translate(m, goldenOptions)); !bytes.Equal(g, w) {
			t.Fatalf("%s: the Translator's output differs from Translate's\n%s", step, firstDiff(w, g))
		}
		has := false
		for _, c := range got.Resources.EncodedClusters {
			has = has || c.GetName() == shared
		}
		if has != wantShared {
			t.Fatalf("%s: cluster %s served: %v, want %v", step, shared, has, wantShared)
		}
	}
	check("three routes share svc-0", m, true)
	edited := *m
	edited.HTTPRoutes = slices.Clone(m.HTTPRoutes)
	edited.HTTPRoutes[200] = bench.Route(200, "") // back to its own svc-200
	check("one route no longer uses svc-0", &edited, true)
	edited.HTTPRoutes[400] = bench.Route(400, "other")
	check("a second no longer uses it", &edited, true)
	edited.HTTPRoutes[0] = bench.Route(0, "edited")
	check("the owner's route edited", &edited, true)
	without := edited
	without.HTTPRoutes = slices.Delete(slices.Clone(edited.HTTPRoutes), 0, 1)
	check("the last route using svc-0 deleted", &without, false)
	again := edited
	again.HTTPRoutes = slices.Clone(edited.HTTPRoutes)
	again.HTTPRoutes[400] = useShared(400)
	check("svc-0 used again by another route", &again, true)
	check("the model of the start", m, true)
}

// TestTranslatorCountsSharedResources: through a random run of edits, deletions and
// re-creations of HTTPRoutes that move between a few shared Services and their own, a
// Translator (which counts the clusters and load assignments of its remembered results and
// patches its sorted lists, shared.go) gives exactly what a fresh translation gives.
func TestTranslatorCountsSharedResources(t *testing.T) {
	const n = 30
	m := bench.GenerateRoutes(n, 8080)
	rng := rand.New(rand.NewPCG(19, 1))
	route := func(i, step int) *gwv1.HTTPRoute {
		r := bench.Route(i, fmt.Sprintf("s%d", step))
		if k := rng.IntN(4); k < 3 {
			// One of three shared Services, which routes 0, 1 and 2's namespaces hold.
			ns, svc := m.HTTPRoutes[k].Namespace, m.HTTPRoutes[k].Spec.Rules[0].BackendRefs[0].Name
			if r.Namespace == ns {
				for ri := range r.Spec.Rules {
					r.Spec.Rules[ri].BackendRefs[0].Name = svc
				}
			}
		}
		return r
	}
	tr := dataplane.NewTranslator(goldenOptions)
	cur := *m
	cur.HTTPRoutes = slices.Clone(m.HTTPRoutes)
	for step := range 80 {
		i := rng.IntN(len(cur.HTTPRoutes))
		switch rng.IntN(6) {
		case 0:
			cur.HTTPRoutes = slices.Delete(slices.Clone(cur.HTTPRoutes), i, i+1)
		case 1:
			j := rng.IntN(n)
			if !slices.ContainsFunc(cur.HTTPRoutes, func(r *gwv1.HTTPRoute) bool { return r.Name == fmt.Sprintf("route-%d", j) }) {
				cur.HTTPRoutes = append(slices.Clone(cur.HTTPRoutes), route(j, step))
			}
		default:
			cur.HTTPRoutes = slices.Clone(cur.HTTPRoutes)
			var j int
			if _, err := fmt.Sscanf(cur.HTTPRoutes[i].Name, "route-%d", &j); err != nil {
				t.Fatal(err)
			}
			cur.HTTPRoutes[i] = route(j, step)
		}
		model := cur
		got := tr.Translate(&model)
		if g, w := RenderOutput(t, got), RenderOutput(t, dataplane.Translate(&model, goldenOptions)); !bytes.Equal(g, w) {
			t.Fatalf("step %d: the Translator's output differs from Translate's\n%s", step, firstDiff(w, g))
		}
	}
}
