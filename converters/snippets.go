package converters

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// Translated snippets (annotations/snippet.go) become the constructs the equivalent
// annotations already use: header modifier filters, RequestRedirect, a regexRewrite
// RouteFilter, the TrafficPolicy's access lists and the external-auth request headers.
// docs/snippets.md is the grammar.

// noteSnippets gives every translated snippet line a finding (idiom and construct), and
// refuses the combinations with annotations that write the same nginx directives.
func (c *conversion) noteSnippets(src *source) {
	a := src.ann
	for _, sn := range []struct {
		name string
		s    *annotations.Snippet
	}{{"configuration-snippet", a.ConfigurationSnippet}, {"server-snippet", a.ServerSnippet}, {"auth-snippet", a.AuthSnippet}} {
		if sn.s == nil {
			continue
		}
		for _, l := range sn.s.Lines {
			f := Finding{Annotation: sn.name, Level: annotations.Exact, Severity: SeverityInfo,
				Snippet: &SnippetTrace{Line: l.Line, Directive: l.Directive, Idiom: l.Idiom, Becomes: l.Becomes}}
			f.Message = "line " + fmt.Sprint(l.Line) + " (" + l.Idiom + "): " + l.Directive + " → " + l.Becomes
			if l.Line == 0 {
				f.Message = l.Becomes
			}
			if l.Approximate != "" {
				f.Level, f.Message = annotations.Approximate, f.Message+"; "+l.Approximate
			}
			src.add(f)
		}
	}
	if s := a.ConfigurationSnippet; s != nil {
		refuse := func(why string) {
			src.add(Finding{Annotation: "configuration-snippet", Level: annotations.Refused, Severity: SeverityError, Message: why})
			a.Refused = append(a.Refused, "configuration-snippet")
			a.ConfigurationSnippet = nil
		}
		switch {
		case s.HasAccess && (a.Access.Allow != nil || a.Access.Deny != nil):
			refuse("its allow/deny lines come after the whitelist-source-range/denylist-source-range ones ingress-nginx writes, which gatebridge does not combine; put every address in the annotations")
		case s.Rewrite != nil && a.Rewrite.Target != "":
			refuse("its rewrite and the rewrite-target annotation both rewrite the path, which gatebridge does not combine; write one of them")
		case (s.Redirect != nil || s.Response != nil || s.IfReturn != nil) && a.Redirect.Literal != nil:
			refuse("its return and permanent-redirect/temporal-redirect both answer the location, which gatebridge does not combine; write one of them")
		case len(s.AddHeaders)+len(s.HTTPSAddHeaders)+len(s.SetHeaders) > maxSnippetHeaders || len(s.RequestHeaders) > maxSnippetHeaders:
			refuse(fmt.Sprintf("sets more than %d request or response headers, more than a Gateway API header filter holds; move some into custom-headers", maxSnippetHeaders))
		case s.HasAccess:
			a.Access = snippetAccess(s)
		}
	}
	for _, sn := range []struct {
		name string
		s    *annotations.Snippet
	}{{"configuration-snippet", a.ConfigurationSnippet}, {"server-snippet", a.ServerSnippet}} {
		if sn.s != nil && sn.s.ProxySSLVerifyOff && a.Backend.ProxySSL.Secret != "" {
			src.add(Finding{Annotation: sn.name, Level: annotations.Refused, Severity: SeverityError,
				Message: "its proxy_ssl_verify repeats the one ingress-nginx writes for proxy-ssl-secret, so nginx rejects the configuration (\"is duplicate\") and ingress-nginx never ran it; remove the line and use proxy-ssl-verify"})
			a.Refused = append(a.Refused, sn.name)
		}
	}
	if a.AuthSnippet != nil && a.ExternalAuth.URL == "" {
		src.add(Finding{Annotation: "auth-snippet", Level: annotations.Exact, Severity: SeverityInfo,
			Message: "does nothing without auth-url: ingress-nginx writes no auth location to put it in"})
	}
}

// maxSnippetHeaders is what one Gateway API header filter list holds.
const maxSnippetHeaders = 16

