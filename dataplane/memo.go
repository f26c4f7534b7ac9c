package dataplane

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// memo is what a Translator remembers between translations: the translation of each
// HTTPRoute on each port group, and each route table it built. An entry is reused when its
// inputs are unchanged, which makes one changed HTTPRoute among 10,000 cost a few
// milliseconds instead of a full translation.
//
// HTTPRoute results depend on the rest of the model (Gateways, policies, Services,
// endpoints, …) in many ways; rather than track each dependency, the memo is dropped as a
// whole whenever anything besides the HTTPRoutes changed — with one exception, since the
// controller applies a migrated Ingress's TrafficPolicy right after its HTTPRoute: a
// TrafficPolicy that targets HTTPRoutes only (not a Gateway) is read by nothing but the
// translation of those routes (policyFor), so when only such policies changed the memo is
// kept and the routes they target, before or after the change, are translated again.
type memo struct {
	// env is the model translated, without its HTTPRoutes.
	env Model
	ix  *index
	// stale are the HTTPRoutes (namespace/name) whose remembered translation must not be
	// replayed: a TrafficPolicy targeting them changed.
	stale map[string]bool
	// results and tables are what the previous translation left (read); nextResults and
	// nextTables are filled by this one (written), so entries no longer used are dropped.
	// results holds, per port group, the result of each HTTPRoute at its place in the
	// sorted list of HTTPRoutes (routeOrder); byKey indexes them by name when the list is
	// not aligned with the previous one (made on demand: it costs as much as replaying).
	results, nextResults map[string][]*routeResult
	byKey                map[routeKey]*routeResult
	tables, nextTables   map[string]*tableResult
	// errorRoutes are the error-page routes by cluster name (see errorpages.go).
	errorRoutes, nextErrorRoutes map[string]wireRoute
	// refused are the routes of refused locations (refused.go), which depend on nothing
	// but their key.
	refused, nextRefused map[string]*routeEntry
	// fallbackRoutes are the routes that end the bridged Gateway's virtual hosts, by
	// fallback cluster (bridge.go, finalRoute).
	fallbackRoutes, nextFallbackRoutes map[string]wireRoute
	// secretProtos are the SDS resources made of TLS Secrets, by Secret object (nil: the
	// pair does not load). Model objects are never modified, so an object stands for its
	// content whatever else changed.
	secretProtos, nextSecretProtos map[*corev1.Secret]*tlsv3.Secret
	// size is how many clusters and load assignments the last translation
	// had; order is its sorted clusters and load assignments (sortedValues).
	size  effectsSize
	order resourceOrder
	// routeOrder is the last translation's HTTPRoutes as given and sorted (oldestHTTPRoutes).
	routeOrder routeOrder
	// spare are maps of an earlier translation that nothing reads any more, for this one
	// to reuse (recycled).
	spare spareMaps
	// status is what statusResults remembered of the previous translation's HTTPRoutes
	// (nil: judge them all), nextStatus what it remembers of this one's.
	status, nextStatus *statusMemo
	// resources are the clusters and load assignments of the remembered results, counted
	// (shared.go); freshResources: counted from nothing in this translation (the results
	// were not kept), so the output lists are sorted anew rather than patched.
	resources      *routeResources
	freshResources bool
	// gen counts the translations; a result made by this one has its gen.
	gen int
}

// spareMaps are maps a translation may empty and reuse: the clusters and load assignments
// of the last translation (its output holds sorted lists of them, not the maps).
type spareMaps struct {
	clusters        map[string]*xds.EncodedCluster
	loadAssignments map[string]*endpointv3.ClusterLoadAssignment
}

// recycled returns m emptied, or a new map for n entries if m is nil.
func recycled[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}

// routeOrder is a list of HTTPRoutes as given, and sorted oldest first. aligned: sorted is
// the previous sorted list with some routes replaced, at the same places, by objects of
// the same namespace, name and creation time.
type routeOrder struct {
	given, sorted []*gwv1.HTTPRoute
	aligned       bool
}

