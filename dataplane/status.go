package dataplane

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Status results: what a controller needs to write Gateway API status that is true to what
// the translation serves, typed so that it never reads the messages of Problems. Issues say
// which condition a problem makes false and why (the Gateway API's reasons); Parents say,
// for every parentRef of a route that names one of our Gateways (or a ListenerSet of one),
// whether the route attached and to which listeners; Listeners say, for every listener of
// our Gateways and their ListenerSets, whether it is served and how many routes attached.

// Condition types and reasons of Issues: the Gateway API's names.
const (
	ConditionAccepted     = string(gwv1.RouteConditionAccepted)
	ConditionResolvedRefs = string(gwv1.RouteConditionResolvedRefs)
	ConditionProgrammed   = string(gwv1.GatewayConditionProgrammed)
	ConditionConflicted   = string(gwv1.ListenerConditionConflicted)

	ReasonAccepted                   = string(gwv1.RouteReasonAccepted)
	ReasonNoMatchingParent           = string(gwv1.RouteReasonNoMatchingParent)
	ReasonNotAllowedByListeners      = string(gwv1.RouteReasonNotAllowedByListeners)
	ReasonNoMatchingListenerHostname = string(gwv1.RouteReasonNoMatchingListenerHostname)
	ReasonBackendNotFound            = string(gwv1.RouteReasonBackendNotFound)
	ReasonRefNotPermitted            = string(gwv1.RouteReasonRefNotPermitted)
	ReasonInvalidKind                = string(gwv1.RouteReasonInvalidKind)
	ReasonUnsupportedProtocol        = string(gwv1.ListenerReasonUnsupportedProtocol)
	ReasonInvalidCertificateRef      = string(gwv1.ListenerReasonInvalidCertificateRef)
	ReasonHostnameConflict           = string(gwv1.ListenerReasonHostnameConflict)
	ReasonProtocolConflict           = string(gwv1.ListenerReasonProtocolConflict)
	ReasonInvalid                    = string(gwv1.ListenerReasonInvalid)
	ReasonAddressNotUsable           = string(gwv1.GatewayReasonAddressNotUsable)
	ReasonUnsupportedAddress         = string(gwv1.GatewayReasonUnsupportedAddress)
	// ReasonNotAllowed: a ListenerSet its parent Gateway's allowedListeners does not admit.
	ReasonNotAllowed = string(gwv1.ListenerSetReasonNotAllowed)
	// ReasonFilterNotFound: an HTTPRoute ExtensionRef filter names a RouteFilter that does
	// not exist (the Gateway API has no reason of its own for it).
	ReasonFilterNotFound = "FilterNotFound"
)

