package converters

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// DefaultsPolicyName is the name of the Gateway-level TrafficPolicy carrying the
// ingress-nginx ConfigMap defaults.
const DefaultsPolicyName = "ingress-nginx-defaults"

func seconds(n int) *metav1.Duration {
	return &metav1.Duration{Duration: time.Duration(n) * time.Second}
}

func cidrs(p []netip.Prefix) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = x.String()
	}
	return out
}

// retryFrom maps proxy-next-upstream conditions; "off" means no retry.
func retryFrom(conds []string, tries, timeout int, nonIdempotent bool) *gbv1.RetryPolicy {
	r := &gbv1.RetryPolicy{Attempts: int32(tries), NonIdempotent: nonIdempotent}
	for _, c := range conds {
		switch c {
		case "off":
			return &gbv1.RetryPolicy{Attempts: 1}
		case "non_idempotent":
			r.NonIdempotent = true
		default:
			// Each condition once: nginx reads "error error" as "error", and the CRD holds
			// at most the 10 distinct ones.
			if !slices.Contains(r.On, gbv1.RetryCondition(c)) {
				r.On = append(r.On, gbv1.RetryCondition(c))
			}
		}
	}
	if timeout > 0 {
		r.Budget = seconds(timeout)
	}
	return r
}

func trailingSlash(preserve bool) gbv1.TrailingSlash {
	if preserve {
		return gbv1.TrailingSlashPreserve
	}
	return gbv1.TrailingSlashStrip
}

// defaultsPolicy is the Gateway-level policy: ingress-nginx's defaults (and the ConfigMap),
// which differ from Envoy's (no body limit, no retries, total timeouts).
func (c *conversion) defaultsPolicy() *gbv1.TrafficPolicy {
	d := c.defaults
	spec := gbv1.TrafficPolicySpec{
		TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
			Group: gwv1.GroupName, Kind: "Gateway", Name: gwv1.ObjectName(c.opts.GatewayName)}}},
		PathMatching: &gbv1.PathMatching{Mode: gbv1.PathMatchingIngressNginx},
		Redirects: &gbv1.RedirectPolicy{HTTPSTrailingSlash: trailingSlash(d.PreserveTrailingSlash),
			HTTPSIncludePort: ptr(d.UsePortInRedirects), FullPathDropsQuery: ptr(true)},
		RequestBody: &gbv1.RequestBodyPolicy{MaxBytes: d.BodySizeBytes},
		Timeouts:    &gbv1.TimeoutPolicy{Connect: seconds(d.ConnectTimeout), Read: seconds(d.ReadTimeout), Send: seconds(d.SendTimeout)},
		Retry:       retryFrom(d.NextUpstream, d.NextUpstreamTries, d.NextUpstreamTimeout, d.RetryNonIdempotent),
	}
	if len(d.Allow) > 0 || len(d.Deny) > 0 {
		spec.Access = &gbv1.AccessPolicy{Allow: cidrs(d.Allow), Deny: cidrs(d.Deny)}
	}
	if d.LoadBalance == "ewma" {
		spec.Backend = &gbv1.BackendPolicy{LoadBalancing: gbv1.LoadBalancingLeastRequest}
	}
	spec.Tracing = gatewayTracing(d)
	if len(d.CipherSuites) > 0 {
		// ConfigMap ssl-ciphers: every host's, unless its own ssl-ciphers (per-host policy).
		spec.FrontendTLS = &gbv1.FrontendTLSPolicy{CipherSuites: d.CipherSuites}
	}
	return &gbv1.TrafficPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "TrafficPolicy"},
		ObjectMeta: c.meta(nil, DefaultsPolicyName, c.opts.GatewayNamespace),
		Spec:       spec,
	}
}

