package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The fixtures are the smallest valid Envoy configuration of the shape the translator
// produces: HTTP listeners whose HttpConnectionManager uses RDS or SRDS over ADS, EDS
// clusters over ADS, their ClusterLoadAssignments, and TLS through SDS over ADS.

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func typed(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatalf("packing %T: %v", m, err)
	}
	return a
}

func hcmFilter(t testing.TB, routeName string) *listenerv3.Filter {
	return httpFilter(t, &hcmv3.HttpConnectionManager{
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsSource(),
			RouteConfigName: routeName,
		}},
	})
}

// scopedRDSFilter is an HttpConnectionManager that gets its scopes by SRDS over ADS, and so
// every ScopedRouteConfiguration published.
func scopedRDSFilter(t testing.TB) *listenerv3.Filter {
	scoped := scopedRoutes()
	scoped.ConfigSpecifier = &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsSource()}}
	return httpFilter(t, &hcmv3.HttpConnectionManager{
		RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: scoped},
	})
}

// inlineScopesFilter is an HttpConnectionManager whose scopes are listed inline.
func inlineScopesFilter(t testing.TB, scopes ...*routev3.ScopedRouteConfiguration) *listenerv3.Filter {
	scoped := scopedRoutes()
	scoped.ConfigSpecifier = &hcmv3.ScopedRoutes_ScopedRouteConfigurationsList{
		ScopedRouteConfigurationsList: &hcmv3.ScopedRouteConfigurationsList{ScopedRouteConfigurations: scopes},
	}
	return httpFilter(t, &hcmv3.HttpConnectionManager{
		RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: scoped},
	})
}

// scopedRoutes keys scopes by the host, their route configurations coming by RDS over ADS.
// The caller says where the scopes come from.
func scopedRoutes() *hcmv3.ScopedRoutes {
	type extractor = hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor
	return &hcmv3.ScopedRoutes{
		Name: "by-host",
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
			Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{HeaderValueExtractor: &extractor{
				Name:        ":authority",
				ExtractType: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
			}},
		}}},
		RdsConfigSource: adsSource(),
	}
}

// httpFilter completes hcm with a stat prefix and the router, as a listener's network filter.
func httpFilter(t testing.TB, hcm *hcmv3.HttpConnectionManager) *listenerv3.Filter {
	hcm.StatPrefix = "ingress_http"
	hcm.HttpFilters = []*hcmv3.HttpFilter{{
		Name:       "envoy.filters.http.router",
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: typed(t, &routerv3.Router{})},
	}}
	return &listenerv3.Filter{
		Name:       "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed(t, hcm)},
	}
}

func address(port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       "127.0.0.1",
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func testListener(t testing.TB, name string, port uint32, routeName string) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:         name,
		Address:      address(port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcmFilter(t, routeName)}}},
	}
}

// testScopedListener is a listener whose HttpConnectionManager uses SRDS.
func testScopedListener(t testing.TB, name string, port uint32) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:         name,
		Address:      address(port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{scopedRDSFilter(t)}}},
	}
}

// withDownstreamTLS makes the first filter chain of l terminate TLS with the SDS secret.
func withDownstreamTLS(t testing.TB, l *listenerv3.Listener, secretName string) *listenerv3.Listener {
	tlsContext := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secretName, SdsConfig: adsSource()}},
	}}
	l.FilterChains[0].TransportSocket = &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed(t, tlsContext)},
	}
	return l
}

func testRoute(name, clusterName string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    name,
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: clusterName},
				}},
			}},
		}},
	}
}

// testScope is the scope of requests for host, routed by the route configuration routeName.
func testScope(name, routeName, host string) *routev3.ScopedRouteConfiguration {
	return &routev3.ScopedRouteConfiguration{
		Name:                   name,
		RouteConfigurationName: routeName,
		Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
			Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: host},
		}}},
	}
}

func testCluster(name string, connectTimeout time.Duration) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()},
		ConnectTimeout:       durationpb.New(connectTimeout),
	}
}

// withUpstreamTLS makes cl originate TLS trusting the CA in the SDS secret.
func withUpstreamTLS(t testing.TB, cl *clusterv3.Cluster, secretName string) *clusterv3.Cluster {
	tlsContext := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
			ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: secretName, SdsConfig: adsSource()},
		},
	}}
	cl.TransportSocket = &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typed(t, tlsContext)},
	}
	return cl
}

func testEndpoints(clusterName string, ports ...uint32) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: clusterName}
	locality := &endpointv3.LocalityLbEndpoints{}
	for _, port := range ports {
		locality.LbEndpoints = append(locality.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: address(port)}},
		})
	}
	cla.Endpoints = []*endpointv3.LocalityLbEndpoints{locality}
	return cla
}

func testSecret(name string) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "not a real CA"}},
		}},
	}
}

// testResources is one listener with its route configuration, sending to cluster c1; a
// second cluster c2; and the endpoints of both. Every call builds new protos with the same
// content.
func testResources(t testing.TB) *Resources {
	return &Resources{
		Listeners: []*listenerv3.Listener{testListener(t, "l1", 8080, "r1")},
		Routes:    []*routev3.RouteConfiguration{testRoute("r1", "c1")},
		Clusters:  []*clusterv3.Cluster{testCluster("c1", time.Second), testCluster("c2", time.Second)},
		Endpoints: []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9001), testEndpoints("c2", 9002)},
	}
}

// testScopedResources is testResources plus a listener using SRDS and two scopes, for the
// hosts a.example and b.example, routed by r2 and r3.
func testScopedResources(t testing.TB) *Resources {
	res := testResources(t)
	res.Listeners = append(res.Listeners, testScopedListener(t, "l2", 8081))
	res.ScopedRoutes = []*routev3.ScopedRouteConfiguration{
		testScope("s-a", "r2", "a.example"),
		testScope("s-b", "r3", "b.example"),
	}
	res.Routes = append(res.Routes, testRoute("r2", "c1"), testRoute("r3", "c2"))
	return res
}

// publishStep is one input of a sequence of publishes that a test compares two servers on.
type publishStep struct {
	name  string
	build func(t testing.TB) *Resources
}

// withClusterChanged is testScopedResources with cluster c2's connect timeout changed.
func withClusterChanged(t testing.TB) *Resources {
	res := testScopedResources(t)
	res.Clusters[1] = testCluster("c2", 2*time.Second)
	return res
}

// hashResource is the version the Server gives r (checkResource).
func hashResource(r proto.Message) (string, error) {
	encoded, err := encodeResource(r)
	if err != nil {
		return "", err
	}
	return cachev3.HashResource(encoded), nil
}