// oldestHTTPRoutes returns routes sorted as oldestFirst sorts them. When routes differ
// from the last list given only in objects replaced, at the same place, by objects of the
// same namespace, name and creation time (an edited route), the sorted list is the last
// one with the same replacements: 10,000 routes are not sorted again for one change.
func (m *memo) oldestHTTPRoutes(routes []*gwv1.HTTPRoute) []*gwv1.HTTPRoute {
	prev := m.routeOrder
	var sorted []*gwv1.HTTPRoute
	if len(prev.given) == len(routes) && len(routes) > 0 {
		replaced := map[*gwv1.HTTPRoute]*gwv1.HTTPRoute{}
		for i, r := range routes {
			old := prev.given[i]
			if r == old {
				continue
			}
			if r.Namespace != old.Namespace || r.Name != old.Name || !r.CreationTimestamp.Equal(&old.CreationTimestamp) {
				replaced = nil
				break
			}
			replaced[old] = r
		}
		for _, r := range routes {
			if _, ok := replaced[r]; ok {
				replaced = nil // a replaced object is still listed elsewhere too
				break
			}
		}
		if replaced != nil {
			sorted = slices.Clone(prev.sorted)
			for i, r := range sorted {
				if by, ok := replaced[r]; ok {
					sorted[i] = by
				}
			}
		}
	}
	aligned := sorted != nil
	if !aligned {
		sorted = oldestFirst(routes)
	}
	m.routeOrder = routeOrder{given: slices.Clone(routes), sorted: sorted, aligned: aligned}
	return sorted
}

// resourceOrder is the sorted output of a translation, kept to sort the next one cheaply.
type resourceOrder struct {
	clusters        []*xds.EncodedCluster
	loadAssignments []*endpointv3.ClusterLoadAssignment
	listeners       []*listenerv3.Listener
}

// routeKey identifies an HTTPRoute on a port group.
type routeKey struct{ group, namespace, name string }

// routeResult is the translation of one HTTPRoute on one port group.
//
// Besides its routes, it keeps what the translation added to the effects (mergeRoute adds
// it again on every translation that reuses the result): the served lines, the clusters
// and load assignments it made as lists, not maps (iterating small maps 10,000 times costs
// more than the rest of replaying a route), and in rare what few HTTPRoutes add (nil for
// the others: 10,000 results are remembered).
type routeResult struct {
	route   *gwv1.HTTPRoute
	hosts   []string
	entries []*routeEntry
	// listener is the port group's name, for listings (Output.Served).
	listener        string
	clusters        []named[*xds.EncodedCluster]
	loadAssignments []named[*endpointv3.ClusterLoadAssignment]
	rare            *rareEffects
	// gen is the memo's gen of the translation that made the result.
	gen int
}

// rareEffects is what the translation of an HTTPRoute may add besides routes, served
// lines, clusters and load assignments.
type rareEffects struct {
	problems                 []Problem
	issues                   []Issue
	secrets                  []named[*tlsv3.Secret]
	auth                     []named[authz.Policy]
	errorBackends            []string
	needAuthz, exemptClients bool
}

// setEffects keeps e, the effects of translating res's HTTPRoute, in res.
func (res *routeResult) setEffects(e *effects) {
	res.clusters, res.loadAssignments = listOf(e.clusters), listOf(e.loadAssignments)
	if len(e.problems)+len(e.issues)+len(e.secrets)+len(e.auth)+len(e.errorBackends) > 0 || e.needAuthz || e.exemptClients {
		res.rare = &rareEffects{problems: e.problems, issues: e.issues, secrets: listOf(e.secrets), auth: listOf(e.auth),
			errorBackends: e.errorBackends, needAuthz: e.needAuthz, exemptClients: e.exemptClients}
	}
}

// errorBackends are the default backend clusters the HTTPRoute's error pages redirect to.
func (res *routeResult) errorBackends() []string {
	if res.rare == nil {
		return nil
	}
	return res.rare.errorBackends
}

