package dataplane

import (
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// routeEntry is one Envoy route and the key that orders it inside its virtual host.
type routeEntry struct {
	route *routev3.Route
	// pathClass orders kinds of path match: 0 Exact, 1 RegularExpression in ingress-nginx
	// order, 2 PathPrefix, 3 other RegularExpression.
	// The fields are sized to what they hold: 20,000 entries are remembered at 10,000
	// HTTPRoutes.
	pathClass int8
	method    bool
	// shown marks the one route per match that listings show (not the synthetic variants).
	shown   bool
	path    string
	headers int32
	queries int32
	// routeOrder is the HTTPRoute's place in creation order; rule and match its indexes;
	// sub orders the Envoy routes generated from one match.
	routeOrder, rule, match, sub int32
	// servedAction, when set, is what listings say the route does (bridge.go).
	servedAction string
	// wire is route encoded, once the entry is complete (wireform.go); an HTTPRoute's
	// entries then drop route.
	wire wireRoute
}

// lessEntry is Gateway API precedence (Exact, then the longest prefix, then method, header
// and query matches, then the oldest route and the rule order), except that in ingress-nginx
// mode regular expressions are tried longest string first, then by string descending, and
// the first that matches wins — nginx's order for regex locations.
func lessEntry(a, b *routeEntry) bool {
	if a.pathClass != b.pathClass {
		return a.pathClass < b.pathClass
	}
	if len(a.path) != len(b.path) {
		return len(a.path) > len(b.path)
	}
	if a.pathClass == 1 && a.path != b.path {
		return a.path > b.path
	}
	if a.method != b.method {
		return a.method
	}
	if a.headers != b.headers {
		return a.headers > b.headers
	}
	if a.queries != b.queries {
		return a.queries > b.queries
	}
	if a.routeOrder != b.routeOrder {
		return a.routeOrder < b.routeOrder
	}
	if a.rule != b.rule {
		return a.rule < b.rule
	}
	if a.match != b.match {
		return a.match < b.match
	}
	return a.sub < b.sub
}

// attachedHostnames returns the hostnames route r serves on the listeners of g.
func (t *translator) attachedHostnames(g *portGroup, r *gwv1.HTTPRoute) []string {
	routeHosts := make([]string, 0, len(r.Spec.Hostnames))
	for i, h := range r.Spec.Hostnames {
		if !gatewayHostname(string(h)) {
			// The API server refuses such a route; one read from a file names a virtual
			// host Envoy would refuse with the whole configuration.
			t.problem(routeKind(r), r.Namespace, r.Name, fmt.Sprintf("spec.hostnames[%d]", i), fmt.Sprintf("%q is not a hostname (Gateway API: a lowercase DNS name, optionally starting with *.); not served", string(h)))
			continue
		}
		routeHosts = append(routeHosts, string(h))
	}
	if len(routeHosts) == 0 && len(r.Spec.Hostnames) > 0 {
		return nil // not every host: a route with hostnames serves only those
	}
	seen := map[string]bool{}
	var out []string
	for _, ref := range r.Spec.ParentRefs {
		for _, l := range parentListeners([]*portGroup{g}, ref, r.Namespace) {
			if l.spec.Protocol != gwv1.HTTPProtocolType && l.spec.Protocol != gwv1.HTTPSProtocolType {
				continue
			}
			if !routeAllowed(l, routeKind(r), r.Namespace) {
				continue
			}
			for _, h := range intersectHostnames(l.hostname(), routeHosts) {
				// Listener isolation: requests for h belong to the most specific listener
				// of the port whose hostname matches h; the route serves h only through it.
				if owner := hostOwner(g, h); owner != nil && owner != l {
					continue
				}
				if !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
		}
	}
	return out
}

// hostOwner is the listener of g that requests for hostname h (a name or a wildcard) reach:
// the one whose hostname is h, else the wildcard listener with the longest suffix that
// covers h, else the one without a hostname; nil when none matches.
func hostOwner(g *portGroup, h string) *listenerInfo {
	var owner *listenerInfo
	best := -1
	for _, l := range g.listeners {
		if l.spec.Protocol != gwv1.HTTPProtocolType && l.spec.Protocol != gwv1.HTTPSProtocolType {
			continue
		}
		lh := l.hostname()
		score := -1
		switch {
		case lh == h:
			score = len(lh) + 1<<20 // an exact (or identical wildcard) hostname wins
		case lh == "":
			score = 0
		case strings.HasPrefix(lh, "*.") && strings.HasSuffix(h, lh[1:]) && len(h) > len(lh)-1:
			score = len(lh)
		}
		if score > best {
			owner, best = l, score
		}
	}
	return owner
}

// forwardedHeaders are the headers ingress-nginx always sets towards the backend.
func forwardedHeaders(g *portGroup) []*corev3.HeaderValueOption {
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	set := setHeader
	return []*corev3.HeaderValueOption{
		// The client's own values, before they are replaced below (evaluated in order; the
		// connection manager leaves X-Forwarded-For as received, see hcmFilter). Absent
		// client headers give empty values, which are not sent, as in nginx.
		set("x-original-forwarded-for", "%REQ(x-forwarded-for)%"),
		set("x-original-forwarded-host", "%REQ(x-forwarded-host)%"),
		set("x-real-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
		set("x-forwarded-for", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
		set("x-forwarded-host", "%REQ(:AUTHORITY)%"),
		set("x-forwarded-port", strconv.Itoa(int(g.gatewayPort))),
		set("x-forwarded-proto", scheme),
		set("x-forwarded-scheme", scheme),
		set("x-scheme", scheme),
	}
}

func ruleName(rule gwv1.HTTPRouteRule, i int) string {
	if rule.Name != nil && *rule.Name != "" {
		return string(*rule.Name)
	}
	return "rule-" + strconv.Itoa(i)
}

// httpRouteEntries translates every rule and match of an HTTPRoute.
// The entries' routeOrder is set by the caller.
func (t *translator) httpRouteEntries(g *portGroup, r *gwv1.HTTPRoute, ep *effectivePolicy) []*routeEntry {
	var out []*routeEntry
	for ri, rule := range r.Spec.Rules {
		act := t.ruleAction(g, r, ri, rule, ep)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		for mi, m := range matches {
			e, why := routeMatch(m, ep.nginxOrder())
			if why != "" {
				t.problem("HTTPRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[%d].matches[%d]", ri, mi), why+"; this match is not served")
				continue
			}
			e.rule, e.match = int32(ri), int32(mi)
			e.route.Name = fmt.Sprintf("%s/%s/%s/%d", r.Namespace, r.Name, ruleName(rule, ri), mi)
			out = append(out, act.expand(e)...)
		}
	}
	return out
}

// routeMatch translates one HTTPRouteMatch.
func routeMatch(m gwv1.HTTPRouteMatch, nginxOrder bool) (*routeEntry, string) {
	e := &routeEntry{route: &routev3.Route{Match: &routev3.RouteMatch{}}}
	rm := e.route.Match
	pt, pv := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			pt = *m.Path.Type
		}
		if m.Path.Value != nil {
			pv = *m.Path.Value
		}
	}
	e.path = pv
	switch pt {
	case gwv1.PathMatchExact:
		rm.PathSpecifier = &routev3.RouteMatch_Path{Path: pv}
	case gwv1.PathMatchPathPrefix:
		e.pathClass = 2
		trimmed := strings.TrimRight(pv, "/")
		if trimmed == "" {
			rm.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
		} else {
			rm.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: trimmed}
		}
	case gwv1.PathMatchRegularExpression:
		e.pathClass = 3
		if nginxOrder {
			e.pathClass = 1
		}
		if err := envoyregex.Check(pv); err != nil {
			return nil, fmt.Sprintf("path regular expression %.200q is not an RE2 regular expression Envoy takes: %v", pv, err)
		}
		rm.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: pv}}
	default:
		return nil, fmt.Sprintf("path match type %q is not supported", pt)
	}
	for _, h := range m.Headers {
		hm, why := headerMatcher(h)
		if why != "" {
			return nil, why
		}
		rm.Headers = append(rm.Headers, hm)
		e.headers++
	}
	for _, q := range m.QueryParams {
		sm, why := stringMatcher(q.Type == nil || *q.Type == gwv1.QueryParamMatchExact, q.Value)
		if why != "" {
			return nil, why
		}
		rm.QueryParameters = append(rm.QueryParameters, &routev3.QueryParameterMatcher{
			Name: string(q.Name), QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
		})
		e.queries++
	}
	if m.Method != nil {
		e.method = true
		rm.Headers = append(rm.Headers, exactHeader(":method", string(*m.Method)))
	}
	return e, ""
}

