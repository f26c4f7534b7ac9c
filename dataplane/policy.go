package dataplane

import (
	"fmt"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
	"github.com/gatebridge-dev/gatebridge/internal/httpstatus"
)

// effectivePolicy is the TrafficPolicy that applies to one HTTPRoute on one Gateway: each
// block comes from the oldest route-level policy that sets it, else from the oldest
// Gateway-level policy that sets it. Blocks are taken whole, never merged field by field,
// so a route-level block says everything about its concern.
type effectivePolicy struct {
	spec v1alpha1.TrafficPolicySpec
	// source names, per block, the policy it came from ("namespace/name"), for auth keys
	// and rate-limit names.
	authSource, rateLimitSource string
}

func (t *translator) policyFor(gw *gwv1.Gateway, route *gwv1.HTTPRoute) *effectivePolicy {
	ep := &effectivePolicy{}
	fill := func(p *v1alpha1.TrafficPolicy) {
		s, d := &p.Spec, &ep.spec
		src := qualified(p.Namespace, p.Name)
		setIfNil(&d.PathMatching, s.PathMatching)
		setIfNil(&d.Redirects, s.Redirects)
		setIfNil(&d.RequestBody, s.RequestBody)
		setIfNil(&d.Timeouts, s.Timeouts)
		setIfNil(&d.Retry, s.Retry)
		setIfNil(&d.Backend, s.Backend)
		setIfNil(&d.CORS, s.CORS)
		setIfNil(&d.Access, s.Access)
		setIfNil(&d.SessionAffinity, s.SessionAffinity)
		setIfNil(&d.ResponseBandwidth, s.ResponseBandwidth)
		setIfNil(&d.ResponseRewrite, s.ResponseRewrite)
		setIfNil(&d.Mirror, s.Mirror)
		setIfNil(&d.ErrorPages, s.ErrorPages)
		if d.BasicAuth == nil && d.ExternalAuth == nil && (s.BasicAuth != nil || s.ExternalAuth != nil) {
			d.BasicAuth, d.ExternalAuth = s.BasicAuth, s.ExternalAuth
			ep.authSource = src
		}
		if d.Satisfy == "" {
			d.Satisfy = s.Satisfy
		}
		if d.RateLimit == nil && s.RateLimit != nil {
			d.RateLimit = s.RateLimit
			ep.rateLimitSource = src
		}
	}
	if route != nil {
		for _, p := range t.ix.routePolicies[qualified(route.Namespace, route.Name)] {
			fill(p)
		}
	}
	for _, p := range t.ix.gatewayPolicies[qualified(gw.Namespace, gw.Name)] {
		fill(p)
	}
	if route != nil {
		t.dropUnsendable(gw, route, ep)
	}
	// externalAuth.disabled turns off a Gateway-wide external auth for this route.
	if ep.spec.ExternalAuth != nil && ep.spec.ExternalAuth.Disabled {
		ep.spec.ExternalAuth = nil
		if ep.spec.BasicAuth == nil {
			ep.authSource = ""
		}
	}
	return ep
}

func setIfNil[T any](dst **T, src *T) {
	if *dst == nil && src != nil {
		*dst = src
	}
}

// nginxOrder reports whether RegularExpression path matches follow ingress-nginx order.
func (ep *effectivePolicy) nginxOrder() bool {
	return ep.spec.PathMatching != nil && ep.spec.PathMatching.Mode == v1alpha1.PathMatchingIngressNginx
}

// dropUnsendable leaves out of ep, with a problem on route, the blocks whose values Envoy
// would refuse in a header or a cookie (a hand-written policy: the converter never writes
// them, and `gatebridge run` reads policies no API server checked). The rule is then served
// without that block: without CORS headers (browsers refuse the cross-origin requests, as
// for an origin not allowed), without session affinity (requests spread over the
// endpoints). A rate limit whose status Envoy does not know is kept, answering 503.
// Anything this misses in a route's own fields is still caught per route (encodeRouteWhy);
// typed configurations (Anys) are not looked into there, which is why their values are
// checked here.
func (t *translator) dropUnsendable(gw *gwv1.Gateway, route *gwv1.HTTPRoute, ep *effectivePolicy) {
	if c := ep.spec.CORS; c != nil {
		if why := corsUnsendable(c); why != "" {
			src := t.policySource(gw, route, func(s *v1alpha1.TrafficPolicySpec) bool { return s.CORS == c })
			t.problem("HTTPRoute", route.Namespace, route.Name, "", fmt.Sprintf("TrafficPolicy %s: %s; CORS is not applied", src, why))
			ep.spec.CORS = nil
		}
	}
	if rl := ep.spec.RateLimit; rl != nil && rl.StatusCode != 0 && !httpstatus.EnvoyAnswers(int(rl.StatusCode)) {
		// Limiting stays (dropping it would let through what the policy holds back); only
		// the status is Envoy's default for ingress-nginx's limiter.
		src := t.policySource(gw, route, func(s *v1alpha1.TrafficPolicySpec) bool { return s.RateLimit == rl })
		t.problem("HTTPRoute", route.Namespace, route.Name, "", fmt.Sprintf("TrafficPolicy %s: rateLimit.statusCode %d is not a status Envoy's rate limiter can answer with (standard 4xx and 5xx codes only); limited requests get 503", src, rl.StatusCode))
		answered := *rl
		answered.StatusCode = 503
		ep.spec.RateLimit = &answered
	}
	if b := ep.spec.ResponseBandwidth; b != nil && b.KiBPerSecond < 1 {
		// nginx's limit_rate 0 is no limit; Envoy's filter takes 1 KiB/s at least.
		src := t.policySource(gw, route, func(s *v1alpha1.TrafficPolicySpec) bool { return s.ResponseBandwidth == b })
		t.problem("HTTPRoute", route.Namespace, route.Name, "", fmt.Sprintf("TrafficPolicy %s: responseBandwidth.kibPerSecond %d is not at least 1; responses are not throttled", src, b.KiBPerSecond))
		ep.spec.ResponseBandwidth = nil
	}
	if a := ep.spec.SessionAffinity; a != nil {
		if why := affinityUnsendable(a); why != "" {
			src := t.policySource(gw, route, func(s *v1alpha1.TrafficPolicySpec) bool { return s.SessionAffinity == a })
			t.problem("HTTPRoute", route.Namespace, route.Name, "", fmt.Sprintf("TrafficPolicy %s: %s; requests are not pinned to an endpoint", src, why))
			ep.spec.SessionAffinity = nil
		}
	}
}