// ingressPolicySpec carries what one Ingress's annotations set; nil when nothing.
func (c *converter) ingressPolicySpec(src *source) *gbv1.TrafficPolicySpec {
	a := src.ann
	d := c.defaults
	var s gbv1.TrafficPolicySpec
	set := false
	if a.Redirect.PreserveTrailingSlash != nil || a.Redirect.UsePortInRedirects != nil {
		s.Redirects = &gbv1.RedirectPolicy{}
		if v := a.Redirect.PreserveTrailingSlash; v != nil {
			s.Redirects.HTTPSTrailingSlash = trailingSlash(*v)
		}
		s.Redirects.HTTPSIncludePort = a.Redirect.UsePortInRedirects
		set = true
	}
	if a.Timeouts.BodySizeBytes != nil {
		s.RequestBody = &gbv1.RequestBodyPolicy{MaxBytes: *a.Timeouts.BodySizeBytes}
		set = true
	}
	t := a.Timeouts
	if t.Connect != nil || t.Read != nil || t.Send != nil {
		s.Timeouts = &gbv1.TimeoutPolicy{}
		if t.Connect != nil {
			s.Timeouts.Connect = seconds(*t.Connect)
		}
		if t.Read != nil {
			s.Timeouts.Read = seconds(*t.Read)
		}
		if t.Send != nil {
			s.Timeouts.Send = seconds(*t.Send)
		}
		set = true
	}
	if t.NextUpstream != nil || t.NextUpstreamTries != nil || t.NextUpstreamTimeout != nil {
		conds, tries, budget := d.NextUpstream, d.NextUpstreamTries, d.NextUpstreamTimeout
		if t.NextUpstream != nil {
			conds = t.NextUpstream
		}
		if t.NextUpstreamTries != nil {
			tries = *t.NextUpstreamTries
		}
		if t.NextUpstreamTimeout != nil {
			budget = *t.NextUpstreamTimeout
		}
		s.Retry = retryFrom(conds, tries, budget, d.RetryNonIdempotent)
		set = true
	}
	if b := c.backendPolicy(src); b != nil {
		s.Backend = b
		set = true
	}
	if a.CORS.Enabled {
		s.CORS = &gbv1.CORSPolicy{AllowOrigins: a.CORS.AllowOrigins, AllowMethods: a.CORS.AllowMethods, AllowHeaders: a.CORS.AllowHeaders,
			ExposeHeaders: a.CORS.ExposeHeaders, AllowCredentials: a.CORS.AllowCredentials, MaxAgeSeconds: int32(a.CORS.MaxAge)}
		set = true
	}
	if a.Access.Allow != nil || a.Access.Deny != nil {
		s.Access = &gbv1.AccessPolicy{Allow: cidrs(a.Access.Allow), Deny: cidrs(a.Access.Deny)}
		set = true
	}
	if a.BasicAuth.Enabled {
		ns, name := splitRef(a.BasicAuth.Secret, src.ing.Namespace)
		ref := gwv1.SecretObjectReference{Name: gwv1.ObjectName(name)}
		if ns != src.ing.Namespace {
			ref.Namespace = ptr(gwv1.Namespace(ns))
			src.add(Finding{Annotation: "auth-secret", Value: a.BasicAuth.Secret, Level: annotations.Exact, Severity: SeverityWarning,
				Message: "refers to a Secret in namespace " + ns + ": create a ReferenceGrant there from TrafficPolicy in " + src.ing.Namespace + " to that Secret; until then the paths answer 503 (fails closed)"})
		} else if why := c.basicAuthSecretProblem(ns, name, a.BasicAuth.SecretType); why != "" {
			src.add(Finding{Annotation: "auth-secret", Value: a.BasicAuth.Secret, Level: annotations.Exact, Severity: SeverityWarning, Message: why})
		}
		s.BasicAuth = &gbv1.BasicAuthPolicy{SecretRef: ref, SecretType: gbv1.BasicAuthSecretType(a.BasicAuth.SecretType), Realm: a.BasicAuth.Realm}
		set = true
	}
	if e := a.ExternalAuth; e.URL != "" || !e.GlobalAuth {
		s.ExternalAuth = &gbv1.ExternalAuthPolicy{URL: e.URL, Method: e.Method, SignIn: e.SignIn, RedirectParam: e.RedirectParam,
			ResponseHeaders: e.ResponseHeaders, RequestRedirect: e.RequestRedirect, AlwaysSetCookie: e.AlwaysSetCookie, Disabled: e.URL == "" && !e.GlobalAuth,
			ProxySetHeaders: src.authProxySetHeaders}
		if e.URL == "" {
			s.ExternalAuth.RedirectParam = ""
		}
		if as := a.AuthSnippet; as != nil && e.URL != "" && len(as.RequestHeaders) > 0 {
			// The auth-snippet's proxy_set_header lines come after the ConfigMap's headers in
			// ingress-nginx's auth location: of the same name, the snippet's is kept.
			s.ExternalAuth.ProxySetHeaders = maps.Clone(src.authProxySetHeaders)
			if s.ExternalAuth.ProxySetHeaders == nil {
				s.ExternalAuth.ProxySetHeaders = map[string]string{}
			}
			for _, h := range as.RequestHeaders {
				s.ExternalAuth.ProxySetHeaders[h.Name] = h.Value
			}
		}
		set = true
	}
	if a.ExternalAuth.SatisfyAny && (s.Access != nil || s.BasicAuth != nil || s.ExternalAuth != nil) {
		s.Satisfy = gbv1.SatisfyAny
	}
	if l := a.RateLimit; l.Enabled() {
		s.RateLimit = &gbv1.RateLimitPolicy{RequestsPerSecond: int32(l.RPS), RequestsPerMinute: int32(l.RPM),
			BurstMultiplier: int32(l.BurstMultiplier), Exempt: cidrs(l.Exempt), StatusCode: int32(d.LimitReqStatusCode)}
		set = true
	}
	if m := a.Mirror; m != nil {
		s.Mirror = &gbv1.MirrorPolicy{Scheme: m.Scheme, Host: m.Host, Port: int32(m.Port), HostHeader: m.HostHeader}
		set = true
	}
	if rw := responseRewrite(a.Timeouts); rw != nil {
		s.ResponseRewrite = rw
		set = true
	}
	if n := a.RateLimit.RateKiBps; n > 0 {
		s.ResponseBandwidth = &gbv1.ResponseBandwidthPolicy{KiBPerSecond: int32(n)}
		set = true
	}
	if af := a.Affinity; af.Cookie {
		s.SessionAffinity = &gbv1.SessionAffinityPolicy{CookieName: af.Name, CookiePath: af.Path, CookieDomain: af.Domain,
			Secure: af.Secure, SameSite: af.SameSite, Mode: af.Mode, CanaryBehavior: af.CanaryBehavior, ChangeOnFailure: af.ChangeOnFailure}
		if af.Expires != nil {
			s.SessionAffinity.ExpiresSeconds = ptr(int64(*af.Expires))
		}
		if af.MaxAge != nil {
			s.SessionAffinity.MaxAgeSeconds = ptr(int64(*af.MaxAge))
		}
		s.SessionAffinity.NoCookieBackends = c.legacyCanaryBackends(src)
		if a.Backend.HashBy != nil {
			src.add(Finding{Annotation: "upstream-hash-by", Value: a.Backend.HashBy.Expression, Level: annotations.Exact, Severity: SeverityInfo,
				Message: "has no effect: affinity: cookie takes precedence (as in ingress-nginx)"})
		}
		if af.ConditionalSameSiteNone {
			if af.SameSite == "None" {
				s.SessionAffinity.ConditionalSameSiteNone = true
			} else {
				src.add(Finding{Annotation: "session-cookie-conditional-samesite-none", Severity: SeverityInfo, Level: annotations.Exact,
					Message: "has no effect unless session-cookie-samesite is None (as in ingress-nginx)"})
			}
		}
		if af.Path == "" && c.isRegexIngress(src) {
			src.add(Finding{Annotation: "session-cookie-path", Severity: SeverityWarning, Level: annotations.Exact,
				Message: "is not set while the paths are regular expressions: the cookie Path would be a regex, which browsers do not understand; set session-cookie-path (ingress-nginx warns the same)"})
		}
		set = true
	}
	if t := routeTracing(a.Tracing, d); t != nil {
		s.Tracing = t
		set = true
	}
	if b := a.Backend; b.DefaultBackend != "" || len(b.CustomHTTPErrors) > 0 {
		s.ErrorPages = &gbv1.ErrorPagesPolicy{Codes: toInt32(b.CustomHTTPErrors), InterceptUpstreamErrors: !b.DisableInterceptErrors, IngressName: src.ing.Name}
		if b.DefaultBackend != "" {
			s.ErrorPages.DefaultBackend = c.defaultBackendRef(src, b.DefaultBackend)
		}
		set = true
	}
	if !set {
		return nil
	}
	return &s
}

