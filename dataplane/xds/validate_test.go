package xds

import (
	"maps"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

func TestPublishRejectsInvalidResources(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, res *Resources)
		want   string
	}{{
		name:   "cluster without a name",
		modify: func(t *testing.T, res *Resources) { res.Clusters[1].Name = "" },
		want:   "cluster #1 has an empty name",
	}, {
		name: "two clusters with one name",
		modify: func(t *testing.T, res *Resources) {
			res.Clusters = append(res.Clusters, testCluster("c1", time.Second))
		},
		want: `cluster "c1" is defined more than once`,
	}, {
		name:   "cluster breaking its own rules",
		modify: func(t *testing.T, res *Resources) { res.Clusters[0].LbPolicy = 99 },
		want:   `invalid cluster "c1": invalid Cluster.LbPolicy`,
	}, {
		name:   "nil route configuration",
		modify: func(t *testing.T, res *Resources) { res.Routes = append(res.Routes, nil) },
		want:   "route configuration #1 is nil",
	}, {
		name:   "listener using a missing route configuration",
		modify: func(t *testing.T, res *Resources) { res.Routes = nil },
		want:   `listener "l1": filter chain #0 "": filter "envoy.filters.network.http_connection_manager": uses route configuration "r1", which is not published`,
	}, {
		name: "listener whose HttpConnectionManager breaks its rules",
		modify: func(t *testing.T, res *Resources) {
			hcm := &hcmv3.HttpConnectionManager{StatPrefix: "", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsSource(), RouteConfigName: "r1"}}}
			res.Listeners[0].FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: typed(t, hcm)}
		},
		want: `listener "l1": filter chain #0 "": filter "envoy.filters.network.http_connection_manager": invalid HttpConnectionManager: invalid HttpConnectionManager.StatPrefix`,
	}, {
		name:   "EDS cluster without endpoints",
		modify: func(t *testing.T, res *Resources) { res.Endpoints = res.Endpoints[:1] },
		want:   `cluster "c2": uses cluster load assignment "c2", which is not published`,
	}, {
		name: "listener using a missing secret",
		modify: func(t *testing.T, res *Resources) {
			withDownstreamTLS(t, res.Listeners[0], "cert")
		},
		want: `listener "l1": filter chain #0 "": transport socket "envoy.transport_sockets.tls": uses secret "cert", which is not published`,
	}, {
		name: "cluster using a missing secret",
		modify: func(t *testing.T, res *Resources) {
			withUpstreamTLS(t, res.Clusters[0], "ca")
		},
		want: `cluster "c1": transport socket "envoy.transport_sockets.tls": uses secret "ca", which is not published`,
	}, {
		name: "cluster whose TLS context does not decode",
		modify: func(t *testing.T, res *Resources) {
			withUpstreamTLS(t, res.Clusters[0], "ca")
			res.Clusters[0].TransportSocket.GetTypedConfig().Value = []byte{0x0a, 0x05, 'x'}
		},
		want: `cluster "c1": transport socket "envoy.transport_sockets.tls": decoding UpstreamTlsContext`,
	}, {
		name: "scope naming a missing route configuration",
		modify: func(t *testing.T, res *Resources) {
			res.Listeners = append(res.Listeners, testScopedListener(t, "l2", 8081))
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{testScope("s-a", "r1", "a.example"), testScope("s-b", "r9", "b.example")}
		},
		want: `scoped route configuration "s-b": uses route configuration "r9", which is not published`,
	}, {
		// A scope is checked on its own whether or not a listener uses it, as every resource is.
		name: "scope with an inline route configuration",
		modify: func(t *testing.T, res *Resources) {
			scope := testScope("s-a", "r1", "a.example")
			scope.RouteConfiguration = testRoute("r1", "c1")
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{scope}
		},
		want: `invalid scoped route configuration "s-a": has an inline route_configuration`,
	}, {
		name: "scope naming no route configuration",
		modify: func(t *testing.T, res *Resources) {
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{testScope("s-a", "", "a.example")}
		},
		want: `invalid scoped route configuration "s-a": has no route_configuration_name`,
	}, {
		name: "scope without a key",
		modify: func(t *testing.T, res *Resources) {
			scope := testScope("s-a", "r1", "a.example")
			scope.Key = nil
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{scope}
		},
		want: `invalid scoped route configuration "s-a": invalid ScopedRouteConfiguration.Key: value is required`,
	}, {
		name: "scope whose key has no fragment",
		modify: func(t *testing.T, res *Resources) {
			scope := testScope("s-a", "r1", "a.example")
			scope.Key.Fragments = nil
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{scope}
		},
		want: `invalid scoped route configuration "s-a": invalid ScopedRouteConfiguration.Key: embedded message failed validation | caused by: invalid ScopedRouteConfiguration_Key.Fragments: value must contain at least 1 item(s)`,
	}, {
		name: "two scopes with one name",
		modify: func(t *testing.T, res *Resources) {
			res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{testScope("s-a", "r1", "a.example"), testScope("s-a", "r1", "b.example")}
		},
		want: `scoped route configuration "s-a" is defined more than once`,
	}} {
		// Clusters handed over encoded are refused as the Clusters they were made from.
		for _, encoded := range []bool{false, true} {
			name := tc.name
			if encoded {
				name += ", clusters encoded"
			}
			t.Run(name, func(t *testing.T) {
				s := New(testLogger(t), Options{})
				if _, err := s.Publish(testResources(t)); err != nil {
					t.Fatal(err)
				}
				res := testResources(t)
				tc.modify(t, res)
				if encoded {
					res = withClustersEncoded(res)
				}
				published, err := s.Publish(res)
				if published || !errorContains(err, tc.want) {
					t.Fatalf("Publish() = %v, %v; want false and an error containing %q", published, err, tc.want)
				}
				if s.Version() != "1" || s.Stats().ValidationFailures != 1 {
					t.Errorf("after the rejection: version %q, %d failures; want 1 and 1", s.Version(), s.Stats().ValidationFailures)
				}
				snapshot, _ := s.cache.GetSnapshot(s.opts.NodeID)
				if v := snapshot.GetVersion(resourcev3.ClusterType); v != "1" {
					t.Errorf("cache serves clusters of version %q, want 1", v)
				}
			})
		}
	}
}