// snippetAccess is the access list of a snippet: deny CIDRs, then allow CIDRs with `deny
// all`, a bare `deny all` denying every address.
func snippetAccess(s *annotations.Snippet) annotations.Access {
	acc := annotations.Access{Deny: s.Deny}
	switch {
	case s.DenyAll && len(s.Allow) > 0:
		acc.Allow = s.Allow
	case s.DenyAll:
		acc.Deny = append(slices.Clone(s.Deny), netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
	}
	if acc.Deny == nil && acc.Allow == nil {
		// allow lines without deny all allow what is allowed anyway.
		acc.Deny = []netip.Prefix{}
	}
	return acc
}

// SnippetTrace is what one snippet line became, in the report.
type SnippetTrace struct {
	Line      int    `json:"line"`
	Directive string `json:"directive"`
	Idiom     string `json:"idiom"`
	Becomes   string `json:"becomes"`
}

// refuseServerSnippetHosts fails closed every Ingress of a host whose server-snippet
// (first Ingress wins, as in ingress-nginx) is not served — it cannot be translated, or
// its Ingress is refused: nginx applied it to the whole host.
func (m *model) refuseServerSnippetHosts() {
	for _, h := range m.sortedHosts() {
		if h.serverSnippet == nil {
			continue
		}
		owner := h.serverSnippet
		if why := serverSnippetConflict(h); why != "" && !owner.ann.Blocked() {
			owner.add(Finding{Annotation: "server-snippet", Level: annotations.Refused, Severity: SeverityError, Message: why})
			owner.ann.Refused = append(owner.ann.Refused, "server-snippet")
		}
		if !owner.ann.ServerSnippetFailed && !owner.ann.Blocked() {
			continue
		}
		h.refuseForServerSnippet()
	}
}

// refuseForServerSnippet refuses every other Ingress of host h: its server-snippet, which
// nginx applied to all of them, is not served.
func (h *hostModel) refuseForServerSnippet() {
	h.refuseOthers(h.serverSnippet, fmt.Sprintf("host %s has a server-snippet (on %s) that ingress-nginx applied to every Ingress of the host and gatebridge does not serve (fails closed)", h.name, h.serverSnippet.key()))
}

// serverSnippetOf is the translated server-snippet that applies to host h (nil = none).
func (c *converter) serverSnippetOf(h *hostModel) *annotations.Snippet {
	if h.serverSnippet == nil {
		return nil
	}
	return h.serverSnippet.ann.ServerSnippet
}

// snippetResponse is what a location's rules do to responses, HTTPS and HTTP: header
// modifiers for literal values and RouteFilter header templates for values with
// variables evaluated per request (expand resolves those known per location). nginx's
// add_header and proxy_hide_header are inherited only into a level that has none of its
// own (the location, then an `if ($scheme = https)` block); more_set_headers and
// more_clear_headers of both levels apply.
func snippetResponse(server, loc *annotations.Snippet, expand func(string) string) (https, http headerPlan) {
	if server == nil && loc == nil {
		return headerPlan{}, headerPlan{}
	}
	var add, httpsAdd, set []annotations.SnippetHeader
	var hide, clear []string
	for _, s := range []*annotations.Snippet{server, loc} {
		if s == nil {
			continue
		}
		if len(s.AddHeaders) > 0 {
			add = s.AddHeaders
		}
		if len(s.HideHeaders) > 0 {
			hide = s.HideHeaders
		}
		set = append(set, s.SetHeaders...)
		clear = append(clear, s.ClearHeaders...)
	}
	httpsAdd = add
	if loc != nil && len(loc.HTTPSAddHeaders) > 0 {
		httpsAdd = loc.HTTPSAddHeaders
	}
	build := func(add []annotations.SnippetHeader) headerPlan {
		var p headerPlan
		f := &gwv1.HTTPHeaderFilter{}
		for _, h := range set {
			if v := expand(h.Value); hasNginxVariable(v) {
				p.templates = append(p.templates, gbv1.HeaderTemplate{Name: h.Name, Value: v})
			} else {
				f.Set = setHeader(f.Set, h.Name, v)
			}
		}
		for _, h := range add {
			if h.Value == "" {
				continue
			}
			// A header modifier adds each name once (the CRD's list is a map): a repeated
			// add_header, which nginx sends twice, is a template.
			dup := slices.ContainsFunc(f.Add, func(a gwv1.HTTPHeader) bool { return strings.EqualFold(string(a.Name), h.Name) })
			if v := expand(h.Value); hasNginxVariable(v) || dup {
				p.templates = append(p.templates, gbv1.HeaderTemplate{Name: h.Name, Value: v, Append: true})
			} else {
				f.Add = append(f.Add, gwv1.HTTPHeader{Name: gwv1.HTTPHeaderName(h.Name), Value: v})
			}
		}
		for _, n := range append(slices.Clone(clear), hide...) {
			if !slices.ContainsFunc(f.Remove, func(r string) bool { return strings.EqualFold(r, n) }) {
				f.Remove = append(f.Remove, n)
			}
		}
		if len(f.Set)+len(f.Add)+len(f.Remove) > 0 {
			p.filter = f
		}
		return p
	}
	return build(httpsAdd), build(add)
}

// headerPlan is a header modifier and the header templates of a rule.
type headerPlan struct {
	filter    *gwv1.HTTPHeaderFilter
	templates []gbv1.HeaderTemplate
}

var anyNginxVariable = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

func hasNginxVariable(v string) bool { return anyNginxVariable.MatchString(v) }

// setHeader sets name in list, replacing an earlier entry of the same name.
func setHeader(list []gwv1.HTTPHeader, name, value string) []gwv1.HTTPHeader {
	for i := range list {
		if strings.EqualFold(string(list[i].Name), name) {
			list[i].Value = value
			return list
		}
	}
	return append(list, gwv1.HTTPHeader{Name: gwv1.HTTPHeaderName(name), Value: value})
}

// withHeaderFilter merges m into the rule's filter of type kind (a rule holds one of
// each), later entries winning. Filters are copied, never changed in place.
func withHeaderFilter(rule gwv1.HTTPRouteRule, kind gwv1.HTTPRouteFilterType, m *gwv1.HTTPHeaderFilter) gwv1.HTTPRouteRule {
	if m == nil {
		return rule
	}
	filters := make([]gwv1.HTTPRouteFilter, 0, len(rule.Filters)+1)
	merged := false
	for _, f := range rule.Filters {
		cur := f.ResponseHeaderModifier
		if kind == gwv1.HTTPRouteFilterRequestHeaderModifier {
			cur = f.RequestHeaderModifier
		}
		if f.Type == kind && cur != nil && !merged {
			n := cur.DeepCopy()
			for _, h := range m.Set {
				n.Set = setHeader(n.Set, string(h.Name), h.Value)
			}
			n.Add = append(n.Add, m.Add...)
			n.Remove = append(n.Remove, m.Remove...)
			if kind == gwv1.HTTPRouteFilterRequestHeaderModifier {
				f.RequestHeaderModifier = n
			} else {
				f.ResponseHeaderModifier = n
			}
			merged = true
		}
		filters = append(filters, f)
	}
	if !merged {
		f := gwv1.HTTPRouteFilter{Type: kind}
		if kind == gwv1.HTTPRouteFilterRequestHeaderModifier {
			f.RequestHeaderModifier = m.DeepCopy()
		} else {
			f.ResponseHeaderModifier = m.DeepCopy()
		}
		filters = append(filters, f)
	}
	rule.Filters = filters
	return rule
}

// snippetRequest is what configuration-snippet does to the request at a location.
func snippetRequest(s *annotations.Snippet, expand func(string) string) headerPlan {
	var p headerPlan
	if s == nil || len(s.RequestHeaders) == 0 {
		return p
	}
	f := &gwv1.HTTPHeaderFilter{}
	for _, h := range s.RequestHeaders {
		switch v := expand(h.Value); {
		case v == "":
			f.Remove = append(f.Remove, h.Name)
		case hasNginxVariable(v):
			p.templates = append(p.templates, gbv1.HeaderTemplate{Name: h.Name, Value: v})
		default:
			f.Set = setHeader(f.Set, h.Name, v)
		}
	}
	if len(f.Set)+len(f.Remove) > 0 {
		p.filter = f
	}
	return p
}

var locationVariable = regexp.MustCompile(`\$\{?(service_name|namespace|service_port|ingress_name|host|server_name)\}?`)

// snippetVariables resolves the variables known per location l: the backend's Service,
// namespace and port, the Ingress's name, the server's name ("_" for the catch-all, as
// ingress-nginx names it), and $host where it is that name (a host without wildcard or
// server-alias); elsewhere $host becomes $http_host, evaluated per request, with a
// finding (a port the client wrote stays).
func (c *converter) snippetVariables(l *location) func(string) string {
	h := c.model.hosts[l.host]
	serverName := h.name
	if serverName == "" {
		serverName = "_"
	}
	hostKnown := h.name != "" && !strings.HasPrefix(h.name, "*") && len(h.servedAliases) == 0
	return func(v string) string {
		return locationVariable.ReplaceAllStringFunc(v, func(ref string) string {
			switch strings.Trim(ref, "${}") {
			case "service_name":
				return l.backend.service
			case "namespace":
				return l.backend.namespace
			case "service_port":
				return l.backend.portLabel
			case "ingress_name":
				return l.src.ing.Name
			case "server_name":
				return serverName
			}
			if hostKnown {
				return h.name
			}
			l.src.addOnce(Finding{Annotation: "configuration-snippet", Severity: SeverityInfo, Level: annotations.Approximate,
				Message: "uses $host on host " + hostOrAll(h.name) + ", which has a wildcard or server-alias: gatebridge sends the Host header as the client wrote it, where nginx drops a port and lower-cases it"})
			return "$http_host"
		})
	}
}

// templateFilter is the RouteFilter of a rule's header templates (nil = none).
func templateFilter(request, response []gbv1.HeaderTemplate) *gbv1.RouteFilter {
	if len(request)+len(response) == 0 {
		return nil
	}
	return &gbv1.RouteFilter{Spec: gbv1.RouteFilterSpec{Headers: &gbv1.HeaderTemplates{Request: request, Response: response}}}
}

// snippetRedirectRule is a configuration-snippet `return 3xx URL`.
func snippetRedirectRule(match gwv1.HTTPPathMatch, r *annotations.SnippetRedirect, relative bool) (gwv1.HTTPRouteRule, *gbv1.RouteFilter) {
	if r.Literal {
		return literalRedirectRule(match, &annotations.LiteralRedirect{Code: r.Code, URL: r.URL}, relative)
	}
	f := &gwv1.HTTPRequestRedirectFilter{StatusCode: ptr(r.Code)}
	if r.Scheme != "" {
		f.Scheme = ptr(r.Scheme)
	}
	if r.Host != "" {
		f.Hostname = ptr(gwv1.PreciseHostname(r.Host))
	}
	return gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: ptr(match)}},
		Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: f}}}, nil
}