// basicAuthSecretProblem says what is served when the credentials Secret of basic auth
// cannot be used ("" = it can): ingress-nginx denies the location (503) when the Secret or
// its key is missing, and so does gatebridge's data plane.
func (c *converter) basicAuthSecretProblem(ns, name, secretType string) string {
	sec, ok := c.model.secrets[ns+"/"+name]
	switch {
	case !ok:
		return "Secret " + ns + "/" + name + " is not in the input: gatebridge run answers 503 for these paths (fails closed, as ingress-nginx does for a missing Secret), and so does the cluster until the Secret exists there; include the Secret in the input (or check that it exists in the cluster)"
	case secretType != "auth-map" && len(sec.Data["auth"]) == 0 && sec.StringData["auth"] == "":
		return "Secret " + ns + "/" + name + " has no key \"auth\" (the htpasswd file of auth-file): ingress-nginx and gatebridge answer 503 for these paths (fails closed); add the key, or set auth-secret-type: auth-map for one key per user"
	}
	return ""
}

// defaultBackendRef points at the first port of the default-backend Service, as nginx.
func (c *converter) defaultBackendRef(src *source, svcName string) *gwv1.BackendObjectReference {
	ref := &gwv1.BackendObjectReference{Name: gwv1.ObjectName(svcName)}
	svc := c.model.services[src.ing.Namespace+"/"+svcName]
	switch {
	case svc != nil && len(svc.Spec.Ports) > 0:
		ref.Port = ptr(gwv1.PortNumber(svc.Spec.Ports[0].Port))
	default:
		ref.Port = ptr(gwv1.PortNumber(80))
		src.add(Finding{Annotation: "default-backend", Value: svcName, Level: annotations.Exact, Severity: SeverityWarning,
			Message: "Service " + src.ing.Namespace + "/" + svcName + " is not in the input, so its first port is unknown; port 80 is assumed — include the Service to get the right port"})
	}
	return ref
}

