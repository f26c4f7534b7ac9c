package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/go-logr/logr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
	"github.com/gatebridge-dev/gatebridge/internal/memorypolicy"
)

// The controller's data plane: every replica serves xDS (and the ext_authz service that
// basic and external auth need) from its own translation of what its informers hold.
//
// Envoys do not all get the same configuration: each says in its node metadata where it
// binds the Gateway's ports (envoy.NodeMetadataPortMap; a laptop Envoy binds port 80 as
// 8080), and reaches the auth service at its own address. Envoys that agree on both form a
// group, with its own translator and xds.Server (its own snapshot and ACK accounting); one
// gRPC port serves every group, handing each stream to its group's server by the node of
// its first request. A reference group (no port map, the configured auth address) is
// always translated, Envoys or not: status is written from its translation, which is what
// every group's is but for ports and the auth address.
//
// Plane implements pipeline.DataPlane: Apply and ApplyEndpoints translate for every group
// and publish, and return a plane version (a counter); WaitApplied waits until every
// connected Envoy, whatever its group, acknowledged its group's snapshot of that version.

// PlaneOptions configure a Plane.
type PlaneOptions struct {
	// XDSAddress and AuthzAddress are where the xDS and ext_authz gRPC servers listen
	// ("host:port"); AuthzAddress "" runs no auth service (routes that need it answer 503).
	XDSAddress, AuthzAddress string
	// AdvertisedAuthzAddress is host:port Envoys reach the auth service at (the controller
	// Service's name in a cluster). "": the address each Envoy reached the xDS server at,
	// with the auth service's port.
	AdvertisedAuthzAddress string
	// ControllerName is the GatewayClass controllerName served (default
	// dataplane.DefaultControllerName).
	ControllerName string
	// Pool, when set, gives each Gateway of our classes its own address, which Envoy
	// binds its listener ports on (addresspool.go).
	Pool *AddressPool
	Log  logr.Logger
}

// Plane is the multi-group xDS server and the auth service of one controller replica.
type Plane struct {
	opts  PlaneOptions
	log   logr.Logger
	authz *authz.Server

	// runCtx ends the groups' streams when the plane stops (set by Start).
	runCtx context.Context
	// authzPort is the port the auth service listens on (0: none).
	authzPort string

	mu sync.Mutex
	// groups by key; reference is groups[""] and never removed.
	groups    map[string]*group
	reference *group
	// model is the last model applied (nil before the first), for groups that form later.
	model *dataplane.Model
	// addresses are the Gateways' pool addresses for model (with PlaneOptions.Pool).
	addresses AddressAllocation
	// version counts Apply and ApplyEndpoints calls that published.
	version uint64
	// changed is closed and replaced when streams come or go.
	changed chan struct{}
	// retiredNACKs are the NACKs counted by groups since removed (for the metric).
	retiredNACKs uint64
}

// group is the Envoys that share a port map and an auth address.
type group struct {
	key        string
	meta       groupMeta
	translator *dataplane.Translator
	xds        *xds.Server
	handler    discoveryv3.AggregatedDiscoveryServiceServer
	// last is the last translation published (nil before the first).
	last *dataplane.Output
	// streams are the open ADS streams; idleSince when the last one closed.
	streams   int
	idleSince time.Time
	// versions maps plane versions to the group's xDS version, oldest first.
	versions []versionAt
}

type groupMeta struct {
	portMap map[int32]uint32
	authz   string
}

type versionAt struct {
	plane uint64
	xds   string
}

// How long a group without Envoys is kept (its translator's memory saves a full
// translation when an Envoy of the group reconnects), and how many plane versions a
// group remembers.
const (
	idleGroupTTL   = 10 * time.Minute
	versionHistory = 256
)

// NewPlane returns a plane; Start serves it.
func NewPlane(o PlaneOptions) *Plane {
	if o.ControllerName == "" {
		o.ControllerName = dataplane.DefaultControllerName
	}
	p := &Plane{
		opts:    o,
		log:     o.Log,
		authz:   authz.NewServer(o.Log.WithName("authz"), authz.Options{}),
		groups:  map[string]*group{},
		changed: make(chan struct{}),
		runCtx:  context.Background(),
	}
	p.reference = p.newGroupLocked(groupMeta{authz: o.AdvertisedAuthzAddress})
	p.reference.key = ""
	p.groups[""] = p.reference
	return p
}

func (m groupMeta) key() string {
	from := make([]int32, 0, len(m.portMap))
	for k := range m.portMap {
		from = append(from, k)
	}
	slices.Sort(from)
	s := ""
	for _, k := range from {
		s += fmt.Sprintf("%d=%d,", k, m.portMap[k])
	}
	return s + "authz=" + m.authz
}

