package converters

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// maxRulesPerRoute is the Gateway API limit of rules in one HTTPRoute.
const maxRulesPerRoute = 16

// routeSet collects the routes and filters of one Ingress on one host.
type routeSet struct {
	src  *source
	host *hostModel
	// https rules (served on the host's HTTPS listeners) and http rules (the HTTP listener).
	https, http []gwv1.HTTPRouteRule
	filters     []*gbv1.RouteFilter
	// slashHTTPS and slashHTTP are nginx's 301 for a path ending in "/" requested without
	// it (slashRedirects): routes of their own, so that the Ingress's policy (CORS, auth,
	// access lists) does not apply to them, as nginx answers before any of it.
	slashHTTPS, slashHTTP []gwv1.HTTPRouteRule
	// nestedHTTPS and nestedHTTP are the snippets' location blocks (addNestedLocations,
	// addServerSnippetLocations): routes of their own, as nginx answers them before the
	// Ingress's access, auth and rate-limit checks (return) or without them.
	nestedHTTPS, nestedHTTP []gwv1.HTTPRouteRule
}

// buildHostRoutes builds the rules of every Ingress on host h.
func (c *converter) buildHostRoutes(h *hostModel) []*routeSet {
	bySrc := map[*source][]*location{}
	for _, l := range h.locations {
		bySrc[l.src] = append(bySrc[l.src], l)
	}
	if h.appRootSrc != nil {
		if _, ok := bySrc[h.appRootSrc]; !ok {
			bySrc[h.appRootSrc] = nil
		}
	}
	// Only this host's Ingresses, in ingress-nginx order: walking every source for every
	// host made conversion quadratic.
	srcs := make([]*source, 0, len(bySrc))
	for s := range bySrc {
		srcs = append(srcs, s)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].order < srcs[j].order })
	slash := slashRedirects(h)
	var sets []*routeSet
	for _, src := range srcs {
		if src.refused() {
			continue
		}
		ls := bySrc[src]
		isAppRoot := h.appRootSrc == src
		if len(ls) == 0 && !isAppRoot {
			continue
		}
		orderLocations(ls, h.regexMode)
		rs := &routeSet{src: src, host: h}
		if isAppRoot {
			rs.https = append(rs.https, appRootRule(h.appRoot))
			rs.http = append(rs.http, appRootRule(h.appRoot))
		}
		if h.serverSnippet == src {
			c.addServerSnippetLocations(rs)
		}
		for _, l := range ls {
			c.addLocationRules(rs, l)
			if slash[l] {
				c.addSlashRedirect(rs, l)
			}
		}
		c.addNestedLocations(rs, ls)
		sets = append(sets, rs)
	}
	return sets
}

