package controllers

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// Gateway API status, made (purely) from what was published and what Envoy acknowledged:
// the typed results of the translation (dataplane.Output Issues, Parents, Listeners) and
// the feed's ServedState. Never from the messages of problems.
//
//   - GatewayClass of our controllerName: Accepted.
//   - Gateway of such a class: Accepted (False, ListenersNotValid, when no listener is
//     served); Programmed once every connected Envoy acknowledged the version that first
//     carried the Gateway's current generation (False/Pending before; False/Invalid with
//     Envoy's message after a NACK; False/AddressNotUsable when its address clashes); per
//     listener: Accepted, Conflicted, ResolvedRefs, Programmed and the attached routes.
//   - ListenerSet of such a Gateway: the same, for its own listeners.
//   - HTTPRoute and TLSRoute: one status.parents entry per parentRef that names one of our
//     Gateways or their ListenerSets: Accepted (NoMatchingParent, NotAllowedByListeners,
//     NoMatchingListenerHostname) and ResolvedRefs (BackendNotFound, RefNotPermitted,
//     InvalidKind, …). Entries of other controllers are left as they are.
//
// Every condition carries the observedGeneration of the object as it was translated.

// statusView indexes one ServedState for the status of each object.
type statusView struct {
	state          ServedState
	controllerName gwv1.GatewayController
	// issues of objects (Section "") and of listeners.
	issues         map[objectKey][]dataplane.Issue
	listenerIssues map[dataplane.ListenerRef][]dataplane.Issue
	listeners      map[dataplane.ListenerRef]dataplane.ListenerResult
	// parents by route (kind, namespace, name).
	parents map[objectKey][]dataplane.RouteParentResult
	// classes are our GatewayClasses' names; sets the ListenerSets attached to a Gateway.
	classes map[string]bool
	sets    map[objectKey]int32
	// conflicts between hand-written and migrated HTTPRoutes, per Gateway
	// ("namespace/name"; conflicts.go).
	conflicts map[string][]RouteConflict
	// others are the other replicas' Envoy reports (fleet.go); none with one replica.
	others []envoyReport
}

func newStatusView(s ServedState, controllerName string) *statusView {
	v := &statusView{
		state: s, controllerName: gwv1.GatewayController(controllerName),
		issues: map[objectKey][]dataplane.Issue{}, listenerIssues: map[dataplane.ListenerRef][]dataplane.Issue{},
		listeners: map[dataplane.ListenerRef]dataplane.ListenerResult{}, parents: map[objectKey][]dataplane.RouteParentResult{},
		classes: map[string]bool{}, sets: map[objectKey]int32{},
	}
	if s.Model != nil {
		for _, c := range s.Model.GatewayClasses {
			if c.Spec.ControllerName == v.controllerName {
				v.classes[c.Name] = true
			}
		}
	}
	if s.Output == nil {
		return v
	}
	for _, i := range s.Output.Issues {
		if i.Section != "" {
			r := dataplane.ListenerRef{Kind: i.Kind, Namespace: i.Namespace, Name: i.Name, Section: i.Section}
			v.listenerIssues[r] = append(v.listenerIssues[r], i)
			continue
		}
		k := objectKey{i.Kind, i.Namespace, i.Name}
		v.issues[k] = append(v.issues[k], i)
	}
	seenSet := map[objectKey]bool{}
	for _, l := range s.Output.Listeners {
		v.listeners[l.ListenerRef] = l
		// A ListenerSet counts as attached (status.attachedListenerSets) when it is
		// accepted: some listener of it is served.
		if l.Kind == "ListenerSet" && l.Served {
			set := objectKey{"ListenerSet", l.Namespace, l.Name}
			if !seenSet[set] {
				seenSet[set] = true
				v.sets[objectKey{"Gateway", l.GatewayNamespace, l.GatewayName}]++
			}
		}
	}
	for _, p := range s.Output.Parents {
		k := objectKey{p.RouteKind, p.RouteNamespace, p.RouteName}
		v.parents[k] = append(v.parents[k], p)
	}
	v.conflicts = modelConflicts(s.Model, v.classes)
	return v
}