func (p *Plane) newGroupLocked(m groupMeta) *group {
	opts := dataplane.Options{
		ControllerName: p.opts.ControllerName,
		PortMap:        m.portMap,
		AuthzAddress:   m.authz,
	}
	if p.opts.Pool != nil {
		opts.ListenersByAddress = true
		// Translations run under p.mu, as does every change of p.addresses.
		opts.Address = func(gw *gwv1.Gateway) string { return p.addresses[client.ObjectKeyFromObject(gw)].Address }
		opts.AddressIssue = func(gw *gwv1.Gateway) *dataplane.Issue {
			if i := p.addresses[client.ObjectKeyFromObject(gw)].Issue; i != nil {
				c := *i
				return &c
			}
			return nil
		}
	}
	return &group{
		key:        m.key(),
		meta:       m,
		translator: dataplane.NewTranslator(opts),
		xds:        xds.New(p.log.WithName("xds"), xds.Options{}),
	}
}

// NeedLeaderElection: every replica serves Envoy.
func (p *Plane) NeedLeaderElection() bool { return false }

// Start serves xDS and the auth service until ctx ends (a manager runnable). Envoys keep
// their configuration when the streams end and reconnect to another replica, or to this
// one once it is back.
func (p *Plane) Start(ctx context.Context) error {
	xdsLis, err := net.Listen("tcp", p.opts.XDSAddress)
	if err != nil {
		return fmt.Errorf("listening for xDS on %s: %w", p.opts.XDSAddress, err)
	}
	var authzLis net.Listener
	if p.opts.AuthzAddress != "" {
		if authzLis, err = net.Listen("tcp", p.opts.AuthzAddress); err != nil {
			xdsLis.Close()
			return fmt.Errorf("listening for the auth service on %s: %w", p.opts.AuthzAddress, err)
		}
		_, p.authzPort, _ = net.SplitHostPort(authzLis.Addr().String())
	}
	p.mu.Lock()
	p.runCtx = ctx
	p.mu.Unlock()
	registerPlane(p)
	defer retirePlane(p)
	xdsServer := grpc.NewServer(p.reference.xds.ServerOptions()...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(xdsServer, p)
	var authzServer *grpc.Server
	errs := make(chan error, 2)
	go func() { errs <- serveGRPC(xdsServer, xdsLis, "xDS") }()
	p.log.Info("serving xDS", "address", xdsLis.Addr().String())
	if authzLis != nil {
		authzServer = grpc.NewServer()
		p.authz.Register(authzServer)
		go func() { errs <- serveGRPC(authzServer, authzLis, "the auth service") }()
		p.log.Info("serving the auth service", "address", authzLis.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	stopGracefully(xdsServer, 5*time.Second)
	if authzServer != nil {
		stopGracefully(authzServer, 5*time.Second)
	}
	return err
}

func serveGRPC(s *grpc.Server, lis net.Listener, what string) error {
	if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serving %s on %s: %w", what, lis.Addr(), err)
	}
	return nil
}

// stopGracefully lets RPCs end (the xDS handlers end their streams once the run context
// is done), then closes what is left after timeout.
func stopGracefully(s *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Stop()
		<-done
	}
}

// StreamAggregatedResources hands a state-of-the-world ADS stream to its group's server.
func (p *Plane) StreamAggregatedResources(stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	g, err := p.join(stream.Context(), first.GetNode())
	if err != nil {
		return err
	}
	defer p.leave(g)
	return g.handler.StreamAggregatedResources(&replayFirst[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]{BidiStreamingServer: stream, first: first})
}

// DeltaAggregatedResources hands a delta ADS stream to its group's server.
func (p *Plane) DeltaAggregatedResources(stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	g, err := p.join(stream.Context(), first.GetNode())
	if err != nil {
		return err
	}
	defer p.leave(g)
	return g.handler.DeltaAggregatedResources(&replayFirst[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]{BidiStreamingServer: stream, first: first})
}

// replayFirst is a stream whose first request, already read to choose the group, is read
// again by the group's server.
type replayFirst[Req, Resp any] struct {
	grpc.BidiStreamingServer[Req, Resp]
	first *Req
}

func (r *replayFirst[Req, Resp]) Recv() (*Req, error) {
	if f := r.first; f != nil {
		r.first = nil
		return f, nil
	}
	return r.BidiStreamingServer.Recv()
}

// join finds (or forms) the group of an Envoy from its node and the connection it came
// on, and counts the stream in it. A new group is translated and published at once.
func (p *Plane) join(ctx context.Context, node *corev3.Node) (*group, error) {
	portMap, err := envoy.PortMapFromNode(node)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	m := groupMeta{portMap: portMap, authz: p.authzAddressFor(ctx)}
	key := m.key()
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.groups[key]
	if g == nil {
		g = p.newGroupLocked(m)
		p.groups[key] = g
		p.log.Info("serving a new group of Envoys", "node", node.GetId(), "portMap", portMap, "authz", m.authz)
		if p.model != nil {
			if err := p.applyGroupLocked(g, p.model); err != nil {
				p.log.Error(err, "publishing for a new group of Envoys", "node", node.GetId())
			}
		}
	}
	if g.handler == nil {
		g.handler = g.xds.Handler(p.runCtx)
	}
	g.streams++
	connectedEnvoys.Inc()
	p.notifyLocked()
	return g, nil
}

func (p *Plane) leave(g *group) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g.streams--
	if g.streams == 0 {
		g.idleSince = time.Now()
	}
	connectedEnvoys.Dec()
	p.notifyLocked()
}

