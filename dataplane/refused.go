package dataplane

import (
	"fmt"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Refused locations (Model.RefusedLocations) are answered by the Gateway itself: each
// becomes a route in the virtual host of its hostname on every HTTP and HTTPS listener of
// the Gateway that takes the hostname, matched as its path would have been, ordered with
// the host's other routes by the usual precedence (Exact, then the longest prefix; in
// ingress-nginx regex mode, nginx's order), and ahead of any route with the very same
// match. A refused hostname that nothing else serves still gets its own virtual host, so
// its requests never reach a wildcard host or the catch-all: paths it does not own answer
// 404, as nginx's implicit "/" does. A refused catch-all ("") goes to the virtual host of
// the listeners without a hostname.

// refusedAction is what a refused location answers: 503 (ingress-nginx answers 503 for a
// denied location); on the bridged Gateway, the fallback — ingress-nginx keeps serving
// what gatebridge does not (refusedRoute).
func refusedAction() *routev3.Route_DirectResponse {
	return &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}}
}

// refusedRoute makes e's route answer a refused location of g: 503, or the fallback.
func (t *translator) refusedRoute(g *portGroup, e *routeEntry, loc *RefusedLocation) {
	if c := t.fallbackCluster(g); c != "" {
		e.route = fallbackRoute(c, e.route.Name, e.route.Match, loc.Source, false)
		return
	}
	e.route.Action = refusedAction()
}

// refusedEntries are the routes of the refused locations of g's Gateway, by virtual host,
// for the virtual hosts covered says a native route may answer.
func (t *translator) refusedEntries(g *portGroup, covered func(host string) bool) map[string][]*routeEntry {
	var out map[string][]*routeEntry
	nginxOrder, decided := false, false
	for i := range t.model.RefusedLocations {
		loc := &t.model.RefusedLocations[i]
		if loc.GatewayNamespace != g.gw.Namespace || loc.GatewayName != g.gw.Name {
			continue
		}
		hosts := slices.DeleteFunc(refusedHosts(g, loc.Host), func(h string) bool { return !covered(h) })
		if len(hosts) == 0 {
			continue
		}
		if !decided {
			nginxOrder, decided = t.policyFor(g.gw, nil).nginxOrder(), true
		}
		e := t.refusedEntry(g, loc, nginxOrder)
		if e == nil {
			continue
		}
		if out == nil {
			out = map[string][]*routeEntry{}
		}
		for _, h := range hosts {
			out[h] = append(out[h], e)
			action := "answer 503 (refused: " + loc.Reason + ")"
			if t.bridged(g) {
				action = fallbackServed(loc.Reason)
			}
			t.served = append(t.served, Served{Listener: g.name(), Host: h, Match: describeMatch(e.route.Match),
				Action: action, Route: "Ingress " + loc.Source})
		}
	}
	return out
}

// nativelyCovered says, on a bridged port group whose native routes are vhosts, whether a
// request for a virtual host could reach a native route: one of that very host, of a
// wildcard host that matches it, or of the catch-all. Only then must a refused or
// not-migrated location of that host be a route of its own; any other request already
// ends at the fallback route (the catch-all table's last route). So an Ingress of a host
// nothing migrated touches costs no route at all — before the first migration, none.
// A native exact host does not cover a wildcard location: as in nginx, an exact server
// name is its own server, and requests for other names never reach it.
func nativelyCovered(vhosts map[string][]*routeEntry) func(host string) bool {
	var wildcards []string
	for h, es := range vhosts {
		if len(es) > 0 && strings.HasPrefix(h, "*.") {
			wildcards = append(wildcards, h)
		}
	}
	catchAll := len(vhosts[fallbackHost]) > 0
	return func(host string) bool {
		if catchAll || len(vhosts[host]) > 0 {
			return true
		}
		for _, w := range wildcards {
			// "*.example.com" covers "a.example.com", "a.b.example.com" and
			// "*.a.example.com" (every name of it is one of the wildcard's).
			if strings.HasSuffix(host, w[1:]) && len(host) > len(w)-1 {
				return true
			}
		}
		return false
	}
}

// refusedHosts are the virtual hosts of g a refused location of host belongs to: the
// hostname on every HTTP(S) listener that takes it; the catch-all only on listeners
// without a hostname (a listener for one hostname is no catch-all).
func refusedHosts(g *portGroup, host string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range g.listeners {
		if l.spec.Protocol != gwv1.HTTPProtocolType && l.spec.Protocol != gwv1.HTTPSProtocolType {
			continue
		}
		var hs []string
		switch {
		case host == "" && l.hostname() == "":
			hs = []string{fallbackHost}
		case host != "":
			hs = intersectHostnames(l.hostname(), []string{host})
		}
		for _, h := range hs {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// refusedEntry is the route of one refused location in g: the previous translation's
// when it had the same one (so that unchanged route tables stay the same protos), else a
// new one. nil when the match cannot be served (a problem says why).
func (t *translator) refusedEntry(g *portGroup, loc *RefusedLocation, nginxOrder bool) *routeEntry {
	pt, pv := "", ""
	if loc.Path.Type != nil {
		pt = string(*loc.Path.Type)
	}
	if loc.Path.Value != nil {
		pv = *loc.Path.Value
	}
	key := strings.Join([]string{g.name(), loc.Source, loc.Host, pt, pv, fmt.Sprint(nginxOrder), t.fallbackCluster(g)}, "\x00")
	if e, ok := t.memo.refused[key]; ok {
		t.memo.nextRefused[key] = e
		return e
	}
	path := loc.Path
	e, why := routeMatch(gwv1.HTTPRouteMatch{Path: &path}, nginxOrder)
	if why != "" {
		ns, name, _ := strings.Cut(loc.Source, "/")
		t.problem("Ingress", ns, name, "", "refused location "+pv+" on "+hostOrAll(loc.Host)+": "+why+"; it is not answered 503 and falls through to what else matches")
		return nil
	}
	e.route.Name = fmt.Sprintf("refused/%s/%s/%s", loc.Source, hostOrAll(loc.Host), pv)
	t.refusedRoute(g, e, loc)
	// The entry keeps its proto too: listings describe its match on every translation.
	if e.wire, why = encodeRouteWhy(e.route); why != "" {
		ns, name, _ := strings.Cut(loc.Source, "/")
		t.problem("Ingress", ns, name, "", "refused location "+pv+" on "+hostOrAll(loc.Host)+": "+why+"; it is not answered 503 and falls through to what else matches")
		return nil
	}
	// Ahead of any route with the very same match: the location is the refused Ingress's.
	e.routeOrder = -1
	e.shown = true
	t.memo.nextRefused[key] = e
	return e
}

func hostOrAll(h string) string {
	if h == "" {
		return "(all hosts)"
	}
	return h
}