// snippetRewrite is the RouteFilter of `rewrite REGEX REPL break`: nginx searches REGEX
// anywhere in the path (leftmost match) and replaces the whole path; the pattern matches
// the whole path with REGEX's groups numbered as written.
func snippetRewrite(r *annotations.SnippetRewrite) *gbv1.RouteFilter {
	return &gbv1.RouteFilter{Spec: gbv1.RouteFilterSpec{RegexRewrite: &gbv1.RegexRewrite{
		Pattern: "^.*?(?:" + r.Regex + ").*$", Substitution: captureRefsToRE2(r.Replacement)}}}
}

// snippetResponseFilter is the RouteFilter of `return CODE [TEXT]`.
func snippetResponseFilter(r *annotations.SnippetResponse) *gbv1.RouteFilter {
	return &gbv1.RouteFilter{Spec: gbv1.RouteFilterSpec{Response: &gbv1.DirectResponse{StatusCode: int32(r.Code), Body: r.Body}}}
}

// addServerSnippetLocations adds the location blocks of the host's server-snippet (rs is
// its Ingress's route set) to the routes without the Ingress's policies, on both listeners (ingress-nginx's https redirect runs in its
// own locations only): `= PATH` an Exact rule, which the data plane tries before every
// other path as nginx tries `=` locations first; `[^~] PATH` a RegularExpression rule,
// tried before the host's PathPrefix rules (serverPrefixLocationProblem).
func (c *converter) addServerSnippetLocations(rs *routeSet) {
	s := rs.src.ann.ServerSnippet
	if s == nil {
		return
	}
	for i, sl := range s.Locations {
		paths := snippetLocationMatches(rs.host, sl)
		match := paths[0]
		anchor := &location{src: rs.src, host: rs.host.name, path: sl.Path, pathType: pathExact}
		if sl.Kind != annotations.LocationExact {
			c.lost(rs.src, Finding{Annotation: "server-snippet", Severity: SeverityWarning}, "nginx's order for the server-snippet's location "+sl.Path+" (a RegularExpression path tried before the host's prefixes)")
		}
		var rule gwv1.HTTPRouteRule
		if sl.Redirect != nil {
			var rf *gbv1.RouteFilter
			rule, rf = snippetRedirectRule(match, sl.Redirect, c.relativeRedirects(rs.src))
			if rf != nil {
				if c.lost(rs.src, Finding{Annotation: "server-snippet", Severity: SeverityWarning}, routeFilterBehaviour(rf)) {
					continue
				}
				rs.addFilter(rf, &rule, anchor, "redirect")
			}
		} else {
			rule = gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: ptr(match)}}}
			rf := snippetResponseFilter(sl.Response)
			if c.lost(rs.src, Finding{Annotation: "server-snippet", Severity: SeverityWarning}, routeFilterBehaviour(rf)) {
				continue
			}
			rs.addFilter(rf, &rule, anchor, "response")
		}
		rule = withPathMatches(rule, paths)
		rule.Name = snippetRuleName("server-snippet", i, sl.Path)
		// A server-level location is none of the Ingress's: its policies do not apply.
		rs.nestedHTTPS = append(rs.nestedHTTPS, rule)
		rs.nestedHTTP = append(rs.nestedHTTP, rule)
	}
}

