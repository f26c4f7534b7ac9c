package xds

import (
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/go-logr/logr"
)

// largeResources is a configuration of the size gatebridge is benchmarked at: one listener
// whose route configuration has virtualHosts virtual hosts of routesPerHost routes, each
// route sending to its own EDS cluster, and the endpoints of every cluster.
func largeResources(b *testing.B, virtualHosts, routesPerHost int) *Resources {
	b.Helper()
	route := &routev3.RouteConfiguration{Name: "r1"}
	res := &Resources{
		Listeners: []*listenerv3.Listener{testListener(b, "l1", 8080, "r1")},
		Routes:    []*routev3.RouteConfiguration{route},
	}
	for h := range virtualHosts {
		host := &routev3.VirtualHost{Name: fmt.Sprintf("host-%d", h), Domains: []string{fmt.Sprintf("host-%d.example.com", h)}}
		for r := range routesPerHost {
			clusterName := fmt.Sprintf("ns-%d/svc-%d:8080", h, r)
			host.Routes = append(host.Routes, &routev3.Route{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: fmt.Sprintf("/svc-%d", r)}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: clusterName},
				}},
			})
			res.Clusters = append(res.Clusters, testCluster(clusterName, time.Second))
			res.Endpoints = append(res.Endpoints, testEndpoints(clusterName, uint32(10000+r), uint32(20000+r)))
		}
		route.VirtualHosts = append(route.VirtualHosts, host)
	}
	return res
}

// publishedLarge returns the large configuration and a server that has published it.
func publishedLarge(b *testing.B) (*Resources, *Server) {
	res := largeResources(b, 200, 50)
	s := New(logr.Discard(), Options{})
	if published, err := s.Publish(res); !published || err != nil {
		b.Fatalf("Publish() = %v, %v", published, err)
	}
	return res, s
}

// BenchmarkPublishOneChange measures the common case of a large configuration in which one
// resource changed: 10,000 clusters with their ClusterLoadAssignments and a route
// configuration of 10,000 routes in 200 virtual hosts, published again with one cluster
// replaced by a new proto. Every other resource is the same proto pointer as before, as the
// translator hands them over.
func BenchmarkPublishOneChange(b *testing.B) {
	res, s := publishedLarge(b)
	changed := len(res.Clusters) / 2
	name := res.Clusters[changed].GetName()
	i := 0
	for b.Loop() {
		i++
		next := *res
		next.Clusters = append([]*clusterv3.Cluster(nil), res.Clusters...)
		next.Clusters[changed] = testCluster(name, time.Second+time.Duration(i)*time.Millisecond)
		if published, err := s.Publish(&next); !published || err != nil {
			b.Fatalf("Publish() = %v, %v", published, err)
		}
	}
}

// BenchmarkPublishEndpointsOneChange is the endpoint-only counterpart: one of 10,000
// ClusterLoadAssignments replaced.
func BenchmarkPublishEndpointsOneChange(b *testing.B) {
	res, s := publishedLarge(b)
	changed := len(res.Endpoints) / 2
	name := res.Endpoints[changed].GetClusterName()
	i := 0
	for b.Loop() {
		i++
		eps := append([]*endpointv3.ClusterLoadAssignment(nil), res.Endpoints...)
		eps[changed] = testEndpoints(name, uint32(30000+i%30000))
		if published, err := s.PublishEndpoints(eps); !published || err != nil {
			b.Fatalf("PublishEndpoints() = %v, %v", published, err)
		}
	}
}
