package dataplane

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// DefaultControllerName is the GatewayClass controllerName gatebridge serves.
const DefaultControllerName = "gatebridge.dev/gateway-controller"

// AuthzClusterName is the Envoy cluster that reaches gatebridge's ext_authz service.
const AuthzClusterName = "gatebridge/authz"

// Options say where and how the translated configuration is served.
type Options struct {
	// ControllerName selects the GatewayClasses served (default DefaultControllerName).
	ControllerName string
	// Address returns the IP a Gateway's listeners bind to (default "0.0.0.0"). Each Gateway
	// may have its own address, so many Gateways can use the same ports.
	Address func(gw *gwv1.Gateway) string
	// AddressIssue, when set, says why a Gateway has no address it can be served on (the
	// addresses its spec.addresses asks for cannot be given it): such a Gateway is not
	// served, and the issue (Accepted/UnsupportedAddress or Programmed/AddressNotUsable,
	// Kind/Namespace/Name filled in here) is its status. nil: it has one.
	AddressIssue func(gw *gwv1.Gateway) *Issue
	// ListenersByAddress names Envoy listeners by address and port ("127.0.1.5:80")
	// rather than by Gateway and port: with addresses that pass from one Gateway to
	// another (an address pool), the listener is then updated in place.
	ListenersByAddress bool
	// PortMap maps a Gateway listener port to the port Envoy binds; unmapped ports bind as
	// written. `gatebridge run` maps 80→8080 and 443→8443 so it needs no privileges.
	PortMap map[int32]uint32
	// AuthzAddress is host:port of the ext_authz gRPC service (gatebridge's own, see
	// dataplane/authz) that implements basic and external auth. Empty: routes that need
	// auth answer 503 (fail closed) and a problem says why.
	AuthzAddress string
}

func (o Options) address(gw *gwv1.Gateway) string {
	if o.Address != nil {
		if a := o.Address(gw); a != "" {
			return a
		}
	}
	return "0.0.0.0"
}

func (o Options) envoyPort(p int32) uint32 {
	if v, ok := o.PortMap[p]; ok {
		return v
	}
	return uint32(p)
}

// Output is the result of one translation.
type Output struct {
	// Resources are what Envoy is sent. Route configurations hold their virtual hosts, and
	// load assignments their endpoints, in wire form (wireform.go): they encode to the bytes
	// of the whole messages, and Expanded decodes them for reading.
	Resources *xds.Resources
	// Auth holds the auth policies routes refer to by key (ext_authz context extension).
	Auth map[string]authz.Policy
	// Problems are sorted and deduplicated.
	Problems []Problem
	// Issues are the problems that make a Gateway API status condition false, typed
	// (condition type and reason), sorted and deduplicated; Parents and Listeners say
	// which route attached to which listener (status.go). A controller writes status
	// from these, never from the messages of Problems.
	Issues    []Issue
	Parents   []RouteParentResult
	Listeners []ListenerResult
	// served is what is served, in parts: an HTTPRoute's part is its remembered
	// translation, whose lines are made only when asked — only `gatebridge run` reads
	// them, and there are 20,000 at 10,000 HTTPRoutes.
	served []servedPart
}

// servedPart is lines, or the lines of the translation of an HTTPRoute.
type servedPart struct {
	lines []Served
	route *routeResult
}

// Served lists what is served, for people: one line per host and path. It reads what the
// Translator remembers, so it must not run at the same time as the Translator's next
// translation (which is not safe for concurrent use either).
func (o *Output) Served() []Served {
	var out []Served
	for _, part := range o.served {
		out = append(out, part.lines...)
		if r := part.route; r != nil {
			route := qualified(r.route.Namespace, r.route.Name)
			served := servedMatches(r.entries)
			for _, h := range r.hosts {
				for _, m := range served {
					out = append(out, Served{Listener: r.listener, Host: h, Match: m.match, Action: m.action, Route: route})
				}
			}
		}
	}
	return out
}

// Served is one host + path and where it goes, for `gatebridge run` to print.
type Served struct {
	Listener string `json:"listener"`
	Host     string `json:"host"`
	Match    string `json:"match"`
	Action   string `json:"action"`
	Route    string `json:"route"`
}

