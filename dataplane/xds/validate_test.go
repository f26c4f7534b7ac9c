package xds

import (
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
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
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(testLogger(t), Options{})
			if _, err := s.Publish(testResources(t)); err != nil {
				t.Fatal(err)
			}
			res := testResources(t)
			tc.modify(t, res)
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
	if published, err := s.Publish(res); published || err != nil {
		t.Fatalf("Publish(with unused resources) = %v, %v; want false, nil", published, err)
	}
	snapshot, _ := s.cache.GetSnapshot(s.opts.NodeID)
	for typeURL, name := range map[string]string{resourcev3.RouteType: "r2", resourcev3.EndpointType: "c9", resourcev3.SecretType: "ca"} {
		if _, ok := snapshot.GetResources(typeURL)[name]; ok {
			t.Errorf("the snapshot has the unused %s %s", typeURL, name)
		}
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
		res := testResources(t)
		res.Listeners = append(res.Listeners, testListener(t, "l2", 8081, "r1"))
		return res
	}
	for _, tc := range []struct {
		name          string
		change        func(res *Resources)
		wantPublished bool
	}{
		{"listener", func(res *Resources) { res.Listeners[1].Address = address(8082) }, true},
		{"route configuration", func(res *Resources) { res.Routes[0] = testRoute("r1", "c2") }, true},
		{"cluster", func(res *Resources) { res.Clusters[0].ConnectTimeout = nil }, true},
		{"endpoints", func(res *Resources) { res.Endpoints[0] = testEndpoints("c1", 1234) }, true},
		{"secret", func(res *Resources) {
			withUpstreamTLS(t, res.Clusters[0], "ca")
			res.Secrets = []*tlsv3.Secret{testSecret("ca")}
		}, true},
		{"order only", func(res *Resources) { slices.Reverse(res.Clusters); slices.Reverse(res.Endpoints) }, false},
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