// authzAddressFor is the auth service's address for an Envoy connected on ctx's stream:
// the advertised one, else the address the Envoy reached this replica at.
func (p *Plane) authzAddressFor(ctx context.Context) string {
	if p.opts.AdvertisedAuthzAddress != "" || p.authzPort == "" {
		return p.opts.AdvertisedAuthzAddress
	}
	if pr, ok := peer.FromContext(ctx); ok && pr.LocalAddr != nil {
		if host, _, err := net.SplitHostPort(pr.LocalAddr.String()); err == nil {
			return net.JoinHostPort(host, p.authzPort)
		}
	}
	return ""
}

func (p *Plane) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Apply translates m for every group and publishes it. The Output returned is the
// reference group's (for status and logs); the version is the plane's.
func (p *Plane) Apply(m *dataplane.Model) (*dataplane.Output, string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pruneLocked()
	p.model = m
	if p.opts.Pool != nil {
		p.addresses = p.opts.Pool.Allocate(poolGateways(m, p.opts.ControllerName))
	}
	changed := false
	var errs []error
	for _, g := range p.publishOrderLocked() {
		before := g.xds.Version()
		if err := p.applyGroupLocked(g, m); err != nil {
			errs = append(errs, fmt.Errorf("group %q: %w", g.key, err))
			continue
		}
		if g.xds.Version() != before {
			changed = true
			xdsPushes.WithLabelValues("full").Inc()
		}
	}
	p.setPoliciesLocked()
	if len(errs) > 0 {
		return p.reference.last, "", false, errors.Join(errs...)
	}
	return p.reference.last, p.recordVersionLocked(), changed, nil
}

// applyGroupLocked translates m for g and publishes it.
func (p *Plane) applyGroupLocked(g *group, m *dataplane.Model) error {
	if g.translator.Fresh() {
		// A new group (startup, or its first Gateway) is built at once
		// (memorypolicy.DuringBurst), up to the publish.
		defer memorypolicy.DuringBurst()()
	}
	out := g.translator.Translate(m)
	if _, err := g.xds.Publish(out.Resources); err != nil {
		return err
	}
	g.last = out
	return nil
}

// ApplyEndpoints re-resolves the endpoints of every group's last translation against m.
func (p *Plane) ApplyEndpoints(m *dataplane.Model) (string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.model == nil {
		return "", false, errors.New("no translation published yet")
	}
	p.model = m
	changed := false
	var errs []error
	for _, g := range p.publishOrderLocked() {
		if g.last == nil {
			if err := p.applyGroupLocked(g, m); err != nil {
				errs = append(errs, fmt.Errorf("group %q: %w", g.key, err))
			}
			continue
		}
		eps := dataplane.TranslateEndpoints(m, g.last.Resources.Endpoints)
		published, err := g.xds.PublishEndpoints(eps)
		if err != nil {
			errs = append(errs, fmt.Errorf("group %q: %w", g.key, err))
			continue
		}
		if published {
			changed = true
			xdsPushes.WithLabelValues("endpoints").Inc()
		}
	}
	if len(errs) > 0 {
		return "", false, errors.Join(errs...)
	}
	return p.recordVersionLocked(), changed, nil
}

// groupsLocked returns the groups, the reference first, then by key.
func (p *Plane) groupsLocked() []*group {
	out := []*group{p.reference}
	keys := make([]string, 0, len(p.groups))
	for k := range p.groups {
		if k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, p.groups[k])
	}
	return out
}

