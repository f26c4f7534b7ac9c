package xds

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

var allTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

func TestDeltaClientReceivesFirstPublish(t *testing.T) {
	s := startServer(t)
	c := newDeltaClient(t, s, "envoy-a") // not the server's NodeID: every node gets the snapshot
	c.subscribe(resourcev3.ClusterType)
	eventually(t, "the subscription to be seen", func() bool { return len(s.Stats().Clients) == 1 })

	res := testResources(t)
	if v := s.mustPublish(t, res); v != "1" {
		t.Fatalf("first version = %q, want 1", v)
	}
	clusters := c.recv(resourcev3.ClusterType)
	if got := deltaNames(clusters); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Fatalf("clusters = %v, want [c1 c2]", got)
	}
	if clusters.GetSystemVersionInfo() != "1" {
		t.Errorf("system version = %q, want 1", clusters.GetSystemVersionInfo())
	}
	// Delta versions are per-resource content hashes, the same the Server computes.
	for i, r := range clusters.GetResources() {
		want, _ := hashResource(res.Clusters[slices.Index([]string{"c1", "c2"}, r.GetName())])
		if r.GetVersion() != want {
			t.Errorf("resource #%d %s has version %q, want its hash %q", i, r.GetName(), r.GetVersion(), want)
		}
	}
	c.ack(clusters)
	for _, sub := range testSubscriptions[1:] {
		c.subscribe(sub.typeURL, sub.names...)
		c.ack(c.recv(sub.typeURL))
	}

	s.waitForAck(t, "1")
	stats := s.Stats()
	for _, typeURL := range allTypes {
		if stats.AckedVersions[typeURL] != "1" {
			t.Errorf("AckedVersions[%s] = %q, want 1", typeURL, stats.AckedVersions[typeURL])
		}
	}
	if len(stats.Clients) != 1 || stats.Clients[0].NodeID != "envoy-a" || stats.Clients[0].Protocol != "delta" {
		t.Errorf("Clients = %+v, want one delta client envoy-a", stats.Clients)
	}
	if stats.PublishedVersions != 1 || stats.Version != "1" || stats.ConnectedStreams != 1 {
		t.Errorf("Stats = %+v, want 1 published version 1 and 1 stream", stats)
	}
}

func TestDeltaSendsOnlyWhatChanged(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.sync()
	s.waitForAck(t, "1")

	// The same content in new protos publishes nothing.
	if published, err := s.Publish(testResources(t)); published || err != nil {
		t.Fatalf("Publish(same content) = %v, %v; want false, nil", published, err)
	}
	if s.Version() != "1" {
		t.Fatalf("Version() = %q after publishing nothing, want 1", s.Version())
	}

	// Changing one cluster re-sends that cluster and its load assignment, unchanged (with a
	// new version: a mark), for the cluster to warm (resend.go), and nothing else. Had the no-op publish sent
	// anything, it would arrive first.
	res := testResources(t)
	res.Clusters[1] = testCluster("c2", 2*time.Second)
	if v := s.mustPublish(t, res); v != "2" {
		t.Fatalf("version = %q, want 2", v)
	}
	resp := c.recv(resourcev3.ClusterType)
	if got := deltaNames(resp); !slices.Equal(got, []string{"c2"}) || len(resp.GetRemovedResources()) > 0 {
		t.Fatalf("delta response has %v and removes %v, want only c2", got, resp.GetRemovedResources())
	}
	c.ack(resp)
	resp = c.recv(resourcev3.EndpointType)
	want, err := hashResource(testEndpoints("c2", 9002))
	if err != nil {
		t.Fatal(err)
	}
	// Sent again unchanged: its hash, marked with the publish that sent it again.
	want += markSeparator + "2"
	if got := versionsOf(resp); len(got) != 1 || got["c2"] != want {
		t.Fatalf("endpoints response has %v, want c2's unchanged content, marked: %s", got, want)
	}
	c.ack(resp)
	// Listeners and routes were not sent, yet the client holds version 2 of them.
	s.waitForAck(t, "2")

	// Then an endpoint change: had anything else been sent for version 2, it would come first.
	if published, err := s.PublishEndpoints([]*endpointv3.ClusterLoadAssignment{
		testEndpoints("c1", 9001, 9003), testEndpoints("c2", 9002),
	}); !published || err != nil {
		t.Fatalf("PublishEndpoints() = %v, %v; want true, nil", published, err)
	}
	resp = c.recv(resourcev3.EndpointType)
	if got := deltaNames(resp); !slices.Equal(got, []string{"c1"}) || resp.GetSystemVersionInfo() != "3" {
		t.Fatalf("delta response has %v at version %s, want c1 at 3", got, resp.GetSystemVersionInfo())
	}
	c.ack(resp)
	s.waitForAck(t, "3")

	// Removing cluster c2 and its endpoints: both are removed, and nothing is re-sent.
	res = testResources(t)
	res.Clusters = res.Clusters[:1]
	res.Endpoints = []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9001, 9003)}
	s.mustPublish(t, res)
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.EndpointType} {
		resp := c.recv(typeURL)
		if len(resp.GetResources()) != 0 || !slices.Equal(resp.GetRemovedResources(), []string{"c2"}) {
			t.Fatalf("%s response has %v and removes %v, want only c2 removed", typeURL, deltaNames(resp), resp.GetRemovedResources())
		}
		c.ack(resp)
	}
	s.waitForAck(t, "4")
}

