package dataplane

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// ruleAction is what one HTTPRoute rule does, shared by the routes of all its matches.
type ruleAction struct {
	redirect *routev3.RedirectAction
	direct   *routev3.DirectResponseAction
	forward  *routev3.RouteAction

	reqAdd, respAdd       []*corev3.HeaderValueOption
	reqRemove, respRemove []string
	perFilter             map[string]*anypb.Any

	// stripSlash: an https redirect that drops one trailing "/" of the path (ingress-nginx
	// ssl-redirect), unless the request has a query string.
	stripSlash bool
	// cors answers cross-origin requests as ingress-nginx does (forwarding routes only).
	cors *v1alpha1.CORSPolicy
	// affinityPath is the cookie path when the policy does not give one (the rule's path).
	affinity *v1alpha1.SessionAffinityPolicy
	// hash is upstream-hash-by's hash policy (nil when affinity or no hashing).
	hash []*routev3.RouteAction_HashPolicy
	// downstreamTLS: the rule is served on an HTTPS listener (affinity cookies are Secure).
	downstreamTLS bool
	// noAffinityCookie: every backend of the rule is a legacy canary's (no cookie at all).
	noAffinityCookie bool
	// tracing is the rule's span setting (tracing.go); nil: the connection manager's.
	tracing *routev3.Tracing
}

// ruleAction translates a rule's filters, backends and the policy that applies to it.
func (t *translator) ruleAction(g *portGroup, r *gwv1.HTTPRoute, ri int, rule gwv1.HTTPRouteRule, ep *effectivePolicy) *ruleAction {
	a := &ruleAction{downstreamTLS: g.tls}
	field := func(s string) string { return fmt.Sprintf("spec.rules[%d].%s", ri, s) }
	fail := func(status uint32, f, msg string) *ruleAction {
		t.problem("HTTPRoute", r.Namespace, r.Name, f, msg)
		return &ruleAction{direct: &routev3.DirectResponseAction{Status: status}}
	}
	var rewrite func(*routev3.RouteAction)
	var mirrors []*routev3.RouteAction_RequestMirrorPolicy
	for fi, f := range rule.Filters {
		ff := field(fmt.Sprintf("filters[%d]", fi))
		if config, ok := filterConfigured(f); !ok {
			// The API server refuses such a filter (a CEL rule); one read from a file would
			// have nothing to apply.
			return fail(500, ff, fmt.Sprintf("a %s filter needs %s; the rule answers 500", f.Type, config))
		}
		t.reportUnmodifiable(r, ff, f)
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			a.reqAdd, a.reqRemove = headerModifier(f.RequestHeaderModifier, a.reqAdd, a.reqRemove)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			a.respAdd, a.respRemove = headerModifier(f.ResponseHeaderModifier, a.respAdd, a.respRemove)
		case gwv1.HTTPRouteFilterRequestRedirect:
			a.redirect, a.stripSlash = t.redirectAction(f.RequestRedirect, ep, g)
		case gwv1.HTTPRouteFilterURLRewrite:
			rewrite = urlRewrite(f.URLRewrite, rule)
		case gwv1.HTTPRouteFilterRequestMirror:
			m := f.RequestMirror
			name, why := t.backendCluster(r.Namespace, "HTTPRoute", m.BackendRef, variantFor(ep, g.tls))
			if why.msg != "" {
				t.routeRefIssue("HTTPRoute", r.Namespace, r.Name, ff+".requestMirror.backendRef", why, "not mirrored")
				continue
			}
			mp := &routev3.RouteAction_RequestMirrorPolicy{Cluster: name}
			if pct := mirrorPercent(m); pct < 100 {
				mp.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
					Numerator: uint32(pct * 10000), Denominator: typev3.FractionalPercent_MILLION}}
			}
			mirrors = append(mirrors, mp)
		case gwv1.HTTPRouteFilterCORS:
			a.perFilter = perFilter(a.perFilter, filterCORS, mustAny(standardCORS(f.CORS)))
		case gwv1.HTTPRouteFilterExtensionRef:
			ref := f.ExtensionRef
			if string(ref.Group) != v1alpha1.GroupVersion.Group || string(ref.Kind) != "RouteFilter" {
				msg := fmt.Sprintf("filter kind %s.%s is not known to gatebridge; the rule answers 500", ref.Kind, ref.Group)
				t.issue(Issue{Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name, Condition: ConditionResolvedRefs, Reason: ReasonInvalidKind, Message: ff + ".extensionRef: " + msg})
				return fail(500, ff+".extensionRef", msg)
			}
			rf := t.ix.filters[qualified(r.Namespace, string(ref.Name))]
			if rf == nil {
				msg := fmt.Sprintf("RouteFilter %s not found; the rule answers 500", qualified(r.Namespace, string(ref.Name)))
				t.issue(Issue{Kind: "HTTPRoute", Namespace: r.Namespace, Name: r.Name, Condition: ConditionResolvedRefs, Reason: ReasonFilterNotFound, Message: ff + ".extensionRef: " + msg})
				return fail(500, ff+".extensionRef", msg)
			}
			switch {
			case rf.Spec.RegexRewrite != nil:
				rr := rf.Spec.RegexRewrite
				if err := envoyregex.Check(rr.Pattern); err != nil {
					return fail(500, ff+".extensionRef", fmt.Sprintf("RouteFilter %s pattern is not an RE2 regular expression Envoy takes: %v; the rule answers 500", rf.Name, err))
				}
				rewrite = func(ra *routev3.RouteAction) {
					ra.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: rr.Pattern}, Substitution: rr.Substitution}
				}
			case rf.Spec.Redirect != nil:
				a.direct = &routev3.DirectResponseAction{Status: uint32(rf.Spec.Redirect.StatusCode)}
				a.respAdd = append(a.respAdd, setHeader("location", escapeFormatter(rf.Spec.Redirect.URL)))
			case rf.Spec.Headers != nil:
				req, err := headerTemplateOptions(rf.Spec.Headers.Request)
				if err != nil {
					return fail(500, ff+".extensionRef", fmt.Sprintf("RouteFilter %s: %v; the rule answers 500", rf.Name, err))
				}
				resp, err := headerTemplateOptions(rf.Spec.Headers.Response)
				if err != nil {
					return fail(500, ff+".extensionRef", fmt.Sprintf("RouteFilter %s: %v; the rule answers 500", rf.Name, err))
				}
				a.reqAdd, a.respAdd = append(a.reqAdd, req...), append(a.respAdd, resp...)
			case rf.Spec.Response != nil:
				a.direct = directResponse(rf.Spec.Response)
				if rf.Spec.Response.Body != "" {
					a.respAdd = append(a.respAdd, setHeader("content-type", "text/plain"))
				}
			}
		default:
			t.problem("HTTPRoute", r.Namespace, r.Name, ff, fmt.Sprintf("filter type %s is not supported; ignored", f.Type))
		}
	}
	a.tracing = t.routeTracing(g, r, ri)
	if a.redirect != nil || a.direct != nil {
		// nginx runs a location's CORS block before its `return` and before the ssl-redirect
		// (rewrite_by_lua runs last in the rewrite phase). app-root is a server-level return,
		// answered before any location, so it gets no CORS.
		if ep.spec.CORS != nil && ruleName(rule, ri) != "app-root" {
			a.cors = ep.spec.CORS
		}
		return a
	}
	ra, extra, ok := t.forwardAction(g, r, ri, rule, ep)
	if !ok {
		return &ruleAction{direct: &routev3.DirectResponseAction{Status: 500}}
	}
	if rewrite != nil {
		rewrite(ra)
	}
	ra.RequestMirrorPolicies = mirrors
	a.forward = ra
	a.reqAdd = append(a.reqAdd, extra...)
	if d := t.applyPolicy(g, r, ri, ep, a); d != nil {
		return d
	}
	return a
}