// addLocationRules appends the HTTPS-side and HTTP-side rules of one location.
func (c *converter) addLocationRules(rs *routeSet, l *location) {
	h := rs.host
	if why := checkLocation(l, h.regexMode); why != "" {
		l.src.add(Finding{Field: l.field + ".path", Value: l.path, Severity: SeverityWarning, Message: why + "; the path is not converted"})
		return
	}
	match := pathMatch(l, h.regexMode)
	if h.regexMode {
		c.lost(l.src, Finding{Field: l.field + ".path", Value: l.path, Severity: SeverityInfo, Level: annotations.Approximate},
			"ingress-nginx's regular-expression paths (PCRE, case-insensitive, nginx's order of regex locations): RegularExpression path matches are implementation-specific")
	}
	idx := len(rs.https)
	var rules []gwv1.HTTPRouteRule
	snip := l.src.ann.ConfigurationSnippet
	vars := c.snippetVariables(l)
	var request headerPlan
	literal := l.src.ann.Redirect.Literal
	if snip != nil && (snip.Response != nil || snip.Redirect != nil) {
		rules = []gwv1.HTTPRouteRule{c.snippetReturnRule(rs, l, match, snip.Redirect, snip.Response)}
	} else if literal != nil {
		rule, rf := literalRedirectRule(match, literal, c.relativeRedirects(l.src))
		if rf != nil && !c.opts.Portable {
			l.src.needGatebridge(routeFilterBehaviour(rf))
			rs.addFilter(rf, &rule, l, "redirect")
		} else if rf != nil {
			c.portableRedirect(l.src, &rule, literal, rf)
		}
		rules = []gwv1.HTTPRouteRule{rule}
	} else {
		filters, rf := ruleFilters(l, h.regexMode, c.upstreamHost(l))
		rules = forwardRules(l, match, filters)
		about := Finding{Annotation: "rewrite-target", Value: l.src.ann.Rewrite.Target, Severity: SeverityWarning}
		if snip != nil && snip.Rewrite != nil {
			rf, about = snippetRewrite(snip.Rewrite), Finding{Annotation: "configuration-snippet", Severity: SeverityWarning}
		}
		if rf != nil && !c.lost(l.src, about, routeFilterBehaviour(rf)) {
			for i := range rules {
				rs.addFilter(rf, &rules[i], l, "rewrite")
			}
		}
		request = snippetRequest(snip, vars)
		for i := range rules {
			rules[i] = withHeaderFilter(rules[i], gwv1.HTTPRouteFilterRequestHeaderModifier, request.filter)
		}
	}
	for i := range rules {
		suffix := ""
		if len(rules) > 1 {
			suffix = fmt.Sprintf("%d", i)
		}
		rules[i].Name = ruleName(idx, l, h.regexMode, suffix)
	}
	// custom-headers apply to every answer of the location (more_set_headers), HSTS to
	// those over TLS; snippet headers as snippetResponse says.
	custom := l.src.customHeaders
	httpsSnippet, httpSnippet := snippetResponse(c.serverSnippetOf(h), snip, vars)
	for i := range rules {
		rules[i] = withResponseHeaders(rules[i], custom)
	}
	httpsRules, httpRules := rules, rules
	// A return (permanent-redirect, a snippet's) answers in nginx's rewrite phase, before
	// ingress-nginx's Lua https redirect.
	returns := l.src.ann.Redirect.Literal != nil || snip != nil && (snip.Redirect != nil || snip.Response != nil)
	if c.redirectsToHTTPS(l) && !returns {
		r := redirectToHTTPS(match, c.defaults.HTTPRedirectCode)
		r.Name = ruleName(idx, l, h.regexMode, "https-redirect")
		httpRules = []gwv1.HTTPRouteRule{withResponseHeaders(r, custom)}
	}
	if snip != nil && snip.IfReturn != nil {
		ir := snip.IfReturn
		r := withResponseHeaders(c.snippetReturnRule(rs, l, match, ir.Redirect, ir.Response), custom)
		r.Name = ruleName(idx, l, h.regexMode, "if-return")
		httpsRules, httpRules = withIfReturn(ir, r, httpsRules, httpRules)
	}
	for _, r := range httpsRules {
		r = withResponseHeaders(r, c.hstsFor(h, custom))
		rs.https = append(rs.https, c.withSnippetHeaders(rs, l, r, requestTemplates(r, request), httpsSnippet))
	}
	for _, r := range httpRules {
		rs.http = append(rs.http, c.withSnippetHeaders(rs, l, r, requestTemplates(r, request), httpSnippet))
	}
}

// withSnippetHeaders returns rule r of location l with the snippets' response header
// modifier and the RouteFilter of its header templates (request and response).
func (c *converter) withSnippetHeaders(rs *routeSet, l *location, r gwv1.HTTPRouteRule, request []gbv1.HeaderTemplate, response headerPlan) gwv1.HTTPRouteRule {
	r = withHeaderFilter(r, gwv1.HTTPRouteFilterResponseHeaderModifier, response.filter)
	if rf := templateFilter(request, response.templates); rf != nil && !c.lost(l.src, Finding{Annotation: "configuration-snippet", Severity: SeverityWarning}, routeFilterBehaviour(rf)) {
		rs.addFilter(rf, &r, l, "headers")
	}
	return r
}