func TestPublishEndpointsKeepsEverythingElse(t *testing.T) {
	s := startServer(t)
	res := testResources(t)
	s.mustPublish(t, res)

	eps := []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9005), testEndpoints("c2", 9002)}
	if published, err := s.PublishEndpoints(eps); !published || err != nil {
		t.Fatalf("PublishEndpoints() = %v, %v; want true, nil", published, err)
	}
	snapshot, err := s.cache.GetSnapshot(s.opts.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, typeURL := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType} {
		if v := snapshot.GetVersion(typeURL); v != "1" {
			t.Errorf("%s version = %q after an endpoint change, want 1", typeURL, v)
		}
	}
	if v := snapshot.GetVersion(resourcev3.EndpointType); v != "2" {
		t.Errorf("endpoint version = %q, want 2", v)
	}
	if snapshot.GetResources(resourcev3.ListenerType)["l1"] != res.Listeners[0] ||
		snapshot.GetResources(resourcev3.RouteType)["r1"] != res.Routes[0] ||
		snapshot.GetResources(resourcev3.ClusterType)["c2"] != res.Clusters[1] {
		t.Error("PublishEndpoints replaced the listener, route or cluster protos")
	}

	if published, err := s.PublishEndpoints(eps); published || err != nil {
		t.Errorf("PublishEndpoints(same) = %v, %v; want false, nil", published, err)
	}
	for _, tc := range []struct {
		name string
		eps  []*endpointv3.ClusterLoadAssignment
		want string
	}{
		{"missing endpoints of an EDS cluster", eps[:1], `cluster "c2": uses cluster load assignment "c2", which is not published`},
		{"nil", []*endpointv3.ClusterLoadAssignment{eps[0], nil}, "cluster load assignment #1 is nil"},
	} {
		if published, err := s.PublishEndpoints(tc.eps); published || !errorContains(err, tc.want) {
			t.Errorf("PublishEndpoints(%s) = %v, %v; want false and an error with %q", tc.name, published, err, tc.want)
		}
	}
	if s.Version() != "2" || s.Stats().ValidationFailures != 2 {
		t.Errorf("after rejected endpoint updates: version %q, %d failures; want 2 and 2", s.Version(), s.Stats().ValidationFailures)
	}
	// Endpoints of a cluster that no longer exists (the endpoint watch may lag behind) are
	// left out, so they change nothing.
	if published, err := s.PublishEndpoints(append(eps, testEndpoints("c9", 1))); published || err != nil {
		t.Errorf("PublishEndpoints(with endpoints of no cluster) = %v, %v; want false, nil", published, err)
	}
}

func TestPublishEndpointsBeforePublish(t *testing.T) {
	s := New(testLogger(t), Options{})
	if published, err := s.PublishEndpoints(nil); published || !errorContains(err, "Publish first") {
		t.Fatalf("PublishEndpoints() before Publish = %v, %v; want false and an error", published, err)
	}
}

