package converters

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

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
		for _, l := range ls {
			c.addLocationRules(rs, l)
		}
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
		l.src.usesExtensions = true
	}
	idx := len(rs.https)
	var rules []gwv1.HTTPRouteRule
	if lr := l.src.ann.Redirect.Literal; lr != nil {
		rule, rf := literalRedirectRule(match, lr)
		if rf != nil {
			rs.addFilter(rf, &rule, l, "redirect")
		}
		rules = []gwv1.HTTPRouteRule{rule}
	} else {
		filters, rf := ruleFilters(l, h.regexMode)
		rules = forwardRules(l, match, filters)
		if rf != nil {
			for i := range rules {
				rs.addFilter(rf, &rules[i], l, "rewrite")
			}
		}
	}
	for i := range rules {
		suffix := ""
		if len(rules) > 1 {
			suffix = fmt.Sprintf("%d", i)
		}
		rules[i].Name = ruleName(idx, l, h.regexMode, suffix)
	}
	rs.https = append(rs.https, rules...)
	if c.redirectsToHTTPS(l) && l.src.ann.Redirect.Literal == nil {
		r := redirectToHTTPS(match, c.defaults.HTTPRedirectCode)
		r.Name = ruleName(idx, l, h.regexMode, "https-redirect")
		rs.http = append(rs.http, r)
		return
	}
	rs.http = append(rs.http, rules...)
}

// addFilter names the RouteFilter after the Ingress and its content (equal filters are
// shared) and references it from rule.
func (rs *routeSet) addFilter(rf *gbv1.RouteFilter, rule *gwv1.HTTPRouteRule, l *location, kind string) {
	key := ""
	if rf.Spec.RegexRewrite != nil {
		key = rf.Spec.RegexRewrite.Pattern + "\x00" + rf.Spec.RegexRewrite.Substitution
	} else {
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
	l.src.usesExtensions = true
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
