package xds

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/go-logr/logr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// NodeID is the key of the one snapshot in the cache (default "gatebridge"). Every Envoy
	// is served that snapshot whatever node ID its bootstrap declares.
	NodeID string

	// ShutdownTimeout bounds how long Serve waits, once its context is done, for RPCs to end
	// before it closes the remaining connections (default 5s).
	ShutdownTimeout time.Duration

	// KeepaliveTime is how long a connection may be idle before the server pings the client,
	// and KeepaliveTimeout how long it then waits for the answer before closing the
	// connection (defaults 30s and 10s). They let the server notice a vanished Envoy.
	KeepaliveTime    time.Duration
	KeepaliveTimeout time.Duration

	// MaxConcurrentStreams caps streams per HTTP/2 connection (default 1<<20). One Envoy
	// needs one ADS stream, but a generous cap costs nothing and never refuses a client.
	MaxConcurrentStreams uint32

	// GRPCOptions are appended to the server's own options, e.g. TLS credentials.
	GRPCOptions []grpc.ServerOption
}

func (o Options) withDefaults() Options {
	if o.NodeID == "" {
		o.NodeID = "gatebridge"
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.KeepaliveTime <= 0 {
		o.KeepaliveTime = 30 * time.Second
	}
	if o.KeepaliveTimeout <= 0 {
		o.KeepaliveTimeout = 10 * time.Second
	}
	if o.MaxConcurrentStreams == 0 {
		o.MaxConcurrentStreams = 1 << 20
	}
	return o
}

// Server publishes validated snapshots of Resources and serves them over aggregated
// discovery (ADS), state-of-the-world and delta, while accounting for every client's ACKs
// and NACKs. All methods are safe for concurrent use.
type Server struct {
	log   logr.Logger
	opts  Options
	cache *adsCache
	// serves numbers Serve calls, to tell their streams apart.
	serves atomic.Uint64

	// publishMu serialises Publish and PublishEndpoints, so each compares with and builds
	// on what the previous one published. Validation runs under it but not under mu, so
	// stream callbacks are never held up by a large validation.
	publishMu sync.Mutex
	// inputs holds, per kind, the set built from the last input of that kind that passed
	// validation, unused resources included: the next input reuses its validation of every
	// resource it hands over again (see newResourceSet). Guarded by publishMu.
	inputs [numKinds]*resourceSet
	// clusterRefs is what resolving references last found about the clusters, reused
	// while they, the endpoints and the secrets are the same sets. Guarded by publishMu.
	clusterRefs clusterReferences

	// mu guards everything below: the published state and the per-stream accounting,
	// which the stream callbacks update.
	mu      sync.Mutex
	current *publishedConfig
	history []historyEntry
	streams map[streamKey]*clientStream
	counts  counters
	// changed is closed, and replaced, whenever anything WaitForAck looks at changes.
	changed chan struct{}
}

// publishedConfig is the configuration of the snapshot being served.
type publishedConfig struct {
	version uint64
	config  *config
}

// counters are the running totals Stats reports.
type counters struct {
	published          uint64
	validationFailures uint64
	nacks              uint64
	nacksByType        map[string]uint64
	lastNACK           string
}

// New returns a Server with no snapshot: clients that connect before the first Publish wait
// for it.
func New(log logr.Logger, opts Options) *Server {
	opts = opts.withDefaults()
	return &Server{
		log:  log,
		opts: opts,
		cache: &adsCache{
			SnapshotCache: cachev3.NewSnapshotCache(true, oneSnapshot(opts.NodeID), cacheLogger{log.WithName("cache")}),
			delta:         newDeltaWatches(),
		},
		streams: make(map[streamKey]*clientStream),
		counts:  counters{nacksByType: make(map[string]uint64)},
		changed: make(chan struct{}),
	}
}

// oneSnapshot maps every Envoy node to the same snapshot key: all gatebridge Envoys serve
// the same configuration, so an Envoy whose bootstrap names another node ID still gets it.
type oneSnapshot string

func (key oneSnapshot) ID(*corev3.Node) string { return string(key) }

// Version returns the version of the snapshot being served, "" before the first Publish.
func (s *Server) Version() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versionLocked()
}

func (s *Server) versionLocked() string {
	if s.current == nil {
		return ""
	}
	return strconv.FormatUint(s.current.version, 10)
}

// Serve serves ADS on lis until ctx is done, then stops gracefully: open streams end (Envoy
// reconnects to another replica or to the restarted server) and, if some RPC is still
// running after Options.ShutdownTimeout, the remaining connections are closed. It returns
// nil after a shutdown caused by ctx, or the error that stopped serving.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	grpcServer := grpc.NewServer(s.grpcOptions()...)
	// The xDS handlers end their streams when ctx is done, which is what lets GracefulStop
	// finish: ADS streams otherwise last as long as the Envoy.
	handlers := s.Handler(ctx)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(grpcServer, handlers)

	served := make(chan error, 1)
	go func() { served <- grpcServer.Serve(lis) }()
	s.log.Info("serving xDS", "address", lis.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serving xDS on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	s.stop(grpcServer)
	<-served
	s.log.Info("stopped serving xDS", "address", lis.Addr().String())
	return nil
}

func (s *Server) grpcOptions() []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxConcurrentStreams(s.opts.MaxConcurrentStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    s.opts.KeepaliveTime,
			Timeout: s.opts.KeepaliveTimeout,
		}),
		// Envoy may be configured to ping more often than gRPC's default tolerates (5 min);
		// refusing that would cut its ADS connection with "too many pings".
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             5 * time.Second,
			PermitWithoutStream: true,
		}),
	}
	return append(opts, s.opts.GRPCOptions...)
}

// stop stops grpcServer gracefully, or forcibly after Options.ShutdownTimeout.
func (s *Server) stop(grpcServer *grpc.Server) {
	stopped := make(chan struct{})
	go func() {
		grpcServer.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.log.Info("xDS RPCs still running after the shutdown timeout, closing connections", "timeout", s.opts.ShutdownTimeout)
		grpcServer.Stop()
		<-stopped
	}
}

// notifyLocked wakes every WaitForAck so it re-evaluates.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// cacheLogger sends go-control-plane's printf-style logging to logr. Its info messages are
// per-request chatter, so they go to verbose levels; its warnings are mostly about a
// state-of-the-world ADS request not naming every resource yet, which is transient.
type cacheLogger struct{ log logr.Logger }

func (l cacheLogger) Debugf(format string, args ...any) { l.at(5, format, args) }

func (l cacheLogger) Infof(format string, args ...any) { l.at(4, format, args) }

func (l cacheLogger) Warnf(format string, args ...any) { l.at(2, format, args) }

// at logs at verbosity level, formatting only if that level is enabled: the cache logs on
// every request.
func (l cacheLogger) at(level int, format string, args []any) {
	if v := l.log.V(level); v.Enabled() {
		v.Info(fmt.Sprintf(format, args...))
	}
}

func (l cacheLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Errorf(format, args...), "xDS cache error")
}