// modelConflicts finds, for each of our Gateways, the conflicts between the hand-written
// and migrated HTTPRoutes of the model (none without a hand-written route).
func modelConflicts(m *dataplane.Model, classes map[string]bool) map[string][]RouteConflict {
	if m == nil {
		return nil
	}
	var routes []claimRoute
	hand := false
	for _, r := range m.HTTPRoutes {
		ing := ingressOfRoute(r)
		hand = hand || ing == ""
		routes = append(routes, claimRoute{Route: r, Created: r.CreationTimestamp.Time, Ingress: ing})
	}
	if !hand {
		return nil
	}
	out := map[string][]RouteConflict{}
	for _, gw := range m.Gateways {
		if !classes[string(gw.Spec.GatewayClassName)] {
			continue
		}
		if cs := findConflicts(routes, sharedListeners(m.Gateways, m.ListenerSets, gw.Namespace, gw.Name), gw.Namespace, gw.Name); len(cs) > 0 {
			out[gw.Namespace+"/"+gw.Name] = cs
		}
	}
	return out
}

// condition builds a condition; its LastTransitionTime is set by mergeConditions.
func condition(t string, ok bool, reason, msg string, generation int64) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{Type: t, Status: st, Reason: reason, Message: truncate(msg, maxMessage), ObservedGeneration: generation}
}

// maxMessage keeps condition messages well below the API's 32 KiB limit.
const maxMessage = 1024

// mergeConditions returns want with each condition's LastTransitionTime taken from live
// when its status did not change (now otherwise), as meta.SetStatusCondition does; the
// conditions of live whose types want does not set are dropped (we own them all).
func mergeConditions(live, want []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, c := range want {
		if old := meta.FindStatusCondition(live, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		} else {
			c.LastTransitionTime = now
		}
		out = append(out, c)
	}
	return out
}

// keepProgrammed returns want with a Programmed condition that is only Pending replaced by
// live's when live says the same generation is Programmed: after a restart, the new
// replica has not heard Envoy acknowledge anything yet, but what Envoy serves — this
// generation, acknowledged before — did not change. A NACK or a new generation is never
// masked.
func keepProgrammed(live, want []metav1.Condition) []metav1.Condition {
	old := meta.FindStatusCondition(live, string(gwv1.GatewayConditionProgrammed))
	if old == nil || old.Status != metav1.ConditionTrue {
		return want
	}
	out := slices.Clone(want)
	for i, c := range out {
		if c.Type == old.Type && c.Status == metav1.ConditionFalse && c.Reason == string(gwv1.GatewayReasonPending) && c.ObservedGeneration == old.ObservedGeneration {
			out[i] = *old
		}
	}
	return out
}

// GatewayClassConditions is the status of one of our GatewayClasses.
func gatewayClassConditions(gc *gwv1.GatewayClass) []metav1.Condition {
	return []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), true, string(gwv1.GatewayClassReasonAccepted),
		"gatebridge serves the Gateways of this class", gc.Generation)}
}

// programmed says whether the object (Gateway or ListenerSet) is programmed: every
// connected Envoy acknowledged the version that carries its current generation — this
// replica's Envoys and, with several replicas, the other replicas' (their reports,
// fleet.go). A NACK from any of them makes it Invalid.
func (v *statusView) programmed(k objectKey) (bool, string, string) {
	since, known := v.state.Since[k]
	if !known {
		return false, string(gwv1.GatewayReasonPending), "not yet translated"
	}
	others, nack, pending := otherEnvoys(v.others, k, since.generation)
	switch {
	case v.state.NACK != "" && v.state.NACKVersion >= since.version:
		return false, string(gwv1.GatewayReasonInvalid), "Envoy rejected the configuration and keeps serving the last one it accepted: " + v.state.NACK
	case nack != "":
		return false, string(gwv1.GatewayReasonInvalid), nack
	case pending != "":
		return false, string(gwv1.GatewayReasonPending), "waiting for the Envoys connected to replica " + pending + " to acknowledge the configuration"
	case v.state.Acked >= since.version || v.state.Envoys == 0 && others > 0:
		return true, string(gwv1.GatewayReasonProgrammed), "Envoy acknowledged the configuration"
	case v.state.Envoys == 0:
		return false, string(gwv1.GatewayReasonPending), "no Envoy is connected to the controller"
	}
	return false, string(gwv1.GatewayReasonPending), "waiting for Envoy to acknowledge the configuration"
}