func TestSotWClientIsSentOnlyTheChangedTypes(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newSotWClient(t, s, "envoy-sotw")
	for typeURL, resp := range c.sync() {
		if resp.GetVersionInfo() != "1" {
			t.Errorf("%s version = %q, want 1", typeURL, resp.GetVersionInfo())
		}
	}
	s.waitForAck(t, "1")

	if published, err := s.Publish(testResources(t)); published || err != nil {
		t.Fatalf("Publish(same content) = %v, %v; want false, nil", published, err)
	}
	eps := []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9005), testEndpoints("c2", 9002)}
	if _, err := s.PublishEndpoints(eps); err != nil {
		t.Fatal(err)
	}
	resp := c.recv(resourcev3.EndpointType)
	if resp.GetVersionInfo() != "2" || len(resp.GetResources()) != 2 {
		t.Fatalf("endpoints response: version %q with %d resources, want 2 with 2", resp.GetVersionInfo(), len(resp.GetResources()))
	}
	c.ack(resp)
	s.waitForAck(t, "2")

	// A route change next: had anything else been sent for version 2, it would come first.
	res := testResources(t)
	res.Routes[0] = testRoute("r1", "c2")
	res.Endpoints = eps
	s.mustPublish(t, res)
	resp = c.recv(resourcev3.RouteType)
	if resp.GetVersionInfo() != "3" {
		t.Fatalf("route response version = %q, want 3", resp.GetVersionInfo())
	}
	c.ack(resp)
	s.waitForAck(t, "3")

	client := s.Stats().Clients[0]
	for _, typeURL := range allTypes {
		if client.AckedVersions[typeURL] != "3" {
			t.Errorf("client holds %s of version %q, want 3", typeURL, client.AckedVersions[typeURL])
		}
	}
	if got := client.LastACKs[resourcev3.ListenerType]; got != "1" {
		t.Errorf("last listener ACK = %q, want 1 (listeners never changed)", got)
	}
}

func TestRejectedPublishKeepsServingThePreviousSnapshot(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.sync()

	bad := testResources(t)
	bad.Clusters[0].Name = ""
	bad.Clusters[1] = testCluster("c2", 5*time.Second)
	if published, err := s.Publish(bad); published || !errorContains(err, "cluster #0 has an empty name") {
		t.Fatalf("Publish(cluster without a name) = %v, %v; want false and an error", published, err)
	}
	if s.Version() != "1" || s.Stats().ValidationFailures != 1 {
		t.Fatalf("after a rejected publish: version %q, %d failures; want 1 and 1", s.Version(), s.Stats().ValidationFailures)
	}

	// A client connecting now gets the previous snapshot.
	late := newDeltaClient(t, s, "envoy-b")
	got := late.sync()
	if names := deltaNames(got[resourcev3.ClusterType]); !slices.Equal(names, []string{"c1", "c2"}) {
		t.Fatalf("late client got clusters %v, want [c1 c2]", names)
	}
	if v := got[resourcev3.ClusterType].GetSystemVersionInfo(); v != "1" {
		t.Fatalf("late client got version %q, want 1", v)
	}
	// The connected client was sent nothing: the next thing it gets is the next snapshot.
	res := testResources(t)
	res.Clusters[0] = testCluster("c1", 3*time.Second)
	s.mustPublish(t, res)
	if names := deltaNames(c.recv(resourcev3.ClusterType)); !slices.Equal(names, []string{"c1"}) {
		t.Fatalf("after the next publish the client got %v, want [c1]", names)
	}
}