// forwardAction routes to the rule's backends. ok is false when none is usable (the
// Gateway API says such a rule answers 500).
func (t *translator) forwardAction(g *portGroup, r *gwv1.HTTPRoute, ri int, rule gwv1.HTTPRouteRule, ep *effectivePolicy) (*routev3.RouteAction, []*corev3.HeaderValueOption, bool) {
	v := grpcVariant(r, variantFor(ep, g.tls))
	type weighted struct {
		name   string
		weight uint32
		ref    gwv1.HTTPBackendRef
		index  int // in the rule's backendRefs
	}
	var ws []weighted
	filtered := false
	for bi, b := range rule.BackendRefs {
		w := uint32(1)
		if b.Weight != nil {
			w = uint32(*b.Weight)
		}
		if w == 0 {
			continue
		}
		name, why := t.backendCluster(r.Namespace, "HTTPRoute", b.BackendObjectReference, v)
		if why.msg != "" {
			t.routeRefIssue("HTTPRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[%d].backendRefs[%d]", ri, bi), why, "its share of requests is not served")
			continue
		}
		ws = append(ws, weighted{name, w, b, bi})
		filtered = filtered || len(b.Filters) > 0 || noAffinityCookie(ep, r.Namespace, b)
	}
	if len(ws) == 0 {
		if len(rule.BackendRefs) == 0 {
			t.problem("HTTPRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[%d]", ri), "the rule has no backendRefs; it answers 500")
		}
		return nil, nil, false
	}
	ra := &routev3.RouteAction{
		// nginx has no total deadline by default; Envoy's default is 15 s.
		Timeout: noTimeout,
	}
	if eps := ep.spec.ErrorPages; eps != nil && eps.DefaultBackend != nil && !t.anyReady(r.Namespace, rule.BackendRefs) {
		if headers, ok := t.defaultBackendAction(r, ri, ep, ra); ok {
			return ra, headers, true
		}
	}
	if len(ws) == 1 && !filtered {
		ra.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: ws[0].name}
	} else {
		// A backendRef's own header filters apply to the requests it receives (and their
		// responses): a weighted cluster, even for one backend, carries them.
		wc := &routev3.WeightedCluster{}
		for _, w := range ws {
			cw := &routev3.WeightedCluster_ClusterWeight{Name: w.name, Weight: wrapperspb.UInt32(w.weight)}
			if noAffinityCookie(ep, r.Namespace, w.ref) {
				// The affinity Lua filter drops the cookie Envoy generated (affinity.go).
				cw.ResponseHeadersToAdd = append(cw.ResponseHeadersToAdd, setHeader(noAffinityCookieHeader, escapeFormatter(ep.spec.SessionAffinity.CookieName)))
			}
			for fi, f := range w.ref.Filters {
				t.reportUnmodifiable(r, fmt.Sprintf("spec.rules[%d].backendRefs[%d].filters[%d]", ri, w.index, fi), f)
				switch f.Type {
				case gwv1.HTTPRouteFilterRequestHeaderModifier:
					cw.RequestHeadersToAdd, cw.RequestHeadersToRemove = headerModifier(f.RequestHeaderModifier, cw.RequestHeadersToAdd, cw.RequestHeadersToRemove)
				case gwv1.HTTPRouteFilterResponseHeaderModifier:
					cw.ResponseHeadersToAdd, cw.ResponseHeadersToRemove = headerModifier(f.ResponseHeaderModifier, cw.ResponseHeadersToAdd, cw.ResponseHeadersToRemove)
				}
			}
			wc.Clusters = append(wc.Clusters, cw)
		}
		ra.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if to := rule.Timeouts; to != nil && to.Request != nil {
		if d, ok := t.ruleDuration(r, fmt.Sprintf("spec.rules[%d].timeouts.request", ri), *to.Request); ok {
			ra.Timeout = durationpb.New(d)
		}
	}
	ra.RetryPolicy = ruleRetry(rule.Retry)
	return ra, nil, true
}