// serverSnippetConflict says why the host's server-snippet location clashes with an
// Ingress path ("" = none): ingress-nginx writes `location = PATH` for Exact paths and
// for Prefix paths too, and nginx rejects a duplicate location.
func serverSnippetConflict(h *hostModel) string {
	s := h.serverSnippet.ann.ServerSnippet
	if s == nil {
		return ""
	}
	for _, sl := range s.Locations {
		for _, l := range h.locations {
			if sl.Kind == annotations.LocationExact && l.path == sl.Path {
				return fmt.Sprintf("its location = %s repeats the location ingress-nginx writes for path %s of %s, so nginx rejects the configuration (duplicate location); remove one of them", sl.Path, l.path, l.src.key())
			}
		}
	}
	return ""
}

// snippetReturnRule is the rule of a snippet's return at match: a redirect (standard, or
// the literal RouteFilter) or a RouteFilter response.
func (c *converter) snippetReturnRule(rs *routeSet, l *location, match gwv1.HTTPPathMatch, red *annotations.SnippetRedirect, resp *annotations.SnippetResponse) gwv1.HTTPRouteRule {
	if resp != nil {
		rule := gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: ptr(match)}}}
		rf := snippetResponseFilter(resp)
		if !c.lost(l.src, Finding{Annotation: "configuration-snippet", Severity: SeverityWarning}, routeFilterBehaviour(rf)) {
			rs.addFilter(rf, &rule, l, "response")
		}
		return rule
	}
	rule, rf := snippetRedirectRule(match, red, c.relativeRedirects(l.src))
	switch {
	case rf != nil && !c.opts.Portable:
		l.src.needGatebridge(routeFilterBehaviour(rf))
		rs.addFilter(rf, &rule, l, "redirect")
	case rf != nil:
		c.portableRedirect(l.src, &rule, &annotations.LiteralRedirect{Annotation: "configuration-snippet", Code: red.Code, URL: red.URL}, rf)
	}
	return rule
}

