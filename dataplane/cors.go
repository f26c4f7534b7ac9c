package dataplane

import (
	"regexp"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// corsRoutes answers CORS the way ingress-nginx's template does, with routes rather than
// Envoy's CORS filter (which answers only "real" preflights and never sends a literal *):
//
//   - any OPTIONS request from an allowed origin (any OPTIONS at all with origin "*") is
//     answered 204 by the proxy with the CORS headers, before auth and access checks;
//   - every other request from an allowed origin is proxied and its response gets the
//     CORS headers (with "*", every response does);
//   - requests from other origins are proxied untouched.
func (a *ruleAction) corsRoutes(e *routeEntry) []*routeEntry {
	c := a.cors
	star := corsStar(c.AllowOrigins)
	originRE := ""
	if !star {
		originRE = corsOriginRegex(c.AllowOrigins)
	}
	headers := corsHeaders(c, star)
	var out []*routeEntry

	preflight := a.clone(e, 0)
	preflight.route.Match.Headers = append(preflight.route.Match.Headers, exactHeader(":method", "OPTIONS"))
	if !star {
		preflight.route.Match.Headers = append(preflight.route.Match.Headers, regexHeader("origin", originRE))
	}
	preflight.route.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 204}}
	preflight.route.ResponseHeadersToAdd = append(append([]*corev3.HeaderValueOption(nil), headers...),
		setHeader("content-type", "text/plain charset=UTF-8"))
	// The location's more_set_headers (custom-headers, HSTS) act on nginx's 204 too.
	preflight.route.ResponseHeadersToAdd = append(preflight.route.ResponseHeadersToAdd, a.respAdd...)
	preflight.route.ResponseHeadersToRemove = a.respRemove
	out = append(out, preflight)

	if star {
		allowed := a.clone(e, 1)
		allowed.route.ResponseHeadersToAdd = headers
		a.decorate(allowed.route, true)
		allowed.shown = true
		return append(out, allowed)
	}
	allowed := a.clone(e, 1)
	allowed.route.Match.Headers = append(allowed.route.Match.Headers, regexHeader("origin", originRE))
	allowed.route.ResponseHeadersToAdd = headers
	a.decorate(allowed.route, true)
	other := a.clone(e, 2)
	a.decorate(other.route, true)
	other.shown = true
	return append(out, allowed, other)
}

// corsLocalRoutes is CORS on a rule the proxy answers itself (a redirect or a literal
// answer): as in nginx, where the CORS block runs before the location's `return` and its
// ssl-redirect, a preflight from an allowed origin (any OPTIONS with "*") is answered 204,
// and the answer to other requests from allowed origins carries the CORS headers.
func (a *ruleAction) corsLocalRoutes(e *routeEntry) []*routeEntry {
	c := a.cors
	star := corsStar(c.AllowOrigins)
	originRE := ""
	if !star {
		originRE = corsOriginRegex(c.AllowOrigins)
	}
	headers := corsHeaders(c, star)
	inner := *a
	inner.cors = nil
	withHeaders := func(es []*routeEntry) []*routeEntry {
		for _, x := range es {
			x.route.ResponseHeadersToAdd = append(append([]*corev3.HeaderValueOption(nil), headers...), x.route.ResponseHeadersToAdd...)
		}
		return es
	}

	preflight := a.clone(e, 0)
	preflight.route.Match.Headers = append(preflight.route.Match.Headers, exactHeader(":method", "OPTIONS"))
	if !star {
		preflight.route.Match.Headers = append(preflight.route.Match.Headers, regexHeader("origin", originRE))
	}
	preflight.route.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 204}}
	preflight.route.ResponseHeadersToAdd = append(append([]*corev3.HeaderValueOption(nil), headers...),
		setHeader("content-type", "text/plain charset=UTF-8"))
	// The location's more_set_headers (custom-headers, HSTS) act on nginx's 204 too.
	preflight.route.ResponseHeadersToAdd = append(preflight.route.ResponseHeadersToAdd, a.respAdd...)
	preflight.route.ResponseHeadersToRemove = a.respRemove
	out := []*routeEntry{preflight}

	if star {
		out = append(out, withHeaders(inner.expand(a.clone(e, 0)))...)
	} else {
		allowed := a.clone(e, 0)
		allowed.route.Match.Headers = append(allowed.route.Match.Headers, regexHeader("origin", originRE))
		for _, x := range withHeaders(inner.expand(allowed)) {
			x.shown = false
			out = append(out, x)
		}
		out = append(out, inner.expand(a.clone(e, 0))...)
	}
	for i, x := range out {
		x.sub = int32(i)
	}
	return out
}

