package xds

import (
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// names lists the resource names of c's set of kind k, sorted.
func names(c *config, k kind) []string {
	var out []string
	for _, item := range c.sets[k].items {
		out = append(out, cachev3.GetResourceName(item))
	}
	slices.Sort(out)
	return out
}

// A host moved from one scoped table to another, with a new cluster: the make stage adds
// the new cluster, endpoints, scope and table to what is served and changes nothing else;
// the switch stage is the new configuration plus the old scope, table, cluster and
// endpoints; listeners and secrets are never staged.
func TestStages(t *testing.T) {
	old := &Resources{
		Listeners:    []*listenerv3.Listener{testScopedListener(t, "l80", 8080), withDownstreamTLS(t, testListener(t, "l443", 8443, "dir"), "old-cert")},
		ScopedRoutes: []*routev3.ScopedRouteConfiguration{testScope("s-old", "t-old", "old.example.com")},
		Routes:       []*routev3.RouteConfiguration{testRoute("t-old", "c-old"), testRoute("dir", "c-old")},
		Clusters:     []*clusterv3.Cluster{testCluster("c-old", time.Second)},
		Endpoints:    []*endpointv3.ClusterLoadAssignment{testEndpoints("c-old", 1)},
		Secrets:      []*tlsv3.Secret{testSecret("old-cert")},
	}
	next := &Resources{
		Listeners:    []*listenerv3.Listener{testScopedListener(t, "l80", 8080), withDownstreamTLS(t, testListener(t, "l443-renamed", 8443, "dir"), "new-cert")},
		ScopedRoutes: []*routev3.ScopedRouteConfiguration{testScope("s-new", "t-new", "new.example.com")},
		Routes:       []*routev3.RouteConfiguration{testRoute("t-new", "c-new"), testRoute("dir", "c-new")},
		Clusters:     []*clusterv3.Cluster{testCluster("c-new", time.Second)},
		Endpoints:    []*endpointv3.ClusterLoadAssignment{testEndpoints("c-new", 2)},
		Secrets:      []*tlsv3.Secret{testSecret("new-cert")},
	}
	var none [numKinds]*resourceSet
	prev, err := newConfig(old, none)
	if err != nil {
		t.Fatal(err)
	}
	target, err := newConfig(next, none)
	if err != nil {
		t.Fatal(err)
	}
	mk, ok := stageWith(prev, target)
	if !ok {
		t.Fatal("make stage: nothing added")
	}
	want := map[kind][]string{
		kindListener:    {"l443", "l80"},
		kindScopedRoute: {"s-new", "s-old"},
		kindRoute:       {"dir", "t-new", "t-old"},
		kindCluster:     {"c-new", "c-old"},
		kindEndpoint:    {"c-new", "c-old"},
		kindSecret:      {"old-cert"},
	}
	for k, w := range want {
		if got := names(mk, k); !slices.Equal(got, w) {
			t.Errorf("make stage %ss = %v, want %v", k, got, w)
		}
	}
	if mk.sets[kindRoute].checked["dir"].item != prev.sets[kindRoute].checked["dir"].item {
		t.Error("make stage: the changed directory table is not the current one")
	}
	sw, ok := stageWith(target, prev)
	if !ok {
		t.Fatal("switch stage: nothing retained")
	}
	want = map[kind][]string{
		kindListener:    {"l443-renamed", "l80"},
		kindScopedRoute: {"s-new", "s-old"},
		kindRoute:       {"dir", "t-new", "t-old"},
		kindCluster:     {"c-new", "c-old"},
		kindEndpoint:    {"c-new", "c-old"},
		kindSecret:      {"new-cert"},
	}
	for k, w := range want {
		if got := names(sw, k); !slices.Equal(got, w) {
			t.Errorf("switch stage %ss = %v, want %v", k, got, w)
		}
	}
	if sw.sets[kindRoute].checked["dir"].item != target.sets[kindRoute].checked["dir"].item {
		t.Error("switch stage: the directory table is not the new one")
	}
	if _, ok := stageWith(target, target); ok {
		t.Error("a configuration staged against itself adds something")
	}
}
