package dataplane_test

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// TestWireFormRoutes: the routes of HTTPRoutes are held encoded (wireform.go); what Envoy is
// sent is unchanged — every route table expands to the routes a full translation makes,
// and a route table that holds them encodes to the bytes of its expansion (checkWireForm).
// A match that cannot be encoded (a string that is not valid UTF-8) is left out with a
// problem naming it; the route's other matches and every other route are served.
func TestWireFormRoutes(t *testing.T) {
	m := bench.GenerateRoutes(3, 8080)
	m.HTTPRoutes[1] = bench.Route(1, "\xff") // rule 1 sets a header to invalid UTF-8
	out := dataplane.Translate(m, dataplane.Options{})
	if err := dataplane.Validate(out.Resources); err != nil {
		t.Fatal(err)
	}
	checkWireForm(t, out.Resources.Routes)
	checkWireForm(t, out.Resources.Endpoints)
	paths := map[string]bool{}
	for _, rc := range out.Resources.Routes {
		for _, vh := range dataplane.Expanded(rc).VirtualHosts {
			for _, r := range vh.Routes {
				paths[vh.Name+" "+r.GetMatch().GetPathSeparatedPrefix()] = true
			}
		}
	}
	for _, want := range []string{"host-0.example.com /r0/api", "host-0.example.com /r0", "host-1.example.com /r1/api", "host-2.example.com /r2"} {
		if !paths[want] {
			t.Errorf("route %s is not served; served: %v", want, paths)
		}
	}
	if paths["host-1.example.com /r1"] {
		t.Errorf("the match that cannot be encoded is served")
	}
	var found bool
	for _, p := range out.Problems {
		if p.Name == "route-1" && p.Field == "spec.rules[1].matches[0]" && strings.Contains(p.Message, "UTF-8") {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem names the match that cannot be encoded: %+v", out.Problems)
	}
	for _, s := range out.Served() {
		if s.Host == "host-1.example.com" && s.Match == "/r1" {
			t.Errorf("listed as served: %+v", s)
		}
	}
}

// TestExpandedKeepsWholeMessages: a message with nothing in wire form is returned as it is.
func TestExpandedKeepsWholeMessages(t *testing.T) {
	r := &routev3.Route{Name: "whole", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}}
	if got := dataplane.Expanded(r); got != r {
		t.Errorf("Expanded copied a message without parts in wire form")
	}
}
