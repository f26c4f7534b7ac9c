package xds

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// waitTimeout bounds every wait in these tests; nothing should take more than milliseconds.
const waitTimeout = 10 * time.Second

// testServer is a Server serving on a loopback port, with a client connection to it.
type testServer struct {
	*Server
	conn *grpc.ClientConn
}

// startServer serves a new Server until the test ends, then checks that Serve stops cleanly.
func startServer(t *testing.T) *testServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(testLogger(t), Options{NodeID: "gatebridge-test"})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve returned %v after its context was cancelled, want nil", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Serve did not return %v after its context was cancelled", waitTimeout)
		}
		conn.Close()
	})
	return &testServer{Server: s, conn: conn}
}

func testLogger(t *testing.T) logr.Logger { return testr.New(t) }

func (s *testServer) mustPublish(t *testing.T, res *Resources) string {
	t.Helper()
	published, err := s.Publish(res)
	if err != nil || !published {
		t.Fatalf("Publish() = %v, %v; want true, nil", published, err)
	}
	return s.Version()
}

func (s *testServer) waitForAck(t *testing.T, version string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := s.WaitForAck(ctx, version); err != nil {
		t.Fatalf("WaitForAck(%s): %v", version, err)
	}
}

// eventually polls cond until it holds, failing the test after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testNode(id string) *corev3.Node { return &corev3.Node{Id: id, Cluster: "gatebridge"} }

// receive returns the next message from responses, failing the test if none comes.
func receive[T any](t *testing.T, responses <-chan T) T {
	t.Helper()
	select {
	case resp, ok := <-responses:
		if !ok {
			t.Fatal("stream ended")
		}
		return resp
	case <-time.After(waitTimeout):
		t.Fatalf("no response within %v", waitTimeout)
	}
	panic("unreachable")
}

// pump sends everything recv returns to a channel, closed when the stream ends.
func pump[T any](recv func() (T, error)) <-chan T {
	out := make(chan T, 64)
	go func() {
		defer close(out)
		for {
			msg, err := recv()
			if err != nil {
				return
			}
			out <- msg
		}
	}()
	return out
}

// deltaClient plays an Envoy on a delta ADS stream.
type deltaClient struct {
	t         *testing.T
	node      *corev3.Node
	stream    discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	responses <-chan *discoveryv3.DeltaDiscoveryResponse
}

func newDeltaClient(t *testing.T, s *testServer, nodeID string) *deltaClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(s.conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &deltaClient{t: t, node: testNode(nodeID), stream: stream, responses: pump(stream.Recv)}
}

func (c *deltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("sending delta request: %v", err)
	}
}

// subscribe subscribes to names of typeURL, or to all of them if there are none.
func (c *deltaClient) subscribe(typeURL string, names ...string) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: names})
}

// recv returns the next response, which must be of typeURL.
func (c *deltaClient) recv(typeURL string) *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	resp := receive(c.t, c.responses)
	if resp.GetTypeUrl() != typeURL {
		c.t.Fatalf("got a delta response of %s (%v), want %s", resp.GetTypeUrl(), deltaNames(resp), typeURL)
	}
	return resp
}

func (c *deltaClient) ack(resp *discoveryv3.DeltaDiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()})
}

func (c *deltaClient) nack(resp *discoveryv3.DeltaDiscoveryResponse, message string) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{
		TypeUrl:       resp.GetTypeUrl(),
		ResponseNonce: resp.GetNonce(),
		ErrorDetail:   &statuspb.Status{Code: 3, Message: message},
	})
}

// sync subscribes to what testResources holds, in Envoy's order, acknowledging every
// response, and returns the responses by type URL.
func (c *deltaClient) sync() map[string]*discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	return c.syncWith(testSubscriptions)
}

