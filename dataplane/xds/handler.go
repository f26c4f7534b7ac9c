package xds

import (
	"context"
	"fmt"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
)

// Handler returns the ADS service of the Server for a gRPC server the caller runs: a
// process that serves several Servers on one port (one per group of Envoys with the same
// configuration) hands each stream to the Server of its group. Streams end when ctx is
// done. Serve is Handler plus a gRPC server of its own.
//
// State-of-the-world streams are served in order (sotwv3.WithOrderedADS): the cache answers
// the open watches of a publish in xDS order (clusters before their load assignments,
// listeners before routes), and without the option go-control-plane gives each watch a
// channel of its own and sends whichever a select picks first. A load assignment sent
// before the cluster that changed with it is one Envoy takes for the old cluster, and the
// new one then waits its initial_fetch_timeout to warm (resend.go). Delta streams already
// share one channel, so they are ordered without it.
func (s *Server) Handler(ctx context.Context) discoveryv3.AggregatedDiscoveryServiceServer {
	return serverv3.NewServer(ctx, s.cache, streamCallbacks{s: s, serve: s.serves.Add(1)}, sotwv3.WithOrderedADS())
}

// ServerOptions are the gRPC server options Serve uses (keepalive, stream limits and
// Options.GRPCOptions), for a gRPC server that serves Handler.
func (s *Server) ServerOptions() []grpc.ServerOption { return s.grpcOptions() }

// AckState says, without waiting, how far version is acknowledged: done when every
// connected client holds it (WaitForAck would return nil); otherwise waitingFor says what
// is missing ("a client to connect" when none is), or err says which client rejected it.
// Changes tells when to ask again.
func (s *Server) AckState(version string) (done bool, waitingFor string, err error) {
	target := parseVersion(version)
	if target == 0 {
		return false, "", fmt.Errorf("%q is not a snapshot version", version)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	waitingFor, err = s.unacknowledgedLocked(target)
	return err == nil && waitingFor == "", waitingFor, err
}

// Connected reports how many clients (ADS streams that sent a request) are connected.
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clientsLocked())
}

// Changes returns a channel closed at the next change of what AckState and Stats report
// (a publish, a client's request, a stream opening or closing).
func (s *Server) Changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
