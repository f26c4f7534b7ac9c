package dataplane_test

import (
	"strconv"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// bridgedModel is a Gateway of gatebridge's class without listeners, bridged to an
// address, and the given HTTPRoutes (which attach to nothing).
func bridgedModel(tls bool, routes ...*gwv1.HTTPRoute) *dataplane.Model {
	m := &dataplane.Model{
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge"}, Spec: gwv1.GatewayClassSpec{ControllerName: dataplane.DefaultControllerName}}},
		Gateways:       []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "edge"}, Spec: gwv1.GatewaySpec{GatewayClassName: "gatebridge"}}},
		HTTPRoutes:     routes,
		Bridge:         &dataplane.Bridge{GatewayNamespace: "edge", GatewayName: "gw", HTTP: dataplane.FallbackTarget{Address: "10.0.0.1:80"}},
	}
	if tls {
		m.Bridge.TLS = &dataplane.FallbackTarget{Address: "10.0.0.1:443"}
	}
	return m
}

// TestBridgeForcedPortsFollowPortMap: the ports the bridged Gateway always serves (80, and
// 443 with a TLS target) bind where the port map says, as the Gateway's own listeners do
// (a fleet Envoy declares 80→8080, 443→8443 in its node metadata).
func TestBridgeForcedPortsFollowPortMap(t *testing.T) {
	opts := dataplane.Options{PortMap: map[int32]uint32{80: 8080, 443: 8443}}
	for _, tls := range []bool{false, true} {
		out := dataplane.Translate(bridgedModel(tls), opts)
		if err := dataplane.Validate(out.Resources); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range out.Resources.Listeners {
			got = append(got, l.Name+"@"+strconv.Itoa(int(l.Address.GetSocketAddress().GetPortValue())))
		}
		want := "edge/gw/80@8080"
		if tls {
			want += " edge/gw/443@8443"
		}
		if strings.Join(got, " ") != want {
			t.Errorf("TLS target %v: listeners %v, want %s", tls, got, want)
		}
	}
	// Without a bridge, a Gateway without listeners serves nothing, as before.
	m := bridgedModel(true)
	m.Bridge = nil
	if out := dataplane.Translate(m, opts); len(out.Resources.Listeners) != 0 {
		t.Errorf("a Gateway without listeners and without a bridge got listeners %v", out.Resources.Listeners)
	}
}

// TestBridgeWeights: gatebridge.dev/weight is a whole number 0…100 (blanks around it
// allowed); a twin with the bucket range [N, 100) precedes each route below 100; anything
// else is a problem and counts as 0 (all to the fallback).
func TestBridgeWeights(t *testing.T) {
	for _, c := range []struct {
		value   string
		twin    int64 // bucket range start of the twin; -1: no twin
		problem bool
	}{
		{"25", 25, false}, {" 7 ", 7, false}, {"0", 0, false}, {"100", -1, false}, {"099", 99, false},
		{"+5", 0, true}, {"-1", 0, true}, {"101", 0, true}, {"25%", 0, true}, {"2.5", 0, true}, {"", 0, true}, {"ten", 0, true},
	} {
		r := &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "edge", Annotations: map[string]string{v1alpha1.WeightAnnotation: c.value}},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Hostnames:       []gwv1.Hostname{"shop.example.com"},
				Rules:           []gwv1.HTTPRouteRule{{}},
			},
		}
		m := bridgedModel(false, r)
		m.Gateways[0].Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
		out := dataplane.Translate(m, dataplane.Options{})
		var routes []*routev3.Route
		for _, rc := range out.Resources.Routes {
			if rc.Name == "edge/gw/80/host/shop.example.com" {
				routes = dataplane.Expanded(rc).VirtualHosts[0].Routes
			}
		}
		start := int64(-1)
		for _, rt := range routes {
			for _, h := range rt.Match.Headers {
				if h.Name == v1alpha1.BucketHeader {
					start = h.GetRangeMatch().GetStart()
					if h.GetRangeMatch().GetEnd() != 100 || rt.GetRoute().GetCluster() != dataplane.ClusterBridgeHTTP {
						t.Errorf("weight %q: twin %v", c.value, rt)
					}
				}
			}
		}
		if start != c.twin {
			t.Errorf("weight %q: twin from bucket %d, want %d", c.value, start, c.twin)
		}
		weightProblem := false
		for _, p := range out.Problems {
			weightProblem = weightProblem || strings.Contains(p.Field, v1alpha1.WeightAnnotation)
		}
		if got := weightProblem; got != c.problem {
			t.Errorf("weight %q: problems %v, want a problem: %v", c.value, out.Problems, c.problem)
		}
	}
}