// ruleRetry is a rule's Gateway API retry: connection errors (refused, reset, connect
// timeout) and the listed status codes are retried up to attempts times (default 1),
// waiting at least backoff before each try. A TrafficPolicy's retry (proxy-next-upstream)
// replaces it.
func ruleRetry(r *gwv1.HTTPRouteRetry) *routev3.RetryPolicy {
	if r == nil {
		return nil
	}
	rp := &routev3.RetryPolicy{RetryOn: "connect-failure,refused-stream,reset", NumRetries: wrapperspb.UInt32(1)}
	if r.Attempts != nil {
		rp.NumRetries = wrapperspb.UInt32(uint32(*r.Attempts))
	}
	for _, c := range r.Codes {
		rp.RetriableStatusCodes = append(rp.RetriableStatusCodes, uint32(c))
	}
	if len(rp.RetriableStatusCodes) > 0 {
		rp.RetryOn += ",retriable-status-codes"
	}
	if r.Backoff != nil {
		if d, err := time.ParseDuration(string(*r.Backoff)); err == nil && d > 0 {
			rp.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(d)}
		}
	}
	return rp
}

// anyReady reports whether any backend of the rule has ready endpoints.
func (t *translator) anyReady(ns string, refs []gwv1.HTTPBackendRef) bool {
	for _, b := range refs {
		bns := ns
		if b.Namespace != nil {
			bns = string(*b.Namespace)
		}
		if b.Port != nil && t.hasReadyEndpoints(bns, string(b.Name), int32(*b.Port)) {
			return true
		}
	}
	return false
}

// defaultBackendAction sends the request to the policy's default backend with the headers
// ingress-nginx adds when a Service has no ready endpoints (`default-backend`).
func (t *translator) defaultBackendAction(r *gwv1.HTTPRoute, ri int, ep *effectivePolicy, ra *routev3.RouteAction) ([]*corev3.HeaderValueOption, bool) {
	name, ok := t.defaultBackendCluster(r, ri, ep.spec.ErrorPages.DefaultBackend)
	if !ok {
		return nil, false
	}
	ra.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: name}
	return append([]*corev3.HeaderValueOption{setHeader("x-code", "503")}, t.defaultBackendHeaders(r, ri, ep)...), true
}

// defaultBackendCluster resolves a policy's default backend (a Service in the route's
// namespace, its first port unless one is given) to a cluster, reporting what is missing.
func (t *translator) defaultBackendCluster(r *gwv1.HTTPRoute, ri int, db *gwv1.BackendObjectReference) (string, bool) {
	ns := r.Namespace
	field := fmt.Sprintf("spec.rules[%d]", ri)
	svc := t.ix.services[qualified(ns, string(db.Name))]
	if svc == nil || len(svc.Spec.Ports) == 0 {
		t.problem("HTTPRoute", r.Namespace, r.Name, field, fmt.Sprintf("default backend Service %s not found", qualified(ns, string(db.Name))))
		return "", false
	}
	port := svc.Spec.Ports[0].Port
	if db.Port != nil {
		port = int32(*db.Port)
	}
	name, why := t.serviceCluster(ns, svc.Name, port, clusterVariant{connect: defaultConnectTimeout})
	if why.msg != "" {
		t.problem("HTTPRoute", r.Namespace, r.Name, field, why.msg)
		return "", false
	}
	return name, true
}

// defaultBackendHeaders are the headers that tell a default backend whose request it
// answers: X-Format (the client's Accept), X-Namespace, X-Ingress-Name, and the rule's
// (first) Service and port.
func (t *translator) defaultBackendHeaders(r *gwv1.HTTPRoute, ri int, ep *effectivePolicy) []*corev3.HeaderValueOption {
	rule := r.Spec.Rules[ri]
	svcName, svcPort := "", ""
	if len(rule.BackendRefs) > 0 {
		svcName = string(rule.BackendRefs[0].Name)
		if rule.BackendRefs[0].Port != nil {
			svcPort = strconv.Itoa(int(*rule.BackendRefs[0].Port))
		}
	}
	return []*corev3.HeaderValueOption{
		setHeader("x-format", "%REQ(accept)%"),
		setHeader("x-namespace", escapeFormatter(r.Namespace)),
		setHeader("x-ingress-name", escapeFormatter(ep.spec.ErrorPages.IngressName)),
		setHeader("x-service-name", escapeFormatter(svcName)),
		setHeader("x-service-port", svcPort),
	}
}

