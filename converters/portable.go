package converters

import (
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// Portability (docs/portable.md). Every behaviour of an Ingress that the standard Gateway
// API (v1.6.3, standard channel) cannot say is recorded on its source (notPortable): by
// default it is served through gatebridge's TrafficPolicy or RouteFilter, and the report
// lists it under notPortable; with Options.Portable the gatebridge object is left out and
// a finding on the Ingress says what is lost there.

// needGatebridge records behaviours only gatebridge's kinds can say (once each).
func (s *source) needGatebridge(behaviours ...string) {
	for _, b := range behaviours {
		if b != "" && !slices.Contains(s.notPortable, b) {
			s.notPortable = append(s.notPortable, b)
		}
	}
}

// lost records behaviour as one the standard cannot say. With Options.Portable it adds f,
// its message saying what is lost, and returns true: the caller leaves the gatebridge
// object out. Otherwise the Ingress needs gatebridge for it, and lost returns false.
func (c *converter) lost(src *source, f Finding, behaviour string) bool {
	src.needGatebridge(behaviour)
	if !c.opts.Portable {
		return false
	}
	if f.Level == "" && f.Annotation != "" {
		f.Level = annotations.Approximate
	}
	f.Message = lostMessage(behaviour)
	src.addOnce(f)
	return true
}

func lostMessage(behaviour string) string {
	return "--portable leaves out " + behaviour + ": the standard Gateway API cannot express it, so another implementation will not do it; convert without --portable (and serve with gatebridge) to keep it"
}

// portableDefaultsLost is the global finding of --portable: the Gateway-wide defaults
// policy is left out.
func portableDefaultsLost(opts Options) Finding {
	return Finding{Field: "TrafficPolicy " + opts.GatewayNamespace + "/" + DefaultsPolicyName, Severity: SeverityInfo,
		Message: "left out by --portable: ingress-nginx's gateway-wide defaults (1 MiB body limit, 60 s idle read/send timeouts and 5 s connect timeout, retries on error and timeout, https redirects dropping the trailing slash, full-path redirects dropping the query, nginx regex order, the ConfigMap's settings) are not expressible in the standard Gateway API; the target implementation's own defaults apply to every route"}
}

// routeFilterBehaviour says what a RouteFilter does, for the report.
func routeFilterBehaviour(rf *gbv1.RouteFilter) string {
	if rf.Spec.RegexRewrite != nil {
		return "the regular-expression rewrite " + rf.Spec.RegexRewrite.Pattern + " → " + rf.Spec.RegexRewrite.Substitution + " (rewrite-target with capture groups)"
	}
	if rf.Spec.Headers != nil {
		return "headers computed per request from nginx variables (a snippet's header directives)"
	}
	if r := rf.Spec.Response; r != nil {
		return "the direct response " + strconv.Itoa(int(r.StatusCode)) + " (a snippet's return)"
	}
	if r := rf.Spec.Redirect; r != nil {
		return "the literal redirect to " + r.URL + " (query, relative Location or status code RequestRedirect cannot say)"
	}
	return "a gatebridge RouteFilter"
}

// policySection is one part of an Ingress's TrafficPolicy with what it does.
type policySection struct {
	annotation string
	behaviour  string
	// security: leaving it out opens what ingress-nginx closes.
	security bool
}

// policySections names the parts of an Ingress's TrafficPolicy spec.
func policySections(s *gbv1.TrafficPolicySpec) []policySection {
	var out []policySection
	add := func(set bool, ann, what string, security bool) {
		if set {
			out = append(out, policySection{ann, what, security})
		}
	}
	add(s.Redirects != nil, "preserve-trailing-slash", "redirect details (trailing slash, port in redirects)", false)
	add(s.RequestBody != nil, "proxy-body-size", "the request body limit", false)
	add(s.Timeouts != nil, "proxy-read-timeout", "nginx's connect/read/send timeouts (per read and write, not per request)", false)
	add(s.Retry != nil, "proxy-next-upstream", "retries to the next endpoint", false)
	if b := s.Backend; b != nil {
		add(b.Protocol == gbv1.BackendProtocolGRPC, "backend-protocol", "HTTP/2 without TLS to the backend ("+string(b.Protocol)+")", false)
		add(b.Protocol == gbv1.BackendProtocolHTTPS || b.Protocol == gbv1.BackendProtocolGRPCS || b.Protocol == gbv1.BackendProtocolAutoHTTP, "backend-protocol", "TLS to the backend ("+string(b.Protocol)+")", false)
		add(b.ServiceUpstream, "service-upstream", "proxying to the Service's cluster IP instead of its endpoints", false)
		add(b.LoadBalancing != "", "load-balance", "the load-balancing algorithm", false)
		add(b.ConsistentHash != nil, "upstream-hash-by", "consistent hashing of endpoints by request properties", false)
		add(b.TLS != nil, "proxy-ssl-verify", "backend TLS settings (verification, name, SNI, ciphers, protocols, client certificate)", false)
	}
	add(s.CORS != nil, "enable-cors", "ingress-nginx's CORS answers (204 to every OPTIONS from an allowed origin, a literal \"*\", CORS headers on every response)", false)
	add(s.Access != nil, "whitelist-source-range", "client address allow/deny lists", true)
	add(s.BasicAuth != nil, "auth-type", "basic authentication", true)
	add(s.ExternalAuth != nil, "auth-url", "external authentication", true)
	add(s.RateLimit != nil, "limit-rps", "rate limiting", true)
	add(s.SessionAffinity != nil, "affinity", "cookie session affinity", false)
	add(s.ResponseBandwidth != nil, "limit-rate", "the response bandwidth limit", false)
	add(s.Mirror != nil, "mirror-target", "request mirroring", false)
	add(s.ResponseRewrite != nil, "proxy-redirect-from", "rewriting of the backend's Location and Set-Cookie headers", false)
	add(s.ErrorPages != nil, "custom-http-errors", "custom error pages and the default backend", false)
	add(s.Tracing != nil, "enable-opentelemetry", "OpenTelemetry tracing of these paths", false)
	return out
}

// onlyGRPC reports whether the policy says nothing but "the backends speak gRPC without
// TLS": then GRPCRoutes say all of it (emitIngressPolicy).
func onlyGRPC(s *gbv1.TrafficPolicySpec) bool {
	want := gbv1.TrafficPolicySpec{TargetRefs: s.TargetRefs, Backend: &gbv1.BackendPolicy{Protocol: gbv1.BackendProtocolGRPC}}
	return reflect.DeepEqual(*s, want)
}

// unnamedSettings reports whether s sets anything policySections does not name (a field
// added to TrafficPolicy since): --portable then says that it is lost rather than drop it
// silently.
func unnamedSettings(s *gbv1.TrafficPolicySpec) bool {
	rest := *s
	rest.TargetRefs, rest.Redirects, rest.RequestBody, rest.Timeouts, rest.Retry, rest.Backend = nil, nil, nil, nil, nil, nil
	rest.CORS, rest.Access, rest.BasicAuth, rest.ExternalAuth, rest.RateLimit, rest.SessionAffinity, rest.ErrorPages = nil, nil, nil, nil, nil, nil, nil
	rest.ResponseBandwidth, rest.ResponseRewrite, rest.Mirror, rest.Tracing = nil, nil, nil, nil
	rest.Satisfy = "" // part of the authentication sections
	return !reflect.DeepEqual(rest, gbv1.TrafficPolicySpec{})
}

// standardGRPC puts GRPCRoutes in place of the Ingress's HTTPRoutes when its policy says
// nothing but backend-protocol: GRPC and every route that reaches a backend has a gRPC
// form: the standard then says the same thing (the data plane serves GRPCRoutes with
// HTTP/2 to the backends, grpcroute.go), and no TrafficPolicy is needed.
func (c *converter) standardGRPC(src *source, routes []*gwv1.HTTPRoute, spec *gbv1.TrafficPolicySpec) bool {
	// Behind the bridge, the native share and the fallback of a route are set on its
	// HTTPRoutes (bridge.go): those stay.
	if c.opts.Bridge || !onlyGRPC(spec) {
		return false
	}
	grpc, all := grpcRoutesOf(routes)
	if !all || len(grpc) == 0 {
		return false
	}
	c.replaceRoutes(src, grpc)
	src.addOnce(Finding{Annotation: "backend-protocol", Value: string(spec.Backend.Protocol), Severity: SeverityInfo, Level: annotations.Exact,
		Message: "becomes GRPCRoute (standard Gateway API): its backends are spoken to in HTTP/2 without TLS, as ingress-nginx's grpc_pass does"})
	return true
}

// policyBehaviours are the behaviours an Ingress's TrafficPolicy carries.
func policyBehaviours(s *gbv1.TrafficPolicySpec) []string {
	var out []string
	for _, p := range policySections(s) {
		out = append(out, p.behaviour)
	}
	if unnamedSettings(s) {
		out = append(out, "further TrafficPolicy settings of this Ingress's annotations")
	}
	return out
}

// emitPortablePolicy is emitIngressPolicy under --portable: what the standard can say is
// put into the routes (the CORS filter) or standard objects (BackendTLSPolicy); the rest is
// a finding saying what is lost.
func (c *converter) emitPortablePolicy(src *source, routes []*gwv1.HTTPRoute, spec *gbv1.TrafficPolicySpec) {
	backendTLS := c.portableBackendTLS(src, routes, spec)
	grpc := false
	if b := spec.Backend; b != nil && (b.Protocol == gbv1.BackendProtocolGRPC || b.Protocol == gbv1.BackendProtocolGRPCS) {
		grpc = c.portableGRPC(src, routes)
		if grpc {
			src.addOnce(Finding{Annotation: "backend-protocol", Value: string(b.Protocol), Severity: SeverityInfo, Level: annotations.Exact,
				Message: "becomes GRPCRoute: its backends are spoken to in HTTP/2, as ingress-nginx's grpc_pass does; only gRPC calls (POST /<service>/<method>) are routed the same way on every implementation"})
		}
	}
	for _, p := range policySections(spec) {
		switch {
		case grpc && p.behaviour == "HTTP/2 without TLS to the backend (GRPC)":
			continue
		case p.annotation == "enable-cors":
			c.portableCORS(src, routes, spec.CORS)
			continue
		case backendTLS && (p.annotation == "proxy-ssl-verify" || strings.HasPrefix(p.behaviour, "TLS to the backend")):
			continue
		}
		// A lost behaviour makes the Ingress approximate; a lost security control needs a
		// person (ingress-nginx closes what the exported routes leave open).
		f := Finding{Annotation: p.annotation, Severity: SeverityInfo, Level: annotations.Approximate}
		if p.security {
			f.Severity = SeverityError
		}
		src.needGatebridge(p.behaviour)
		f.Message = lostMessage(p.behaviour)
		if p.security {
			f.Message += "; the exported routes serve without this control: do not apply them on another implementation before you add an equivalent there"
		}
		if strings.HasPrefix(p.behaviour, "HTTP/2 without TLS") {
			f.Message += "; the standard way to say it is the Service port's appProtocol: kubernetes.io/h2c"
		}
		src.addOnce(f)
	}
	if unnamedSettings(spec) {
		const what = "further TrafficPolicy settings of this Ingress's annotations"
		src.needGatebridge(what)
		src.addOnce(Finding{Severity: SeverityWarning, Message: lostMessage(what)})
	}
}

// corsMethods are the methods the standard CORS filter accepts.
var corsMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "CONNECT": true,
	"OPTIONS": true, "TRACE": true, "PATCH": true, "*": true}

