package xds

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Resources is one complete Envoy configuration as the translator produces it. Every
// resource has a stable name derived from the identity of the object it comes from, so two
// translations of the same input are equal and an update touches only what changed.
//
// Listeners reference RouteConfigurations by name (RDS over ADS) or, through scoped routes
// (SRDS over ADS), every ScopedRouteConfiguration, each of which names a RouteConfiguration;
// they reference Secrets by name (SDS over ADS); EDS Clusters reference
// ClusterLoadAssignments by cluster name.
type Resources struct {
	Listeners    []*listenerv3.Listener
	Routes       []*routev3.RouteConfiguration
	ScopedRoutes []*routev3.ScopedRouteConfiguration
	Clusters     []*clusterv3.Cluster
	// EncodedClusters are published as Clusters are, held encoded (EncodedCluster): a
	// publisher of thousands of clusters hands them over this way. A name must not be
	// among both.
	EncodedClusters []*EncodedCluster
	Endpoints       []*endpointv3.ClusterLoadAssignment
	Secrets         []*tlsv3.Secret
}
