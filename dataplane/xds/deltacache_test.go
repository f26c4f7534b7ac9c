package xds

import (
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// A client that subscribes before anything is published gets the whole configuration
// with the first publish.
func TestDeltaWatchOpenedBeforeTheFirstPublish(t *testing.T) {
	s := startServer(t)
	c := newDeltaClient(t, s, "envoy-a")
	c.subscribe(resourcev3.ClusterType)
	time.Sleep(50 * time.Millisecond) // the watch is open, waiting
	s.mustPublish(t, testResources(t))
	resp := c.recv(resourcev3.ClusterType)
	if got := deltaNames(resp); !slices.Equal(got, []string{"c1", "c2"}) || resp.GetSystemVersionInfo() != "1" {
		t.Fatalf("first response has %v at version %q, want c1 and c2 at 1", got, resp.GetSystemVersionInfo())
	}
}

// A first publish of nothing still answers the waiting wildcard subscriptions: Envoy
// finishes initialising (and its readiness probe passes) only once each is answered.
func TestDeltaFirstPublishOfNothingIsAnswered(t *testing.T) {
	s := startServer(t)
	c := newDeltaClient(t, s, "envoy-a")
	c.subscribe(resourcev3.ClusterType)
	time.Sleep(50 * time.Millisecond) // the watch is open, waiting
	s.mustPublish(t, &Resources{})
	if resp := c.recv(resourcev3.ClusterType); len(deltaNames(resp)) != 0 {
		t.Fatalf("first response of an empty configuration has %v", deltaNames(resp))
	}
}

// One publish that changes a cluster and a route table answers the cluster first (ADS
// order: a route must not name a cluster Envoy lacks or holds in an older form), each with
// only what changed; the types that did not change are not answered at all.
func TestDeltaPublishAnswersChangedTypesInOrder(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testScopedResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.syncWith(scopedSubscriptions)
	s.waitForAck(t, "1")

	res := testScopedResources(t)
	res.Clusters[0] = testCluster("c1", 3*time.Second)
	res.Routes[2] = testRoute("r3", "c1")
	s.mustPublish(t, res)
	clusters := c.recv(resourcev3.ClusterType)
	if got := deltaNames(clusters); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("clusters response has %v, want only c1", got)
	}
	// c1's load assignment did not change; it is sent again for the changed cluster to warm
	// (resend.go).
	endpoints := c.recv(resourcev3.EndpointType)
	if got := deltaNames(endpoints); !slices.Equal(got, []string{"c1"}) {
		t.Fatalf("endpoints response has %v, want only c1", got)
	}
	routes := c.recv(resourcev3.RouteType)
	if got := deltaNames(routes); !slices.Equal(got, []string{"r3"}) {
		t.Fatalf("routes response has %v, want only r3", got)
	}
	c.ack(clusters)
	c.ack(endpoints)
	c.ack(routes)
	s.waitForAck(t, "2")
	select {
	case resp := <-c.responses:
		t.Fatalf("unexpected %s response %v", resp.GetTypeUrl(), deltaNames(resp))
	case <-time.After(50 * time.Millisecond):
	}
}

// A named subscription is sent changes and removals of the names it holds only.
func TestDeltaNamedSubscriptionGetsItsNamesOnly(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.syncWith([]subscription{{resourcev3.EndpointType, []string{"c1"}}})

	// c2's endpoints change: nothing for this client. Then c1's: only c1.
	res := testResources(t)
	res.Endpoints[1] = testEndpoints("c2", 9012)
	s.mustPublish(t, res)
	res = testResources(t)
	res.Endpoints = []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9011), res.Endpoints[1]}
	res.Endpoints[1] = testEndpoints("c2", 9012)
	s.mustPublish(t, res)
	resp := c.recv(resourcev3.EndpointType)
	if got := deltaNames(resp); !slices.Equal(got, []string{"c1"}) || len(resp.GetRemovedResources()) != 0 {
		t.Fatalf("response has %v and removes %v, want only c1", got, resp.GetRemovedResources())
	}
	c.ack(resp)

	// c1 and its endpoints go: removed for this client.
	res.Clusters = []*clusterv3.Cluster{testCluster("c2", time.Second)}
	res.Endpoints = res.Endpoints[1:]
	res.Routes = []*routev3.RouteConfiguration{testRoute("r1", "c2")}
	s.mustPublish(t, res)
	for {
		resp = c.recv(resourcev3.EndpointType)
		c.ack(resp)
		if len(resp.GetRemovedResources()) > 0 || len(resp.GetResources()) > 0 {
			break
		}
	}
	if len(resp.GetResources()) != 0 || !slices.Equal(resp.GetRemovedResources(), []string{"c1"}) {
		t.Fatalf("response has %v and removes %v, want c1 removed", deltaNames(resp), resp.GetRemovedResources())
	}
}