var (
	corsOriginPattern = regexp.MustCompile(`^(\*|(https?)://(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?))$`)
	headerNamePattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
)

// standardCORSFilter is the Gateway API CORS filter closest to ingress-nginx's CORS;
// dropped are the values the standard does not accept (origins without a scheme, unknown
// methods), for the finding.
func standardCORSFilter(p *gbv1.CORSPolicy) (*gwv1.HTTPCORSFilter, []string) {
	f := &gwv1.HTTPCORSFilter{MaxAge: p.MaxAgeSeconds}
	var dropped []string
	star := len(p.AllowOrigins) == 0
	for _, o := range p.AllowOrigins {
		o = strings.TrimSpace(o)
		if o == "*" {
			star = true
		}
	}
	if star {
		f.AllowOrigins = []gwv1.CORSOrigin{"*"}
	} else {
		for _, o := range p.AllowOrigins {
			o = strings.TrimSpace(o)
			switch {
			case o == "":
			case !corsOriginPattern.MatchString(o) || len(o) > 253:
				dropped = append(dropped, "origin "+o)
			case !slices.Contains(f.AllowOrigins, gwv1.CORSOrigin(o)):
				f.AllowOrigins = append(f.AllowOrigins, gwv1.CORSOrigin(o))
			}
		}
	}
	for _, m := range p.AllowMethods {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch {
		case m == "":
		case !corsMethods[m]:
			dropped = append(dropped, "method "+m)
		case !slices.Contains(f.AllowMethods, gwv1.HTTPMethodWithWildcard(m)):
			f.AllowMethods = append(f.AllowMethods, gwv1.HTTPMethodWithWildcard(m))
		}
	}
	headers := func(in []string) []gwv1.HTTPHeaderName {
		var out []gwv1.HTTPHeaderName
		for _, h := range in {
			h = strings.TrimSpace(h)
			switch {
			case h == "":
			case !headerNamePattern.MatchString(h) || len(h) > 256:
				dropped = append(dropped, "header "+h)
			case !slices.ContainsFunc(out, func(x gwv1.HTTPHeaderName) bool { return strings.EqualFold(string(x), h) }):
				out = append(out, gwv1.HTTPHeaderName(h))
			}
		}
		return out
	}
	f.AllowHeaders = headers(p.AllowHeaders)
	f.ExposeHeaders = headers(p.ExposeHeaders)
	if p.AllowCredentials {
		f.AllowCredentials = ptr(true)
	}
	return f, dropped
}