func headerMatcher(h gwv1.HTTPHeaderMatch) (*routev3.HeaderMatcher, string) {
	sm, why := stringMatcher(h.Type == nil || *h.Type == gwv1.HeaderMatchExact, h.Value)
	if why != "" {
		return nil, why
	}
	return &routev3.HeaderMatcher{Name: strings.ToLower(string(h.Name)), HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}}, ""
}

func stringMatcher(exact bool, value string) (*matcherv3.StringMatcher, string) {
	if exact {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}, ""
	}
	if err := envoyregex.Check(value); err != nil {
		return nil, fmt.Sprintf("regular expression %.200q is not an RE2 regular expression Envoy takes: %v", value, err)
	}
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: value}}}, ""
}

func exactHeader(name, value string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}},
	}}
}

func regexHeader(name, re string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}},
	}}
}

// servedMatch is what one shown route entry serves, for people: its match and its action.
type servedMatch struct{ match, action string }

// keepServedActions keeps in each shown entry of an HTTPRoute what a listing of its action
// needs of this translation: where an auth-url's subrequests go. Everything else a listing
// says is read from the entry's route encoding when asked (Output.Served): only `gatebridge
// run` lists, and at 10,000 HTTPRoutes the 20,000 lines held for it were ~2 MB of every
// control plane's heap.
func (t *translator) keepServedActions(entries []*routeEntry) {
	for _, e := range entries {
		if !e.shown || e.servedAction != "" {
			continue
		}
		if auth := t.describeAuthCall(e.route); auth != "" {
			e.servedAction = describeAction(e.route) + auth
		}
	}
}

