package controllers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// Hand-written routes next to migrated Ingresses (docs/serving.md, "Hand-written routes").
//
// A hand-written HTTPRoute on the shared Gateway and the HTTPRoute of a migrated Ingress
// conflict when both serve the same hostname on the same port with the very same match
// (path type and value, method, header and query matches). Envoy serves the routes of a
// hostname in Gateway API precedence, whose last tie-breakers are the oldest route
// (creationTimestamp), then namespace/name: of two identical matches, only the older
// route's is ever reached. The report follows that rule — it is what the data plane does
// (dataplane.oldestFirst and lessEntry) — and says so on both sides: a
// gatebridge.dev/Conflicted condition on each route's status.parents entry, and a note
// (in the Event and the report-hash) on the Ingress.
//
// Matches that differ (a longer prefix, a header match) are not conflicts: precedence
// serves each the requests it is the most specific for, as ingress-nginx would.

// Conflict condition of routes (a condition type of gatebridge's own: the Gateway API has
// none for two routes claiming the same match, and PartiallyInvalid is for invalid rules).
const (
	ConditionConflicted = "gatebridge.dev/Conflicted"
	// ReasonRulesShadowed: some of the route's matches are not served, an older route
	// having the same ones.
	ReasonRulesShadowed = "RulesShadowed"
	// ReasonShadowsRoutes: the route wins every conflict it has; newer routes' identical
	// matches are not served.
	ReasonShadowsRoutes = "ShadowsOtherRoutes"
)

// claimRoute is an HTTPRoute as the conflict check sees it.
type claimRoute struct {
	Route *gwv1.HTTPRoute
	// Created orders the routes (a route not written yet is the newest).
	Created time.Time
	// Ingress is "namespace/name" of the Ingress a migrated route belongs to; "" for a
	// hand-written route.
	Ingress string
}

// listenerSpec is one HTTP or HTTPS listener of the shared Gateway or of its ListenerSets.
type listenerSpec struct {
	Ref      listenerRef
	Port     int32
	Hostname string
}

// claim is one served (hostname, port, match) of a route.
type claim struct {
	route    *claimRoute
	host     string
	port     int32
	match    string // the match, canonical
	field    string // spec.rules[i].matches[j]
	listener listenerRef
}

func (c claim) key() string { return fmt.Sprintf("%d|%s|%s", c.port, c.host, c.match) }

// RouteConflict is one match two routes claim; Winner's is served, Loser's is not.
type RouteConflict struct {
	Host          string
	Port          int32
	Match         string
	Winner, Loser conflictSide
}

type conflictSide struct {
	Namespace, Name, Ingress, Field string
	Listener                        listenerRef
}

func (s conflictSide) describe() string {
	d := "HTTPRoute " + s.Namespace + "/" + s.Name
	if s.Ingress != "" {
		d += " (of Ingress " + s.Ingress + ")"
	} else {
		d += " (hand-written)"
	}
	return d
}