// Issue is a problem as a status condition: the object (and, for a listener, its section
// name), the condition type it makes false (Conflicted: true) and the reason.
type Issue struct {
	// Kind, Namespace and Name name the object whose status shows the issue: an HTTPRoute
	// or TLSRoute, a Gateway, or the Gateway or ListenerSet holding a listener.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Section is the listener's name for an issue of one listener; "" for the object.
	Section   string `json:"section,omitempty"`
	Condition string `json:"condition"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
}

// ListenerRef names a listener: the Gateway or ListenerSet whose spec.listeners holds it,
// and its name.
type ListenerRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Section   string `json:"section"`
}

// RouteParentResult is how one parentRef of a route fared.
type RouteParentResult struct {
	// RouteKind (HTTPRoute, TLSRoute), RouteNamespace and RouteName name the route; Index is
	// the parentRef's place in spec.parentRefs.
	RouteKind      string `json:"routeKind"`
	RouteNamespace string `json:"routeNamespace"`
	RouteName      string `json:"routeName"`
	Index          int    `json:"index"`
	// GatewayNamespace and GatewayName are the Gateway the parentRef leads to (itself, or
	// the parent of the ListenerSet it names).
	GatewayNamespace string `json:"gatewayNamespace"`
	GatewayName      string `json:"gatewayName"`
	// Accepted: the route attached to Listeners. Otherwise Reason (NoMatchingParent,
	// NotAllowedByListeners, NoMatchingListenerHostname) and Message say why not.
	Accepted  bool          `json:"accepted"`
	Reason    string        `json:"reason"`
	Message   string        `json:"message,omitempty"`
	Listeners []ListenerRef `json:"listeners,omitempty"`
}

// ListenerResult is one listener of one of our Gateways (or of a ListenerSet of one).
type ListenerResult struct {
	ListenerRef
	GatewayNamespace string `json:"gatewayNamespace"`
	GatewayName      string `json:"gatewayName"`
	Protocol         string `json:"protocol"`
	// Served: the listener is part of Envoy's configuration (Issues say why one is not).
	Served bool `json:"served"`
	// AttachedRoutes counts the routes attached to it.
	AttachedRoutes int `json:"attachedRoutes"`
}

// ref names the listener.
func (l *listenerInfo) ref() ListenerRef {
	if l.setName != "" {
		return ListenerRef{Kind: "ListenerSet", Namespace: l.setNamespace, Name: l.setName, Section: string(l.spec.Name)}
	}
	return ListenerRef{Kind: "Gateway", Namespace: l.gw.Namespace, Name: l.gw.Name, Section: string(l.spec.Name)}
}

func (t *translator) issue(i Issue) { t.issues = append(t.issues, i) }

// listenerIssue records a problem of listener l as an issue of the object holding it.
func (t *translator) listenerIssue(l *listenerInfo, condition, reason, msg string) {
	r := l.ref()
	t.issue(Issue{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Section: r.Section, Condition: condition, Reason: reason, Message: msg})
}

// notServed records that listener l is left out of Envoy's configuration.
func (t *translator) notServed(l *listenerInfo) {
	if t.unserved == nil {
		t.unserved = map[*listenerInfo]bool{}
	}
	t.unserved[l] = true
}

// refIssue is an unresolved reference of a route: its message and reason.
type refIssue struct{ reason, msg string }

// routeRefIssue records a problem of a route's reference (ResolvedRefs false).
func (t *translator) routeRefIssue(kind, ns, name, field string, why refIssue, consequence string) {
	msg := why.msg
	if consequence != "" {
		msg += "; " + consequence
	}
	t.problem(kind, ns, name, field, msg)
	if why.reason == "" {
		return
	}
	t.issue(Issue{Kind: kind, Namespace: ns, Name: name, Condition: ConditionResolvedRefs, Reason: why.reason, Message: field + ": " + msg})
}

func sortIssues(is []Issue) []Issue {
	key := func(i Issue) string {
		return strings.Join([]string{i.Kind, i.Namespace, i.Name, i.Section, i.Condition, i.Reason, i.Message}, "\x00")
	}
	sort.Slice(is, func(a, b int) bool { return key(is[a]) < key(is[b]) })
	var out []Issue
	for i, x := range is {
		if i > 0 && x == is[i-1] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// parentIndex finds the listeners a parentRef selects, as parentListeners does, in O(1).
type parentIndex struct {
	// gateways are our Gateways and sets the ListenerSets attached to them, by
	// namespace/name, each to its Gateway.
	gateways, sets map[string]*gwv1.Gateway
	// byGateway holds every listener of a Gateway, its ListenerSets' included (a parentRef
	// to the Gateway selects those too); bySet the listeners of a ListenerSet.
	byGateway, bySet map[string][]*listenerInfo
}

func newParentIndex(gateways []*gwv1.Gateway, every []*listenerInfo, sets []*gwv1.ListenerSet) *parentIndex {
	ix := &parentIndex{gateways: map[string]*gwv1.Gateway{}, sets: map[string]*gwv1.Gateway{},
		byGateway: map[string][]*listenerInfo{}, bySet: map[string][]*listenerInfo{}}
	for _, gw := range gateways {
		ix.gateways[qualified(gw.Namespace, gw.Name)] = gw
	}
	for _, s := range sets {
		ns := s.Namespace
		if s.Spec.ParentRef.Namespace != nil {
			ns = string(*s.Spec.ParentRef.Namespace)
		}
		if gw := ix.gateways[qualified(ns, string(s.Spec.ParentRef.Name))]; gw != nil {
			ix.sets[qualified(s.Namespace, s.Name)] = gw
		}
	}
	for _, l := range every {
		// A Gateway parentRef selects the Gateway's own listeners; a ListenerSet's are
		// selected by a parentRef to the ListenerSet only.
		if l.setName != "" {
			k := qualified(l.setNamespace, l.setName)
			ix.bySet[k] = append(ix.bySet[k], l)
			continue
		}
		k := qualified(l.gw.Namespace, l.gw.Name)
		ix.byGateway[k] = append(ix.byGateway[k], l)
	}
	return ix
}

// statusResults judges every parentRef of the routes that names one of our Gateways or one
// of their ListenerSets, and describes every listener of them.
//
// The judgement of an HTTPRoute depends on the Gateways and listeners and on nothing of the
// route but its identity, parentRefs and hostnames, so while the model's environment is
// unchanged (memo.next) each route's is remembered: one changed route among 10,000 is
// judged again, not all of them, and when every judgement and the set of routes are the
// same the previous results are returned as they were.
func (t *translator) statusResults(gateways []*gwv1.Gateway, every []*listenerInfo, httpRoutes []*gwv1.HTTPRoute, tlsRoutes []*gwv1.TLSRoute) ([]RouteParentResult, []ListenerResult) {
	if len(gateways) == 0 {
		return nil, nil
	}
	ix := newParentIndex(gateways, every, t.model.ListenerSets)
	attached := make([]int, len(every))
	position := make(map[*listenerInfo]int, len(every))
	for i, l := range every {
		position[l] = i
	}
	parents, ok := t.memo.judgeHTTPRoutes(ix, position, httpRoutes, attached)
	if !ok {
		parents = nil
		clear(attached)
		counted := map[*listenerInfo]int{}
		for _, r := range httpRoutes {
			parents = ix.judge(parents, routeKind(r), r.Namespace, r.Name, r.Spec.ParentRefs, hostnameStrings(r.Spec.Hostnames), counted)
		}
		for l, n := range counted {
			attached[position[l]] += n
		}
		sortParents(parents)
	}
	if len(tlsRoutes) > 0 {
		counted := map[*listenerInfo]int{}
		var tls []RouteParentResult
		for _, r := range tlsRoutes {
			tls = ix.judge(tls, "TLSRoute", r.Namespace, r.Name, r.Spec.ParentRefs, hostnameStrings(r.Spec.Hostnames), counted)
		}
		for l, n := range counted {
			attached[position[l]] += n
		}
		// "TLSRoute" sorts after "GRPCRoute" and "HTTPRoute": merged without copying the
		// remembered results.
		sortParents(tls)
		parents = append(slices.Clip(parents), tls...)
	}
	listeners := make([]ListenerResult, 0, len(every))
	for i, l := range every {
		listeners = append(listeners, ListenerResult{ListenerRef: l.ref(), GatewayNamespace: l.gw.Namespace, GatewayName: l.gw.Name,
			Protocol: string(l.spec.Protocol), Served: !t.unserved[l], AttachedRoutes: attached[i]})
	}
	return parents, listeners
}

// sortParents sorts results by route (kind, namespace, name) and parentRef index, keeping
// the order of equals.
func sortParents(parents []RouteParentResult) {
	slices.SortStableFunc(parents, func(a, b RouteParentResult) int {
		return cmp.Or(strings.Compare(a.RouteKind, b.RouteKind), strings.Compare(a.RouteNamespace, b.RouteNamespace),
			strings.Compare(a.RouteName, b.RouteName), cmp.Compare(a.Index, b.Index))
	})
}

// routeIdentity names a route for its status: kind, namespace and name.
type routeIdentity struct{ kind, namespace, name string }

func compareIdentities(a, b routeIdentity) int {
	return cmp.Or(strings.Compare(a.kind, b.kind), strings.Compare(a.namespace, b.namespace), strings.Compare(a.name, b.name))
}

// judgedRoute is how the parentRefs of one HTTPRoute fared.
type judgedRoute struct {
	id        routeIdentity
	refs      []gwv1.ParentReference
	hostnames []gwv1.Hostname
	results   []RouteParentResult
	// listeners are the positions (in the translation's list of every listener) of the
	// listeners the route attached to, each once.
	listeners []int
}

// statusMemo is what statusResults remembers of the HTTPRoutes between translations, by
// position in the sorted list of HTTPRoutes (oldestHTTPRoutes).
type statusMemo struct {
	routes []*gwv1.HTTPRoute
	judged []*judgedRoute
	// order is the positions of routes sorted by identity, and parents their results in
	// that order.
	order   []int
	parents []RouteParentResult
}

// judgeHTTPRoutes judges the parentRefs of routes (sorted oldest first), adds their
// attachments to attached (by listener position) and returns the results sorted. When
// routes is the previous list with some routes replaced by objects of the same identity
// (memo.routeOrder.replaced), the other routes' judgements, their order and, if no
// judgement changed, the results are the previous ones. Not ok when two routes have the
// same identity: the caller then judges them all the plain way.
func (m *memo) judgeHTTPRoutes(ix *parentIndex, position map[*listenerInfo]int, routes []*gwv1.HTTPRoute, attached []int) ([]RouteParentResult, bool) {
	prev := m.status
	m.nextStatus = nil
	aligned := prev != nil && m.routeOrder.aligned && len(prev.routes) == len(routes)
	next := &statusMemo{routes: routes, judged: make([]*judgedRoute, len(routes))}
	// reused: every judgement is the previous one; sameOrder: every identity too.
	reused, sameOrder := aligned, aligned
	for i, r := range routes {
		var j *judgedRoute
		if aligned {
			if old := prev.judged[i]; prev.routes[i] == r || old.sameInput(r) {
				j = old
			}
		}
		if j == nil {
			reused = false
			j = judgeRoute(ix, position, r)
			// The kind may change with the same name (a GRPCRoute's annotation).
			sameOrder = sameOrder && j.id == prev.judged[i].id
		}
		next.judged[i] = j
		for _, p := range j.listeners {
			attached[p]++
		}
	}
	if sameOrder {
		next.order = prev.order // the same identities at the same places
	} else {
		next.order = make([]int, len(routes))
		for i := range next.order {
			next.order[i] = i
		}
		slices.SortStableFunc(next.order, func(a, b int) int { return compareIdentities(next.judged[a].id, next.judged[b].id) })
		for k := 1; k < len(next.order); k++ {
			if next.judged[next.order[k-1]].id == next.judged[next.order[k]].id {
				return nil, false
			}
		}
	}
	m.nextStatus = next
	if reused {
		next.parents = prev.parents
		return next.parents, true
	}
	n := 0
	for _, j := range next.judged {
		n += len(j.results)
	}
	if n == 0 {
		return nil, true
	}
	next.parents = make([]RouteParentResult, 0, n)
	for _, i := range next.order {
		j := next.judged[i]
		from := len(next.parents)
		next.parents = append(next.parents, j.results...)
		// Remembered as part of the output rather than a copy of it.
		j.results = next.parents[from:len(next.parents):len(next.parents)]
	}
	return next.parents, true
}

// sameInput reports whether r would be judged as j was: the same identity, parentRefs and
// hostnames.
func (j *judgedRoute) sameInput(r *gwv1.HTTPRoute) bool {
	return j.id == routeIdentity{routeKind(r), r.Namespace, r.Name} &&
		slices.Equal(j.hostnames, r.Spec.Hostnames) && reflect.DeepEqual(j.refs, r.Spec.ParentRefs)
}

// judgeRoute judges the parentRefs of r.
func judgeRoute(ix *parentIndex, position map[*listenerInfo]int, r *gwv1.HTTPRoute) *judgedRoute {
	counted := map[*listenerInfo]int{}
	j := &judgedRoute{id: routeIdentity{routeKind(r), r.Namespace, r.Name}, refs: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames}
	j.results = slices.Clip(ix.judge(nil, j.id.kind, r.Namespace, r.Name, r.Spec.ParentRefs, hostnameStrings(r.Spec.Hostnames), counted))
	for l := range counted {
		j.listeners = append(j.listeners, position[l])
	}
	slices.Sort(j.listeners)
	return j
}

func hostnameStrings(hs []gwv1.Hostname) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h)
	}
	return out
}

// judge appends the results of the parentRefs of one route that name our Gateways or
// their ListenerSets (others are not ours to judge), counting attachments per listener.
func (ix *parentIndex) judge(out []RouteParentResult, kind, ns, name string, refs []gwv1.ParentReference, hosts []string, attached map[*listenerInfo]int) []RouteParentResult {
	counted := map[*listenerInfo]bool{}
	for i, ref := range refs {
		if ref.Group != nil && string(*ref.Group) != gwv1.GroupName {
			continue
		}
		refKind, refNs := "Gateway", ns
		if ref.Kind != nil {
			refKind = string(*ref.Kind)
		}
		if ref.Namespace != nil {
			refNs = string(*ref.Namespace)
		}
		key := qualified(refNs, string(ref.Name))
		var gw *gwv1.Gateway
		var candidates []*listenerInfo
		switch refKind {
		case "Gateway":
			gw, candidates = ix.gateways[key], ix.byGateway[key]
		case "ListenerSet":
			gw, candidates = ix.sets[key], ix.bySet[key]
		}
		if gw == nil {
			continue
		}
		res := RouteParentResult{RouteKind: kind, RouteNamespace: ns, RouteName: name, Index: i, GatewayNamespace: gw.Namespace, GatewayName: gw.Name}
		var ls []*listenerInfo
		res.Accepted, res.Reason, res.Message, ls = attach(kind, ns, refKind, key, ref, hosts, candidates)
		for _, l := range ls {
			res.Listeners = append(res.Listeners, l.ref())
			if !counted[l] {
				counted[l] = true // a route counts once per listener, whatever its parentRefs
				attached[l]++
			}
		}
		out = append(out, res)
	}
	return out
}

// attach decides whether a route attaches through one parentRef, with the Gateway API's
// order of reasons: no listener matches the sectionName and port, then none allows the
// route, then none shares a hostname with it.
func attach(kind, ns, refKind, parent string, ref gwv1.ParentReference, hosts []string, candidates []*listenerInfo) (bool, string, string, []*listenerInfo) {
	var matching []*listenerInfo
	for _, l := range candidates {
		if ref.SectionName != nil && string(*ref.SectionName) != string(l.spec.Name) {
			continue
		}
		if ref.Port != nil && int32(*ref.Port) != int32(l.spec.Port) {
			continue
		}
		matching = append(matching, l)
	}
	if len(matching) == 0 {
		what := "no listener"
		if ref.SectionName != nil {
			what = fmt.Sprintf("no listener named %q", *ref.SectionName)
		}
		if ref.Port != nil {
			what += fmt.Sprintf(" on port %d", *ref.Port)
		}
		return false, ReasonNoMatchingParent, fmt.Sprintf("%s %s has %s", refKind, parent, what), nil
	}
	var allowed []*listenerInfo
	for _, l := range matching {
		if protocolCarries(l.spec.Protocol, kind) && routeAllowed(l, kind, ns) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return false, ReasonNotAllowedByListeners, fmt.Sprintf("no listener of %s %s allows %ss from namespace %s (spec.listeners[].allowedRoutes and protocol)", refKind, parent, kind, ns), nil
	}
	var to []*listenerInfo
	for _, l := range allowed {
		if len(intersectHostnames(l.hostname(), hosts)) > 0 {
			to = append(to, l)
		}
	}
	if len(to) == 0 {
		return false, ReasonNoMatchingListenerHostname, fmt.Sprintf("no listener of %s %s that allows the route shares a hostname with spec.hostnames", refKind, parent), nil
	}
	return true, ReasonAccepted, "", to
}

// protocolCarries reports whether a listener of protocol p serves routes of kind.
func protocolCarries(p gwv1.ProtocolType, kind string) bool {
	switch kind {
	case "HTTPRoute", "GRPCRoute":
		return p == gwv1.HTTPProtocolType || p == gwv1.HTTPSProtocolType
	case "TLSRoute":
		return p == gwv1.TLSProtocolType
	}
	return false
}