func TestDeltaNACKIsCountedAndFailsWaitForAck(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.sync()

	res := testResources(t)
	res.Clusters[1] = testCluster("c2", 2*time.Second)
	s.mustPublish(t, res)
	c.nack(c.recv(resourcev3.ClusterType), "cluster c2: no healthy upstream")
	c.ack(c.recv(resourcev3.EndpointType)) // sent again for c2 (resend.go)

	eventually(t, "the NACK to be counted", func() bool { return s.Stats().NACKs == 1 })
	stats := s.Stats()
	if stats.NACKsByType[resourcev3.ClusterType] != 1 || stats.LastNACKError != "cluster c2: no healthy upstream" {
		t.Errorf("NACKsByType = %v, LastNACKError = %q", stats.NACKsByType, stats.LastNACKError)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := s.WaitForAck(ctx, "2"); !errorContains(err, `node "envoy-a" rejected clusters of version 2: cluster c2: no healthy upstream`) {
		t.Errorf("WaitForAck(2) = %v, want the rejection", err)
	}

	// The next snapshot that the client accepts clears the rejection.
	res.Clusters[1] = testCluster("c2", 4*time.Second)
	s.mustPublish(t, res)
	c.ack(c.recv(resourcev3.ClusterType))
	c.ack(c.recv(resourcev3.EndpointType))
	s.waitForAck(t, "3")
}

func TestSotWNACKIsNotAnsweredWithTheRejectedVersion(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newSotWClient(t, s, "envoy-sotw")
	c.sync()

	res := testResources(t)
	res.Clusters[1] = testCluster("c2", 2*time.Second)
	s.mustPublish(t, res)
	c.nack(c.recv(resourcev3.ClusterType), "1", "bad cluster")
	// The load assignments come again with the changed cluster (resend.go): a new version
	// of the set, with the same content.
	if resp := c.recv(resourcev3.EndpointType); resp.GetVersionInfo() != "2" || len(resp.GetResources()) != 2 {
		t.Fatalf("endpoints response: version %q with %d resources, want 2 with 2", resp.GetVersionInfo(), len(resp.GetResources()))
	} else {
		c.ack(resp)
	}
	eventually(t, "the NACK to be counted", func() bool { return s.Stats().NACKs == 1 })
	if got := s.Stats().NACKsByType[resourcev3.ClusterType]; got != 1 {
		t.Errorf("cluster NACKs = %d, want 1", got)
	}

	// Were the NACK answered with version 2 again, that response would come first.
	res.Clusters[1] = testCluster("c2", 3*time.Second)
	s.mustPublish(t, res)
	resp := c.recv(resourcev3.ClusterType)
	if resp.GetVersionInfo() != "3" {
		t.Fatalf("after the NACK the client got clusters of version %q, want 3", resp.GetVersionInfo())
	}
	c.ack(resp)
	c.ack(c.recv(resourcev3.EndpointType))
	s.waitForAck(t, "3")
}

// A state-of-the-world ADS stream gets a publish's types in xDS order: a changed cluster
// before the load assignment sent again with it (Handler's doc says why). Unordered, the two
// responses raced for the stream, and the assignment came first about once in 300 publishes;
// a hundred publishes in a row make that visible.
func TestSotWSendsAChangedClusterBeforeItsLoadAssignment(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newSotWClient(t, s, "envoy-sotw")
	c.sync()

	res := testResources(t)
	for i := 2; i <= 101; i++ {
		res.Clusters[1] = testCluster("c2", time.Duration(i)*time.Second)
		s.mustPublish(t, res)
		c.ack(c.recv(resourcev3.ClusterType)) // recv fails on a response of another type
		c.ack(c.recv(resourcev3.EndpointType))
	}
	s.waitForAck(t, "101")
}

func TestWaitForAck(t *testing.T) {
	s := startServer(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	if err := s.WaitForAck(cancelled, "not-a-version"); !errorContains(err, "is not a snapshot version") {
		t.Errorf("WaitForAck(bad version) = %v", err)
	}
	if err := s.WaitForAck(cancelled, "1"); !errorContains(err, "version 1 to be published") || !errors.Is(err, context.Canceled) {
		t.Errorf("WaitForAck before publishing = %v", err)
	}
	s.mustPublish(t, testResources(t))
	if err := s.WaitForAck(cancelled, "1"); !errorContains(err, "a client to connect") {
		t.Errorf("WaitForAck without clients = %v", err)
	}

	c := newDeltaClient(t, s, "envoy-a")
	for _, sub := range testSubscriptions[:3] {
		c.subscribe(sub.typeURL, sub.names...)
		c.ack(c.recv(sub.typeURL))
	}
	c.subscribe(resourcev3.RouteType, "r1")
	routes := c.recv(resourcev3.RouteType)
	// recv guarantees the response was sent, not that the server has seen the request
	// acknowledging listeners; wait for that before asserting what is still missing.
	eventually(t, "the listener ACK to be seen", func() bool {
		return s.Stats().Clients[0].AckedVersions[resourcev3.ListenerType] == "1"
	})
	if err := s.WaitForAck(cancelled, "1"); !errorContains(err, "to acknowledge route configurations") {
		t.Errorf("WaitForAck before the route ACK = %v", err)
	}

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		done <- s.WaitForAck(ctx, "1")
	}()
	select {
	case err := <-done:
		t.Fatalf("WaitForAck returned %v before the client acknowledged the routes", err)
	default:
	}
	c.ack(routes)
	if err := receive(t, done); err != nil {
		t.Fatalf("WaitForAck after the ACK: %v", err)
	}

	// Every connected client counts: a second one holds WaitForAck until it has synced.
	late := newSotWClient(t, s, "envoy-sotw")
	late.subscribe(resourcev3.ClusterType)
	eventually(t, "the second client to be seen", func() bool { return len(s.Stats().Clients) == 2 })
	if err := s.WaitForAck(cancelled, "1"); !errorContains(err, "sotw stream") {
		t.Errorf("WaitForAck with an unsynced second client = %v", err)
	}
	late.ack(late.recv(resourcev3.ClusterType))
	for _, sub := range testSubscriptions[1:] {
		late.subscribe(sub.typeURL, sub.names...)
		late.ack(late.recv(sub.typeURL))
	}
	s.waitForAck(t, "1")
}

func TestDeltaReconnectWithInitialResourceVersions(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	first := newDeltaClient(t, s, "envoy-a")
	held := first.sync()
	first.stream.CloseSend()
	eventually(t, "the first stream to close", func() bool { return s.Stats().ConnectedStreams == 0 })

	// Envoy reconnects declaring what it has; nothing is re-sent.
	again := newDeltaClient(t, s, "envoy-a")
	for _, sub := range testSubscriptions {
		again.send(&discoveryv3.DeltaDiscoveryRequest{
			TypeUrl:                 sub.typeURL,
			ResourceNamesSubscribe:  sub.names,
			InitialResourceVersions: versionsOf(held[sub.typeURL]),
		})
	}
	// Wildcard types answer the first request even when empty, so Envoy can finish
	// initialising; the named ones do not answer at all.
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		resp := again.recv(typeURL)
		if len(resp.GetResources()) != 0 {
			t.Errorf("reconnected client was re-sent %s %v", typeURL, deltaNames(resp))
		}
		again.ack(resp)
	}
	s.waitForAck(t, "1")
}