// portableCORS puts the standard CORS filter on every rule of the Ingress's routes, and
// says how its answers differ from ingress-nginx's.
func (c *converter) portableCORS(src *source, routes []*gwv1.HTTPRoute, p *gbv1.CORSPolicy) {
	f, dropped := standardCORSFilter(p)
	for _, r := range routes {
		for i := range r.Spec.Rules {
			r.Spec.Rules[i].Filters = append(r.Spec.Rules[i].Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterCORS, CORS: f})
		}
	}
	behaviour := "ingress-nginx's CORS answers (204 to every OPTIONS from an allowed origin, a literal \"*\", CORS headers on every response)"
	src.needGatebridge(behaviour)
	msg := "becomes the standard HTTPRoute CORS filter, whose answers differ from ingress-nginx's: only real preflights (OPTIONS with Origin and Access-Control-Request-Method) are answered by the gateway, with the implementation's status (Envoy: 200, nginx: 204) and the request's Origin echoed where nginx may send a literal \"*\"; simple requests get CORS headers only when they carry an allowed Origin"
	if len(dropped) > 0 {
		msg += "; left out, not accepted by the standard filter: " + strings.Join(dropped, ", ")
	}
	src.addOnce(Finding{Annotation: "enable-cors", Severity: SeverityInfo, Level: annotations.Approximate, Message: msg})
}

