package controllers

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// startWriterAndServing starts a manager with the writer (options o) and the serving half
// (status); it stops when the test ends.
func startWriterAndServing(t *testing.T, env *testenv.Env, o Options) {
	t.Helper()
	if err := env.EnsureNamespace(ctxT(t), gatewayNS); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	mgr, err := NewManager(env.Config, ManagerOptions{SkipControllerNameValidation: true,
		Writer: o,
		Serve:  ServeOptions{XDSAddress: addr, Feed: FeedOptions{Debounce: 10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("the manager did not stop within %s", waitTimeout)
		}
	})
}

// handRoute is a hand-written HTTPRoute on the shared Gateway serving host with one rule
// per path (PathPrefix) to Service web.
func handRoute(ns, name, host string, paths ...string) *gwv1.HTTPRoute {
	gwNS := gwv1.Namespace(gatewayNS)
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gatebridge", Namespace: &gwNS}}},
		Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
	}}
	prefix := gwv1.PathMatchPathPrefix
	port := gwv1.PortNumber(80)
	for _, p := range paths {
		r.Spec.Rules = append(r.Spec.Rules, gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: ptrTo(p)}}},
			BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: &port}}}},
		})
	}
	return r
}

// conflictOf returns the gatebridge.dev/Conflicted condition of our status.parents entry.
func conflictOf(t *testing.T, env *testenv.Env, key client.ObjectKey) (*metav1.Condition, error) {
	var r gwv1.HTTPRoute
	if err := env.Client.Get(ctxT(t), key, &r); err != nil {
		return nil, err
	}
	for _, p := range r.Status.Parents {
		if p.ControllerName == "gatebridge.dev/gateway-controller" {
			if c := meta.FindStatusCondition(p.Conditions, ConditionConflicted); c != nil {
				return c, nil
			}
			return nil, fmt.Errorf("HTTPRoute %s: no %s condition in %+v", key, ConditionConflicted, p.Conditions)
		}
	}
	return nil, fmt.Errorf("HTTPRoute %s: no status.parents entry of gatebridge yet", key)
}

// TestHandWrittenRouteConflicts: a hand-written HTTPRoute and a migrated Ingress that
// claim the same host and path are reported on both — a gatebridge.dev/Conflicted
// condition on each route, a note in the Ingress's Event — and the older route wins, as
// in the data plane: the migrated Ingress over a newer hand-written route, a hand-written
// route over an Ingress migrated after it. The condition goes when the conflict does.
func TestHandWrittenRouteConflicts(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "conflicts")
	class := "nginx-conflicts"
	startWriterAndServing(t, env, Options{Converter: converters.Options{IngressClass: class}})
	create(t, env, service(ns, "web"))

	// 1. The Ingress migrates first; a hand-written route then claims its path.
	first := ingressSpec{name: "first", namespace: ns, class: class, host: "first.conflicts.example.com", path: "/app",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build()
	create(t, env, first)
	var owned gwv1.HTTPRoute
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "first")
		if len(rs) != 1 {
			return fmt.Errorf("%d HTTPRoutes of Ingress first, want 1", len(rs))
		}
		owned = rs[0]
		return nil
	})
	time.Sleep(1100 * time.Millisecond) // creationTimestamps have a resolution of a second
	late := handRoute(ns, "late", "first.conflicts.example.com", "/app", "/other")
	create(t, env, late)
	eventually(t, func() error {
		c, err := conflictOf(t, env, client.ObjectKeyFromObject(late))
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || c.Reason != ReasonRulesShadowed || !strings.Contains(c.Message, "spec.rules[0].matches[0]") ||
			!strings.Contains(c.Message, "of Ingress "+ns+"/first") || strings.Contains(c.Message, "spec.rules[1]") {
			return fmt.Errorf("hand-written route late: %+v, want True/%s naming rule 0 and Ingress first", c, ReasonRulesShadowed)
		}
		c, err = conflictOf(t, env, client.ObjectKeyFromObject(&owned))
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || c.Reason != ReasonShadowsRoutes || !strings.Contains(c.Message, "HTTPRoute "+ns+"/late (hand-written)") {
			return fmt.Errorf("migrated route: %+v, want True/%s naming route late", c, ReasonShadowsRoutes)
		}
		return eventNoteContains(t, env, ns, "first", ReasonMigrated, "HTTPRoute "+ns+"/late (hand-written) also claims host first.conflicts.example.com, port 80, PathPrefix /app")
	})

	// The hand-written route drops the conflicting rule: the condition goes on both.
	updateObj(t, env, late, func(r *gwv1.HTTPRoute) { r.Spec.Rules = r.Spec.Rules[1:] })
	eventually(t, func() error {
		for _, k := range []client.ObjectKey{client.ObjectKeyFromObject(late), client.ObjectKeyFromObject(&owned)} {
			if c, err := conflictOf(t, env, k); err == nil || !strings.Contains(err.Error(), "no "+ConditionConflicted) {
				return fmt.Errorf("HTTPRoute %s still reports a conflict: %+v %v", k, c, err)
			}
		}
		return eventNoteContains(t, env, ns, "first", ReasonMigrated, "Migrated to the Gateway API (verdict ")
	})

	// 2. A hand-written route holds the path; an Ingress migrated after it loses it.
	early := handRoute(ns, "early", "second.conflicts.example.com", "/shop/")
	create(t, env, early)
	time.Sleep(1100 * time.Millisecond)
	second := ingressSpec{name: "second", namespace: ns, class: class, host: "second.conflicts.example.com", path: "/shop",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build()
	create(t, env, second)
	eventually(t, func() error {
		c, err := conflictOf(t, env, client.ObjectKeyFromObject(early))
		if err != nil {
			return err
		}
		if c.Reason != ReasonShadowsRoutes || !strings.Contains(c.Message, "of Ingress "+ns+"/second") {
			return fmt.Errorf("hand-written route early: %+v, want True/%s naming Ingress second", c, ReasonShadowsRoutes)
		}
		rs := routesOf(t, env, ns, "second")
		if len(rs) != 1 {
			return fmt.Errorf("%d HTTPRoutes of Ingress second, want 1", len(rs))
		}
		if c, err = conflictOf(t, env, client.ObjectKeyFromObject(&rs[0])); err != nil {
			return err
		}
		if c.Reason != ReasonRulesShadowed {
			return fmt.Errorf("migrated route of second: %+v, want True/%s", c, ReasonRulesShadowed)
		}
		return eventNoteContains(t, env, ns, "second", ReasonMigrated, "is not served (host second.conflicts.example.com, port 80, PathPrefix /shop): HTTPRoute "+ns+"/early (hand-written) has the same match and is older")
	})
}