// syncWith is sync with other subscriptions.
func (c *deltaClient) syncWith(subs []subscription) map[string]*discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	got := make(map[string]*discoveryv3.DeltaDiscoveryResponse)
	for _, sub := range subs {
		c.subscribe(sub.typeURL, sub.names...)
		resp := c.recv(sub.typeURL)
		c.ack(resp)
		got[sub.typeURL] = resp
	}
	return got
}

// subscription is one resource type an Envoy subscribes to: the names it asks for, or all
// of them if none.
type subscription struct {
	typeURL string
	names   []string
}

// testSubscriptions are the subscriptions of an Envoy given testResources, in the order
// Envoy makes them: clusters, their endpoints, listeners, their routes.
var testSubscriptions = []subscription{
	{resourcev3.ClusterType, nil},
	{resourcev3.EndpointType, []string{"c1", "c2"}},
	{resourcev3.ListenerType, nil},
	{resourcev3.RouteType, []string{"r1"}},
}

// scopedSubscriptions are the subscriptions of an Envoy given testScopedResources: SRDS is
// a subscription to every scope, and the routes are those of the listener and the scopes.
var scopedSubscriptions = []subscription{
	{resourcev3.ClusterType, nil},
	{resourcev3.EndpointType, []string{"c1", "c2"}},
	{resourcev3.ListenerType, nil},
	{resourcev3.ScopedRouteType, nil},
	{resourcev3.RouteType, []string{"r1", "r2", "r3"}},
}

func deltaNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var names []string
	for _, r := range resp.GetResources() {
		names = append(names, r.GetName())
	}
	slices.Sort(names)
	return names
}

// sotwClient plays an Envoy on a state-of-the-world ADS stream.
type sotwClient struct {
	t         *testing.T
	node      *corev3.Node
	stream    discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	responses <-chan *discoveryv3.DiscoveryResponse
	// names are the resource names requested per type URL, repeated in every request.
	names map[string][]string
}

func newSotWClient(t *testing.T, s *testServer, nodeID string) *sotwClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(s.conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &sotwClient{t: t, node: testNode(nodeID), stream: stream, responses: pump(stream.Recv), names: map[string][]string{}}
}

func (c *sotwClient) send(req *discoveryv3.DiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	req.ResourceNames = c.names[req.GetTypeUrl()]
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("sending request: %v", err)
	}
}

func (c *sotwClient) subscribe(typeURL string, names ...string) {
	c.t.Helper()
	c.names[typeURL] = names
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL})
}

func (c *sotwClient) recv(typeURL string) *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	resp := receive(c.t, c.responses)
	if resp.GetTypeUrl() != typeURL {
		c.t.Fatalf("got a response of %s version %s, want %s", resp.GetTypeUrl(), resp.GetVersionInfo(), typeURL)
	}
	return resp
}

func (c *sotwClient) ack(resp *discoveryv3.DiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()})
}

// nack rejects resp, declaring that the client still holds previousVersion.
func (c *sotwClient) nack(resp *discoveryv3.DiscoveryResponse, previousVersion, message string) {
	c.t.Helper()
	c.send(&discoveryv3.DiscoveryRequest{
		TypeUrl:       resp.GetTypeUrl(),
		VersionInfo:   previousVersion,
		ResponseNonce: resp.GetNonce(),
		ErrorDetail:   &statuspb.Status{Code: 3, Message: message},
	})
}

func (c *sotwClient) sync() map[string]*discoveryv3.DiscoveryResponse {
	c.t.Helper()
	return c.syncWith(testSubscriptions)
}

func (c *sotwClient) syncWith(subs []subscription) map[string]*discoveryv3.DiscoveryResponse {
	c.t.Helper()
	got := make(map[string]*discoveryv3.DiscoveryResponse)
	for _, sub := range subs {
		c.subscribe(sub.typeURL, sub.names...)
		resp := c.recv(sub.typeURL)
		c.ack(resp)
		got[sub.typeURL] = resp
	}
	return got
}

func errorContains(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}