// backendCluster resolves a backend reference to a cluster, or says why it cannot.
func (t *translator) backendCluster(fromNs, fromKind string, ref gwv1.BackendObjectReference, v clusterVariant) (string, refIssue) {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		kind := "Service"
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if ref.Group != nil && *ref.Group != "" {
			kind += "." + string(*ref.Group)
		}
		return "", refIssue{ReasonInvalidKind, fmt.Sprintf("backend kind %s is not supported (only Service)", kind)}
	}
	ns := fromNs
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if !t.ix.granted(gwv1.GroupName, fromKind, fromNs, "", "Service", ns, string(ref.Name)) {
		return "", refIssue{ReasonRefNotPermitted, fmt.Sprintf("Service %s is in another namespace and no ReferenceGrant there allows it", qualified(ns, string(ref.Name)))}
	}
	if ref.Port == nil {
		return "", refIssue{ReasonBackendNotFound, "backendRef has no port"}
	}
	return t.serviceCluster(ns, string(ref.Name), int32(*ref.Port), v)
}

// redirectAction translates RequestRedirect, refined by the policy's redirect settings.
func (t *translator) redirectAction(f *gwv1.HTTPRequestRedirectFilter, ep *effectivePolicy, g *portGroup) (*routev3.RedirectAction, bool) {
	ra := &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_FOUND}
	if f.StatusCode != nil {
		switch *f.StatusCode {
		case 301:
			ra.ResponseCode = routev3.RedirectAction_MOVED_PERMANENTLY
		case 303:
			ra.ResponseCode = routev3.RedirectAction_SEE_OTHER
		case 307:
			ra.ResponseCode = routev3.RedirectAction_TEMPORARY_REDIRECT
		case 308:
			ra.ResponseCode = routev3.RedirectAction_PERMANENT_REDIRECT
		}
	}
	rp := ep.spec.Redirects
	if f.Scheme != nil {
		if *f.Scheme == "https" {
			ra.SchemeRewriteSpecifier = &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}
		} else {
			ra.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: string(*f.Scheme)}
		}
	}
	if f.Hostname != nil {
		ra.HostRedirect = string(*f.Hostname)
	}
	if f.Port != nil {
		ra.PortRedirect = uint32(*f.Port)
	}
	// A new hostname alone keeps the listener's port (Gateway API: the listener's port when
	// neither scheme nor port is given); Envoy would drop it with the old host. The
	// scheme's well-known port is left out of the Location. It is the Gateway's port, not
	// where a port map makes Envoy bind it.
	if f.Hostname != nil && f.Port == nil && f.Scheme == nil {
		if p := uint32(g.gatewayPort); (g.tls && p != 443) || (!g.tls && p != 80) {
			ra.PortRedirect = p
		}
	}
	if p := f.Path; p != nil {
		switch p.Type {
		case gwv1.FullPathHTTPPathModifier:
			if p.ReplaceFullPath != nil {
				ra.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: *p.ReplaceFullPath}
			}
			// nginx `return <code> <url>` never appends the query string.
			if rp != nil && rp.FullPathDropsQuery != nil && *rp.FullPathDropsQuery {
				ra.StripQuery = true
			}
		case gwv1.PrefixMatchHTTPPathModifier:
			if p.ReplacePrefixMatch != nil {
				ra.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: *p.ReplacePrefixMatch}
			}
		}
	}
	// An ssl-redirect: only the scheme changes.
	httpsOnly := f.Scheme != nil && *f.Scheme == "https" && f.Hostname == nil && f.Path == nil && f.Port == nil
	strip := false
	if httpsOnly && rp != nil {
		strip = rp.HTTPSTrailingSlash == v1alpha1.TrailingSlashStrip
		if rp.HTTPSIncludePort != nil && *rp.HTTPSIncludePort {
			ra.PortRedirect = t.opts.envoyPort(443)
		}
	}
	// from-to-www-redirect: only the hostname changes.
	if hostnameOnly := f.Hostname != nil && f.Scheme == nil && f.Path == nil && f.Port == nil; hostnameOnly && rp != nil {
		strip = rp.HostnameTrailingSlash == v1alpha1.TrailingSlashStrip
	}
	// nginx redirects to https://<host without port>: the HTTPS port, which Envoy omits when
	// it is 443. When `run` maps 443 elsewhere, the Location names the port it serves on.
	if httpsOnly && ra.PortRedirect == 0 {
		ra.PortRedirect = t.opts.envoyPort(443)
	}
	return ra, strip
}

// urlRewrite translates URLRewrite; ReplacePrefixMatch needs the rule's prefix.
func urlRewrite(f *gwv1.HTTPURLRewriteFilter, rule gwv1.HTTPRouteRule) func(*routev3.RouteAction) {
	return func(ra *routev3.RouteAction) {
		if f.Hostname != nil {
			ra.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: string(*f.Hostname)}
		}
		p := f.Path
		if p == nil {
			return
		}
		switch p.Type {
		case gwv1.FullPathHTTPPathModifier:
			if p.ReplaceFullPath != nil {
				ra.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^.*$"}, Substitution: regexSubstitution(*p.ReplaceFullPath)}
			}
		case gwv1.PrefixMatchHTTPPathModifier:
			if p.ReplacePrefixMatch == nil {
				return
			}
			repl := *p.ReplacePrefixMatch
			prefix := rulePrefix(rule)
			if repl == "/" && prefix != "" && prefix != "/" {
				// "/foo/bar" with prefix "/foo" must become "/bar", not "//bar".
				ra.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
					Pattern:      &matcherv3.RegexMatcher{Regex: "^" + regexp.QuoteMeta(strings.TrimRight(prefix, "/")) + "/*"},
					Substitution: "/",
				}
				return
			}
			ra.PrefixRewrite = repl
		}
	}
}