// hstsFor is the HSTS header of host h's HTTPS rules, none when custom-headers sets
// Strict-Transport-Security itself (a rule sets each header once).
func (c *converter) hstsFor(h *hostModel, custom []gwv1.HTTPHeader) []gwv1.HTTPHeader {
	hsts := c.hstsHeader(h)
	if hsts == nil {
		return nil
	}
	for _, x := range custom {
		if strings.EqualFold(string(x.Name), string(hsts.Name)) {
			return nil
		}
	}
	return []gwv1.HTTPHeader{*hsts}
}

// addFilter names the RouteFilter after the Ingress and its content (equal filters are
// shared) and references it from rule.
func (rs *routeSet) addFilter(rf *gbv1.RouteFilter, rule *gwv1.HTTPRouteRule, l *location, kind string) {
	key := ""
	switch {
	case rf.Spec.RegexRewrite != nil:
		key = rf.Spec.RegexRewrite.Pattern + "\x00" + rf.Spec.RegexRewrite.Substitution
	case rf.Spec.Headers != nil:
		key = fmt.Sprintf("headers\x00%v", *rf.Spec.Headers)
	case rf.Spec.Response != nil:
		key = "response\x00" + fmt.Sprint(rf.Spec.Response.StatusCode) + "\x00" + rf.Spec.Response.Body
	default:
		key = fmt.Sprint(rf.Spec.Redirect.StatusCode) + "\x00" + rf.Spec.Redirect.URL
	}
	name := objectName(253, l.src.ing.Name, kind, shortHash(key))
	found := false
	for _, f := range rs.filters {
		if f.Name == name {
			found = true
		}
	}
	if !found {
		rf.TypeMeta = metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "RouteFilter"}
		rf.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: l.src.ing.Namespace, Labels: map[string]string{
			LabelManagedBy: ManagedByValue, LabelSourceIngress: labelValue(l.src.ing.Name), LabelSourceNamespace: labelValue(l.src.ing.Namespace)}}
		rs.filters = append(rs.filters, rf)
	}
	rule.Filters = append(rule.Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef,
		ExtensionRef: &gwv1.LocalObjectReference{Group: gwv1.Group(gbv1.GroupVersion.Group), Kind: "RouteFilter", Name: gwv1.ObjectName(name)}})
}

// redirectsToHTTPS decides ingress-nginx's ssl-redirect for a location on plain HTTP
// (lua_ingress.lua redirect_to_https): ACME-style exempt paths never, force-ssl-redirect
// always, ssl-redirect (default true) when the host has a certificate.
func (c *converter) redirectsToHTTPS(l *location) bool {
	for _, p := range c.defaults.NoTLSRedirectLocations {
		if strings.HasPrefix(l.path, p) {
			return false
		}
	}
	r := l.src.ann.Redirect
	force := c.defaults.ForceSSLRedirect
	if r.ForceSSLRedirect != nil {
		force = *r.ForceSSLRedirect
	}
	if force {
		return true
	}
	ssl := c.defaults.SSLRedirect
	if r.SSLRedirect != nil {
		ssl = *r.SSLRedirect
	}
	return ssl && l.host != "" && c.model.hosts[l.host].tls != nil
}