// translator holds the state of one translation.
type translator struct {
	model *Model
	opts  Options
	ix    *index
	// effects collects what the translation produces besides route tables. The work for
	// one HTTPRoute runs against a fresh effects value so that it can be remembered and
	// replayed (see memo.go).
	effects
	memo *memo
	// unserved are the listeners left out of Envoy's configuration (status.go).
	unserved map[*listenerInfo]bool
	// clientCerts are the client-certificate policies by Gateway and hostname (clientcert.go).
	clientCerts map[string]*clientCertHost
	// servedParts are the served lines so far, in parts (Output.served); the last lines
	// are in effects.served.
	servedParts []servedPart
	// gatewaySuites are gatewayCipherSuites by Gateway, once worked out.
	gatewaySuites map[string][]string
}

// effects is what translating part of the model adds to the output.
type effects struct {
	problems []Problem
	issues   []Issue
	clusters map[string]*xds.EncodedCluster
	// loadAssignments are keyed by EDS service name (namespace/service/port).
	loadAssignments map[string]*endpointv3.ClusterLoadAssignment
	secrets         map[string]*tlsv3.Secret
	auth            map[string]authz.Policy
	served          []Served
	needAuthz       bool
	// exemptClients: some route limits requests with exempt client ranges (limit-allowlist),
	// so its port group needs the filter that tells them apart (filterRateLimitExempt).
	exemptClients bool
	// errorBackends are the default backend clusters that error pages redirect to. They
	// are not merged: routeTables reads them from each HTTPRoute's result, since each port
	// group serves the error-page routes of its own HTTPRoutes.
	errorBackends []string
}

func newEffects() effects { return newEffectsSized(effectsSize{}) }

// effectsSize is how many resources of each kind, and served parts, to make room for.
type effectsSize struct{ clusters, loadAssignments, servedParts int }

func newEffectsSized(n effectsSize) effects { return newEffectsReusing(n, spareMaps{}) }

// newEffectsReusing is newEffectsSized with the cluster and load assignment maps of spare,
// emptied, when it has them.
func newEffectsReusing(n effectsSize, spare spareMaps) effects {
	return effects{
		clusters:        recycled(spare.clusters, n.clusters),
		loadAssignments: recycled(spare.loadAssignments, n.loadAssignments),
		secrets:         map[string]*tlsv3.Secret{},
		auth:            map[string]authz.Policy{},
	}
}

// mergeRoute adds the effects of one HTTPRoute's translation to t's, but its clusters and
// load assignments, which routeTables counts (shared.go). Resources already present by name
// are kept: equal names come from equal inputs, so their content is the same.
func (t *translator) mergeRoute(r *routeResult) {
	t.servedPart(r)
	// Its clusters and load assignments are counted instead (routeResources.count).
	if e := r.rare; e != nil {
		t.problems = append(t.problems, e.problems...)
		t.issues = append(t.issues, e.issues...)
		t.needAuthz = t.needAuthz || e.needAuthz
		t.exemptClients = t.exemptClients || e.exemptClients
		addMissing(t.secrets, e.secrets)
		addMissing(t.auth, e.auth)
	}
}

// servedPart adds the lines of r (nil: none) to the served lines, after those t.served
// holds.
func (t *translator) servedPart(r *routeResult) {
	if len(t.served) > 0 {
		t.servedParts = append(t.servedParts, servedPart{lines: t.served})
		t.served = nil
	}
	if r != nil && len(r.entries) > 0 && len(r.hosts) > 0 {
		t.servedParts = append(t.servedParts, servedPart{route: r})
	}
}

func addMissing[T any](dst map[string]T, src []named[T]) {
	for _, kv := range src {
		if _, ok := dst[kv.name]; !ok {
			dst[kv.name] = kv.value
		}
	}
}

// Translate turns the model into Envoy resources. It never fails: what cannot be served
// becomes a Problem and is left out (or answers an error status, as the Gateway API says),
// and everything else is still served.
//
// Translate starts from nothing; a Translator remembers the previous translation and
// redoes only what changed.
func Translate(m *Model, opts Options) *Output {
	return NewTranslator(opts).Translate(m)
}

// Translator translates successive versions of a model. Its output is exactly what
// Translate returns for the same model, but HTTPRoutes that did not change since the
// previous call are not translated again, and unchanged Envoy resources are the very same
// protos as before, so that xds.Publish need not validate and hash them again. Everything
// is translated afresh when anything besides HTTPRoutes changed (Gateways, Gateway-level
// policies, Services, endpoints, …); a TrafficPolicy that targets HTTPRoutes only makes
// only those routes translated again (see memo). A Translator is not safe for concurrent use, and the protos and
// the Parents it returns must not be modified (the next translation reuses them).
type Translator struct {
	opts Options
	memo *memo
}

// NewTranslator returns a Translator with the given options.
func NewTranslator(opts Options) *Translator {
	if opts.ControllerName == "" {
		opts.ControllerName = DefaultControllerName
	}
	return &Translator{opts: opts}
}