func rulePrefix(rule gwv1.HTTPRouteRule) string {
	for _, m := range rule.Matches {
		if m.Path != nil && m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchPathPrefix && m.Path.Value != nil {
			return *m.Path.Value
		}
	}
	return ""
}

// regexSubstitution escapes backslashes so a literal path survives RE2 substitution.
func regexSubstitution(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

func mirrorPercent(m *gwv1.HTTPRequestMirrorFilter) float64 {
	if m.Percent != nil {
		return float64(*m.Percent)
	}
	if m.Fraction != nil && m.Fraction.Denominator != nil && *m.Fraction.Denominator > 0 {
		return 100 * float64(m.Fraction.Numerator) / float64(*m.Fraction.Denominator)
	}
	return 100
}

func headerModifier(f *gwv1.HTTPHeaderFilter, add []*corev3.HeaderValueOption, remove []string) ([]*corev3.HeaderValueOption, []string) {
	if f == nil {
		return add, remove // a backendRef's filter without its configuration: nothing to do
	}
	for _, h := range f.Set {
		if modifiableHeader(string(h.Name)) {
			add = append(add, setHeader(strings.ToLower(string(h.Name)), escapeFormatter(h.Value)))
		}
	}
	for _, h := range f.Add {
		if modifiableHeader(string(h.Name)) {
			add = append(add, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: strings.ToLower(string(h.Name)), Value: escapeFormatter(h.Value)},
				AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD})
		}
	}
	for _, h := range f.Remove {
		if modifiableHeader(h) {
			remove = append(remove, strings.ToLower(h))
		}
	}
	return add, remove
}

func setHeader(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
}