func versionsOf(resp *discoveryv3.DeltaDiscoveryResponse) map[string]string {
	versions := make(map[string]string)
	for _, r := range resp.GetResources() {
		versions[r.GetName()] = r.GetVersion()
	}
	return versions
}

// A delta client that unsubscribes from a resource no longer holds it, and is not sent its
// removal: WaitForAck must not wait for it.
func TestDeltaUnsubscribedResourcesAreNotHeld(t *testing.T) {
	s := startServer(t)
	twoListeners := func() *Resources {
		res := testResources(t)
		res.Listeners = append(res.Listeners, testListener(t, "l2", 8081, "r2"))
		res.Routes = append(res.Routes, testRoute("r2", "c2"))
		return res
	}
	s.mustPublish(t, twoListeners())
	c := newDeltaClient(t, s, "envoy-a")
	for _, sub := range testSubscriptions[:3] {
		c.subscribe(sub.typeURL, sub.names...)
		c.ack(c.recv(sub.typeURL))
	}
	c.subscribe(resourcev3.RouteType, "r1", "r2")
	c.ack(c.recv(resourcev3.RouteType))
	s.waitForAck(t, "1")

	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesUnsubscribe: []string{"r2"}})
	eventually(t, "the unsubscription to be seen", func() bool {
		return s.Stats().Clients[0].AckedVersions[resourcev3.RouteType] == ""
	})
	s.mustPublish(t, testResources(t))
	resp := c.recv(resourcev3.ListenerType)
	if !slices.Equal(resp.GetRemovedResources(), []string{"l2"}) {
		t.Fatalf("listener response removes %v, want [l2]", resp.GetRemovedResources())
	}
	c.ack(resp)
	s.waitForAck(t, "2")
}

// Versions restart at 1 with the process, so the version a state-of-the-world client
// declares on a new stream may be a number this server uses for other content: it must
// still be answered, even when the answer is that there is nothing.
func TestSotWNewStreamIsAnsweredWhateverVersionItDeclares(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, &Resources{})
	c := newSotWClient(t, s, "envoy-sotw")
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.ListenerType, VersionInfo: "1"})
	resp := c.recv(resourcev3.ListenerType)
	if resp.GetVersionInfo() != "1" || len(resp.GetResources()) != 0 {
		t.Fatalf("got listeners of version %q with %d resources, want 1 with none", resp.GetVersionInfo(), len(resp.GetResources()))
	}
}