// findConflicts returns the conflicts between hand-written and migrated routes, in a
// stable order. Conflicts among migrated routes are the converter's business (it merges
// a host's Ingresses as ingress-nginx does), among hand-written ones the Gateway API's.
func findConflicts(routes []claimRoute, listeners []listenerSpec, gatewayNS, gatewayName string) []RouteConflict {
	// Hand-written routes first: a migrated route's claims matter only where one of them
	// claims the same (there are usually few hand-written routes, and many migrated ones).
	byKey := map[string][]claim{}
	for _, hand := range []bool{true, false} {
		for i := range routes {
			if (routes[i].Ingress == "") != hand {
				continue
			}
			for _, c := range claimsOf(&routes[i], listeners, gatewayNS, gatewayName) {
				k := c.key()
				if _, shared := byKey[k]; hand || shared {
					byKey[k] = append(byKey[k], c)
				}
			}
		}
	}
	var out []RouteConflict
	for _, cs := range byKey {
		sort.SliceStable(cs, func(i, j int) bool { return olderRoute(cs[i].route, cs[j].route) })
		win := cs[0]
		for _, c := range cs[1:] {
			if c.route == win.route || (c.route.Ingress == "") == (win.route.Ingress == "") {
				continue
			}
			out = append(out, RouteConflict{Host: win.host, Port: win.port, Match: win.match, Winner: sideOf(win), Loser: sideOf(c)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sortKey() < out[j].sortKey() })
	return out
}

func (c RouteConflict) sortKey() string {
	return fmt.Sprintf("%s|%05d|%s|%s/%s|%s|%s/%s|%s", c.Host, c.Port, c.Match, c.Winner.Namespace, c.Winner.Name, c.Winner.Field, c.Loser.Namespace, c.Loser.Name, c.Loser.Field)
}

func sideOf(c claim) conflictSide {
	return conflictSide{Namespace: c.route.Route.Namespace, Name: c.route.Route.Name, Ingress: c.route.Ingress, Field: c.field, Listener: c.listener}
}

// olderRoute is the data plane's order of routes: oldest creationTimestamp, then
// namespace/name.
func olderRoute(a, b *claimRoute) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Route.Namespace+"/"+a.Route.Name < b.Route.Namespace+"/"+b.Route.Name
}

// claimsOf lists what the route serves on the listeners its parentRefs select: one claim
// per hostname, port and match (the first rule and match of the route that has it).
func claimsOf(r *claimRoute, listeners []listenerSpec, gatewayNS, gatewayName string) []claim {
	var out []claim
	seen := map[string]bool{}
	hosts := make([]string, len(r.Route.Spec.Hostnames))
	for i, h := range r.Route.Spec.Hostnames {
		hosts[i] = string(h)
	}
	for _, ref := range r.Route.Spec.ParentRefs {
		for _, l := range selectedListeners(ref, r.Route.Namespace, listeners, gatewayNS, gatewayName) {
			for _, h := range intersectHosts(l.Hostname, hosts) {
				for ri, rule := range r.Route.Spec.Rules {
					matches := rule.Matches
					if len(matches) == 0 {
						matches = []gwv1.HTTPRouteMatch{{}}
					}
					for mi, m := range matches {
						c := claim{route: r, host: h, port: l.Port, match: matchKey(m), listener: l.Ref,
							field: fmt.Sprintf("spec.rules[%d].matches[%d]", ri, mi)}
						if k := c.key(); !seen[k] {
							seen[k] = true
							out = append(out, c)
						}
					}
				}
			}
		}
	}
	return out
}

// selectedListeners are the listeners a parentRef selects: the shared Gateway (or one of
// its ListenerSets), its section and port when given.
func selectedListeners(ref gwv1.ParentReference, routeNS string, listeners []listenerSpec, gatewayNS, gatewayName string) []listenerSpec {
	if ref.Group != nil && string(*ref.Group) != gwv1.GroupName {
		return nil
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	kind := "Gateway"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ns != gatewayNS || kind == "Gateway" && string(ref.Name) != gatewayName {
		return nil
	}
	var out []listenerSpec
	for _, l := range listeners {
		if l.Ref.ParentKind != kind || l.Ref.Parent != string(ref.Name) {
			continue
		}
		if ref.SectionName != nil && string(*ref.SectionName) != l.Ref.Section {
			continue
		}
		if ref.Port != nil && int32(*ref.Port) != l.Port {
			continue
		}
		out = append(out, l)
	}
	return out
}

// intersectHosts are the hostnames a route with hosts serves on a listener with
// listenerHost ("" for none): the Gateway API's intersection, "*" for any host.
func intersectHosts(listenerHost string, hosts []string) []string {
	switch {
	case len(hosts) == 0 && listenerHost == "":
		return []string{"*"}
	case len(hosts) == 0:
		return []string{listenerHost}
	case listenerHost == "":
		return hosts
	}
	var out []string
	for _, h := range hosts {
		switch {
		case h == listenerHost:
			out = append(out, h)
		case wildcardCovers(listenerHost, h):
			out = append(out, h)
		case wildcardCovers(h, listenerHost):
			out = append(out, listenerHost)
		}
	}
	return out
}

// wildcardCovers: pattern "*.example.com" covers "a.example.com" (and "*.a.example.com").
func wildcardCovers(pattern, h string) bool {
	return strings.HasPrefix(pattern, "*.") && h != pattern && strings.HasSuffix(h, pattern[1:])
}

// matchKey is a canonical form of an HTTPRouteMatch: two matches with the same key match
// the same requests. Path prefixes are compared without a trailing "/", as they are served.
func matchKey(m gwv1.HTTPRouteMatch) string {
	pt, pv := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			pt = *m.Path.Type
		}
		if m.Path.Value != nil {
			pv = *m.Path.Value
		}
	}
	if pt == gwv1.PathMatchPathPrefix {
		if pv = strings.TrimRight(pv, "/"); pv == "" {
			pv = "/"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", pt, pv)
	if m.Method != nil {
		fmt.Fprintf(&b, " method=%s", *m.Method)
	}
	var hs []string
	for _, h := range m.Headers {
		t := gwv1.HeaderMatchExact
		if h.Type != nil {
			t = *h.Type
		}
		hs = append(hs, fmt.Sprintf(" header %s %s=%q", t, strings.ToLower(string(h.Name)), h.Value))
	}
	sort.Strings(hs)
	var qs []string
	for _, q := range m.QueryParams {
		t := gwv1.QueryParamMatchExact
		if q.Type != nil {
			t = *q.Type
		}
		qs = append(qs, fmt.Sprintf(" query %s %s=%q", t, q.Name, q.Value))
	}
	sort.Strings(qs)
	b.WriteString(strings.Join(hs, ""))
	b.WriteString(strings.Join(qs, ""))
	return b.String()
}

// sharedListeners lists the HTTP and HTTPS listeners of the shared Gateway and of the
// ListenerSets attached to it.
func sharedListeners(gws []*gwv1.Gateway, sets []*gwv1.ListenerSet, gatewayNS, gatewayName string) []listenerSpec {
	var out []listenerSpec
	http := func(p gwv1.ProtocolType) bool { return p == gwv1.HTTPProtocolType || p == gwv1.HTTPSProtocolType }
	for _, g := range gws {
		if g.Namespace != gatewayNS || g.Name != gatewayName {
			continue
		}
		for _, l := range g.Spec.Listeners {
			if http(l.Protocol) {
				out = append(out, listenerSpec{listenerRef{"Gateway", g.Name, string(l.Name)}, int32(l.Port), hostnameOf(l.Hostname)})
			}
		}
	}
	for _, s := range sets {
		pns := s.Namespace
		if s.Spec.ParentRef.Namespace != nil {
			pns = string(*s.Spec.ParentRef.Namespace)
		}
		if s.Namespace != gatewayNS || pns != gatewayNS || string(s.Spec.ParentRef.Name) != gatewayName {
			continue
		}
		for _, l := range s.Spec.Listeners {
			if http(l.Protocol) {
				out = append(out, listenerSpec{listenerRef{"ListenerSet", s.Name, string(l.Name)}, int32(l.Port), hostnameOf(l.Hostname)})
			}
		}
	}
	return out
}

// ingressOfRoute is "namespace/name" of the Ingress an owned route belongs to (its owner
// reference); "" for a route gatebridge does not own.
func ingressOfRoute(r *gwv1.HTTPRoute) string {
	if r.Labels[converters.LabelManagedBy] != converters.ManagedByValue {
		return ""
	}
	for _, o := range r.OwnerReferences {
		if o.Kind == "Ingress" {
			return r.Namespace + "/" + o.Name
		}
	}
	return ""
}

// conflictNotes are the notes of one Ingress's conflicts, in the user's terms.
func conflictNotes(ingress string, cs []RouteConflict) []string {
	var out []string
	for _, c := range cs {
		where := fmt.Sprintf("host %s, port %d, %s", c.Host, c.Port, c.Match)
		switch ingress {
		case c.Loser.Ingress:
			out = append(out, fmt.Sprintf("%s of %s is not served (%s): %s has the same match and is older, and the oldest route wins (Gateway API precedence); change or delete that HTTPRoute to serve this path",
				c.Loser.Field, "HTTPRoute "+c.Loser.Namespace+"/"+c.Loser.Name, where, c.Winner.describe()))
		case c.Winner.Ingress:
			out = append(out, fmt.Sprintf("%s also claims %s (its %s): this Ingress's route is older and is served; that rule of the HTTPRoute is not",
				c.Loser.describe(), where, c.Loser.Field))
		}
	}
	return out
}

// conflictCondition is the gatebridge.dev/Conflicted condition of a route's parent entry
// attached to listeners, from the conflicts it is in there; ok is false when it is in none.
func conflictCondition(ns, name string, listeners []listenerRef, cs []RouteConflict, generation int64) (metav1.Condition, bool) {
	on := func(s conflictSide) bool {
		if s.Namespace != ns || s.Name != name {
			return false
		}
		for _, l := range listeners {
			if l == s.Listener {
				return true
			}
		}
		return false
	}
	var lost, won []string
	for _, c := range cs {
		where := fmt.Sprintf("host %s, port %d, %s", c.Host, c.Port, c.Match)
		switch {
		case on(c.Loser):
			lost = append(lost, fmt.Sprintf("%s (%s) is not served: %s is older and has the same match", c.Loser.Field, where, c.Winner.describe()))
		case on(c.Winner):
			won = append(won, fmt.Sprintf("%s (%s) is served; %s has the same match (its %s) and is not served there", c.Winner.Field, where, c.Loser.describe(), c.Loser.Field))
		}
	}
	if len(lost) == 0 && len(won) == 0 {
		return metav1.Condition{}, false
	}
	reason := ReasonShadowsRoutes
	if len(lost) > 0 {
		reason = ReasonRulesShadowed
	}
	msg := "the oldest route wins identical matches (Gateway API precedence): " + strings.Join(append(lost, won...), "; ")
	return condition(ConditionConflicted, true, reason, msg, generation), true
}

// namesSharedGateway: an HTTPRoute with a parentRef to the shared Gateway's namespace (the
// Gateway itself or one of its ListenerSets).
func namesSharedGateway(o converters.Options) func(client.Object) bool {
	return func(obj client.Object) bool {
		r, ok := obj.(*gwv1.HTTPRoute)
		if !ok {
			return false
		}
		for _, ref := range r.Spec.ParentRefs {
			ns := r.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			if ns == o.GatewayNamespace {
				return true
			}
		}
		return false
	}
}