// portableBackendTLS emits a BackendTLSPolicy for every Service the Ingress's routes send
// to, when ingress-nginx verifies the backend (proxy-ssl-verify: on) against the CA of
// proxy-ssl-secret with the name proxy-ssl-name: the standard says the same, except the
// verify depth and SNI, which the finding states. The CA goes into a ConfigMap holding
// only ca.crt (BackendTLSPolicy's portable CA reference is a ConfigMap; the Secret also
// holds the client key). It reports whether the policy was emitted.
func (c *converter) portableBackendTLS(src *source, routes []*gwv1.HTTPRoute, spec *gbv1.TrafficPolicySpec) bool {
	b := spec.Backend
	if b == nil || b.TLS == nil || (b.Protocol != gbv1.BackendProtocolHTTPS && b.Protocol != gbv1.BackendProtocolGRPCS) {
		return false
	}
	t := b.TLS
	if !t.Verify || t.CertificateRef == nil || t.ServerName == "" || !preciseHostname.MatchString(strings.ToLower(t.ServerName)) {
		return false
	}
	ns := src.ing.Namespace
	if t.CertificateRef.Namespace != nil && string(*t.CertificateRef.Namespace) != ns {
		return false
	}
	sec := c.model.secrets[ns+"/"+string(t.CertificateRef.Name)]
	if sec == nil {
		return false
	}
	ca := string(sec.Data["ca.crt"])
	if ca == "" {
		ca = sec.StringData["ca.crt"]
	}
	if ca == "" {
		return false
	}
	services := routeServices(routes, ns)
	if len(services) == 0 {
		return false
	}
	cmName := objectName(253, src.ing.Name, "backend-ca")
	c.out.addFor(src, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: c.meta(src, cmName, ns),
		Data:       map[string]string{"ca.crt": ca},
	})
	var refs []gwv1.LocalPolicyTargetReferenceWithSectionName
	for _, s := range services {
		refs = append(refs, gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
			Group: "", Kind: "Service", Name: gwv1.ObjectName(s)}})
	}
	if len(refs) > 16 {
		refs = refs[:16]
	}
	c.out.addFor(src, &gwv1.BackendTLSPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "BackendTLSPolicy"},
		ObjectMeta: c.meta(src, objectName(253, src.ing.Name, "backend-tls"), ns),
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: refs,
			Validation: gwv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwv1.LocalObjectReference{{Group: "", Kind: "ConfigMap", Name: gwv1.ObjectName(cmName)}},
				Hostname:          gwv1.PreciseHostname(strings.ToLower(t.ServerName)),
			},
		},
	})
	msg := "becomes a BackendTLSPolicy (CA from ConfigMap " + ns + "/" + cmName + ", which holds only the ca.crt of Secret " + ns + "/" + string(t.CertificateRef.Name) + "; hostname " + t.ServerName + "): the backend certificate is verified the same way, except that the standard always sends the hostname as SNI"
	if !t.SendSNI {
		msg += " (ingress-nginx sends none: proxy-ssl-server-name is off)"
	}
	msg += " and has no verify depth (proxy-ssl-verify-depth, 1 by default in nginx)"
	if len(sec.Data["tls.key"]) > 0 || sec.StringData["tls.key"] != "" {
		msg += "; the client certificate of the Secret (tls.crt/tls.key, presented to the backend by ingress-nginx) is lost: the standard sets it per Gateway (spec.tls.backend.clientCertificateRef)"
	}
	if t.Ciphers != "" || len(t.Protocols) > 0 {
		msg += "; proxy-ssl-ciphers and proxy-ssl-protocols are lost (the implementation's TLS defaults apply)"
	}
	src.addOnce(Finding{Annotation: "proxy-ssl-verify", Severity: SeverityInfo, Level: annotations.Approximate, Message: msg})
	return true
}