type named[T any] struct {
	name  string
	value T
}

func listOf[T any](m map[string]T) []named[T] {
	out := make([]named[T], 0, len(m))
	for k, v := range m {
		out = append(out, named[T]{k, v})
	}
	return out
}

// tableResult is one route table and what it was built from.
type tableResult struct {
	// key identifies the virtual hosts' own configurations (vhostConfigs.key).
	key    string
	hosts  []string
	routes [][]wireRoute
	table  *routev3.RouteConfiguration
	// scope is the table's scoped route configuration, once made.
	scope *routev3.ScopedRouteConfiguration
	// entries are what a one-host table was made of, in route order (hostTable), and
	// last the route that ends its virtual host.
	entries []*routeEntry
	last    wireRoute
}

// next returns the memo for translating m, keeping prev's entries if m differs from the
// model prev translated only in its HTTPRoutes. prev may be nil.
func (prev *memo) next(m *Model) *memo {
	env := *m
	env.HTTPRoutes = nil
	n := &memo{env: env, nextTables: map[string]*tableResult{}, nextErrorRoutes: map[string]wireRoute{},
		nextSecretProtos: map[*corev1.Secret]*tlsv3.Secret{}, nextRefused: map[string]*routeEntry{}, nextFallbackRoutes: map[string]wireRoute{}}
	if prev != nil {
		// An error-page route depends on nothing but its cluster's name, a secret proto on
		// nothing but its Secret; the order of the last output is a sorting hint whatever
		// changed.
		n.errorRoutes, n.secretProtos, n.order, n.refused = prev.nextErrorRoutes, prev.nextSecretProtos, prev.order, prev.nextRefused
		n.routeOrder = prev.routeOrder
		n.fallbackRoutes = prev.nextFallbackRoutes
		n.spare = prev.spare
	}
	n.nextResults = map[string][]*routeResult{}
	n.resources, n.freshResources = newRouteResources(), true
	if prev != nil {
		n.gen = prev.gen + 1
	}
	if prev != nil && sameEnvironmentButPolicies(&prev.env, &env) {
		if stale, ok := routePolicyChanges(prev.env.TrafficPolicies, env.TrafficPolicies); ok {
			n.ix, n.results, n.tables, n.size = prev.ix, prev.nextResults, prev.nextTables, prev.size
			n.resources, n.freshResources = prev.resources, false
			// Route status depends on the Gateways and listeners, not on policies.
			n.status = prev.nextStatus
			if len(stale) > 0 {
				n.ix = prev.ix.withPolicies(env.TrafficPolicies)
				n.stale = stale
			}
			return n
		}
	}
	n.ix = newIndex(m)
	return n
}

// routePolicyChanges compares two lists of TrafficPolicies. ok: every policy that differs
// (added, removed or edited) targets HTTPRoutes only, and stale names the HTTPRoutes its
// old and new versions target. Not ok when a changed policy targets a Gateway, or when a
// list names a policy twice.
func routePolicyChanges(before, after []*v1alpha1.TrafficPolicy) (stale map[string]bool, ok bool) {
	if sameObjects(before, after) {
		return nil, true
	}
	byName := func(ps []*v1alpha1.TrafficPolicy) (map[string]*v1alpha1.TrafficPolicy, bool) {
		out := make(map[string]*v1alpha1.TrafficPolicy, len(ps))
		for _, p := range ps {
			out[qualified(p.Namespace, p.Name)] = p
		}
		return out, len(out) == len(ps)
	}
	old, okOld := byName(before)
	cur, okNew := byName(after)
	if !okOld || !okNew {
		return nil, false
	}
	stale = map[string]bool{}
	targets := func(p *v1alpha1.TrafficPolicy) bool {
		if p == nil {
			return true
		}
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group != gwv1.GroupName {
				continue // not indexed: affects nothing
			}
			switch ref.Kind {
			case "HTTPRoute":
				stale[qualified(p.Namespace, string(ref.Name))] = true
			case "Gateway":
				return false
			}
		}
		return true
	}
	// routeOnly: o and c are equal, or both target HTTPRoutes only.
	routeOnly := func(o, c *v1alpha1.TrafficPolicy) bool {
		if o == c || (o != nil && c != nil && equality.Semantic.DeepEqual(o, c)) {
			return true
		}
		return targets(o) && targets(c)
	}
	for name, o := range old {
		if !routeOnly(o, cur[name]) {
			return nil, false
		}
	}
	for name, c := range cur {
		if _, ok := old[name]; !ok && !routeOnly(nil, c) {
			return nil, false
		}
	}
	return stale, true
}