// publishOrderLocked returns the groups in the order a change is published to them: the
// groups with Envoys connected first, so that they do not wait for the translation of the
// reference group (status) or of idle groups.
func (p *Plane) publishOrderLocked() []*group {
	all := p.groupsLocked()
	out := make([]*group, 0, len(all))
	for _, g := range all {
		if g.streams > 0 {
			out = append(out, g)
		}
	}
	for _, g := range all {
		if g.streams == 0 {
			out = append(out, g)
		}
	}
	return out
}

// setPoliciesLocked gives the auth service the policies of every group's translation: a
// group still on an older translation keeps finding the policies its routes name.
func (p *Plane) setPoliciesLocked() {
	all := map[string]authz.Policy{}
	for _, g := range p.groupsLocked() {
		if g.last == nil {
			continue
		}
		for k, v := range g.last.Auth {
			if _, ok := all[k]; !ok {
				all[k] = v
			}
		}
	}
	p.authz.SetPolicies(all)
}

// recordVersionLocked starts a new plane version and records each group's xDS version in it.
func (p *Plane) recordVersionLocked() string {
	p.version++
	for _, g := range p.groups {
		if v := g.xds.Version(); v != "" {
			g.versions = append(g.versions, versionAt{p.version, v})
			if len(g.versions) > versionHistory {
				g.versions = slices.Delete(g.versions, 0, len(g.versions)-versionHistory)
			}
		}
	}
	return strconv.FormatUint(p.version, 10)
}

// pruneLocked removes groups without Envoys for longer than idleGroupTTL.
func (p *Plane) pruneLocked() {
	for k, g := range p.groups {
		if g != p.reference && g.streams == 0 && !g.idleSince.IsZero() && time.Since(g.idleSince) > idleGroupTTL {
			p.retiredNACKs += g.xds.Stats().NACKs
			delete(p.groups, k)
		}
	}
}

// xdsVersionFor is the xDS version of g that holds plane version v: the one recorded at v
// or before; for a group formed after v, its first (made from a model at least as new).
func (g *group) xdsVersionFor(v uint64) string {
	for i := len(g.versions) - 1; i >= 0; i-- {
		if g.versions[i].plane <= v {
			return g.versions[i].xds
		}
	}
	if len(g.versions) > 0 {
		return g.versions[0].xds
	}
	return g.xds.Version()
}

// AckState says, without waiting, whether every connected Envoy acknowledged plane version
// v (done), what is still awaited, or which Envoy rejected it (err: a NACK).
func (p *Plane) AckState(version string) (done bool, waitingFor string, err error) {
	v, perr := strconv.ParseUint(version, 10, 64)
	if perr != nil || v == 0 {
		return false, "", fmt.Errorf("%q is not a version of the controller's data plane", version)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if v > p.version {
		return false, "version " + version + " to be published", nil
	}
	// Every group is asked: a NACK in one is reported even while another still waits.
	envoys := 0
	waitingFor = ""
	for _, g := range p.groupsLocked() {
		if g.streams == 0 {
			continue
		}
		envoys++
		xv := g.xdsVersionFor(v)
		if xv == "" {
			waitingFor = fmt.Sprintf("a configuration for the Envoys of group %q", g.key)
			continue
		}
		ok, waiting, err := g.xds.AckState(xv)
		if err != nil {
			return false, "", err
		}
		if !ok && waitingFor == "" {
			waitingFor = waiting
		}
	}
	if envoys == 0 {
		return false, "an Envoy to connect", nil
	}
	return waitingFor == "", waitingFor, nil
}

// changes are channels closed at the next change of what AckState reports.
func (p *Plane) changes() []<-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []<-chan struct{}{p.changed}
	for _, g := range p.groups {
		out = append(out, g.xds.Changes())
	}
	return out
}

// WaitChange blocks until something AckState reports may have changed, extra is closed
// or ctx ends.
func (p *Plane) WaitChange(ctx context.Context, extra <-chan struct{}) {
	chans := p.changes()
	cases := make([]reflect.SelectCase, 0, len(chans)+2)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	if extra != nil {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(extra)})
	}
	for _, c := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
	}
	reflect.Select(cases)
}

// WaitApplied waits until every connected Envoy acknowledged version (an Envoy must be
// connected), or one rejected it.
func (p *Plane) WaitApplied(ctx context.Context, version string) error {
	for {
		done, waiting, err := p.AckState(version)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("still waiting for %s: %w", waiting, ctx.Err())
		}
		p.WaitChange(ctx, nil)
	}
}

// Envoys is the number of ADS streams open.
func (p *Plane) Envoys() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, g := range p.groups {
		n += g.streams
	}
	return n
}

// NACKs counts the responses Envoys rejected, over every group since the plane started.
func (p *Plane) NACKs() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.retiredNACKs
	for _, g := range p.groups {
		n += g.xds.Stats().NACKs
	}
	return n
}