// What no listener or cluster uses is left out of the snapshot, and so does not count as a
// change either.
func TestPublishLeavesOutUnusedResources(t *testing.T) {
	s := New(testLogger(t), Options{})
	if _, err := s.Publish(testResources(t)); err != nil {
		t.Fatal(err)
	}
	res := testResources(t)
	res.Routes = append(res.Routes, testRoute("r2", "c1"))
	res.Endpoints = append(res.Endpoints, testEndpoints("c9", 9009))
	res.Secrets = []*tlsv3.Secret{testSecret("ca")}
	// No listener uses SRDS, so the scope is unused, and so is the route configuration only
	// it names.
	res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{testScope("s-a", "r3", "a.example")}
	res.Routes = append(res.Routes, testRoute("r3", "c2"))
	if published, err := s.Publish(res); published || err != nil {
		t.Fatalf("Publish(with unused resources) = %v, %v; want false, nil", published, err)
	}
	snapshot, _ := s.cache.GetSnapshot(s.opts.NodeID)
	for _, unused := range []struct{ typeURL, name string }{
		{resourcev3.RouteType, "r2"},
		{resourcev3.EndpointType, "c9"},
		{resourcev3.SecretType, "ca"},
		{resourcev3.ScopedRouteType, "s-a"},
		{resourcev3.RouteType, "r3"},
	} {
		if _, ok := snapshot.GetResources(unused.typeURL)[unused.name]; ok {
			t.Errorf("the snapshot has the unused %s %s", unused.typeURL, unused.name)
		}
	}
}

// Scopes are used only while some listener gets them by SRDS: once none does, they are left
// out, with the route configurations only they name.
func TestPublishLeavesOutScopesWhenNoListenerUsesSRDS(t *testing.T) {
	s := New(testLogger(t), Options{})
	if _, err := s.Publish(testScopedResources(t)); err != nil {
		t.Fatal(err)
	}
	snapshot := servedSnapshot(t, s)
	if got := resourceNames(snapshot, resourcev3.ScopedRouteType); !slices.Equal(got, []string{"s-a", "s-b"}) {
		t.Fatalf("scopes = %v, want [s-a s-b]", got)
	}

	res := testScopedResources(t)
	res.Listeners = res.Listeners[:1] // without the SRDS listener l2
	if published, err := s.Publish(res); !published || err != nil {
		t.Fatalf("Publish(without the SRDS listener) = %v, %v; want true, nil", published, err)
	}
	snapshot = servedSnapshot(t, s)
	if got := resourceNames(snapshot, resourcev3.ScopedRouteType); len(got) != 0 {
		t.Errorf("scopes = %v, want none", got)
	}
	if got := resourceNames(snapshot, resourcev3.RouteType); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("route configurations = %v, want [r1]", got)
	}
	if err := snapshot.Consistent(); err != nil {
		t.Errorf("snapshot without scopes is not consistent: %v", err)
	}
}

