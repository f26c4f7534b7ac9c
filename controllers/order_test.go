package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestRoutesAreWrittenAfterWhatTheyDependOn: a route must never be served, even between
// two writes, without its policy (basic auth, a body-size limit). When an Ingress
// migrates, or gains auth later, its TrafficPolicies and RouteFilters are applied before
// its HTTPRoutes; when it stops migrating, its HTTPRoutes are deleted before them.
func TestRoutesAreWrittenAfterWhatTheyDependOn(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "order")
	class := "nginx-order"
	h := startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}}})
	create(t, env, service(ns, "web"))
	const nginx = "nginx.ingress.kubernetes.io/"
	ing := ingressSpec{name: "guarded", namespace: ns, class: class, host: "guarded.order.example.com", path: "/app",
		annotations: map[string]string{MigrateAnnotation: "true", nginx + "auth-type": "basic", nginx + "auth-secret": "users",
			nginx + "proxy-body-size": "2m", nginx + "rewrite-target": "/"}}.build()
	create(t, env, ing)

	var kinds map[string]string // object name → kind, of the Ingress's objects
	eventually(t, func() error {
		var err error
		kinds, err = objectsOf(t, env, ns, "guarded")
		if err != nil {
			return err
		}
		if n := countKind(kinds, "HTTPRoute"); n == 0 || countKind(kinds, "TrafficPolicy") == 0 {
			return fmt.Errorf("objects %v, want HTTPRoutes and a TrafficPolicy", kinds)
		}
		return nil
	})
	checkOrder(t, h.writes.Writes(), ns, kinds, "apply", 0)

	// Gaining a policy later: the new TrafficPolicy before the route that changes with it.
	start := len(h.writes.Writes())
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { i.Annotations[nginx+"limit-rps"] = "5" })
	eventually(t, func() error {
		writes := h.writes.Writes()[start:]
		for _, w := range writes {
			if strings.HasPrefix(w, "apply "+ns+"/") {
				return nil
			}
		}
		return fmt.Errorf("nothing applied after the edit")
	})
	steady(t, steadyWindow, func() error { return nil })
	if kinds, err := objectsOf(t, env, ns, "guarded"); err == nil {
		checkOrder(t, h.writes.Writes(), ns, kinds, "apply", start)
	}

	// Removal: routes first.
	start = len(h.writes.Writes())
	kinds, _ = objectsOf(t, env, ns, "guarded")
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { delete(i.Annotations, MigrateAnnotation) })
	eventually(t, func() error {
		left, err := objectsOf(t, env, ns, "guarded")
		if err != nil {
			return err
		}
		if len(left) != 0 {
			return fmt.Errorf("objects left: %v", left)
		}
		return nil
	})
	writes := h.writes.Writes()[start:]
	lastRoute, firstPolicy := -1, len(writes)
	for i, w := range writes {
		op, kind, ok := writeOf(w, ns, kinds)
		if !ok || op != "delete" {
			continue
		}
		switch kind {
		case "HTTPRoute", "TLSRoute":
			lastRoute = i
		case "TrafficPolicy", "RouteFilter":
			firstPolicy = min(firstPolicy, i)
		}
	}
	if lastRoute < 0 || firstPolicy == len(writes) || lastRoute > firstPolicy {
		t.Errorf("deletes %v: want every route deleted before its policies and filters", writes)
	}
}

// steadyWindow lets the passes that follow an edit finish.
const steadyWindow = 1500 * time.Millisecond

// checkOrder fails unless, among the writes op from index start on, every apply of a
// TrafficPolicy or RouteFilter of the Ingress comes before every apply of its routes.
func checkOrder(t *testing.T, all []string, ns string, kinds map[string]string, op string, start int) {
	t.Helper()
	writes := all[start:]
	firstRoute, lastPolicy := len(writes), -1
	for i, w := range writes {
		o, kind, ok := writeOf(w, ns, kinds)
		if !ok || o != op {
			continue
		}
		switch kind {
		case "HTTPRoute", "TLSRoute":
			firstRoute = min(firstRoute, i)
		case "TrafficPolicy", "RouteFilter":
			lastPolicy = i
		}
	}
	if lastPolicy > firstRoute {
		t.Errorf("writes %v: a route was applied before a policy or filter of its Ingress", writes)
	}
}

// writeOf splits a countingClient record "op ns/name (Kind)" of namespace ns; records
// without a kind (deletes of typed objects) take it from kinds (name → kind).
func writeOf(w, ns string, kinds map[string]string) (op, kind string, ok bool) {
	op, rest, ok := strings.Cut(w, " ")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutPrefix(rest, ns+"/")
	if !ok {
		return "", "", false
	}
	name, kind, _ := strings.Cut(rest, " ")
	kind = strings.Trim(kind, "()")
	if kind == "" {
		kind = kinds[name]
	} else if kinds[name] != kind {
		kind = "" // another object of that name (the Ingress itself)
	}
	return op, kind, true
}

// objectsOf returns the owned HTTPRoutes, TrafficPolicies and RouteFilters of an Ingress,
// name → kind.
func objectsOf(t *testing.T, env *testenv.Env, ns, ingress string) (map[string]string, error) {
	t.Helper()
	sel := client.MatchingLabels{converters.LabelSourceIngress: ingress}
	out := map[string]string{}
	var routes gwv1.HTTPRouteList
	var policies gbv1.TrafficPolicyList
	var filters gbv1.RouteFilterList
	for _, l := range []client.ObjectList{&routes, &policies, &filters} {
		if err := env.Client.List(ctxT(t), l, client.InNamespace(ns), sel); err != nil {
			return nil, err
		}
	}
	for _, r := range routes.Items {
		out[r.Name] = "HTTPRoute"
	}
	for _, p := range policies.Items {
		out[p.Name] = "TrafficPolicy"
	}
	for _, f := range filters.Items {
		out[f.Name] = "RouteFilter"
	}
	return out, nil
}

func countKind(kinds map[string]string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}