// Scopes reach a delta client by SRDS like any other type, their ACK counts for WaitForAck,
// and a change of one scope re-sends only that scope.
func TestDeltaClientReceivesScopedRoutes(t *testing.T) {
	s := startServer(t)
	res := testScopedResources(t)
	s.mustPublish(t, res)
	c := newDeltaClient(t, s, "envoy-a")
	for _, sub := range scopedSubscriptions[:3] {
		c.subscribe(sub.typeURL, sub.names...)
		c.ack(c.recv(sub.typeURL))
	}
	c.subscribe(resourcev3.ScopedRouteType)
	scopes := c.recv(resourcev3.ScopedRouteType)
	if got := deltaNames(scopes); !slices.Equal(got, []string{"s-a", "s-b"}) {
		t.Fatalf("scopes = %v, want [s-a s-b]", got)
	}
	for _, r := range scopes.GetResources() {
		i := slices.IndexFunc(res.ScopedRoutes, func(scope *routev3.ScopedRouteConfiguration) bool { return scope.GetName() == r.GetName() })
		if want, _ := hashResource(res.ScopedRoutes[i]); r.GetVersion() != want {
			t.Errorf("scope %s has version %q, want its hash %q", r.GetName(), r.GetVersion(), want)
		}
	}
	eventually(t, "the listener ACK to be seen", func() bool {
		return s.Stats().Clients[0].AckedVersions[resourcev3.ListenerType] == "1"
	})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitForAck(cancelled, "1"); !errorContains(err, "to acknowledge scoped route configurations") {
		t.Errorf("WaitForAck before the scope ACK = %v", err)
	}
	c.ack(scopes)
	c.subscribe(resourcev3.RouteType, "r1", "r2", "r3")
	c.ack(c.recv(resourcev3.RouteType))
	s.waitForAck(t, "1")
	if got := s.Stats().AckedVersions[resourcev3.ScopedRouteType]; got != "1" {
		t.Errorf("AckedVersions[scoped routes] = %q, want 1", got)
	}

	// One scope changes: only it is sent. Every other resource is handed over again by
	// pointer, as the translator does.
	next := *res
	next.ScopedRoutes = []*routev3.ScopedRouteConfiguration{res.ScopedRoutes[0], testScope("s-b", "r3", "c.example")}
	s.mustPublish(t, &next)
	resp := c.recv(resourcev3.ScopedRouteType)
	if got := deltaNames(resp); !slices.Equal(got, []string{"s-b"}) || resp.GetSystemVersionInfo() != "2" {
		t.Fatalf("delta response has %v at version %s, want s-b at 2", got, resp.GetSystemVersionInfo())
	}
	c.ack(resp)
	s.waitForAck(t, "2")

	// Without the SRDS listener the scopes and the route configurations only they name
	// are removed.
	next.Listeners = next.Listeners[:1]
	s.mustPublish(t, &next)
	wantRemoved := map[string][]string{
		resourcev3.ListenerType:    {"l2"},
		resourcev3.ScopedRouteType: {"s-a", "s-b"},
		resourcev3.RouteType:       {"r2", "r3"},
	}
	for range wantRemoved {
		resp := receive(t, c.responses)
		removed := slices.Sorted(slices.Values(resp.GetRemovedResources()))
		if want, ok := wantRemoved[resp.GetTypeUrl()]; !ok || !slices.Equal(removed, want) || len(resp.GetResources()) > 0 {
			t.Fatalf("%s response has %v and removes %v, want it to remove %v", resp.GetTypeUrl(), deltaNames(resp), removed, want)
		}
		c.ack(resp)
	}
	s.waitForAck(t, "3")
}

func TestSotWClientReceivesScopedRoutes(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testScopedResources(t))
	c := newSotWClient(t, s, "envoy-sotw")
	got := c.syncWith(scopedSubscriptions)
	if resp := got[resourcev3.ScopedRouteType]; resp.GetVersionInfo() != "1" || len(resp.GetResources()) != 2 {
		t.Fatalf("scopes response: version %q with %d resources, want 1 with 2", resp.GetVersionInfo(), len(resp.GetResources()))
	}
	s.waitForAck(t, "1")
	if got := s.Stats().Clients[0].AckedVersions[resourcev3.ScopedRouteType]; got != "1" {
		t.Errorf("client holds scopes of version %q, want 1", got)
	}
}