// routeServices are the Services (of namespace ns) the routes send to, sorted.
func routeServices(routes []*gwv1.HTTPRoute, ns string) []string {
	var out []string
	for _, r := range routes {
		for _, rule := range r.Spec.Rules {
			for _, br := range rule.BackendRefs {
				if (br.Kind != nil && *br.Kind != "Service") || (br.Namespace != nil && string(*br.Namespace) != ns) {
					continue
				}
				if n := string(br.Name); !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// grpcService and grpcMethod are what GRPCRoute accepts as an Exact service and method.
var (
	grpcService = regexp.MustCompile(`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`)
	grpcMethod  = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)
)

// grpcMatchOf is the GRPCRoute match of an HTTPRoute match on a gRPC backend: gRPC calls
// are POSTs to /<service>/<method>, so "/" (prefix) is every call, a prefix "/<service>"
// (with or without the trailing "/") every method of one service, and an exact
// "/<service>/<method>" one method. Anything else (query, method, another path) has no
// GRPCRoute form.
func grpcMatchOf(m gwv1.HTTPRouteMatch) (gwv1.GRPCRouteMatch, bool) {
	var out gwv1.GRPCRouteMatch
	if len(m.QueryParams) > 0 || m.Method != nil {
		return out, false
	}
	for _, h := range m.Headers {
		t := gwv1.GRPCHeaderMatchExact
		if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
			t = gwv1.GRPCHeaderMatchRegularExpression
		}
		out.Headers = append(out.Headers, gwv1.GRPCHeaderMatch{Type: ptr(t), Name: gwv1.GRPCHeaderName(h.Name), Value: h.Value})
	}
	if m.Path == nil || m.Path.Value == nil {
		return out, true
	}
	typ, path := gwv1.PathMatchPathPrefix, *m.Path.Value
	if m.Path.Type != nil {
		typ = *m.Path.Type
	}
	switch {
	case typ == gwv1.PathMatchPathPrefix && path == "/":
		return out, true
	case typ == gwv1.PathMatchPathPrefix:
		svc := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
		if !grpcService.MatchString(svc) {
			return out, false
		}
		out.Method = &gwv1.GRPCMethodMatch{Type: ptr(gwv1.GRPCMethodMatchExact), Service: ptr(svc)}
		return out, true
	case typ == gwv1.PathMatchExact:
		svc, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if !ok || !grpcService.MatchString(svc) || !grpcMethod.MatchString(method) {
			return out, false
		}
		out.Method = &gwv1.GRPCMethodMatch{Type: ptr(gwv1.GRPCMethodMatchExact), Service: ptr(svc), Method: ptr(method)}
		return out, true
	}
	return out, false
}

// grpcRouteOf is the GRPCRoute saying what r says for a gRPC backend, when every rule
// forwards (no redirect, rewrite or gatebridge filter) and every match has a gRPC form.
func grpcRouteOf(r *gwv1.HTTPRoute) (*gwv1.GRPCRoute, bool) {
	g := &gwv1.GRPCRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GRPCRoute"},
		ObjectMeta: *r.ObjectMeta.DeepCopy(),
		Spec:       gwv1.GRPCRouteSpec{CommonRouteSpec: *r.Spec.CommonRouteSpec.DeepCopy(), Hostnames: slices.Clone(r.Spec.Hostnames)},
	}
	for _, rule := range r.Spec.Rules {
		if len(rule.BackendRefs) == 0 || rule.Timeouts != nil || rule.Retry != nil || rule.SessionPersistence != nil {
			return nil, false
		}
		out := gwv1.GRPCRouteRule{Name: rule.Name}
		for _, m := range rule.Matches {
			gm, ok := grpcMatchOf(m)
			if !ok {
				return nil, false
			}
			out.Matches = append(out.Matches, gm)
		}
		// A match of every call makes the others moot: a rule without matches says it.
		if slices.ContainsFunc(out.Matches, func(m gwv1.GRPCRouteMatch) bool { return m.Method == nil && len(m.Headers) == 0 }) {
			out.Matches = nil
		}
		for _, f := range rule.Filters {
			switch f.Type {
			case gwv1.HTTPRouteFilterRequestHeaderModifier:
				out.Filters = append(out.Filters, gwv1.GRPCRouteFilter{Type: gwv1.GRPCRouteFilterRequestHeaderModifier, RequestHeaderModifier: f.RequestHeaderModifier})
			case gwv1.HTTPRouteFilterResponseHeaderModifier:
				out.Filters = append(out.Filters, gwv1.GRPCRouteFilter{Type: gwv1.GRPCRouteFilterResponseHeaderModifier, ResponseHeaderModifier: f.ResponseHeaderModifier})
			case gwv1.HTTPRouteFilterRequestMirror:
				out.Filters = append(out.Filters, gwv1.GRPCRouteFilter{Type: gwv1.GRPCRouteFilterRequestMirror, RequestMirror: f.RequestMirror})
			default:
				return nil, false
			}
		}
		for _, b := range rule.BackendRefs {
			if len(b.Filters) > 0 {
				return nil, false
			}
			out.BackendRefs = append(out.BackendRefs, gwv1.GRPCBackendRef{BackendRef: b.BackendRef})
		}
		g.Spec.Rules = append(g.Spec.Rules, out)
	}
	return g, len(g.Spec.Rules) > 0
}

// portableGRPC replaces the Ingress's HTTPRoutes by GRPCRoutes where they have a gRPC
// form (backend-protocol GRPC or GRPCS): a GRPCRoute's backends speak HTTP/2, which is
// what the annotation says. It reports whether every route was replaced.
func (c *converter) portableGRPC(src *source, routes []*gwv1.HTTPRoute) bool {
	grpc, all := grpcRoutesOf(routes)
	c.replaceRoutes(src, grpc)
	return all
}

// grpcRoutesOf are the GRPCRoutes of those routes that have a gRPC form, by the HTTPRoute
// they replace; all says whether every route that reaches a backend has one.
func grpcRoutesOf(routes []*gwv1.HTTPRoute) (map[*gwv1.HTTPRoute]*gwv1.GRPCRoute, bool) {
	out := map[*gwv1.HTTPRoute]*gwv1.GRPCRoute{}
	all := true
	for _, r := range routes {
		g, ok := grpcRouteOf(r)
		if !ok {
			// Redirect-only routes (ssl-redirect on port 80) never reach the backend.
			all = all && redirectsOnly(r)
			continue
		}
		out[r] = g
	}
	return out, all
}

// replaceRoutes puts each GRPCRoute in place of its HTTPRoute in the output and the report.
func (c *converter) replaceRoutes(src *source, grpc map[*gwv1.HTTPRoute]*gwv1.GRPCRoute) {
	for r, g := range grpc {
		for i, o := range c.out.objs {
			if o == client.Object(r) {
				c.out.objs[i] = g
			}
		}
		for i, ref := range src.report.Objects {
			if ref.Kind == "HTTPRoute" && ref.Namespace == r.Namespace && ref.Name == r.Name {
				src.report.Objects[i].Kind = "GRPCRoute"
			}
		}
	}
}

func redirectsOnly(r *gwv1.HTTPRoute) bool {
	for _, rule := range r.Spec.Rules {
		if len(rule.BackendRefs) > 0 || !slices.ContainsFunc(rule.Filters, func(f gwv1.HTTPRouteFilter) bool { return f.Type == gwv1.HTTPRouteFilterRequestRedirect }) {
			return false
		}
	}
	return true
}

// closestRedirect is the standard RequestRedirect nearest to a literal redirect the
// standard cannot say, for --portable: the URL without its query and fragment (a
// relative URL keeps the request's scheme and host). ok is false when even that has no
// standard form (a status code RequestRedirect does not allow, an unusable URL).
func closestRedirect(lr *annotations.LiteralRedirect) (*gwv1.HTTPRequestRedirectFilter, string, bool) {
	u, err := url.Parse(lr.URL)
	if err != nil || !standardRedirectCodes[lr.Code] {
		return nil, "", false
	}
	var lost []string
	if u.RawQuery != "" || u.ForceQuery {
		lost = append(lost, "the query ?"+u.RawQuery)
	}
	if u.Fragment != "" {
		lost = append(lost, "the fragment #"+u.Fragment)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	f, ok := standardRedirect(&annotations.LiteralRedirect{Annotation: lr.Annotation, URL: u.String(), Code: lr.Code})
	if !ok {
		return nil, "", false
	}
	if strings.HasPrefix(lr.URL, "/") {
		lost = append(lost, "the relative Location (the standard writes it absolute)")
	}
	return f, strings.Join(lost, " and "), true
}

// portableRedirect is a literal redirect the standard cannot say, under --portable: the
// closest standard RequestRedirect when there is one, with what it loses; otherwise the
// rule keeps no action (a conforming implementation answers 500) and the finding says so.
func (c *converter) portableRedirect(src *source, rule *gwv1.HTTPRouteRule, lr *annotations.LiteralRedirect, rf *gbv1.RouteFilter) {
	behaviour := routeFilterBehaviour(rf)
	src.needGatebridge(behaviour)
	f := Finding{Annotation: lr.Annotation, Value: lr.URL, Severity: SeverityWarning, Level: annotations.Approximate}
	if rr, what, ok := closestRedirect(lr); ok {
		rule.Filters = append(rule.Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: rr})
		f.Severity = SeverityInfo
		f.Message = "--portable writes the closest standard RequestRedirect; " + what + " is lost"
		src.addOnce(f)
		return
	}
	f.Message = lostMessage(behaviour) + "; the rule keeps no action: a conforming implementation answers 500 there"
	src.addOnce(f)
}
