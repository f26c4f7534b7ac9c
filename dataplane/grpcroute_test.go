package dataplane_test

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestGRPCRouteStatus: a GRPCRoute attached to an HTTP listener is accepted under its own
// kind (its status is written as a GRPCRoute's), and a listener that admits HTTPRoutes
// only does not serve it.
func TestGRPCRouteStatus(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/grpcroute-methods.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := pipeline.Build(loaded, converters.Options{}).Model
	out := dataplane.Translate(m, dataplane.Options{})
	found := false
	for _, p := range out.Parents {
		if p.RouteName == "greeter" {
			found = true
			if p.RouteKind != "GRPCRoute" || !p.Accepted {
				t.Errorf("greeter: %+v, want an accepted GRPCRoute", p)
			}
		}
	}
	if !found {
		t.Fatal("no status result for GRPCRoute apps/greeter")
	}

	// Only HTTPRoutes allowed: the GRPCRoute is not attached.
	m.Gateways[0].Spec.Listeners[0].AllowedRoutes = &gwv1.AllowedRoutes{Kinds: []gwv1.RouteGroupKind{{Kind: "HTTPRoute"}}}
	out = dataplane.Translate(m, dataplane.Options{})
	for _, p := range out.Parents {
		if p.RouteName == "greeter" && p.Accepted {
			t.Errorf("greeter accepted on a listener that admits HTTPRoutes only: %+v", p)
		}
	}
}
