package xds

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// streamCallbacks feeds the go-control-plane server's stream events into the Server's
// accounting. It is a separate type so that the callbacks are not part of Server's API.
// go-control-plane calls them synchronously on each stream's goroutine, requests before the
// cache sees them and responses before they are sent, so an ACK can never arrive before the
// response it acknowledges has been recorded.
type streamCallbacks struct {
	s     *Server
	serve uint64 // which Serve call these callbacks belong to
}

func (c streamCallbacks) key(p protocol, id int64) streamKey {
	return streamKey{serve: c.serve, protocol: p, id: id}
}

var _ serverv3.Callbacks = streamCallbacks{}

func (c streamCallbacks) OnStreamOpen(_ context.Context, id int64, _ string) error {
	c.s.openStream(c.key(stateOfTheWorld, id))
	return nil
}

func (c streamCallbacks) OnStreamClosed(id int64, _ *corev3.Node) {
	c.s.closeStream(c.key(stateOfTheWorld, id))
}

func (c streamCallbacks) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	c.s.sotwRequest(c.key(stateOfTheWorld, id), req)
	return nil
}

func (c streamCallbacks) OnStreamResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	c.s.sotwResponse(c.key(stateOfTheWorld, id), resp)
}

func (c streamCallbacks) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	c.s.openStream(c.key(delta, id))
	return nil
}

func (c streamCallbacks) OnDeltaStreamClosed(id int64, _ *corev3.Node) {
	c.s.closeStream(c.key(delta, id))
}

func (c streamCallbacks) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	c.s.deltaRequest(c.key(delta, id), req)
	return nil
}

func (c streamCallbacks) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	c.s.deltaResponse(c.key(delta, id), resp)
}

// Fetch (REST) is not served: only ADS is registered on the gRPC server.

func (c streamCallbacks) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error {
	return nil
}

func (c streamCallbacks) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {
}