// go-control-plane's own consistency check counts the route configurations that listeners
// name (by RDS or inline scopes) and those that ScopedRouteConfigurations name; what
// gatebridge publishes must pass it.
func TestScopedSnapshotIsConsistent(t *testing.T) {
	s := New(testLogger(t), Options{})
	res := testScopedResources(t)
	res.Listeners = append(res.Listeners, &listenerv3.Listener{
		Name:    "l3",
		Address: address(8082),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{
			inlineScopesFilter(t, testScope("inline", "r4", "c.example")),
		}}},
	})
	res.Routes = append(res.Routes, testRoute("r4", "c1"), testRoute("unused", "c1"))
	if published, err := s.Publish(res); !published || err != nil {
		t.Fatalf("Publish() = %v, %v; want true, nil", published, err)
	}
	snapshot := servedSnapshot(t, s)
	if err := snapshot.Consistent(); err != nil {
		t.Fatalf("Consistent() = %v", err)
	}
	if got := resourceNames(snapshot, resourcev3.RouteType); !slices.Equal(got, []string{"r1", "r2", "r3", "r4"}) {
		t.Errorf("route configurations = %v, want [r1 r2 r3 r4]", got)
	}
	if got := resourceNames(snapshot, resourcev3.ScopedRouteType); !slices.Equal(got, []string{"s-a", "s-b"}) {
		t.Errorf("scopes = %v, want [s-a s-b]", got)
	}
	if v := snapshot.GetVersion(resourcev3.ScopedRouteType); v != "1" {
		t.Errorf("scoped route version = %q, want 1", v)
	}
	if n := len(snapshot.VersionMap[resourcev3.ScopedRouteType]); n != 2 {
		t.Errorf("the version map has %d scopes, want 2", n)
	}
}

// A scope naming a missing route configuration is rejected like any dangling name: the
// scopes being served stay as they are.
func TestPublishRejectsScopeOfMissingRouteKeepingTheSnapshot(t *testing.T) {
	s := New(testLogger(t), Options{})
	if _, err := s.Publish(testScopedResources(t)); err != nil {
		t.Fatal(err)
	}
	res := testScopedResources(t)
	res.ScopedRoutes[1] = testScope("s-b", "r9", "b.example")
	published, err := s.Publish(res)
	want := `scoped route configuration "s-b": uses route configuration "r9", which is not published`
	if published || !errorContains(err, want) {
		t.Fatalf("Publish() = %v, %v; want false and an error containing %q", published, err, want)
	}
	snapshot := servedSnapshot(t, s)
	if s.Version() != "1" || snapshot.GetVersion(resourcev3.ScopedRouteType) != "1" {
		t.Errorf("after the rejection: version %q, scopes of version %q; want 1 and 1", s.Version(), snapshot.GetVersion(resourcev3.ScopedRouteType))
	}
	if got := snapshot.GetResources(resourcev3.ScopedRouteType)["s-b"]; got.(*routev3.ScopedRouteConfiguration).GetRouteConfigurationName() != "r3" {
		t.Errorf("served scope s-b = %v, want the published one, naming r3", got)
	}
}

func TestPublishRejectsNilResources(t *testing.T) {
	s := New(testLogger(t), Options{})
	if published, err := s.Publish(nil); published || !errorContains(err, "nil Resources") {
		t.Fatalf("Publish(nil) = %v, %v", published, err)
	}
}

