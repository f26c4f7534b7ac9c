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
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// startServing starts a manager with the writer and the serving half; it returns the
// xDS address.
func startServing(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	mgr, err := NewManager(env.Config, ManagerOptions{SkipControllerNameValidation: true,
		Serve: ServeOptions{XDSAddress: addr, Feed: FeedOptions{Debounce: 10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, runCancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()
	t.Cleanup(func() {
		runCancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("the manager did not stop within %s", waitTimeout)
		}
	})
	waitListening(t, addr, done)
	return addr
}

// TestServingStatusShowsNACK: a hand-written HTTPRoute on the shared Gateway is judged
// (status.parents, from the typed translation results); the Gateway is not Programmed
// while no Envoy acknowledged it; an Envoy's NACK shows as Programmed False, reason
// Invalid, with Envoy's message, and in gatebridge_xds_nacks_total.
func TestServingStatusShowsNACK(t *testing.T) {
	env := testenv.Get(t)
	addr := startServing(t, env)
	ctx := ctxT(t)
	ns := env.Namespace(t, "serve")
	all := gwv1.Namespace(gatewayNS)
	section := gwv1.SectionName("http")
	scheme := "https"
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "redirect", Namespace: ns}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{
			{Name: "gatebridge", Namespace: &all, SectionName: &section},
			{Name: "gatebridge", Namespace: &all, SectionName: ptrTo(gwv1.SectionName("nope"))},
		}},
		Hostnames: []gwv1.Hostname{"redirect.example.com"},
		Rules: []gwv1.HTTPRouteRule{{Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: &scheme}}}}},
	}}
	create(t, env, route)
	t.Logf("%s: route created", time.Now().Format(time.StampMilli))

	gatewayCondition := func(typ string) (*metav1.Condition, int64, error) {
		var gw gwv1.Gateway
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: gatewayNS, Name: "gatebridge"}, &gw); err != nil {
			return nil, 0, err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, typ)
		if c == nil {
			return nil, 0, fmt.Errorf("no %s condition: %+v", typ, gw.Status.Conditions)
		}
		return c, gw.Generation, nil
	}
	eventually(t, func() error {
		c, gen, err := gatewayCondition("Programmed")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != "Pending" || c.ObservedGeneration != gen {
			return fmt.Errorf("Programmed %s/%s (gen %d of %d), want False/Pending with no Envoy connected", c.Status, c.Reason, c.ObservedGeneration, gen)
		}
		return nil
	})
	eventually(t, func() error {
		var r gwv1.HTTPRoute
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(route), &r); err != nil {
			return err
		}
		if len(r.Status.Parents) != 2 {
			return fmt.Errorf("%d status.parents, want 2", len(r.Status.Parents))
		}
		for i, want := range []string{"Accepted", "NoMatchingParent"} {
			p := r.Status.Parents[i]
			c := meta.FindStatusCondition(p.Conditions, "Accepted")
			if p.ControllerName != "gatebridge.dev/gateway-controller" || c == nil || c.Reason != want || c.ObservedGeneration != r.Generation {
				return fmt.Errorf("parents[%d]: %+v, want Accepted reason %s", i, p, want)
			}
		}
		return nil
	})

	t.Logf("%s: status written; an Envoy that rejects connects", time.Now().Format(time.StampMilli))
	connectDelta(t, addr, "rejecting", map[int32]uint32{80: 8080}, "cannot bind 0.0.0.0:8080: Address already in use").listener()
	eventually(t, func() error {
		c, gen, err := gatewayCondition("Programmed")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != "Invalid" || !strings.Contains(c.Message, "Address already in use") || c.ObservedGeneration != gen {
			return fmt.Errorf("Programmed %s/%s %q, want False/Invalid with Envoy's message", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "gatebridge_xds_nacks_total" {
			found = true
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v < 1 {
				t.Errorf("gatebridge_xds_nacks_total = %v after a NACK", v)
			}
		}
	}
	if !found {
		t.Error("no gatebridge_xds_nacks_total metric")
	}
}