// Fresh reports that the next Translate starts from nothing: no previous translation to
// reuse, so everything is built (the burst of a serving process's startup).
func (x *Translator) Fresh() bool { return x.memo == nil }

// Translate translates m; see Translate and Translator.
func (x *Translator) Translate(m *Model) *Output {
	m = withGRPCRoutes(m) // served as the HTTPRoutes they amount to (grpcroute.go)
	x.memo = x.memo.next(m)
	t := &translator{
		model:   m,
		opts:    x.opts,
		ix:      x.memo.ix,
		effects: newEffectsReusing(x.memo.size, x.memo.spare),
		memo:    x.memo,
		// As many parts as last time: one per HTTPRoute, 10,000 not appended by doubling.
		servedParts: make([]servedPart, 0, x.memo.size.servedParts),
	}
	res := &xds.Resources{}
	var groups []*portGroup
	// every listener of our Gateways, served or not, for the status results.
	var every []*listenerInfo
	gateways := ourGateways(m, t.opts.ControllerName)
	bridgedFound := false
	for _, gw := range gateways {
		ls := t.collectListeners(gw)
		every = append(every, ls...)
		t.collectClientCerts(gw, ls)
		if t.unaddressed(gw, ls) {
			continue
		}
		gs := t.groupByPort(ls)
		if t.bridgedGateway(gw) {
			bridgedFound = true
			gs = t.bridgePorts(gw, gs)
		}
		groups = append(groups, gs...)
	}
	if b := m.Bridge; b != nil && !bridgedFound {
		t.problem("Gateway", b.GatewayNamespace, b.GatewayName, "", "the bridged Gateway does not exist (or is not of a gatebridge GatewayClass); nothing goes to the fallback")
	}
	groups = t.dropAddressClashes(groups)
	httpRoutes := x.memo.oldestHTTPRoutes(m.HTTPRoutes)
	tlsRoutes := oldestFirst(m.TLSRoutes)
	for _, g := range groups {
		// The bridged Gateway's plain ports serve the fallback even without listeners.
		hasHTTP := g.hasHTTP() || (!g.tls && t.bridged(g))
		if hasHTTP {
			t.exemptClients = false
			tables := t.routeTables(g, httpRoutes)
			g.exemptClients = t.exemptClients
			res.Routes = append(res.Routes, tables.routes...)
			res.ScopedRoutes = append(res.ScopedRoutes, tables.scopes...)
		}
		if l := t.listener(g, tlsRoutes, hasHTTP); l != nil {
			res.Listeners = append(res.Listeners, l)
		}
	}
	if bridgedFound {
		t.bridgeClusters()
	}
	if t.needAuthz && t.opts.AuthzAddress != "" {
		t.clusters[AuthzClusterName] = xds.EncodeCluster(authzCluster(t.opts.AuthzAddress))
	}
	res.EncodedClusters, res.Endpoints = x.memo.clustersAndLoadAssignments(t.clusters, t.loadAssignments)
	res.Secrets = sortedValues(t.secrets, nil, func(s *tlsv3.Secret) string { return s.Name }, nil)
	// A listener is rebuilt on every translation; one with the previous content is handed
	// over as the previous proto (xds.Publish then neither validates nor hashes it).
	for i, l := range res.Listeners {
		for _, old := range x.memo.order.listeners {
			if old.Name == l.Name && old != l && proto.Equal(old, l) {
				res.Listeners[i] = old
			}
		}
	}
	x.memo.spare.clusters, x.memo.spare.loadAssignments = t.clusters, t.loadAssignments
	x.memo.order = resourceOrder{clusters: res.EncodedClusters, loadAssignments: res.Endpoints, listeners: res.Listeners}
	t.servedPart(nil)
	x.memo.size = effectsSize{clusters: len(t.clusters), loadAssignments: len(t.loadAssignments), servedParts: len(t.servedParts)}
	out := &Output{Resources: res, Auth: t.auth, Problems: sortProblems(t.problems), Issues: sortIssues(t.issues), served: t.servedParts}
	out.Parents, out.Listeners = t.statusResults(gateways, every, httpRoutes, tlsRoutes)
	return out
}

// unaddressed reports (and records) that gw has no address to be served on: its listeners
// are left out of Envoy's configuration.
func (t *translator) unaddressed(gw *gwv1.Gateway, ls []*listenerInfo) bool {
	if t.opts.AddressIssue == nil {
		return false
	}
	i := t.opts.AddressIssue(gw)
	if i == nil {
		return false
	}
	i.Kind, i.Namespace, i.Name, i.Section = "Gateway", gw.Namespace, gw.Name, ""
	t.problem("Gateway", gw.Namespace, gw.Name, "spec.addresses", i.Message+"; the Gateway is not served")
	t.issue(*i)
	for _, l := range ls {
		t.notServed(l)
	}
	return true
}