func corsStar(origins []string) bool {
	if len(origins) == 0 {
		return true
	}
	for _, o := range origins {
		if strings.TrimSpace(o) == "*" {
			return true
		}
	}
	return false
}

// corsOriginRegex is nginx's `$http_origin ~* ((o1)|(o2))$`: case-insensitive, anchored at
// the end only; "*." matches exactly one DNS label.
func corsOriginRegex(origins []string) string {
	var alts []string
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		q := regexp.QuoteMeta(o)
		q = strings.ReplaceAll(q, `\*\.`, `[A-Za-z0-9\-]+\.`)
		alts = append(alts, "(?:"+q+")")
	}
	return "(?i).*(?:" + strings.Join(alts, "|") + ")"
}

func corsHeaders(c *v1alpha1.CORSPolicy, star bool) []*corev3.HeaderValueOption {
	origin := "%REQ(origin)%"
	if star {
		origin = "*"
	}
	hs := []*corev3.HeaderValueOption{setHeader("access-control-allow-origin", origin)}
	if c.AllowCredentials {
		hs = append(hs, setHeader("access-control-allow-credentials", "true"))
	}
	// The lists keep the blanks written after each comma (see annotations.splitAsWritten):
	// joined with "," the headers are sent as written, as ingress-nginx does.
	hs = append(hs,
		setHeader("access-control-allow-methods", escapeFormatter(strings.Join(c.AllowMethods, ","))),
		setHeader("access-control-allow-headers", escapeFormatter(strings.Join(c.AllowHeaders, ","))))
	if len(c.ExposeHeaders) > 0 {
		hs = append(hs, setHeader("access-control-expose-headers", escapeFormatter(strings.Join(c.ExposeHeaders, ","))))
	}
	return append(hs, setHeader("access-control-max-age", strconv.Itoa(int(c.MaxAgeSeconds))))
}

// standardCORS is the Gateway API CORS filter as Envoy's CORS policy.
func standardCORS(f *gwv1.HTTPCORSFilter) *corsv3.CorsPolicy {
	// A preflight from an origin the filter does not allow is answered by Envoy without
	// CORS headers, not sent to the backend: the route's CORS filter owns preflights.
	p := &corsv3.CorsPolicy{ForwardNotMatchingPreflights: wrapperspb.Bool(false)}
	for _, o := range f.AllowOrigins {
		s := string(o)
		var m *matcherv3.StringMatcher
		if strings.Contains(s, "*") {
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(s), `\*`, `.*`) + "$"
			m = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}}
		} else {
			m = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
		}
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, m)
	}
	var ms []string
	for _, m := range f.AllowMethods {
		ms = append(ms, string(m))
	}
	p.AllowMethods = strings.Join(ms, ",")
	var hs []string
	for _, h := range f.AllowHeaders {
		hs = append(hs, string(h))
	}
	p.AllowHeaders = strings.Join(hs, ",")
	var es []string
	for _, h := range f.ExposeHeaders {
		es = append(es, string(h))
	}
	p.ExposeHeaders = strings.Join(es, ",")
	if f.MaxAge > 0 {
		p.MaxAge = strconv.Itoa(int(f.MaxAge))
	}
	if f.AllowCredentials != nil {
		p.AllowCredentials = wrapperspb.Bool(*f.AllowCredentials)
	}
	return p
}