// emitRouteSet turns a routeSet into HTTPRoutes (split at 16 rules), attached to the host's
// listeners. When the HTTP and HTTPS rules are the same, one route serves both.
func (c *converter) emitRouteSet(rs *routeSet) []*gwv1.HTTPRoute {
	h := rs.host
	hostnames := c.routeHostnames(h)
	base := []string{rs.src.ing.Name, hostLabel(h.name)}
	if !c.hostHasHTTPS(h) {
		return c.splitRoutes(rs.src, h.name, base, hostnames, c.parents(h, false), rs.http)
	}
	if reflect.DeepEqual(rs.https, rs.http) {
		return c.splitRoutes(rs.src, h.name, base, hostnames, append(c.parents(h, true), c.parents(h, false)...), rs.https)
	}
	out := c.splitRoutes(rs.src, h.name, base, hostnames, c.parents(h, true), rs.https)
	return append(out, c.splitRoutes(rs.src, h.name, append(base, "http"), hostnames, c.parents(h, false), rs.http)...)
}

// hostHasHTTPS: the host terminates TLS on the Gateway (not passthrough).
func (c *converter) hostHasHTTPS(h *hostModel) bool {
	return h.name != "" && h.tls != nil && h.passthrough == nil
}

// routeHostnames are the host and the aliases it serves (assignAliases).
func (c *converter) routeHostnames(h *hostModel) []gwv1.Hostname {
	if h.name == "" {
		return nil
	}
	out := []gwv1.Hostname{gwv1.Hostname(h.name)}
	for _, a := range h.servedAliases {
		out = append(out, gwv1.Hostname(a))
	}
	return out
}

// splitRoutes makes one HTTPRoute per 16 rules, named after base (host is the hostname
// the names stand for).
func (c *converter) splitRoutes(src *source, host string, base []string, hostnames []gwv1.Hostname, parents []gwv1.ParentReference, rules []gwv1.HTTPRouteRule) []*gwv1.HTTPRoute {
	var out []*gwv1.HTTPRoute
	for i := 0; i < len(rules); i += maxRulesPerRoute {
		end := min(i+maxRulesPerRoute, len(rules))
		parts := base
		if i > 0 {
			parts = append(append([]string{}, base...), fmt.Sprint(i/maxRulesPerRoute+1))
		}
		r := &gwv1.HTTPRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
			ObjectMeta: c.meta(src, c.uniqueName(src, "HTTPRoute", objectName(253, parts...), host), src.ing.Namespace),
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
				Hostnames:       hostnames,
				Rules:           rules[i:end],
			},
		}
		out = append(out, r)
	}
	return out
}

// meta is the metadata of a generated object: labels name gatebridge and the source Ingress.
func (c *conversion) meta(src *source, name, namespace string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{
		LabelManagedBy: ManagedByValue,
	}}
	if src != nil {
		m.Labels[LabelSourceIngress] = labelValue(src.ing.Name)
		m.Labels[LabelSourceNamespace] = labelValue(src.ing.Namespace)
	}
	return m
}

// Labels on every generated object: who made it, and from which Ingress (README, "What the
// conversion produces").
const (
	LabelManagedBy       = "app.kubernetes.io/managed-by"
	ManagedByValue       = "gatebridge"
	LabelSourceIngress   = "gatebridge.dev/source-ingress"
	LabelSourceNamespace = "gatebridge.dev/source-namespace"
)

// hstsHeader is the Strict-Transport-Security header ingress-nginx adds to the HTTPS
// responses of host h (nil: none). lua_ingress.lua sets it in the header filter of every
// location when ConfigMap hsts is on (the default), the request came over TLS and a
// certificate is configured for the host — the same condition as ssl-redirect — so the
// HTTP listener's responses, the catch-all and a passthrough host never carry it.
// Replacing the backend's own value, as nginx's ngx.header does, is a ResponseHeaderModifier
// set on the host's HTTPS rules.
func (c *converter) hstsHeader(h *hostModel) *gwv1.HTTPHeader {
	d := c.defaults
	if !d.HSTS || !c.hostHasHTTPS(h) {
		return nil
	}
	v := "max-age=" + d.HSTSMaxAge
	if d.HSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if d.HSTSPreload {
		v += "; preload"
	}
	return &gwv1.HTTPHeader{Name: "Strict-Transport-Security", Value: v}
}

