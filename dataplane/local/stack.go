package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"google.golang.org/grpc"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
	"github.com/gatebridge-dev/gatebridge/internal/memorypolicy"
)

// Config says how to start the stack.
type Config struct {
	// EnvoyPath is the Envoy binary (see envoy.Find). Required.
	EnvoyPath string
	// Address is the IP the Gateways' listeners bind to (default 127.0.0.1).
	Address string
	// PortMap maps Gateway ports to the ports Envoy binds (e.g. 80→8080, 443→8443).
	PortMap map[int32]uint32
	// AdminPort is Envoy's admin port on 127.0.0.1 (0 = any free port).
	AdminPort int
	// WorkDir holds Envoy's bootstrap and log ("" = a temporary directory).
	WorkDir string
	// EnvoyLogLevel is Envoy's --log-level (default warning).
	EnvoyLogLevel string
	// EnvoyOutput receives Envoy's log (nil = a file in WorkDir).
	EnvoyOutput io.Writer
	// Concurrency is Envoy's worker count (default 2).
	Concurrency int
	Log         logr.Logger
}

// Stack is a running xDS server, auth service and Envoy.
type Stack struct {
	cfg    Config
	opts   dataplane.Options
	xds    *xds.Server
	authz  *authz.Server
	envoy  *envoy.Process
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// translator remembers the previous translation, so Apply redoes only what changed.
	translator *dataplane.Translator
	last       *dataplane.Output
}

// Start starts the servers and Envoy and waits until Envoy's admin endpoint answers. Envoy
// becomes ready (/ready LIVE) after the first Apply.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1"
	}
	if cfg.EnvoyPath == "" {
		return nil, errors.New("local: Config.EnvoyPath is empty")
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Stack{cfg: cfg, cancel: cancel, xds: xds.New(cfg.Log.WithName("xds"), xds.Options{}), authz: authz.NewServer(cfg.Log.WithName("authz"), authz.Options{BcryptCompare: bcryptCompare})}
	xdsLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("listening for xDS: %w", err)
	}
	authzLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		xdsLis.Close()
		return nil, fmt.Errorf("listening for the auth service: %w", err)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.xds.Serve(runCtx, xdsLis); err != nil {
			cfg.Log.Error(err, "xDS server stopped")
		}
	}()
	authzServer := grpc.NewServer()
	s.authz.Register(authzServer)
	go func() {
		defer s.wg.Done()
		go func() { <-runCtx.Done(); authzServer.GracefulStop() }()
		if err := authzServer.Serve(authzLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			cfg.Log.Error(err, "auth service stopped")
		}
	}()
	s.opts = dataplane.Options{
		Address:      func(_ *gwv1.Gateway) string { return cfg.Address },
		PortMap:      cfg.PortMap,
		AuthzAddress: authzLis.Addr().String(),
	}
	s.translator = dataplane.NewTranslator(s.opts)
	boot, err := envoy.Bootstrap(envoy.BootstrapOptions{
		XDSAddress:   xdsLis.Addr().String(),
		AdminAddress: fmt.Sprintf("127.0.0.1:%d", cfg.AdminPort),
		Runtime:      envoy.GatewayRuntime(),
	})
	if err != nil {
		s.Stop(time.Second)
		return nil, fmt.Errorf("building Envoy's bootstrap: %w", err)
	}
	// Envoy lives as long as the stack, not as long as the caller's start-up context.
	_ = ctx
	p, err := envoy.Start(runCtx, envoy.ProcessOptions{
		EnvoyPath:   cfg.EnvoyPath,
		Bootstrap:   boot,
		WorkDir:     cfg.WorkDir,
		LogLevel:    cfg.EnvoyLogLevel,
		Stdout:      cfg.EnvoyOutput,
		Stderr:      cfg.EnvoyOutput,
		Concurrency: cfg.Concurrency,
		Logger:      cfg.Log.WithName("envoy"),
	})
	if err != nil {
		s.Stop(time.Second)
		return nil, err
	}
	s.envoy = p
	return s, nil
}

// Options are the translation options matching this stack (addresses, ports, auth).
func (s *Stack) Options() dataplane.Options { return s.opts }

// Apply translates m and publishes the result. It returns the translation, the version
// published (the current one when nothing changed) and whether anything changed. On a
// validation error the previous configuration keeps being served.
func (s *Stack) Apply(m *dataplane.Model) (*dataplane.Output, string, bool, error) {
	s.mu.Lock()
	if s.translator.Fresh() {
		// Startup: everything is built at once (memorypolicy.DuringBurst), up to the publish.
		defer memorypolicy.DuringBurst()()
	}
	out := s.translator.Translate(m)
	s.mu.Unlock()
	s.resolveServices(m, out.Auth)
	changed, version, err := s.Publish(out)
	return out, version, changed, err
}

// Publish publishes a translation made with Options().
func (s *Stack) Publish(out *dataplane.Output) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Policies first: a route that names a policy must find it once Envoy has the route.
	s.authz.SetPolicies(out.Auth)
	changed, err := s.xds.Publish(out.Resources)
	if err != nil {
		return false, s.xds.Version(), fmt.Errorf("publishing the translation: %w", err)
	}
	s.last = out
	return changed, s.xds.Version(), nil
}

// ApplyEndpoints re-resolves only the endpoints of the last translation against m and
// publishes them: listeners, routes and clusters are neither rebuilt nor re-sent.
func (s *Stack) ApplyEndpoints(m *dataplane.Model) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return "", false, errors.New("no translation published yet")
	}
	s.resolveServices(m, s.last.Auth)
	eps := dataplane.TranslateEndpoints(m, s.last.Resources.Endpoints)
	changed, err := s.xds.PublishEndpoints(eps)
	if err != nil {
		return s.xds.Version(), false, fmt.Errorf("publishing endpoints: %w", err)
	}
	return s.xds.Version(), changed, nil
}

// resolveServices lets the auth service resolve the in-cluster names of auth-url
// (auth.team.svc.cluster.local) through m's Services and EndpointSlices, as backends are:
// there is no cluster DNS here. Models without external auth need no resolver.
func (s *Stack) resolveServices(m *dataplane.Model, policies map[string]authz.Policy) {
	for _, p := range policies {
		if p.External != nil {
			s.authz.SetServiceResolver(dataplane.NewServices(m))
			return
		}
	}
	s.authz.SetServiceResolver(nil)
}

// WaitApplied waits until Envoy has acknowledged version, then until it is ready.
func (s *Stack) WaitApplied(ctx context.Context, version string) error {
	if err := s.xds.WaitForAck(ctx, version); err != nil {
		return fmt.Errorf("waiting for Envoy to apply version %s: %w (Envoy log: %s)", version, err, s.envoy.LogTail())
	}
	return s.envoy.WaitReady(ctx)
}

// XDS is the xDS server (for its statistics).
func (s *Stack) XDS() *xds.Server { return s.xds }

// Envoy is the Envoy process.
func (s *Stack) Envoy() *envoy.Process { return s.envoy }

// AdminURL is Envoy's admin endpoint.
func (s *Stack) AdminURL() string { return s.envoy.AdminURL() }

// Stop stops Envoy (SIGTERM, then SIGKILL after timeout) and then the servers.
func (s *Stack) Stop(timeout time.Duration) error {
	var err error
	if s.envoy != nil {
		err = s.envoy.Stop(timeout)
	}
	s.cancel()
	s.wg.Wait()
	return err
}
