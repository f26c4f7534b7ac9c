package controllers

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/go-logr/logr/testr"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
)

// deltaClient is a minimal delta ADS client standing in for an Envoy: it subscribes to
// clusters and listeners (wildcard) and answers each response with an ACK, or a NACK.
type deltaClient struct {
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	nack   string
}

// connectDelta connects to addr as node id with the port map (nil: no metadata).
func connectDelta(t *testing.T, addr, id string, portMap map[int32]uint32, nack string) *deltaClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); conn.Close() })
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: id, Cluster: "test"}
	if portMap != nil {
		ports := map[string]any{}
		for k, v := range portMap {
			ports[fmt.Sprint(k)] = float64(v)
		}
		md, err := structpb.NewStruct(map[string]any{envoy.NodeMetadataPortMap: ports})
		if err != nil {
			t.Fatal(err)
		}
		node.Metadata = md
	}
	c := &deltaClient{t: t, stream: stream, nack: nack}
	for i, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ}
		if i == 0 {
			req.Node = node // only on the first message, as Envoy sends it
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// listener receives responses, answering each, until one carries a listener.
func (c *deltaClient) listener() *listenerv3.Listener {
	c.t.Helper()
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			c.t.Fatalf("receiving: %v", err)
		}
		answer := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}
		if c.nack != "" {
			answer.ErrorDetail = &statuspb.Status{Code: 3, Message: c.nack}
		}
		if err := c.stream.Send(answer); err != nil {
			c.t.Fatal(err)
		}
		if resp.GetTypeUrl() != resourcev3.ListenerType || len(resp.GetResources()) == 0 {
			continue
		}
		var l listenerv3.Listener
		if err := resp.GetResources()[0].GetResource().UnmarshalTo(&l); err != nil {
			c.t.Fatal(err)
		}
		return &l
	}
}

// startPlane serves a plane on a free loopback port until the test ends.
func startPlane(t *testing.T) (*Plane, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	p := NewPlane(PlaneOptions{XDSAddress: addr, Log: testr.New(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("plane: %v", err)
		}
	})
	waitListening(t, addr, done)
	return p, addr
}

// waitListening returns once addr takes TCP connections. The xDS server is started in a
// goroutine (done receives its end) and listens there: a client dialing before that is
// refused (a CI run of TestPlaneServesEachPortMap failed so).
func waitListening(t *testing.T, addr string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for it
			t.Fatalf("stopped before serving %s: %v", addr, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %s: %v", addr, waitTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redirectModel is a Gateway with port 80 and a route that redirects: no clusters.
func redirectModel() *dataplane.Model {
	m := &dataplane.Model{}
	all := gwv1.NamespacesFromAll
	scheme := "https"
	m.Add(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge"}, Spec: gwv1.GatewayClassSpec{ControllerName: dataplane.DefaultControllerName}})
	m.Add(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "infra", Generation: 1}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "gatebridge",
		Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}}}},
	}})
	ns := gwv1.Namespace("infra")
	m.Add(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "shop", Generation: 1}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", Namespace: &ns}}},
		Rules: []gwv1.HTTPRouteRule{{Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: &scheme}}}}},
	}})
	return m
}

func listenerPort(l *listenerv3.Listener) uint32 {
	return l.GetAddress().GetSocketAddress().GetPortValue()
}

// TestPlaneServesEachPortMap: Envoys that bind the Gateway's port 80 differently (node
// metadata) each get listeners on their own port from one xDS port; one that sends no
// port map binds as written. A NACK fails AckState with Envoy's message and is counted.
func TestPlaneServesEachPortMap(t *testing.T) {
	p, addr := startPlane(t)
	if _, version, _, err := p.Apply(redirectModel()); err != nil || version != "1" {
		t.Fatalf("Apply: version %q, %v", version, err)
	}
	for _, c := range []struct {
		portMap map[int32]uint32
		want    uint32
	}{{map[int32]uint32{80: 1080}, 1080}, {map[int32]uint32{80: 2080, 443: 2443}, 2080}, {nil, 80}} {
		cl := connectDelta(t, addr, fmt.Sprintf("envoy-%d", c.want), c.portMap, "")
		if got := listenerPort(cl.listener()); got != c.want {
			t.Errorf("port map %v: listener on port %d, want %d", c.portMap, got, c.want)
		}
	}
	if n := p.Envoys(); n != 3 {
		t.Errorf("%d Envoys connected, want 3", n)
	}

	// A change reaches every group; a NACK is an error of AckState.
	_ = connectDelta(t, addr, "rejecting", map[int32]uint32{80: 3080}, "listener 80: cannot bind").listener()
	deadline := time.Now().Add(waitTimeout)
	for {
		_, _, err := p.AckState("1")
		if err != nil {
			if !strings.Contains(err.Error(), "cannot bind") {
				t.Errorf("AckState error %q does not carry Envoy's message", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a NACK did not show in AckState")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := p.NACKs(); n == 0 {
		t.Error("NACKs() = 0 after a NACK")
	}
}

// ackForever answers every further response in the background, as an Envoy that keeps
// accepting (or, with nack, rejecting) what it is sent, until the test ends.
func (c *deltaClient) ackForever() {
	// An Envoy then asks for the route configurations, endpoints and secrets its
	// listeners and clusters name: all of them, here.
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.ScopedRouteType, resourcev3.RouteType, resourcev3.SecretType} {
		if err := c.stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			c.t.Fatal(err)
		}
	}
	go func() {
		for {
			resp, err := c.stream.Recv()
			if err != nil {
				return // the test ended
			}
			answer := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}
			if c.nack != "" {
				answer.ErrorDetail = &statuspb.Status{Code: 3, Message: c.nack}
			}
			if c.stream.Send(answer) != nil {
				return
			}
		}
	}()
}