// TestFindConflicts: which matches conflict, and who wins — the data plane's order.
func TestFindConflicts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gwNS := gwv1.Namespace(gatewayNS)
	http := gwv1.SectionName("http")
	migrated := func(name, host, path string) *gwv1.HTTPRoute {
		r := handRoute("shop", name, host, path)
		r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "gatebridge", Namespace: &gwNS, SectionName: &http}}
		return r
	}
	withHeader := handRoute("shop", "canary", "a.example.com", "/app")
	withHeader.Spec.Rules[0].Matches[0].Headers = []gwv1.HTTPHeaderMatch{{Name: "X-Canary", Value: "1"}}
	otherGateway := handRoute("shop", "elsewhere", "a.example.com", "/app")
	otherGateway.Spec.ParentRefs[0].Name = "other"
	listeners := []listenerSpec{
		{listenerRef{"Gateway", "gatebridge", "http"}, 80, ""},
		{listenerRef{"Gateway", "gatebridge", "https-a"}, 443, "a.example.com"},
	}
	routes := []claimRoute{
		{Route: migrated("ing-app", "a.example.com", "/app"), Created: t0.Add(time.Second), Ingress: "shop/ing"},
		// Same second: namespace/name decides ("shop/aaa" < "shop/ing-app").
		{Route: handRoute("shop", "aaa", "a.example.com", "/app/"), Created: t0.Add(time.Second)},
		// Different matches: no conflict.
		{Route: handRoute("shop", "longer", "a.example.com", "/app/v1"), Created: t0},
		{Route: withHeader, Created: t0},
		{Route: handRoute("shop", "other-host", "b.example.com", "/app"), Created: t0},
		{Route: otherGateway, Created: t0},
		// Newer than the migrated route.
		{Route: handRoute("shop", "zzz", "a.example.com", "/app"), Created: t0.Add(2 * time.Second)},
	}
	got := findConflicts(routes, listeners, gatewayNS, "gatebridge")
	var desc []string
	for _, c := range got {
		desc = append(desc, fmt.Sprintf("%s:%d %s: %s beats %s", c.Host, c.Port, c.Match, c.Winner.Name, c.Loser.Name))
	}
	// zzz loses to aaa, a hand-written route like itself: not the Ingress's business.
	want := "a.example.com:80 PathPrefix /app: aaa beats ing-app"
	if strings.Join(desc, "\n") != want {
		t.Errorf("conflicts:\n%s\nwant:\n%s", strings.Join(desc, "\n"), want)
	}
	if notes := conflictNotes("shop/ing", got); len(notes) != 1 || !strings.Contains(notes[0], "spec.rules[0].matches[0] of HTTPRoute shop/ing-app is not served") {
		t.Errorf("notes %q", notes)
	}

	// Without aaa, the migrated route is the oldest.
	got = findConflicts(append(routes[:1:1], routes[2:]...), listeners, gatewayNS, "gatebridge")
	if len(got) != 1 || got[0].Winner.Name != "ing-app" || got[0].Loser.Name != "zzz" {
		t.Errorf("conflicts without aaa: %+v, want ing-app beating zzz", got)
	}
	if notes := conflictNotes("shop/ing", got); len(notes) != 1 || !strings.Contains(notes[0], "HTTPRoute shop/zzz (hand-written) also claims") {
		t.Errorf("notes %q", notes)
	}
}