// escapeFormatter keeps a literal value literal: Envoy reads % in header values as the
// start of a command operator.
func escapeFormatter(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// applyPolicy adds what the TrafficPolicy asks of a forwarding rule. It returns a
// replacement action when the policy fails closed.
func (t *translator) applyPolicy(g *portGroup, r *gwv1.HTTPRoute, ri int, ep *effectivePolicy, a *ruleAction) *ruleAction {
	s := &ep.spec
	ra := a.forward
	field := fmt.Sprintf("spec.rules[%d]", ri)
	if to := s.Timeouts; to != nil {
		// nginx's read and send timeouts are idle timeouts; the larger one bounds a quiet stream.
		var idle time.Duration
		if to.Read != nil && to.Read.Duration > idle {
			idle = to.Read.Duration
		}
		if to.Send != nil && to.Send.Duration > idle {
			idle = to.Send.Duration
		}
		if idle > 0 {
			ra.IdleTimeout = durationpb.New(idle)
		}
	}
	if rp := retryPolicy(s.Retry); rp != nil {
		ra.RetryPolicy = rp
	}
	if rule := r.Spec.Rules[ri]; rule.Timeouts != nil && rule.Timeouts.BackendRequest != nil {
		if d, ok := t.ruleDuration(r, field+".timeouts.backendRequest", *rule.Timeouts.BackendRequest); ok {
			if ra.RetryPolicy == nil {
				ra.RetryPolicy = &routev3.RetryPolicy{RetryOn: "connect-failure,refused-stream", NumRetries: wrapperspb.UInt32(0)}
			}
			ra.RetryPolicy.PerTryTimeout = durationpb.New(d)
		}
	}
	if s.SessionAffinity != nil {
		a.affinity = s.SessionAffinity
		refs := r.Spec.Rules[ri].BackendRefs
		a.noAffinityCookie = len(refs) > 0
		for _, b := range refs {
			a.noAffinityCookie = a.noAffinityCookie && noAffinityCookie(ep, r.Namespace, b)
		}
		if needsAffinityLua(s.SessionAffinity) {
			a.perFilter = perFilter(a.perFilter, filterAffinityCookie, affinityCookieOn)
		}
	}
	if b := s.Backend; b != nil && b.ConsistentHash != nil && s.SessionAffinity == nil {
		a.hash = hashPolicies(b.ConsistentHash)
	}
	if s.Mirror != nil {
		if mp := t.mirrorPolicy(s.Mirror); mp != nil {
			ra.RequestMirrorPolicies = append(ra.RequestMirrorPolicies, mp)
		} else {
			t.problem("HTTPRoute", r.Namespace, r.Name, "", fmt.Sprintf("mirror %s://%s:%d with Host %q: not http or https, a host name and a port; requests are not mirrored", s.Mirror.Scheme, s.Mirror.Host, s.Mirror.Port, s.Mirror.HostHeader))
		}
	}
	if s.ResponseRewrite != nil {
		a.perFilter = perFilter(a.perFilter, filterResponseRewrite, responseRewritePerRoute(s.ResponseRewrite))
	}
	if s.ResponseBandwidth != nil {
		a.perFilter = perFilter(a.perFilter, filterBandwidth, bandwidthPerRoute(s.ResponseBandwidth.KiBPerSecond, "bandwidth_"+statName(r.Namespace+"/"+r.Name)))
	}
	if s.RequestBody != nil {
		a.perFilter = perFilter(a.perFilter, filterBuffer, bufferPerRoute(s.RequestBody.MaxBytes))
	}
	// satisfy: any makes the address lists one of the alternatives the auth service weighs
	// (see authz.Server.checkAny), so RBAC does not refuse on its own.
	anyOf := s.Satisfy == v1alpha1.SatisfyAny && (s.BasicAuth != nil || s.ExternalAuth != nil)
	if s.Access != nil {
		cfg, err := rbacPerRoute(s.Access)
		if err != nil {
			t.problem("HTTPRoute", r.Namespace, r.Name, field, "access policy: "+err.Error()+"; the rule answers 503 (fail closed), as ingress-nginx does")
			return &ruleAction{direct: &routev3.DirectResponseAction{Status: 503}}
		}
		if !anyOf {
			a.perFilter = perFilter(a.perFilter, filterRBAC, cfg)
		}
	}
	if s.RateLimit != nil {
		a.perFilter = perFilter(a.perFilter, filterRateLimit, rateLimitPerRoute(s.RateLimit, "rate_limit_"+statName(ep.rateLimitSource)))
		if len(s.RateLimit.Exempt) > 0 {
			exempt, err := rateLimitExemptPerRoute(s.RateLimit.Exempt)
			if err != nil {
				// The API server checks the CIDRs; objects that skipped it limit everyone.
				t.problem("HTTPRoute", r.Namespace, r.Name, field, "rate limit exempt ranges: "+err.Error()+"; every client is limited")
			} else {
				a.perFilter = perFilter(a.perFilter, filterRateLimitExempt, exempt)
				t.exemptClients = true
			}
		}
	}
	if s.BasicAuth != nil || s.ExternalAuth != nil {
		if t.opts.AuthzAddress == "" {
			t.problem("HTTPRoute", r.Namespace, r.Name, field, "needs gatebridge's auth service, which is not configured; the rule answers 503 (fail closed)")
			return &ruleAction{direct: &routev3.DirectResponseAction{Status: 503}}
		}
		key := authKey(ep, anyOf)
		if _, ok := t.auth[key]; !ok {
			t.auth[key] = t.authPolicy(ep, anyOf)
		}
		t.needAuthz = true
		a.perFilter = perFilter(a.perFilter, filterAuthz, authzPerRoute(key))
	}
	if cfg, cluster, ok := t.errorPages(g, r, ri, ep); ok {
		a.perFilter = perFilter(a.perFilter, filterCustomResponse, cfg)
		if cluster != "" {
			t.errorBackends = append(t.errorBackends, cluster)
		}
	}
	if s.CORS != nil {
		a.cors = s.CORS
	}
	return nil
}

func statName(s string) string { return strings.NewReplacer("/", "_", ".", "_").Replace(s) }

// retryPolicy maps `proxy-next-upstream`. Connection failures are retried for every method
// (nothing was sent); anything that may have reached the backend is retried only for
// idempotent methods unless NonIdempotent, as nginx does.
func retryPolicy(p *v1alpha1.RetryPolicy) *routev3.RetryPolicy {
	if p == nil || len(p.On) == 0 || p.Attempts == 1 {
		return nil
	}
	on := map[string]bool{}
	var codes []uint32
	for _, c := range p.On {
		switch c {
		case "error", "timeout":
			on["connect-failure"], on["refused-stream"] = true, true
			if p.NonIdempotent {
				on["reset"] = true
			}
		case "invalid_header":
			if p.NonIdempotent {
				on["reset"] = true
			}
		default:
			if code, err := strconv.Atoi(strings.TrimPrefix(string(c), "http_")); err == nil {
				codes = append(codes, uint32(code))
				on["retriable-status-codes"] = true
			}
		}
	}
	var keys []string
	for _, k := range []string{"connect-failure", "refused-stream", "reset", "retriable-status-codes"} {
		if on[k] {
			keys = append(keys, k)
		}
	}
	retries := uint32(p.Attempts - 1)
	if p.Attempts == 0 {
		retries = 10 // nginx: unlimited tries, bounded by the number of endpoints
	}
	rp := &routev3.RetryPolicy{
		RetryOn:                       strings.Join(keys, ","),
		NumRetries:                    wrapperspb.UInt32(retries),
		RetriableStatusCodes:          codes,
		HostSelectionRetryMaxAttempts: 3,
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       "envoy.retry_host_predicates.previous_hosts",
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: mustAny(&previoushostsv3.PreviousHostsPredicate{})},
		}},
	}
	if len(codes) > 0 && !p.NonIdempotent {
		rp.RetriableRequestHeaders = []*routev3.HeaderMatcher{regexHeader(":method", "GET|HEAD|PUT|DELETE|OPTIONS|TRACE")}
	}
	// p.Budget (proxy-next-upstream-timeout) has no Envoy equivalent short of a route
	// deadline, which would also cut long responses; docs/dataplane.md states the gap.
	return rp
}