// withResponseHeaders returns rule with headers set on its responses: added to the rule's
// ResponseHeaderModifier (a rule holds one), else in a new one. The rule's filters are
// copied, never changed in place (rules of one location share them).
func withResponseHeaders(rule gwv1.HTTPRouteRule, headers []gwv1.HTTPHeader) gwv1.HTTPRouteRule {
	if len(headers) == 0 {
		return rule
	}
	filters := make([]gwv1.HTTPRouteFilter, 0, len(rule.Filters)+1)
	merged := false
	for _, f := range rule.Filters {
		if f.Type == gwv1.HTTPRouteFilterResponseHeaderModifier && f.ResponseHeaderModifier != nil && !merged {
			m := f.ResponseHeaderModifier.DeepCopy()
			m.Set = append(m.Set, headers...)
			f.ResponseHeaderModifier, merged = m, true
		}
		filters = append(filters, f)
	}
	if !merged {
		filters = append(filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterResponseHeaderModifier,
			ResponseHeaderModifier: &gwv1.HTTPHeaderFilter{Set: append([]gwv1.HTTPHeader{}, headers...)}})
	}
	rule.Filters = filters
	return rule
}

// relativeRedirects reports whether src's locations keep redirects to a path relative:
// ingress-nginx writes `absolute_redirect off` into the location for relative-redirects
// "true", and into the http block for the ConfigMap's; "false" writes nothing, so it
// cannot undo the ConfigMap's.
func (c *converter) relativeRedirects(src *source) bool {
	v := src.ann.Redirect.RelativeRedirects
	return v != nil && *v || c.defaults.RelativeRedirects
}

// slashRedirects are the locations of host h whose path ends in "/" that nginx redirects
// to when the path is requested without the "/": a prefix (or exact) location "/docs/"
// makes nginx answer "/docs" with 301 to "/docs/" (query kept), before any phase of the
// location runs — unless the host has a location "= /docs" (an Exact /docs, or the exact
// twin of a Prefix /docs), which matches first. Of an Exact and a Prefix "/docs/", nginx
// answers with the exact one. A host in regex mode has no such redirect: "^/docs/" does
// not match "/docs".
func slashRedirects(h *hostModel) map[*location]bool {
	if h.regexMode {
		return nil
	}
	out := map[*location]bool{}
	taken := map[string]bool{}
	// Exact keys sort before Prefix keys.
	for _, key := range sortedLocationKeys(h) {
		l := h.locations[key]
		if len(l.path) < 2 || !strings.HasSuffix(l.path, "/") {
			continue
		}
		bare := strings.TrimSuffix(l.path, "/")
		_, exact := h.locations[string(pathExact)+" "+bare]
		_, prefix := h.locations[string(pathPrefix)+" "+bare]
		if exact || prefix || taken[bare] || gatewayPathProblem(bare, pathExact) != "" {
			continue
		}
		taken[bare] = true
		out[l] = true
	}
	return out
}

// addSlashRedirect adds nginx's 301 from l's path without its final "/" to the path. The
// Location is absolute with the query kept, as nginx's with absolute_redirect on; the
// route's own policy keeps the query (fullPathDropsQuery: false, emitSlashRoutes).
func (c *converter) addSlashRedirect(rs *routeSet, l *location) {
	if checkLocation(l, false) != "" {
		return
	}
	bare := strings.TrimSuffix(l.path, "/")
	rule := gwv1.HTTPRouteRule{
		Name:    ruleName(len(rs.slashHTTP), l, false, "slash"),
		Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr(bare)}}},
		Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{
			Path: &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr(l.path)}, StatusCode: ptr(301)}}},
	}
	// nginx answers with the location's configuration: its custom-headers, and HSTS over TLS.
	rule = withResponseHeaders(rule, l.src.customHeaders)
	rs.slashHTTP = append(rs.slashHTTP, rule)
	rs.slashHTTPS = append(rs.slashHTTPS, withResponseHeaders(rule, c.hstsFor(rs.host, l.src.customHeaders)))
	msg := "ends with \"/\": as nginx does, a request for " + bare + " is answered 301 to " + l.path + " (query kept)"
	if c.relativeRedirects(l.src) {
		msg += "; with relative-redirects nginx writes that Location as a path, gatebridge writes it absolute (on the request's scheme and host)"
		l.src.addOnce(Finding{Field: l.field + ".path", Value: l.path, Severity: SeverityInfo, Level: annotations.Approximate, Message: msg})
		return
	}
	l.src.addOnce(Finding{Field: l.field + ".path", Value: l.path, Severity: SeverityInfo, Level: annotations.Exact, Message: msg})
}