// listenerStatus is the status of one listener of a Gateway or ListenerSet (holder).
func (v *statusView) listenerStatus(holder objectKey, l gwv1.Listener, generation int64, programmed bool, pReason, pMsg string) gwv1.ListenerStatus {
	ref := dataplane.ListenerRef{Kind: holder.Kind, Namespace: holder.Namespace, Name: holder.Name, Section: string(l.Name)}
	res, known := v.listeners[ref]
	issues := v.listenerIssues[ref]
	first := func(cond string) *dataplane.Issue {
		for i := range issues {
			if issues[i].Condition == cond {
				return &issues[i]
			}
		}
		return nil
	}
	ls := gwv1.ListenerStatus{Name: l.Name, SupportedKinds: supportedKinds(l), AttachedRoutes: int32(res.AttachedRoutes)}
	accepted := condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "", generation)
	if i := first(dataplane.ConditionAccepted); i != nil {
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, i.Reason, i.Message, generation)
	}
	conflicted := condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "", generation)
	if i := first(dataplane.ConditionConflicted); i != nil {
		conflicted = condition(string(gwv1.ListenerConditionConflicted), true, i.Reason, i.Message, generation)
		if accepted.Status == metav1.ConditionTrue && known && !res.Served {
			// The conflict keeps it out of Envoy's configuration: not accepted either.
			accepted = condition(string(gwv1.ListenerConditionAccepted), false, i.Reason, i.Message, generation)
		}
	}
	resolved := condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "", generation)
	if i := first(dataplane.ConditionResolvedRefs); i != nil {
		resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, i.Reason, joinMessages(issues, dataplane.ConditionResolvedRefs), generation)
	} else if msg := invalidRouteKinds(l); msg != "" {
		resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, string(gwv1.ListenerReasonInvalidRouteKinds), msg, generation)
	}
	prog := condition(string(gwv1.ListenerConditionProgrammed), programmed, pReason, pMsg, generation)
	switch {
	case !known:
		prog = condition(string(gwv1.ListenerConditionProgrammed), false, string(gwv1.ListenerReasonPending), "not yet translated", generation)
	case !res.Served:
		msg, reason := "this listener is not served", string(gwv1.ListenerReasonInvalid)
		if i := first(dataplane.ConditionProgrammed); i != nil {
			msg = i.Message
		} else if i := first(dataplane.ConditionConflicted); i != nil {
			// Left out for a conflict: the conflict's reason (HostnameConflict, …).
			msg, reason = i.Message, i.Reason
		} else if len(issues) > 0 {
			msg = issues[0].Message
		}
		prog = condition(string(gwv1.ListenerConditionProgrammed), false, reason, msg, generation)
	}
	ls.Conditions = []metav1.Condition{accepted, conflicted, resolved, prog}
	return ls
}