// servedMatches describes what the shown entries among entries serve, read from their
// route encodings.
func servedMatches(entries []*routeEntry) []servedMatch {
	var out []servedMatch
	for _, e := range entries {
		if !e.shown {
			continue
		}
		var r routev3.Route
		if err := proto.Unmarshal(e.wire, &r); err != nil {
			continue // not reached: the encoding was made from a route
		}
		action := e.servedAction
		if action == "" {
			action = describeAction(&r)
		}
		out = append(out, servedMatch{describeMatch(r.Match), action})
	}
	return out
}

func describeMatch(m *routev3.RouteMatch) string {
	var s string
	switch p := m.PathSpecifier.(type) {
	case *routev3.RouteMatch_Path:
		s = "= " + p.Path
	case *routev3.RouteMatch_Prefix:
		s = p.Prefix
	case *routev3.RouteMatch_PathSeparatedPrefix:
		s = p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		s = "~ " + p.SafeRegex.Regex
	}
	for _, h := range m.Headers {
		switch v := h.GetStringMatch().GetMatchPattern().(type) {
		case *matcherv3.StringMatcher_Exact:
			s += fmt.Sprintf(" [%s=%s]", h.Name, v.Exact)
		case *matcherv3.StringMatcher_SafeRegex:
			s += fmt.Sprintf(" [%s~%s]", h.Name, v.SafeRegex.Regex)
		}
	}
	for _, q := range m.QueryParameters {
		s += fmt.Sprintf(" [?%s]", q.Name)
	}
	return s
}

func describeAction(r *routev3.Route) string {
	switch a := r.Action.(type) {
	case *routev3.Route_Redirect:
		return fmt.Sprintf("redirect %d", redirectCode(a.Redirect.ResponseCode))
	case *routev3.Route_DirectResponse:
		return fmt.Sprintf("answer %d", a.DirectResponse.Status)
	case *routev3.Route_Route:
		var parts []string
		switch c := a.Route.ClusterSpecifier.(type) {
		case *routev3.RouteAction_Cluster:
			parts = append(parts, c.Cluster)
		case *routev3.RouteAction_WeightedClusters:
			for _, w := range c.WeightedClusters.Clusters {
				parts = append(parts, fmt.Sprintf("%s (%d)", w.Name, w.Weight.GetValue()))
			}
		}
		s := "→ " + strings.Join(parts, ", ")
		if a.Route.RegexRewrite != nil {
			s += " rewrite " + a.Route.RegexRewrite.Substitution
		} else if a.Route.PrefixRewrite != "" {
			s += " rewrite prefix " + a.Route.PrefixRewrite
		}
		return s
	}
	return ""
}

func redirectCode(c routev3.RedirectAction_RedirectResponseCode) int {
	switch c {
	case routev3.RedirectAction_FOUND:
		return 302
	case routev3.RedirectAction_SEE_OTHER:
		return 303
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		return 307
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		return 308
	}
	return 301
}

// perFilter merges per-filter configs.
func perFilter(dst map[string]*anypb.Any, name string, cfg *anypb.Any) map[string]*anypb.Any {
	if cfg == nil {
		return dst
	}
	if dst == nil {
		dst = map[string]*anypb.Any{}
	}
	dst[name] = cfg
	return dst
}