// emitOwnRoutes emits rules of rs that the Ingress's policies do not cover as HTTPRoutes
// of their own, named after the Ingress, the host and suffix: one route for both
// listeners when their rules are the same.
func (c *converter) emitOwnRoutes(rs *routeSet, suffix string, https, http []gwv1.HTTPRouteRule) []*gwv1.HTTPRoute {
	if len(http) == 0 {
		return nil
	}
	h := rs.host
	hostnames := c.routeHostnames(h)
	base := []string{rs.src.ing.Name, hostLabel(h.name), suffix}
	var routes []*gwv1.HTTPRoute
	if c.hostHasHTTPS(h) && !reflect.DeepEqual(https, http) {
		routes = c.splitRoutes(rs.src, h.name, base, hostnames, c.parents(h, true), https)
		routes = append(routes, c.splitRoutes(rs.src, h.name, append(base, "http"), hostnames, c.parents(h, false), http)...)
	} else if c.hostHasHTTPS(h) {
		routes = c.splitRoutes(rs.src, h.name, base, hostnames, append(c.parents(h, true), c.parents(h, false)...), http)
	} else {
		routes = c.splitRoutes(rs.src, h.name, base, hostnames, c.parents(h, false), http)
	}
	for _, r := range routes {
		c.out.addFor(rs.src, r)
	}
	return routes
}

// emitNestedRoutes emits the configuration-snippet's location blocks (addNestedLocations).
func (c *converter) emitNestedRoutes(rs *routeSet) {
	c.emitOwnRoutes(rs, "locations", rs.nestedHTTPS, rs.nestedHTTP)
}

// emitSlashRoutes emits the slash redirects of rs (addSlashRedirect) as HTTPRoutes of
// their own, with a TrafficPolicy that keeps the query in them.
func (c *converter) emitSlashRoutes(rs *routeSet) {
	routes := c.emitOwnRoutes(rs, "slash", rs.slashHTTPS, rs.slashHTTP)
	if len(routes) == 0 {
		return
	}
	h := rs.host
	base := []string{rs.src.ing.Name, hostLabel(h.name), "slash"}
	spec := gbv1.TrafficPolicySpec{Redirects: &gbv1.RedirectPolicy{FullPathDropsQuery: ptr(false)}}
	for _, r := range routes {
		spec.TargetRefs = append(spec.TargetRefs, gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
			Group: gwv1.GroupName, Kind: "HTTPRoute", Name: gwv1.ObjectName(r.Name)}})
	}
	// The policy only undoes gatebridge's own gateway-wide default (full-path redirects drop
	// the query); the standard's redirects keep it, so the routes alone say the same thing
	// elsewhere and --portable leaves the policy out.
	if c.opts.Portable {
		return
	}
	name := c.uniqueName(rs.src, "TrafficPolicy", objectName(253, append(base, "policy")...), h.name, "slash")
	c.out.addFor(rs.src, &gbv1.TrafficPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "TrafficPolicy"},
		ObjectMeta: c.meta(rs.src, name, rs.src.ing.Namespace),
		Spec:       spec,
	})
}