// invalidRouteKinds says which of a listener's allowedRoutes.kinds it cannot serve (""
// when it can serve them all): the routes of such a kind never attach to it.
func invalidRouteKinds(l gwv1.Listener) string {
	if l.AllowedRoutes == nil {
		return ""
	}
	served := supportedKinds(gwv1.Listener{Protocol: l.Protocol})
	var bad []string
	for i, k := range l.AllowedRoutes.Kinds {
		ok := (k.Group == nil || string(*k.Group) == gwv1.GroupName) &&
			slices.ContainsFunc(served, func(s gwv1.RouteGroupKind) bool { return s.Kind == k.Kind })
		if !ok {
			bad = append(bad, fmt.Sprintf("allowedRoutes.kinds[%d] (%s)", i, k.Kind))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: not a route kind a %s listener serves; its routes do not attach", strings.Join(bad, ", "), l.Protocol)
}

// supportedKinds are the route kinds a listener serves (what gatebridge supports of what
// it allows).
func supportedKinds(l gwv1.Listener) []gwv1.RouteGroupKind {
	var kinds []string
	switch l.Protocol {
	case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType:
		kinds = []string{"HTTPRoute"}
	case gwv1.TLSProtocolType:
		kinds = []string{"TLSRoute"}
	}
	if l.AllowedRoutes != nil && len(l.AllowedRoutes.Kinds) > 0 {
		var allowed []string
		for _, k := range l.AllowedRoutes.Kinds {
			if (k.Group == nil || string(*k.Group) == gwv1.GroupName) && slices.Contains(kinds, string(k.Kind)) {
				allowed = append(allowed, string(k.Kind))
			}
		}
		kinds = allowed
	}
	group := gwv1.Group(gwv1.GroupName)
	out := make([]gwv1.RouteGroupKind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, gwv1.RouteGroupKind{Group: &group, Kind: gwv1.Kind(k)})
	}
	return out
}

// gatewayStatus is the status of one of our Gateways (addresses are not ours to set here).
func (v *statusView) gatewayStatus(gw *gwv1.Gateway) ([]metav1.Condition, []gwv1.ListenerStatus, *int32) {
	k := objectKey{"Gateway", gw.Namespace, gw.Name}
	programmed, reason, msg := v.programmed(k)
	for _, i := range v.issues[k] {
		if i.Condition == dataplane.ConditionProgrammed {
			programmed, reason, msg = false, i.Reason, i.Message
		}
	}
	var listeners []gwv1.ListenerStatus
	// invalid counts the listeners left out for a problem of their own (not, say, for the
	// Gateway's address).
	invalid := 0
	for _, l := range gw.Spec.Listeners {
		listeners = append(listeners, v.listenerStatus(k, l, gw.Generation, programmed, reason, msg))
		ref := dataplane.ListenerRef{Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name, Section: string(l.Name)}
		if !v.listeners[ref].Served && len(v.listenerIssues[ref]) > 0 {
			invalid++
		}
	}
	accepted := condition(string(gwv1.GatewayConditionAccepted), true, string(gwv1.GatewayReasonAccepted), "", gw.Generation)
	notAccepted := false
	for _, i := range v.issues[k] {
		if i.Condition == dataplane.ConditionAccepted {
			// an address type gatebridge cannot give (UnsupportedAddress): nothing is served.
			accepted = condition(string(gwv1.GatewayConditionAccepted), false, i.Reason, i.Message, gw.Generation)
			notAccepted = true
		}
	}
	switch {
	case notAccepted || v.state.Output == nil || invalid == 0:
	case invalid == len(gw.Spec.Listeners):
		accepted = condition(string(gwv1.GatewayConditionAccepted), false, string(gwv1.GatewayReasonListenersNotValid), "none of spec.listeners can be served", gw.Generation)
	default:
		// Accepted, but not every listener: the Gateway API's reason for it.
		accepted = condition(string(gwv1.GatewayConditionAccepted), true, string(gwv1.GatewayReasonListenersNotValid), "some of spec.listeners cannot be served (see status.listeners)", gw.Generation)
	}
	if notAccepted {
		programmed, reason, msg = false, string(gwv1.GatewayReasonInvalid), accepted.Message
	}
	conds := []metav1.Condition{accepted, condition(string(gwv1.GatewayConditionProgrammed), programmed, reason, msg, gw.Generation)}
	var sets *int32
	if n := v.sets[k]; n > 0 {
		sets = &n
	}
	return conds, listeners, sets
}

// listenerSetStatus is the status of a ListenerSet of one of our Gateways.
func (v *statusView) listenerSetStatus(ls *gwv1.ListenerSet) ([]metav1.Condition, []gwv1.ListenerEntryStatus) {
	k := objectKey{"ListenerSet", ls.Namespace, ls.Name}
	programmed, reason, msg := v.programmed(k)
	for _, i := range v.issues[k] {
		if i.Condition == dataplane.ConditionAccepted {
			// Not admitted by its Gateway (NotAllowed): nothing of it is served.
			var listeners []gwv1.ListenerEntryStatus
			for _, l := range ls.Spec.Listeners {
				s := v.listenerStatus(k, gwv1.Listener(l), ls.Generation, false, i.Reason, i.Message)
				listeners = append(listeners, gwv1.ListenerEntryStatus(s))
			}
			return []metav1.Condition{
				condition(string(gwv1.ListenerSetConditionAccepted), false, i.Reason, i.Message, ls.Generation),
				condition(string(gwv1.ListenerSetConditionProgrammed), false, i.Reason, i.Message, ls.Generation),
			}, listeners
		}
	}
	var listeners []gwv1.ListenerEntryStatus
	invalid := 0
	for _, l := range ls.Spec.Listeners {
		s := v.listenerStatus(k, gwv1.Listener(l), ls.Generation, programmed, reason, msg)
		listeners = append(listeners, gwv1.ListenerEntryStatus(s))
		ref := dataplane.ListenerRef{Kind: "ListenerSet", Namespace: ls.Namespace, Name: ls.Name, Section: string(l.Name)}
		if !v.listeners[ref].Served && len(v.listenerIssues[ref]) > 0 {
			invalid++
		}
	}
	accepted := condition(string(gwv1.ListenerSetConditionAccepted), true, string(gwv1.ListenerSetReasonAccepted), "", ls.Generation)
	switch {
	case v.state.Output == nil || invalid == 0:
	case invalid == len(ls.Spec.Listeners):
		const none = "none of spec.listeners can be served"
		accepted = condition(string(gwv1.ListenerSetConditionAccepted), false, string(gwv1.ListenerSetReasonListenersNotValid), none, ls.Generation)
		programmed, reason, msg = false, string(gwv1.ListenerSetReasonListenersNotValid), none
	default:
		accepted = condition(string(gwv1.ListenerSetConditionAccepted), true, string(gwv1.ListenerSetReasonListenersNotValid), "some of spec.listeners cannot be served (see status.listeners)", ls.Generation)
	}
	return []metav1.Condition{accepted, condition(string(gwv1.ListenerSetConditionProgrammed), programmed, reason, msg, ls.Generation)}, listeners
}

// routeParents are our status.parents entries of a route, in spec.parentRefs order.
func (v *statusView) routeParents(kind, ns, name string, generation int64, refs []gwv1.ParentReference) []gwv1.RouteParentStatus {
	results := v.parents[objectKey{kind, ns, name}]
	if len(results) == 0 {
		return nil
	}
	resolved := condition(string(gwv1.RouteConditionResolvedRefs), true, string(gwv1.RouteReasonResolvedRefs), "", generation)
	var unresolved []dataplane.Issue
	for _, i := range v.issues[objectKey{kind, ns, name}] {
		if i.Condition == dataplane.ConditionResolvedRefs {
			unresolved = append(unresolved, i)
		}
	}
	if len(unresolved) > 0 {
		resolved = condition(string(gwv1.RouteConditionResolvedRefs), false, unresolved[0].Reason, joinMessages(unresolved, dataplane.ConditionResolvedRefs), generation)
	}
	var out []gwv1.RouteParentStatus
	for _, r := range results {
		if r.Index >= len(refs) {
			continue
		}
		accepted := condition(string(gwv1.RouteConditionAccepted), r.Accepted, r.Reason, r.Message, generation)
		if r.Accepted {
			accepted.Message = "attached to " + describeListeners(r.Listeners)
		}
		conds := []metav1.Condition{accepted, resolved}
		if cs := v.conflicts[r.GatewayNamespace+"/"+r.GatewayName]; r.Accepted && len(cs) > 0 && kind == "HTTPRoute" {
			ls := make([]listenerRef, len(r.Listeners))
			for i, l := range r.Listeners {
				ls[i] = listenerRef{l.Kind, l.Name, l.Section}
			}
			if c, ok := conflictCondition(ns, name, ls, cs, generation); ok {
				conds = append(conds, c)
			}
		}
		out = append(out, gwv1.RouteParentStatus{ParentRef: refs[r.Index], ControllerName: v.controllerName,
			Conditions: conds})
	}
	return out
}

func describeListeners(ls []dataplane.ListenerRef) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("listener %s of %s %s/%s", l.Section, l.Kind, l.Namespace, l.Name)
	}
	return strings.Join(parts, ", ")
}