// backendPolicy carries backend-protocol, service-upstream, load-balance and proxy-ssl-*.
func (c *converter) backendPolicy(src *source) *gbv1.BackendPolicy {
	b := src.ann.Backend
	var p gbv1.BackendPolicy
	set := false
	if b.Protocol != "" && b.Protocol != "HTTP" {
		p.Protocol = gbv1.BackendProtocol(b.Protocol)
		set = true
		if (b.Protocol == "HTTPS" || b.Protocol == "GRPCS" || b.Protocol == "AUTO_HTTP") && !b.ProxySSL.Verify {
			src.add(Finding{Annotation: "backend-protocol", Value: b.Protocol, Level: annotations.Exact, Severity: SeverityInfo,
				Message: "TLS to the backend is not certificate-checked, as in ingress-nginx; set proxy-ssl-verify: \"on\" with proxy-ssl-secret to verify it"})
		}
	}
	if b.ServiceUpstream != nil && *b.ServiceUpstream {
		p.ServiceUpstream = true
		set = true
	}
	if b.LoadBalance == "ewma" {
		p.LoadBalancing = gbv1.LoadBalancingLeastRequest
		set = true
	} else if b.LoadBalance != "" {
		p.LoadBalancing = gbv1.LoadBalancingRoundRobin
		set = true
	}
	if h := b.HashBy; h != nil {
		p.ConsistentHash = consistentHash(h)
		set = true
	}
	if s := b.ProxySSL; s.Set {
		t := &gbv1.BackendTLS{Verify: s.Verify, ServerName: s.Name, SendSNI: s.ServerName, Ciphers: s.Ciphers, Protocols: s.Protocols}
		if s.VerifyDepth != nil {
			t.VerifyDepth = ptr(int32(*s.VerifyDepth))
		}
		if s.Secret != "" {
			ns, name := splitRef(s.Secret, src.ing.Namespace)
			t.CertificateRef = &gwv1.SecretObjectReference{Name: gwv1.ObjectName(name)}
			if ns != src.ing.Namespace {
				t.CertificateRef.Namespace = ptr(gwv1.Namespace(ns))
			}
			c.noteProxySSLSecret(src, ns, name, s.Verify)
		}
		p.TLS = t
		set = true
	}
	if !set {
		return nil
	}
	return &p
}

// noteProxySSLSecret says what is served when the proxy-ssl-secret cannot be used: the
// data plane cannot build the TLS connection to the backend, so the paths answer 500
// (ingress-nginx denies the location: 503).
func (c *converter) noteProxySSLSecret(src *source, ns, name string, verify bool) {
	sec, ok := c.model.secrets[ns+"/"+name]
	const tail = "gatebridge run answers 500 for these paths (ingress-nginx answers 503) until it is fixed"
	switch {
	case !ok:
		src.add(Finding{Annotation: "proxy-ssl-secret", Value: ns + "/" + name, Level: annotations.Exact, Severity: SeverityWarning,
			Message: "Secret " + ns + "/" + name + " is not in the input: " + tail + "; include the Secret in the input (or check that it exists in the cluster)"})
	case verify && len(sec.Data["ca.crt"]) == 0 && sec.StringData["ca.crt"] == "":
		src.add(Finding{Annotation: "proxy-ssl-secret", Value: ns + "/" + name, Level: annotations.Exact, Severity: SeverityWarning,
			Message: "Secret " + ns + "/" + name + " has no ca.crt to verify the backend with (proxy-ssl-verify is on): " + tail})
	}
}