func TestPublishAcceptsConsistentReferences(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(t *testing.T) *Resources
	}{{
		name: "TLS both ways through SDS",
		build: func(t *testing.T) *Resources {
			res := testResources(t)
			withDownstreamTLS(t, res.Listeners[0], "cert")
			withUpstreamTLS(t, res.Clusters[1], "ca")
			res.Secrets = []*tlsv3.Secret{testSecret("cert"), testSecret("ca")}
			return res
		},
	}, {
		name: "route configuration used by a default filter chain",
		build: func(t *testing.T) *Resources {
			res := testResources(t)
			l := res.Listeners[0]
			l.DefaultFilterChain, l.FilterChains = l.FilterChains[0], nil
			return res
		},
	}, {
		name: "EDS service name",
		build: func(t *testing.T) *Resources {
			res := testResources(t)
			res.Clusters[1].EdsClusterConfig.ServiceName = "shop/api"
			res.Endpoints[1] = testEndpoints("shop/api", 9002)
			return res
		},
	}, {
		name:  "scopes by SRDS",
		build: func(t *testing.T) *Resources { return testScopedResources(t) },
	}, {
		name: "SRDS without any scope",
		build: func(t *testing.T) *Resources {
			res := testResources(t)
			res.Listeners = append(res.Listeners, testScopedListener(t, "l2", 8081))
			return res
		},
	}, {
		name: "scopes listed inline",
		build: func(t *testing.T) *Resources {
			res := testResources(t)
			res.Listeners[0].FilterChains[0].Filters[0] = inlineScopesFilter(t, testScope("s-a", "r1", "a.example"))
			return res
		},
	}, {
		name:  "nothing at all",
		build: func(t *testing.T) *Resources { return &Resources{} },
	}, {
		name: "clusters without endpoints",
		build: func(t *testing.T) *Resources {
			static := &clusterv3.Cluster{
				Name:                 "static",
				ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
				LoadAssignment:       testEndpoints("static", 9009),
			}
			return &Resources{Clusters: []*clusterv3.Cluster{static}}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(testLogger(t), Options{})
			if published, err := s.Publish(tc.build(t)); !published || err != nil {
				t.Fatalf("Publish() = %v, %v; want true, nil", published, err)
			}
		})
	}
}

// Each kind counts when deciding whether anything changed; the order of resources does not.
// The route configuration is used by two listeners, which is fine.
func TestPublishDetectsAChangeOfAnyKind(t *testing.T) {
	base := func(t *testing.T) *Resources {
		res := testScopedResources(t)
		res.Listeners = append(res.Listeners, testListener(t, "l3", 8082, "r1"))
		return res
	}
	for _, tc := range []struct {
		name          string
		change        func(res *Resources)
		wantPublished bool
	}{
		{"listener", func(res *Resources) { res.Listeners[2].Address = address(8083) }, true},
		{"scoped route configuration", func(res *Resources) { res.ScopedRoutes[1] = testScope("s-b", "r3", "c.example") }, true},
		{"route configuration named by a scope", func(res *Resources) { res.Routes[2] = testRoute("r3", "c1") }, true},
		{"route configuration", func(res *Resources) { res.Routes[0] = testRoute("r1", "c2") }, true},
		{"cluster", func(res *Resources) { res.Clusters[0].ConnectTimeout = nil }, true},
		{"endpoints", func(res *Resources) { res.Endpoints[0] = testEndpoints("c1", 1234) }, true},
		{"secret", func(res *Resources) {
			withUpstreamTLS(t, res.Clusters[0], "ca")
			res.Secrets = []*tlsv3.Secret{testSecret("ca")}
		}, true},
		{"order only", func(res *Resources) {
			slices.Reverse(res.Clusters)
			slices.Reverse(res.Endpoints)
			slices.Reverse(res.ScopedRoutes)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(testLogger(t), Options{})
			if _, err := s.Publish(base(t)); err != nil {
				t.Fatal(err)
			}
			res := base(t)
			tc.change(res)
			if published, err := s.Publish(res); published != tc.wantPublished || err != nil {
				t.Fatalf("Publish() = %v, %v; want %v, nil", published, err, tc.wantPublished)
			}
		})
	}
}

// servedSnapshot returns the snapshot the cache serves.
func servedSnapshot(t *testing.T, s *Server) *cachev3.Snapshot {
	t.Helper()
	snapshot, err := s.cache.GetSnapshot(s.opts.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot.(*cachev3.Snapshot)
}

// resourceNames returns the names of the resources of typeURL in snapshot, sorted.
func resourceNames(snapshot *cachev3.Snapshot, typeURL string) []string {
	return slices.Sorted(maps.Keys(snapshot.GetResources(typeURL)))
}