// joinMessages joins the messages of the issues of one condition type.
func joinMessages(issues []dataplane.Issue, cond string) string {
	var msgs []string
	for _, i := range issues {
		if i.Condition == cond {
			msgs = append(msgs, i.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// mergeParents returns live's entries of other controllers followed by want (ours), each
// of ours keeping the transition times of live's entry for the same parentRef.
func mergeParents(live, want []gwv1.RouteParentStatus, controllerName gwv1.GatewayController, now metav1.Time) []gwv1.RouteParentStatus {
	var out []gwv1.RouteParentStatus
	for _, p := range live {
		if p.ControllerName != controllerName {
			out = append(out, p)
		}
	}
	for _, w := range want {
		var old []metav1.Condition
		for _, p := range live {
			if p.ControllerName == controllerName && sameParentRef(p.ParentRef, w.ParentRef) {
				old = p.Conditions
			}
		}
		w.Conditions = mergeConditions(old, w.Conditions, now)
		out = append(out, w)
	}
	return out
}

func sameParentRef(a, b gwv1.ParentReference) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	group := func(g *gwv1.Group) string {
		if g == nil {
			return gwv1.GroupName
		}
		return string(*g)
	}
	kind := func(k *gwv1.Kind) string {
		if k == nil {
			return "Gateway"
		}
		return string(*k)
	}
	ns := func(n *gwv1.Namespace) string { return str((*string)(n)) }
	section := func(s *gwv1.SectionName) string { return str((*string)(s)) }
	port := func(p *gwv1.PortNumber) int32 {
		if p == nil {
			return 0
		}
		return int32(*p)
	}
	return group(a.Group) == group(b.Group) && kind(a.Kind) == kind(b.Kind) && ns(a.Namespace) == ns(b.Namespace) &&
		a.Name == b.Name && section(a.SectionName) == section(b.SectionName) && port(a.Port) == port(b.Port)
}

// mergeListeners carries the transition times of live listener statuses over.
func mergeListeners(live, want []gwv1.ListenerStatus, now metav1.Time) []gwv1.ListenerStatus {
	for i := range want {
		var old []metav1.Condition
		for _, l := range live {
			if l.Name == want[i].Name {
				old = l.Conditions
			}
		}
		want[i].Conditions = mergeConditions(old, keepProgrammed(old, want[i].Conditions), now)
	}
	return want
}

func mergeListenerEntries(live, want []gwv1.ListenerEntryStatus, now metav1.Time) []gwv1.ListenerEntryStatus {
	for i := range want {
		var old []metav1.Condition
		for _, l := range live {
			if l.Name == want[i].Name {
				old = l.Conditions
			}
		}
		want[i].Conditions = mergeConditions(old, keepProgrammed(old, want[i].Conditions), now)
	}
	return want
}