// sameEnvironmentButPolicies reports whether two models without HTTPRoutes have equal
// content, their TrafficPolicies aside.
func sameEnvironmentButPolicies(a, b *Model) bool {
	return sameObjects(a.GatewayClasses, b.GatewayClasses) &&
		sameObjects(a.Gateways, b.Gateways) &&
		sameObjects(a.ListenerSets, b.ListenerSets) &&
		sameObjects(a.TLSRoutes, b.TLSRoutes) &&
		sameObjects(a.ReferenceGrants, b.ReferenceGrants) &&
		sameObjects(a.RouteFilters, b.RouteFilters) &&
		sameObjects(a.Services, b.Services) &&
		sameObjects(a.EndpointSlices, b.EndpointSlices) &&
		sameObjects(a.Endpoints, b.Endpoints) &&
		sameObjects(a.Secrets, b.Secrets) &&
		sameObjects(a.BackendTLSPolicies, b.BackendTLSPolicies) &&
		sameObjects(a.ConfigMaps, b.ConfigMaps) &&
		sameObjects(a.Namespaces, b.Namespaces) &&
		sameBridge(a.Bridge, b.Bridge)
}

// sameBridge compares two bridges by content.
func sameBridge(a, b *Bridge) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.GatewayNamespace == b.GatewayNamespace && a.GatewayName == b.GatewayName && a.HTTP == b.HTTP &&
		(a.TLS == b.TLS || (a.TLS != nil && b.TLS != nil && *a.TLS == *b.TLS))
}