// withIfReturn places the rule of an `if (…) { return …; }` among a location's HTTPS and
// HTTP rules: alone on the listener of its scheme; with a header condition, first and
// matching the header (=), or last with every other rule matching the header (!=), so
// that Gateway API precedence (more header matches first) gives nginx's answer.
func withIfReturn(ir *annotations.SnippetIfReturn, ret gwv1.HTTPRouteRule, https, http []gwv1.HTTPRouteRule) ([]gwv1.HTTPRouteRule, []gwv1.HTTPRouteRule) {
	switch {
	case ir.Scheme == "https":
		return []gwv1.HTTPRouteRule{ret}, http
	case ir.Scheme == "http":
		return https, []gwv1.HTTPRouteRule{ret}
	}
	hm := gwv1.HTTPHeaderMatch{Type: ptr(gwv1.HeaderMatchExact), Name: gwv1.HTTPHeaderName(ir.Header), Value: ir.Value}
	if !ir.Negate {
		ret = withHeaderMatch(ret, hm)
		return append([]gwv1.HTTPRouteRule{ret}, https...), append([]gwv1.HTTPRouteRule{ret}, http...)
	}
	guard := func(rules []gwv1.HTTPRouteRule) []gwv1.HTTPRouteRule {
		out := make([]gwv1.HTTPRouteRule, 0, len(rules)+1)
		for _, r := range rules {
			out = append(out, withHeaderMatch(r, hm))
		}
		return append(out, ret)
	}
	return guard(https), guard(http)
}

// withHeaderMatch returns rule with hm added to each of its matches (copied, never
// changed in place).
func withHeaderMatch(rule gwv1.HTTPRouteRule, hm gwv1.HTTPHeaderMatch) gwv1.HTTPRouteRule {
	ms := make([]gwv1.HTTPRouteMatch, len(rule.Matches))
	for i, m := range rule.Matches {
		m.Headers = append(slices.Clone(m.Headers), hm)
		ms[i] = m
	}
	rule.Matches = ms
	return rule
}

// requestTemplates are the request header templates of a rule: only rules that forward.
func requestTemplates(r gwv1.HTTPRouteRule, request headerPlan) []gbv1.HeaderTemplate {
	if len(r.BackendRefs) == 0 {
		return nil
	}
	return request.templates
}