// TestSnapshotsOnlyForStateOfTheWorld: while only delta clients are served, no snapshot is
// made for the snapshot cache (its maps of every resource are held for nothing); the first
// state-of-the-world client gets the configuration published last, and every later one.
func TestSnapshotsOnlyForStateOfTheWorld(t *testing.T) {
	s := startServer(t)
	d := newDeltaClient(t, s, "envoy-delta")
	d.subscribe(resourcev3.ClusterType)
	s.mustPublish(t, testResources(t))
	d.recv(resourcev3.ClusterType)
	res := testResources(t)
	res.Routes[0] = testRoute("r1", "c2")
	s.mustPublish(t, res)
	if s.cache.sotwOn.Load() {
		t.Fatal("the snapshot cache is in use without a state-of-the-world client")
	}
	for k, set := range s.currentConfig().sets {
		if set.sotw == nil || set.sotw.indexed != nil {
			t.Errorf("%s: snapshot maps held while only delta clients are served", kind(k))
		}
	}
	c := newSotWClient(t, s, "envoy-sotw")
	for typeURL, resp := range c.sync() {
		want := "1" // a type's version is the snapshot that last changed it
		if typeURL == resourcev3.RouteType {
			want = "2"
		}
		if resp.GetVersionInfo() != want {
			t.Errorf("%s version = %q, want %s", typeURL, resp.GetVersionInfo(), want)
		}
	}
	res.Routes[0] = testRoute("r1", "c1")
	s.mustPublish(t, res)
	if resp := c.recv(resourcev3.RouteType); resp.GetVersionInfo() != "3" {
		t.Errorf("route response version = %q, want 3", resp.GetVersionInfo())
	}
}

// TestDeltaResendReachesAClientWithAResponseInFlight: a client that has not acknowledged
// its last endpoints response when a cluster changes has no endpoints watch open at that
// publish; it must still get the cluster's unchanged load assignment again when it asks
// next (resend.go: the mark), or Envoy waits out its initial fetch timeout.
func TestDeltaResendReachesAClientWithAResponseInFlight(t *testing.T) {
	s := startServer(t)
	s.mustPublish(t, testResources(t))
	c := newDeltaClient(t, s, "envoy-a")
	c.sync()

	// Version 2 changes c1's endpoints; the client receives them and does not answer yet.
	res := testResources(t)
	res.Endpoints[0] = testEndpoints("c1", 9001, 9003)
	s.mustPublish(t, res)
	inFlight := c.recv(resourcev3.EndpointType)
	if names := deltaNames(inFlight); !slices.Equal(names, []string{"c1"}) {
		t.Fatalf("version 2 endpoints %v, want [c1]", names)
	}

	// Version 3 changes cluster c1 alone.
	res = testResources(t)
	res.Endpoints[0] = testEndpoints("c1", 9001, 9003)
	res.Clusters[0] = testCluster("c1", 3*time.Second)
	s.mustPublish(t, res)
	clusters := c.recv(resourcev3.ClusterType)
	if names := deltaNames(clusters); !slices.Equal(names, []string{"c1"}) {
		t.Fatalf("version 3 clusters %v, want [c1]", names)
	}
	c.ack(clusters)
	c.ack(inFlight)
	again := c.recv(resourcev3.EndpointType)
	if names := deltaNames(again); !slices.Equal(names, []string{"c1"}) {
		t.Fatalf("after the in-flight response, endpoints %v, want [c1] again", names)
	}
	if v := again.GetResources()[0].GetVersion(); !strings.HasSuffix(v, markSeparator+"3") {
		t.Errorf("c1's load assignment sent again as version %q, want its hash marked %q", v, markSeparator+"3")
	}
	c.ack(again)
	s.waitForAck(t, "3")

	// The mark stays while the content does: a change elsewhere does not send c1 again.
	res.Endpoints[1] = testEndpoints("c2", 9002, 9004)
	s.mustPublish(t, res)
	if names := deltaNames(c.recv(resourcev3.EndpointType)); !slices.Equal(names, []string{"c2"}) {
		t.Fatalf("version 4 endpoints %v, want [c2] alone", names)
	}
}
