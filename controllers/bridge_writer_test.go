package controllers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestBridgeStatesWeightsAndEvents: with a fallback, the writer shows each Ingress's
// migration state in gatebridge.dev/state (owning nothing else of it), copies the weight
// onto its routes, records an Event per state change, and an invalid weight keeps the last
// valid one with a Warning Event naming the annotation, the value and the weight kept —
// also after a restart, from the state it wrote.
func TestBridgeStatesWeightsAndEvents(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "bridge")
	class := "nginx-bridge"
	opts := harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}, Fallback: "ingress-nginx/ingress-nginx-controller"}}
	create(t, env, service(ns, "web"))
	observed := ingressSpec{name: "observed", namespace: ns, class: class, host: "observed.bridge.example.com"}.build()
	shop := ingressSpec{name: "shop", namespace: ns, class: class, host: "shop.bridge.example.com",
		annotations: map[string]string{MigrateAnnotation: "true", gbv1.WeightAnnotation: "25"}}.build()
	create(t, env, observed)
	create(t, env, shop)
	h := startWriter(t, env, opts)

	stateOf := func(ing *networkingv1.Ingress) string {
		var live networkingv1.Ingress
		if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(ing), &live); err != nil {
			return err.Error()
		}
		return live.Annotations[StateAnnotation]
	}
	wantState := func(ing *networkingv1.Ingress, want string) {
		t.Helper()
		eventually(t, func() error {
			if got := stateOf(ing); got != want {
				return fmt.Errorf("%s: gatebridge.dev/state %q, want %q", ing.Name, got, want)
			}
			return nil
		})
	}
	wantWeight := func(want string) {
		t.Helper()
		eventually(t, func() error {
			rs := routesOf(t, env, ns, "shop")
			if len(rs) != 1 {
				return fmt.Errorf("%d routes of shop", len(rs))
			}
			if got := rs[0].Annotations[gbv1.WeightAnnotation]; got != want {
				return fmt.Errorf("route weight %q, want %q", got, want)
			}
			return nil
		})
	}
	wantEvents := func(name string, want ...string) {
		t.Helper()
		eventually(t, func() error {
			if got := h.events.Reasons(ns, name); !slices.Equal(got, want) {
				return fmt.Errorf("events on %s: %v, want %v", name, got, want)
			}
			return nil
		})
	}
	wantState(observed, "observed")
	wantState(shop, "migrating 25%")
	wantWeight("25")
	wantEvents("observed", ReasonAssessed)
	wantEvents("shop", ReasonMigrating)
	checkOnlyAnnotationOwned(t, env, shop)

	setWeight := func(v string) {
		updateObj(t, env, shop, func(i *networkingv1.Ingress) { i.Annotations[gbv1.WeightAnnotation] = v })
	}
	setWeight("50")
	wantState(shop, "migrating 50%")
	wantWeight("50")
	wantEvents("shop", ReasonMigrating, ReasonMigrating)
	eventually(t, func() error { return eventNoteContains(t, env, ns, "shop", ReasonMigrating, "(was migrating 25%)") })

	// Invalid: the weight stays 50, a Warning says so.
	setWeight("75%")
	wantEvents("shop", ReasonMigrating, ReasonMigrating, ReasonInvalidWeight)
	eventually(t, func() error {
		return eventNoteContains(t, env, ns, "shop", ReasonInvalidWeight, `annotation gatebridge.dev/weight is "75%"`)
	})
	eventually(t, func() error { return eventNoteContains(t, env, ns, "shop", ReasonInvalidWeight, "stays 50%") })
	wantState(shop, "migrating 50%")
	wantWeight("50")

	// Restart, then another invalid value: the weight the state annotation says is kept.
	steady(t, time.Second, func() error { return nil })
	h.stop()
	h2 := startWriter(t, env, opts)
	h2.waitPasses(0, 1)
	steady(t, time.Second, func() error {
		if w := h2.writes.Writes(); len(w) != 0 {
			return fmt.Errorf("the restarted writer wrote %v", w)
		}
		return nil
	})
	setWeight("lots")
	eventually(t, func() error { return eventNoteContains(t, env, ns, "shop", ReasonInvalidWeight, `"lots"`) })
	if got := h2.events.Reasons(ns, "shop"); !slices.Contains(got, ReasonInvalidWeight) {
		t.Errorf("the restarted writer recorded %v on shop, want an InvalidWeight Event", got)
	}
	wantState(shop, "migrating 50%")
	wantWeight("50")

	// Full weight, then rollback.
	setWeight("100")
	wantState(shop, "native")
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "shop")
		if len(rs) != 1 {
			return fmt.Errorf("%d routes of shop", len(rs))
		}
		if w, ok := rs[0].Annotations[gbv1.WeightAnnotation]; ok {
			return fmt.Errorf("native route still carries weight %q", w)
		}
		return nil
	})
	updateObj(t, env, shop, func(i *networkingv1.Ingress) { delete(i.Annotations, MigrateAnnotation) })
	wantState(shop, "observed")
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 0 {
			return fmt.Errorf("%d routes of shop after the rollback", len(rs))
		}
		return nil
	})
	eventually(t, func() error {
		return eventNoteContains(t, env, ns, "shop", ReasonMigrationRemoved, "all of its requests go to ingress-nginx")
	})
}