// sameObjects compares two object lists element by element: the same pointer (the usual
// case for a model that was edited in place) or equal content.
func sameObjects[T any](a, b []*T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !equality.Semantic.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameRoute reports whether two HTTPRoutes translate the same: everything the translator
// reads is the identity, the creation time (route order), labels, annotations and spec.
func sameRoute(a, b *gwv1.HTTPRoute) bool {
	if a == b {
		return true
	}
	// reflect.DeepEqual rather than equality.Semantic: a spec holds no Quantity or Time,
	// and this runs for every HTTPRoute on every change (a converter makes new objects).
	return a.Name == b.Name && a.Namespace == b.Namespace &&
		a.CreationTimestamp.Equal(&b.CreationTimestamp) &&
		maps.Equal(a.Labels, b.Labels) &&
		maps.Equal(a.Annotations, b.Annotations) &&
		reflect.DeepEqual(a.Spec, b.Spec)
}

// previousResult returns the previous translation's result for r on port group group, r
// being at place order of the sorted HTTPRoutes: the result at the same place when the
// list is aligned with the previous one, else the result of the same name; nil if none.
func (m *memo) previousResult(group string, r *gwv1.HTTPRoute, order int, routes int) *routeResult {
	if prev := m.results[group]; m.routeOrder.aligned && len(prev) == routes {
		return prev[order] // the same namespace and name (oldestHTTPRoutes)
	}
	if m.byKey == nil {
		m.byKey = map[routeKey]*routeResult{}
		for g, results := range m.results {
			for _, res := range results {
				m.byKey[routeKey{g, res.route.Namespace, res.route.Name}] = res
			}
		}
	}
	return m.byKey[routeKey{group, r.Namespace, r.Name}]
}

// httpRoute translates HTTPRoute r for port group g, or replays the previous translation
// if r did not change. order is r's place in creation order, among routes HTTPRoutes.
func (t *translator) httpRoute(g *portGroup, groupName string, r *gwv1.HTTPRoute, order, routes int) *routeResult {
	res := t.memo.previousResult(groupName, r, order, routes)
	switch {
	case res == nil || !sameRoute(res.route, r) || (len(t.memo.stale) > 0 && t.memo.stale[qualified(r.Namespace, r.Name)]):
		res = t.translateHTTPRoute(g, r)
	case res.route != r:
		// Equal but another object: remember this one, so that the next translation of
		// the same model finds the same pointer and need not compare the content again.
		res.route = r
	}
	// All entries of a result have the same order: written only when it moved (writing
	// 20,000 entries on every translation costs more than the check).
	if len(res.entries) > 0 && res.entries[0].routeOrder != int32(order) {
		for _, e := range res.entries {
			e.routeOrder = int32(order)
		}
	}
	t.mergeRoute(res)
	return res
}

// translateHTTPRoute translates r for g, collecting its effects separately.
func (t *translator) translateHTTPRoute(g *portGroup, r *gwv1.HTTPRoute) *routeResult {
	outer := t.effects
	t.effects = newEffects()
	res := &routeResult{route: r, hosts: t.attachedHostnames(g, r), gen: t.memo.gen}
	if len(res.hosts) > 0 {
		res.entries = t.encodeEntries(r, t.bridgeRouteEntries(g, r, t.httpRouteEntries(g, r, t.policyFor(g.gw, r))))
		res.listener = g.name()
		t.keepServedActions(res.entries)
		// Nothing reads the routes' protos from here on: only their encodings are kept.
		for _, e := range res.entries {
			e.route = nil
		}
	}
	res.setEffects(&t.effects)
	t.effects = outer
	return res
}

// encodeEntries encodes the complete entries of HTTPRoute r (wireform.go). An entry that
// does not encode (a string that is not valid UTF-8, which Envoy would refuse with the
// whole table) is left out, with a problem.
func (t *translator) encodeEntries(r *gwv1.HTTPRoute, entries []*routeEntry) []*routeEntry {
	out := entries[:0]
	for _, e := range entries {
		b, why := encodeRouteWhy(e.route)
		if why != "" {
			t.problem("HTTPRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[%d].matches[%d]", e.rule, e.match), why+"; this match is not served")
			continue
		}
		e.wire = b
		out = append(out, e)
	}
	return out
}

// table returns the route table name holding vhosts (one per host, its routes in order),
// the previous one if it has exactly the same hosts and route protos.
// Each virtual host gets the per-filter defaults, and its own vhostConfigs when it has some.
func (t *translator) table(name string, base func() *routev3.RouteConfiguration, defaults map[string]*anypb.Any, own vhostConfigs, hosts []string, routes [][]wireRoute) *routev3.RouteConfiguration {
	return t.cachedTable(name, own.key, hosts, routes, func() *routev3.RouteConfiguration {
		rc := base()
		rc.Name = name
		for i, h := range hosts {
			vh := &routev3.VirtualHost{Name: h, Domains: []string{h}, TypedPerFilterConfig: own.merged(h, defaults)}
			rc.VirtualHosts = append(rc.VirtualHosts, virtualHostInWireForm(vh, routes[i]))
		}
		return rc
	})
}

// cachedTable returns the previous table called name if it was built from the same hosts,
// route protos and virtual-host configurations (key), else the one build makes; either is
// remembered for the next call.
func (t *translator) cachedTable(name, key string, hosts []string, routes [][]wireRoute, build func() *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	if prev, ok := t.memo.tables[name]; ok && prev.key == key && slices.Equal(prev.hosts, hosts) &&
		slices.EqualFunc(prev.routes, routes, func(a, b []wireRoute) bool { return slices.EqualFunc(a, b, sameWire) }) {
		t.memo.nextTables[name] = prev
		return prev.table
	}
	rc := build()
	t.memo.nextTables[name] = &tableResult{key: key, hosts: hosts, routes: routes, table: rc}
	return rc
}