// policySource names ("namespace/name") the policy of route or gw whose spec has the
// block it looks for.
func (t *translator) policySource(gw *gwv1.Gateway, route *gwv1.HTTPRoute, is func(*v1alpha1.TrafficPolicySpec) bool) string {
	for _, ps := range [][]*v1alpha1.TrafficPolicy{t.ix.routePolicies[qualified(route.Namespace, route.Name)], t.ix.gatewayPolicies[qualified(gw.Namespace, gw.Name)]} {
		for _, p := range ps {
			if is(&p.Spec) {
				return qualified(p.Namespace, p.Name)
			}
		}
	}
	return "?"
}

// headerUnsafe are the characters no HTTP header value may hold (Envoy's rule for the
// values it sends: no NUL, CR or LF).
const headerUnsafe = "\x00\r\n"

// corsUnsendable says which CORS value cannot be sent in a response header ("" when all
// can): the lists are joined into header values as written.
func corsUnsendable(c *v1alpha1.CORSPolicy) string {
	for _, l := range []struct {
		field  string
		values []string
	}{{"allowOrigins", c.AllowOrigins}, {"allowMethods", c.AllowMethods}, {"allowHeaders", c.AllowHeaders}, {"exposeHeaders", c.ExposeHeaders}} {
		for i, v := range l.values {
			if strings.ContainsAny(v, headerUnsafe) {
				return fmt.Sprintf("cors.%s[%d] %q holds a NUL or a line break, which no HTTP header may", l.field, i, v)
			}
		}
	}
	if !corsStar(c.AllowOrigins) {
		if err := envoyregex.Check(corsOriginRegex(c.AllowOrigins)); err != nil {
			return fmt.Sprintf("cors.allowOrigins (%d origins) as the regular expression that matches them: %v", len(c.AllowOrigins), err)
		}
	}
	return ""
}

// affinityUnsendable says why the affinity cookie cannot be set as written ("" when it
// can): its name must be a cookie name (RFC 6265: a token, which Envoy requires non-empty),
// and its attributes must not hold a control character or a ";", which would end them.
func affinityUnsendable(a *v1alpha1.SessionAffinityPolicy) string {
	if !cookieNameToken(a.CookieName) {
		return fmt.Sprintf("sessionAffinity.cookieName %q is not a cookie name (letters, digits and !#$%%&'*+-.^_`|~)", a.CookieName)
	}
	for _, f := range []struct {
		field string
		value *int64
	}{{"maxAgeSeconds", a.MaxAgeSeconds}, {"expiresSeconds", a.ExpiresSeconds}} {
		if f.value != nil && (*f.value < 0 || *f.value > maxCookieSeconds) {
			return fmt.Sprintf("sessionAffinity.%s %d is not between 0 and %d seconds", f.field, *f.value, maxCookieSeconds)
		}
	}
	for _, f := range []struct{ field, value string }{{"cookiePath", a.CookiePath}, {"cookieDomain", a.CookieDomain}, {"sameSite", a.SameSite}} {
		if strings.ContainsFunc(f.value, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ';' }) {
			return fmt.Sprintf("sessionAffinity.%s %q holds a control character or a ';', which would break the cookie", f.field, f.value)
		}
	}
	return ""
}

// maxCookieSeconds bounds an affinity cookie's lifetime (about 68 years): Envoy refuses a
// negative one, and seconds beyond Go's time.Duration would wrap.
const maxCookieSeconds = 1<<31 - 1

// cookieNameToken reports whether name is an RFC 6265 cookie name: a non-empty token
// (RFC 7230 tchar).
func cookieNameToken(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