// expand turns one match of the rule into its Envoy routes.
func (a *ruleAction) expand(e *routeEntry) []*routeEntry {
	if a.cors != nil && (a.redirect != nil || a.direct != nil) {
		return a.corsLocalRoutes(e)
	}
	base := e.route
	switch {
	case a.redirect != nil && a.stripSlash:
		// With a query string nginx's $request_uri does not end in "/": nothing to strip.
		withQuery := a.clone(e, 0)
		withQuery.route.Match.Headers = append(withQuery.route.Match.Headers, regexHeader(":path", `[^?]*\?.*`))
		withQuery.route.Action = &routev3.Route_Redirect{Redirect: a.redirect}
		strip := proto.Clone(a.redirect).(*routev3.RedirectAction)
		strip.PathRewriteSpecifier = &routev3.RedirectAction_RegexRewrite{RegexRewrite: &matcherv3.RegexMatchAndSubstitute{
			Pattern: &matcherv3.RegexMatcher{Regex: "^(.*)/$"}, Substitution: `\1`,
		}}
		noQuery := a.clone(e, 1)
		noQuery.shown = true
		noQuery.route.Action = &routev3.Route_Redirect{Redirect: strip}
		a.decorate(noQuery.route, false)
		a.decorate(withQuery.route, false)
		return []*routeEntry{withQuery, noQuery}
	case a.redirect != nil:
		base.Action = &routev3.Route_Redirect{Redirect: a.redirect}
		a.decorate(base, false)
		e.shown = true
		return []*routeEntry{e}
	case a.direct != nil:
		base.Action = &routev3.Route_DirectResponse{DirectResponse: a.direct}
		a.decorate(base, false)
		e.shown = true
		return []*routeEntry{e}
	}
	if a.cors == nil {
		a.decorate(base, true)
		e.shown = true
		return []*routeEntry{e}
	}
	return a.corsRoutes(e)
}

func (a *ruleAction) clone(e *routeEntry, sub int) *routeEntry {
	c := *e
	c.route = &routev3.Route{Name: e.route.Name, Match: proto.Clone(e.route.Match).(*routev3.RouteMatch)}
	c.sub = int32(sub)
	return &c
}

// decorate sets the route action (when forwarding), the header modifiers and per-filter
// configs on an Envoy route.
func (a *ruleAction) decorate(r *routev3.Route, forward bool) {
	r.RequestHeadersToAdd = a.reqAdd
	r.RequestHeadersToRemove = a.reqRemove
	r.ResponseHeadersToAdd = append(r.ResponseHeadersToAdd, a.respAdd...)
	r.ResponseHeadersToRemove = a.respRemove
	r.Tracing = a.tracing
	if !forward {
		return
	}
	ra := a.forward
	if a.affinity != nil && !a.noAffinityCookie {
		ra = proto.Clone(ra).(*routev3.RouteAction)
		ra.HashPolicy = []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{Cookie: affinityCookie(a.affinity, r.Match, a.downstreamTLS)}}}
	} else if a.hash != nil {
		ra = proto.Clone(ra).(*routev3.RouteAction)
		ra.HashPolicy = a.hash
	}
	r.Action = &routev3.Route_Route{Route: ra}
	r.TypedPerFilterConfig = a.perFilter
}

// affinityCookie is the cookie Envoy sets on the first request and hashes on later. Like
// ingress-nginx's sticky.lua, it is Secure on HTTPS unless the policy says otherwise.
func affinityCookie(p *v1alpha1.SessionAffinityPolicy, m *routev3.RouteMatch, downstreamTLS bool) *routev3.RouteAction_HashPolicy_Cookie {
	// A TTL of 0 still makes Envoy generate the cookie, as a session cookie without Max-Age.
	c := &routev3.RouteAction_HashPolicy_Cookie{Name: p.CookieName, Ttl: durationpb.New(0)}
	if p.MaxAgeSeconds != nil {
		c.Ttl = durationpb.New(time.Duration(*p.MaxAgeSeconds) * time.Second)
	}
	attr := func(name, value string) {
		c.Attributes = append(c.Attributes, &routev3.RouteAction_HashPolicy_CookieAttribute{Name: name, Value: value})
	}
	if p.ExpiresSeconds != nil {
		// Completed per response by the affinity Lua filter (affinity.go).
		attr("Expires", expiresPlaceholder(*p.ExpiresSeconds))
	}
	if p.CookieDomain != "" {
		attr("Domain", p.CookieDomain)
	}
	c.Path = p.CookiePath
	if c.Path == "" {
		c.Path = cookiePathFor(m)
	}
	// sticky.lua: Secure when the request is HTTPS, whatever session-cookie-secure says;
	// session-cookie-secure: true adds it on plain HTTP too.
	if downstreamTLS || (p.Secure != nil && *p.Secure) {
		attr("Secure", "")
	}
	switch {
	case conditionalSameSiteNone(p):
		// Written or dropped per user agent by the affinity Lua filter (affinity.go).
		attr("SameSite", sameSiteNonePlaceholder)
	case p.SameSite != "":
		attr("SameSite", p.SameSite)
	}
	return c
}

// cookiePathFor is the Ingress path of a rule: nginx sets Path to the location's path.
func cookiePathFor(m *routev3.RouteMatch) string {
	switch p := m.PathSpecifier.(type) {
	case *routev3.RouteMatch_Path:
		return p.Path
	case *routev3.RouteMatch_Prefix:
		return p.Prefix
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		re := p.SafeRegex.Regex
		if strings.HasPrefix(re, "(?i)^(?:") && strings.HasSuffix(re, ").*") {
			return re[len("(?i)^(?:") : len(re)-len(").*")]
		}
	}
	return "/"
}

