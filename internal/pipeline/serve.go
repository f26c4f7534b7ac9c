package pipeline

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// DataPlane is what a Server publishes to: a local.Stack (Envoy, the xDS server and the
// auth service) in `gatebridge run` and the end-to-end tests.
type DataPlane interface {
	// Apply translates a model and publishes it: the translation, the version, whether
	// anything changed.
	Apply(m *dataplane.Model) (*dataplane.Output, string, bool, error)
	// ApplyEndpoints re-resolves only the endpoints of the last translation.
	ApplyEndpoints(m *dataplane.Model) (string, bool, error)
	// WaitApplied waits until Envoy acknowledged version.
	WaitApplied(ctx context.Context, version string) error
}

// The reload policy's numbers.
const (
	// reloadDebounce batches the file events of one save (editors write, rename and chmod)
	// into one reload.
	reloadDebounce = 25 * time.Millisecond
	// maxPostpone bounds how long files that keep changing while they are read postpone
	// publishing; past it, what was read (every file settled and whole) is published.
	maxPostpone = time.Second
	// ackTimeout bounds the wait for Envoy to acknowledge a published version.
	ackTimeout = 30 * time.Second
	// returnMemoryAfter: after reloads that decoded or dropped more than this many bytes
	// of files, the memory they no longer need goes back to the operating system.
	returnMemoryAfter = 16 << 20
)

// Server serves the files under some paths through a data plane and keeps serving them as
// they change: the reload policy of `gatebridge run`, shared with the end-to-end tests.
//
//   - A reload decodes only the files that changed and converts only the Ingresses tied to
//     them (Reloader). When only files of EndpointSlices and Endpoints changed, only
//     endpoints are re-resolved and published — unless routes depend on which Services
//     have ready endpoints (a default backend), then everything is translated again.
//   - Nothing that fails replaces what is served: a file that is being written, cannot be
//     read or does not decode keeps its last good version (sources.Reader); a reload that
//     cannot read the paths or publish keeps the last good configuration.
//   - A reload is served once Envoy acknowledged it (WaitApplied).
//   - Writes settle before they are served (Watch): file events are batched for
//     reloadDebounce, each file is read until it did not change while it was read, and
//     when files change again while a reload reads them, nothing is published: they are
//     read again after the debounce (for at most maxPostpone, then what was read is
//     published).
//   - After reloads that decoded or dropped more than 16 MiB of files, memory goes back to
//     the operating system, so that removing a large file shrinks the process.
type Server struct {
	paths    []string
	reloader *Reloader
	pub      *Publisher
	// served: a reload was published.
	served bool
	// churn: the bytes decoded or dropped by reloads since memory last went back.
	churn int64
}

// Applied is what one reload did.
type Applied struct {
	// First: the first reload, which starts serving.
	First bool
	// Reload is what was read and built; nil when reading failed.
	Reload *Reload
	// Output is the translation published; nil when only endpoints were published, or
	// nothing was.
	Output *dataplane.Output
	// Version is the version published ("" when nothing was).
	Version string
	// Postponed: files changed again while they were read; nothing was published, they are
	// read again after the debounce.
	Postponed bool
}

// NewServer serves the files under paths (files or directories), read with read and
// converted with opts, through dp.
func NewServer(paths []string, read sources.Options, opts converters.Options, dp DataPlane) *Server {
	return NewBridgedServer(paths, read, opts, nil, dp)
}

// NewBridgedServer is NewServer with the Gateway in front of ingress-nginx when bridge is
// not nil: `gatebridge run --fallback` (BuildBridged, NewBridgedReloader).
func NewBridgedServer(paths []string, read sources.Options, opts converters.Options, bridge *dataplane.Bridge, dp DataPlane) *Server {
	return &Server{paths: paths, reloader: NewBridgedReloader(paths, read, opts, bridge), pub: NewPublisher(dp)}
}

// Reload reads the files and serves what they hold now. On an error, the last good
// configuration is still served; the Applied says how far the reload got.
func (s *Server) Reload(ctx context.Context) (*Applied, error) {
	return s.reload(ctx, nil)
}

// reload is Reload; when changedSince reports that files changed while they were read,
// nothing is published.
func (s *Server) reload(ctx context.Context, changedSince func() bool) (*Applied, error) {
	a := &Applied{First: !s.served}
	rl, err := s.reloader.Next()
	if err != nil {
		return a, fmt.Errorf("reading the files: %w", err)
	}
	a.Reload = rl
	s.churn += rl.ChurnBytes
	if changedSince != nil && changedSince() {
		a.Postponed = true
		return a, nil
	}
	pub, err := s.pub.Publish(rl.Snapshot())
	if err != nil {
		return a, err
	}
	a.Output, a.Version = pub.Output, pub.Version
	s.reloader.Served()
	s.served = true
	if s.churn > returnMemoryAfter {
		// What the reload replaced (decoded files, the previous model and translation) is
		// garbage now; without this the heap would stay at its peak until the runtime's
		// scavenger returns it, minutes later.
		debug.FreeOSMemory()
		s.churn = 0
	}
	return a, s.pub.WaitApplied(ctx, a.Version)
}