func (c *converter) isRegexIngress(src *source) bool {
	for _, h := range c.model.hosts {
		if !h.regexMode {
			continue
		}
		for _, l := range h.locations {
			if l.src == src {
				return true
			}
		}
	}
	return false
}

// legacyCanaryBackends are the canary Services joined to src's locations whose canary
// Ingress says affinity-canary-behavior: legacy (exactly, as ingress-nginx compares it):
// their responses set no affinity cookie. A legacy canary with an affinity of its own would
// set its own cookie in ingress-nginx; gatebridge sets none there, and says so.
func (c *converter) legacyCanaryBackends(src *source) []gbv1.ServicePortRef {
	var out []gbv1.ServicePortRef
	seen := map[backend]bool{}
	for _, h := range c.model.sortedHosts() {
		for _, k := range slices.Sorted(maps.Keys(h.locations)) {
			l := h.locations[k]
			cj := l.canary
			if l.src != src || cj == nil || cj.src.ann.Affinity.CanaryBehavior != "legacy" || seen[cj.backend] {
				continue
			}
			seen[cj.backend] = true
			ref := gbv1.ServicePortRef{Name: cj.backend.service, Port: cj.backend.port}
			if cj.backend.namespace != src.ing.Namespace {
				ref.Namespace = cj.backend.namespace
			}
			out = append(out, ref)
			if cj.src.ann.Affinity.Cookie {
				cj.src.add(Finding{Annotation: "affinity-canary-behavior", Value: "legacy", Level: annotations.Approximate, Severity: SeverityWarning,
					Message: "legacy with an affinity of the canary's own: ingress-nginx sets the canary's cookie on its responses, gatebridge sets none there"})
			}
		}
	}
	return out
}

func toInt32(v []int) []int32 {
	if v == nil {
		return nil
	}
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// emitIngressPolicy attaches the Ingress's policy to all of its HTTPRoutes.
func (c *converter) emitIngressPolicy(src *source, routes []*gwv1.HTTPRoute) {
	if len(routes) == 0 {
		return
	}
	spec := c.ingressPolicySpec(src)
	if spec == nil {
		return
	}
	if c.opts.Portable {
		c.emitPortablePolicy(src, routes, spec)
		return
	}
	if c.standardGRPC(src, routes, spec) {
		return
	}
	src.needGatebridge(policyBehaviours(spec)...)
	for i := 0; i < len(routes); i += 16 {
		end := min(i+16, len(routes))
		s := *spec
		s.TargetRefs = nil
		for _, r := range routes[i:end] {
			s.TargetRefs = append(s.TargetRefs, gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
				Group: gwv1.GroupName, Kind: "HTTPRoute", Name: gwv1.ObjectName(r.Name)}})
		}
		name := src.ing.Name
		if i > 0 {
			name = objectName(253, src.ing.Name, "policy", fmt.Sprint(i/16+1))
		}
		c.out.addFor(src, &gbv1.TrafficPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "TrafficPolicy"},
			ObjectMeta: c.meta(src, objectName(253, name), src.ing.Namespace),
			Spec:       s,
		})
	}
}

// consistentHash is upstream-hash-by's key as the policy's hash key parts.
func consistentHash(h *annotations.HashBy) *gbv1.ConsistentHashPolicy {
	out := &gbv1.ConsistentHashPolicy{}
	for _, k := range h.Keys {
		out.Key = append(out.Key, gbv1.HashKey{Source: gbv1.HashKeySource(k.Source), Name: k.Name})
	}
	return out
}

// responseRewrite is proxy-redirect-* and proxy-cookie-* as a policy (nil = none set).
func responseRewrite(t annotations.Timeouts) *gbv1.ResponseRewritePolicy {
	pair := func(p *annotations.RewritePair) *gbv1.HeaderRewrite {
		if p == nil {
			return nil
		}
		return &gbv1.HeaderRewrite{From: p.From, To: p.To}
	}
	rw := &gbv1.ResponseRewritePolicy{Redirect: pair(t.Redirect), CookieDomain: pair(t.CookieDomain), CookiePath: pair(t.CookiePath)}
	if rw.Redirect == nil && rw.CookieDomain == nil && rw.CookiePath == nil {
		return nil
	}
	return rw
}