// directResponse is a RouteFilter response (nginx `return CODE [TEXT]`).
func directResponse(r *v1alpha1.DirectResponse) *routev3.DirectResponseAction {
	d := &routev3.DirectResponseAction{Status: uint32(r.StatusCode)}
	if r.Body != "" {
		d.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: r.Body}}
	}
	return d
}

// hashKeyName is a header, cookie or query parameter name Envoy accepts (the CRD's pattern).
var hashKeyName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`)

// hashPolicies are Envoy's hash policies for upstream-hash-by's key: Envoy combines the
// hashes of all of them, in order, as nginx hashes the whole evaluated key. A request
// without the header, cookie or query parameter contributes nothing for that part.
func hashPolicies(p *v1alpha1.ConsistentHashPolicy) []*routev3.RouteAction_HashPolicy {
	out := make([]*routev3.RouteAction_HashPolicy, 0, len(p.Key))
	header := func(name string) *routev3.RouteAction_HashPolicy {
		return &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{
			Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: name}}}
	}
	for _, k := range p.Key {
		if k.Name != "" && !hashKeyName.MatchString(k.Name) {
			// The CRD refuses such names; a policy read from a file is not checked by it.
			continue
		}
		switch k.Source {
		case v1alpha1.HashKeyRequestURI:
			out = append(out, header(":path"))
		case v1alpha1.HashKeyHost:
			out = append(out, header(":authority"))
		case v1alpha1.HashKeyHeader:
			out = append(out, header(strings.ToLower(k.Name)))
		case v1alpha1.HashKeySourceIP:
			out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{
				ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}})
		case v1alpha1.HashKeyCookie:
			// No TTL: Envoy only reads the cookie, it never sets one.
			out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{
				Cookie: &routev3.RouteAction_HashPolicy_Cookie{Name: k.Name}}})
		case v1alpha1.HashKeyQueryParameter:
			out = append(out, &routev3.RouteAction_HashPolicy{PolicySpecifier: &routev3.RouteAction_HashPolicy_QueryParameter_{
				QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: k.Name}}})
		}
	}
	return out
}

// filterConfigured reports whether f has the configuration its type needs, and names that
// field: the Gateway API requires it (requestHeaderModifier for RequestHeaderModifier, …).
func filterConfigured(f gwv1.HTTPRouteFilter) (config string, ok bool) {
	switch f.Type {
	case gwv1.HTTPRouteFilterRequestHeaderModifier:
		return "requestHeaderModifier", f.RequestHeaderModifier != nil
	case gwv1.HTTPRouteFilterResponseHeaderModifier:
		return "responseHeaderModifier", f.ResponseHeaderModifier != nil
	case gwv1.HTTPRouteFilterRequestRedirect:
		return "requestRedirect", f.RequestRedirect != nil
	case gwv1.HTTPRouteFilterURLRewrite:
		return "urlRewrite", f.URLRewrite != nil
	case gwv1.HTTPRouteFilterRequestMirror:
		return "requestMirror", f.RequestMirror != nil
	case gwv1.HTTPRouteFilterCORS:
		return "cors", f.CORS != nil
	case gwv1.HTTPRouteFilterExtensionRef:
		return "extensionRef", f.ExtensionRef != nil
	}
	return "", true // an unknown type: said where the switch meets it
}

// reportUnmodifiable reports the headers a header filter of route r (at field) names that
// Envoy never lets a route set or remove — Host and pseudo-headers — and headerModifier
// leaves out: the rest of the filter applies.
func (t *translator) reportUnmodifiable(r *gwv1.HTTPRoute, field string, f gwv1.HTTPRouteFilter) {
	h := f.RequestHeaderModifier
	if f.Type == gwv1.HTTPRouteFilterResponseHeaderModifier {
		h = f.ResponseHeaderModifier
	} else if f.Type != gwv1.HTTPRouteFilterRequestHeaderModifier {
		return
	}
	if h == nil {
		return
	}
	names := make([]string, 0, len(h.Set)+len(h.Add)+len(h.Remove))
	for _, x := range slices.Concat(h.Set, h.Add) {
		names = append(names, string(x.Name))
	}
	names = append(names, h.Remove...)
	for _, name := range names {
		if !modifiableHeader(name) {
			t.problem("HTTPRoute", r.Namespace, r.Name, field, fmt.Sprintf("header %q cannot be set or removed by a filter: Envoy never lets a route modify Host or a pseudo-header (for Host, use a URLRewrite filter's hostname); left as it is", name))
		}
	}
}

// ruleDuration reads a Gateway API Duration of route r (at field): a Go duration that is not
// negative (the API server checks the form; a negative one from a file would make Envoy
// refuse the route table). Any other value is reported and not used.
func (t *translator) ruleDuration(r *gwv1.HTTPRoute, field string, v gwv1.Duration) (time.Duration, bool) {
	d, err := time.ParseDuration(string(v))
	if err != nil || d < 0 {
		t.problem("HTTPRoute", r.Namespace, r.Name, field, fmt.Sprintf("%q is not a duration (a Gateway API Duration: 1h, 30s, 500ms); ignored", string(v)))
		return 0, false
	}
	return d, true
}