// dropAddressClashes keeps the first group (in Gateway name order) per address and port.
func (t *translator) dropAddressClashes(groups []*portGroup) []*portGroup {
	seen := map[string]*portGroup{}
	var out []*portGroup
	for _, g := range groups {
		k := fmt.Sprintf("%s:%d", g.address, g.envoyPort)
		if first, ok := seen[k]; ok {
			msg := fmt.Sprintf("port %d on address %s is already served for Gateway %s; give each Gateway its own address", g.gatewayPort, g.address, qualified(first.gw.Namespace, first.gw.Name))
			t.problem("Gateway", g.gw.Namespace, g.gw.Name, "spec.listeners", msg)
			t.issue(Issue{Kind: "Gateway", Namespace: g.gw.Namespace, Name: g.gw.Name, Condition: ConditionProgrammed, Reason: ReasonAddressNotUsable, Message: msg})
			for _, l := range g.listeners {
				t.notServed(l)
			}
			continue
		}
		seen[k] = g
		out = append(out, g)
	}
	return out
}

func (g *portGroup) hasHTTP() bool {
	for _, l := range g.listeners {
		if l.spec.Protocol == gwv1.HTTPProtocolType || l.spec.Protocol == gwv1.HTTPSProtocolType {
			return true
		}
	}
	return false
}

func (t *translator) problem(kind, ns, name, field, msg string) {
	t.problems = append(t.problems, Problem{Kind: kind, Namespace: ns, Name: name, Field: field, Message: msg})
}

func sortProblems(ps []Problem) []Problem {
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	var out []Problem
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// sortedValues returns the values of m sorted by name. prev is the previous result for
// a map that usually differs little (nil if none): its order is kept for the names still
// in m, and only the new names are sorted and merged in — 10,000 clusters are not sorted
// again for one changed route. A value with the content of prev's under the same name is
// replaced by prev's (same, when not nil, compares content): a re-translated route makes
// new protos for its clusters, and handing xds.Publish the very protos it already has
// spares it validating, hashing and comparing them all for nothing.
func sortedValues[T comparable](m map[string]T, prev []T, name func(T) string, same func(a, b T) bool) []T {
	out := make([]T, 0, len(m))
	if len(prev) == 0 {
		for _, v := range m {
			out = append(out, v)
		}
		slices.SortFunc(out, func(a, b T) int { return strings.Compare(name(a), name(b)) })
		return out
	}
	for _, old := range prev {
		cur, ok := m[name(old)]
		if !ok {
			continue
		}
		if cur != old && same != nil && same(cur, old) {
			cur = old
		}
		out = append(out, cur)
	}
	if len(out) == len(m) {
		return out // no new name: the usual case
	}
	kept := make(map[string]bool, len(out))
	for _, v := range out {
		kept[name(v)] = true
	}
	var added []T
	for n, v := range m {
		if !kept[n] {
			added = append(added, v)
		}
	}
	slices.SortFunc(added, func(a, b T) int { return strings.Compare(name(a), name(b)) })
	merged := make([]T, 0, len(m))
	i, j := 0, 0
	for i < len(out) && j < len(added) {
		if name(added[j]) < name(out[i]) {
			merged, j = append(merged, added[j]), j+1
		} else {
			merged, i = append(merged, out[i]), i+1
		}
	}
	merged = append(merged, out[i:]...)
	return append(merged, added[j:]...)
}

func protoEqual[T proto.Message](a, b T) bool { return proto.Equal(a, b) }

// oldestFirst returns objs sorted the way the Gateway API and ingress-nginx break ties:
// oldest creationTimestamp first, then by namespace/name.
func oldestFirst[T metav1.Object](objs []T) []T {
	// Keys first: the comparison would build namespace/name strings n·log n times.
	type keyed struct {
		created time.Time
		name    string
		obj     T
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		ks[i] = keyed{o.GetCreationTimestamp().Time, qualified(o.GetNamespace(), o.GetName()), o}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if !ks[i].created.Equal(ks[j].created) {
			return ks[i].created.Before(ks[j].created)
		}
		return ks[i].name < ks[j].name
	})
	out := make([]T, len(objs))
	for i := range ks {
		out[i] = ks[i].obj
	}
	return out
}
