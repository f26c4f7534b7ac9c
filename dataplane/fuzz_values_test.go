package dataplane_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// FuzzTranslateValues puts arbitrary strings and numbers into the fields of hand-written
// TrafficPolicies, RouteFilters, HTTPRoutes, Gateways, BackendTLSPolicies and ListenerSets — what `gatebridge run` reads from files no
// API server checked, and what a cluster's CRDs do not constrain — two fields at a time,
// on one route beside an untouched one. Whatever the values, the translation must pass
// Envoy's own rules (a value Envoy would refuse costs its route or backend, with a
// problem, never the whole configuration) and the untouched route must be served.
//
// FuzzTranslate reaches policies only through the converter, which validates annotations
// first; this one reaches the data plane directly.
func FuzzTranslateValues(f *testing.F) {
	f.Add(uint8(0), "GET\nX", uint8(4), "", int64(0))
	f.Add(uint8(5), "/; Domain=x", uint8(30), "a\r\nb", int64(-1))
	f.Add(uint8(12), "mirror.example.com", uint8(40), "(", int64(1<<40))
	f.Add(uint8(20), "$request_uri \x00", uint8(35), "/x\n", int64(65536))
	f.Add(uint8(44), "X-Tag", uint8(49), "%", int64(3))
	f.Fuzz(func(t *testing.T, fieldA uint8, valueA string, fieldB uint8, valueB string, n int64) {
		m := valuesModel()
		setters := valueSetters()
		setters[int(fieldA)%len(setters)](m, valueA, n)
		setters[int(fieldB)%len(setters)](m, valueB, n)
		out := dataplane.Translate(m, goldenOptions)
		if err := dataplane.Validate(out.Resources); err != nil {
			t.Fatalf("the translation does not validate, so Envoy would get none of it: %v", err)
		}
		if !servesHost(out, "good.example.com") {
			t.Fatalf("the untouched route is not served; problems: %v", out.Problems)
		}
	})
}

// servesHost reports whether out has a route table for host.
func servesHost(out *dataplane.Output, host string) bool {
	for _, rc := range out.Resources.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, d := range vh.Domains {
				if d == host {
					return true
				}
			}
		}
	}
	return false
}

// valuesModel is a Gateway, a Service, an untouched HTTPRoute (good.example.com) and the
// HTTPRoute the setters change (app.example.com) with its TrafficPolicy and RouteFilter.
func valuesModel() *dataplane.Model {
	ns := gwv1.Namespace("infra")
	from := gwv1.NamespacesFromAll
	route := func(name, host string) *gwv1.HTTPRoute {
		prefix := gwv1.PathMatchPathPrefix
		return &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", CreationTimestamp: metav1.NewTime(time.Unix(1, 0))},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "edge", Namespace: &ns}}},
				Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
				Rules: []gwv1.HTTPRouteRule{{
					Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: ptrTo("/")}}},
					BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "app", Port: ptrTo(gwv1.PortNumber(80))}}}},
				}},
			},
		}
	}
	return &dataplane.Model{
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge"}, Spec: gwv1.GatewayClassSpec{ControllerName: dataplane.DefaultControllerName}}},
		Gateways: []*gwv1.Gateway{{
			ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "infra"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "gatebridge", Listeners: []gwv1.Listener{{
				Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &from}},
			}}},
		}},
		HTTPRoutes: []*gwv1.HTTPRoute{route("good", "good.example.com"), route("app", "app.example.com")},
		Services: []*corev1.Service{
			{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "shop"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "ext.example.com", Ports: []corev1.ServicePort{{Port: 80}}}},
		},
		TrafficPolicies: []*v1alpha1.TrafficPolicy{{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"},
			Spec: v1alpha1.TrafficPolicySpec{TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{
				LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "HTTPRoute", Name: "app"},
			}}},
		}},
	}
}

func ptrTo[T any](v T) *T { return &v }

// valueSetter puts v (or n) into one field of the model of valuesModel.
type valueSetter func(m *dataplane.Model, v string, n int64)

// valueSetters covers the strings and numbers of TrafficPolicy, RouteFilter, HTTPRoute,
// Gateway, BackendTLSPolicy (with its CA ConfigMap) and ListenerSet that reach Envoy:
// headers and cookies, hosts, paths, patterns, addresses, certificates, durations, sizes
// and codes.
func valueSetters() []valueSetter {
	policy := func(m *dataplane.Model) *v1alpha1.TrafficPolicySpec { return &m.TrafficPolicies[0].Spec }
	app := func(m *dataplane.Model) *gwv1.HTTPRoute { return m.HTTPRoutes[1] }
	rule := func(m *dataplane.Model) *gwv1.HTTPRouteRule { return &app(m).Spec.Rules[0] }
	cors := func(m *dataplane.Model) *v1alpha1.CORSPolicy {
		p := policy(m)
		if p.CORS == nil {
			p.CORS = &v1alpha1.CORSPolicy{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET"}, AllowHeaders: []string{"X-A"}, MaxAgeSeconds: 60}
		}
		return p.CORS
	}
	affinity := func(m *dataplane.Model) *v1alpha1.SessionAffinityPolicy {
		p := policy(m)
		if p.SessionAffinity == nil {
			p.SessionAffinity = &v1alpha1.SessionAffinityPolicy{CookieName: "SESSION", Mode: "balanced", CanaryBehavior: "sticky"}
		}
		return p.SessionAffinity
	}
	rewrite := func(m *dataplane.Model) *v1alpha1.ResponseRewritePolicy {
		p := policy(m)
		if p.ResponseRewrite == nil {
			p.ResponseRewrite = &v1alpha1.ResponseRewritePolicy{}
		}
		return p.ResponseRewrite
	}
	mirror := func(m *dataplane.Model) *v1alpha1.MirrorPolicy {
		p := policy(m)
		if p.Mirror == nil {
			p.Mirror = &v1alpha1.MirrorPolicy{Scheme: "http", Host: "mirror.example.com", Port: 80}
		}
		return p.Mirror
	}
	extAuth := func(m *dataplane.Model) *v1alpha1.ExternalAuthPolicy {
		p := policy(m)
		if p.ExternalAuth == nil {
			p.ExternalAuth = &v1alpha1.ExternalAuthPolicy{URL: "http://auth.example.com/check"}
		}
		return p.ExternalAuth
	}
	backend := func(m *dataplane.Model) *v1alpha1.BackendPolicy {
		p := policy(m)
		if p.Backend == nil {
			p.Backend = &v1alpha1.BackendPolicy{}
		}
		return p.Backend
	}
	rateLimit := func(m *dataplane.Model) *v1alpha1.RateLimitPolicy {
		p := policy(m)
		if p.RateLimit == nil {
			p.RateLimit = &v1alpha1.RateLimitPolicy{RequestsPerSecond: 5, BurstMultiplier: 5, StatusCode: 503}
		}
		return p.RateLimit
	}
	errorPages := func(m *dataplane.Model) *v1alpha1.ErrorPagesPolicy {
		p := policy(m)
		if p.ErrorPages == nil {
			p.ErrorPages = &v1alpha1.ErrorPagesPolicy{Codes: []int32{404}, InterceptUpstreamErrors: true}
		}
		return p.ErrorPages
	}
	tracing := func(m *dataplane.Model) *v1alpha1.TracingPolicy {
		p := policy(m)
		if p.Tracing == nil {
			p.Tracing = &v1alpha1.TracingPolicy{Enabled: true}
		}
		return p.Tracing
	}
	routeFilter := func(m *dataplane.Model) *v1alpha1.RouteFilterSpec {
		if len(m.RouteFilters) == 0 {
			m.RouteFilters = append(m.RouteFilters, &v1alpha1.RouteFilter{ObjectMeta: metav1.ObjectMeta{Name: "rf", Namespace: "shop"}})
			r := rule(m)
			r.Filters = append(r.Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gwv1.LocalObjectReference{
				Group: gwv1.Group(v1alpha1.GroupVersion.Group), Kind: "RouteFilter", Name: "rf"}})
		}
		return &m.RouteFilters[0].Spec
	}
	headerFilter := func(m *dataplane.Model, response bool) *gwv1.HTTPHeaderFilter {
		r := rule(m)
		t := gwv1.HTTPRouteFilterRequestHeaderModifier
		if response {
			t = gwv1.HTTPRouteFilterResponseHeaderModifier
		}
		h := &gwv1.HTTPHeaderFilter{}
		f := gwv1.HTTPRouteFilter{Type: t}
		if response {
			f.ResponseHeaderModifier = h
		} else {
			f.RequestHeaderModifier = h
		}
		r.Filters = append(r.Filters, f)
		return h
	}
	// backendTLS sends the changed route to a Service of its own that a BackendTLSPolicy
	// targets (the untouched route keeps "app"), verified against the system roots until a
	// setter names a CA ConfigMap.
	backendTLS := func(m *dataplane.Model) *gwv1.BackendTLSPolicySpec {
		if len(m.BackendTLSPolicies) == 0 {
			m.Services = append(m.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "secure", Namespace: "shop"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}})
			rule(m).BackendRefs = []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "secure", Port: ptrTo(gwv1.PortNumber(443))}}}}
			system := gwv1.WellKnownCACertificatesSystem
			m.BackendTLSPolicies = append(m.BackendTLSPolicies, &gwv1.BackendTLSPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "secure", Namespace: "shop"},
				Spec: gwv1.BackendTLSPolicySpec{
					TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: "", Kind: "Service", Name: "secure"}}},
					Validation: gwv1.BackendTLSPolicyValidation{WellKnownCACertificates: &system, Hostname: "secure.shop.internal"},
				},
			})
		}
		return &m.BackendTLSPolicies[0].Spec
	}
	// listenerSet attaches a ListenerSet to the Gateway (which allows them from every
	// namespace) with one HTTP listener, and the changed route to it.
	listenerSet := func(m *dataplane.Model) *gwv1.ListenerSetSpec {
		if len(m.ListenerSets) == 0 {
			all := gwv1.NamespacesFromAll
			m.Gateways[0].Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &all}}
			m.ListenerSets = append(m.ListenerSets, &gwv1.ListenerSet{
				ObjectMeta: metav1.ObjectMeta{Name: "extra", Namespace: "shop"},
				Spec: gwv1.ListenerSetSpec{
					ParentRef: gwv1.ParentGatewayReference{Name: "edge", Namespace: ptrTo(gwv1.Namespace("infra"))},
					Listeners: []gwv1.ListenerEntry{{Name: "more", Port: 8080, Protocol: gwv1.HTTPProtocolType}},
				},
			})
			kind := gwv1.Kind("ListenerSet")
			app(m).Spec.ParentRefs = append(app(m).Spec.ParentRefs, gwv1.ParentReference{Kind: &kind, Name: "extra"})
		}
		return &m.ListenerSets[0].Spec
	}
	dur := func(n int64) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(n)} }
	i32 := func(n int64) int32 { return int32(n) }
	return []valueSetter{
		func(m *dataplane.Model, v string, _ int64) { cors(m).AllowOrigins = []string{v} },
		func(m *dataplane.Model, v string, _ int64) { cors(m).AllowMethods = []string{"GET", v} },
		func(m *dataplane.Model, v string, _ int64) { cors(m).AllowHeaders = []string{v} },
		func(m *dataplane.Model, v string, n int64) {
			cors(m).ExposeHeaders, cors(m).MaxAgeSeconds = []string{v}, i32(n)
		},
		func(m *dataplane.Model, v string, _ int64) { affinity(m).CookieName = v },
		func(m *dataplane.Model, v string, _ int64) { affinity(m).CookiePath = v },
		func(m *dataplane.Model, v string, _ int64) { affinity(m).CookieDomain = v },
		func(m *dataplane.Model, v string, n int64) {
			affinity(m).SameSite, affinity(m).ExpiresSeconds, affinity(m).MaxAgeSeconds = v, &n, &n
		},
		func(m *dataplane.Model, v string, _ int64) { affinity(m).Mode, affinity(m).CanaryBehavior = v, v },
		func(m *dataplane.Model, v string, _ int64) {
			rewrite(m).Redirect = &v1alpha1.HeaderRewrite{From: v, To: "https://x.example.com/"}
		},
		func(m *dataplane.Model, v string, _ int64) {
			rewrite(m).Redirect = &v1alpha1.HeaderRewrite{From: "http://a/", To: v}
		},
		func(m *dataplane.Model, v string, _ int64) {
			rewrite(m).CookieDomain = &v1alpha1.HeaderRewrite{From: v, To: v}
		},
		func(m *dataplane.Model, v string, _ int64) {
			rewrite(m).CookiePath = &v1alpha1.HeaderRewrite{From: "/", To: v}
		},
		func(m *dataplane.Model, v string, n int64) { mirror(m).Host, mirror(m).Port = v, i32(n) },
		func(m *dataplane.Model, v string, _ int64) { mirror(m).HostHeader = v },
		func(m *dataplane.Model, v string, _ int64) { mirror(m).Scheme = v },
		func(m *dataplane.Model, v string, _ int64) { extAuth(m).URL = v },
		func(m *dataplane.Model, v string, _ int64) { extAuth(m).SignIn, extAuth(m).RedirectParam = v, v },
		func(m *dataplane.Model, v string, _ int64) { extAuth(m).ResponseHeaders = []string{v} },
		func(m *dataplane.Model, v string, _ int64) { extAuth(m).Method, extAuth(m).RequestRedirect = v, v },
		func(m *dataplane.Model, v string, _ int64) { extAuth(m).ProxySetHeaders = map[string]string{v: v} },
		func(m *dataplane.Model, v string, _ int64) {
			policy(m).BasicAuth = &v1alpha1.BasicAuthPolicy{SecretRef: gwv1.SecretObjectReference{Name: "htpasswd"}, SecretType: "auth-file", Realm: v}
		},
		func(m *dataplane.Model, v string, _ int64) { tracing(m).OperationName = v },
		func(m *dataplane.Model, v string, n int64) {
			tracing(m).ServiceName, tracing(m).SampledPerMillion = v, ptrTo(i32(n))
		},
		func(m *dataplane.Model, v string, n int64) {
			backend(m).Protocol = v1alpha1.BackendProtocolHTTPS
			backend(m).TLS = &v1alpha1.BackendTLS{ServerName: v, SendSNI: true, VerifyDepth: ptrTo(i32(n)), Ciphers: v, Protocols: []string{v}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			backend(m).ConsistentHash = &v1alpha1.ConsistentHashPolicy{Key: []v1alpha1.HashKey{{Source: v1alpha1.HashKeyHeader, Name: v}, {Source: v1alpha1.HashKeyCookie, Name: v}, {Source: v1alpha1.HashKeyQueryParameter, Name: v}}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			backend(m).Protocol, backend(m).LoadBalancing = v1alpha1.BackendProtocol(v), v1alpha1.LoadBalancing(v)
		},
		func(m *dataplane.Model, v string, _ int64) {
			policy(m).Access = &v1alpha1.AccessPolicy{Allow: []string{v}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			policy(m).Access = &v1alpha1.AccessPolicy{Deny: []string{v}}
		},
		func(m *dataplane.Model, v string, n int64) {
			rateLimit(m).Exempt, rateLimit(m).RequestsPerMinute = []string{v}, i32(n)
		},
		func(m *dataplane.Model, _ string, n int64) {
			rateLimit(m).RequestsPerSecond, rateLimit(m).BurstMultiplier, rateLimit(m).StatusCode = i32(n), i32(n>>8), i32(n>>16)
		},
		func(m *dataplane.Model, v string, n int64) {
			errorPages(m).Codes, errorPages(m).IngressName = []int32{i32(n)}, v
		},
		func(m *dataplane.Model, v string, _ int64) {
			errorPages(m).DefaultBackend = &gwv1.BackendObjectReference{Name: gwv1.ObjectName(v)}
		},
		func(m *dataplane.Model, _ string, n int64) {
			policy(m).Timeouts = &v1alpha1.TimeoutPolicy{Connect: dur(n), Read: dur(n * 3), Send: dur(-n)}
		},
		func(m *dataplane.Model, v string, n int64) {
			policy(m).Retry = &v1alpha1.RetryPolicy{Attempts: i32(n), Budget: dur(n), On: []v1alpha1.RetryCondition{v1alpha1.RetryCondition(v)}}
		},
		func(m *dataplane.Model, _ string, n int64) {
			policy(m).RequestBody = &v1alpha1.RequestBodyPolicy{MaxBytes: n}
		},
		func(m *dataplane.Model, _ string, n int64) {
			policy(m).ResponseBandwidth = &v1alpha1.ResponseBandwidthPolicy{KiBPerSecond: i32(n)}
		},
		func(m *dataplane.Model, v string, _ int64) {
			policy(m).PathMatching = &v1alpha1.PathMatching{Mode: v1alpha1.PathMatchingMode(v)}
			p := gwv1.PathMatchRegularExpression
			rule(m).Matches[0].Path = &gwv1.HTTPPathMatch{Type: &p, Value: &v}
		},
		func(m *dataplane.Model, v string, _ int64) {
			policy(m).Redirects = &v1alpha1.RedirectPolicy{HTTPSTrailingSlash: v1alpha1.TrailingSlash(v), HostnameTrailingSlash: v1alpha1.TrailingSlash(v)}
		},
		func(m *dataplane.Model, v string, _ int64) {
			routeFilter(m).Headers = &v1alpha1.HeaderTemplates{Request: []v1alpha1.HeaderTemplate{{Name: v, Value: v}}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			routeFilter(m).Headers = &v1alpha1.HeaderTemplates{Response: []v1alpha1.HeaderTemplate{{Name: "X-A", Value: v}}}
		},
		func(m *dataplane.Model, v string, n int64) {
			routeFilter(m).Response = &v1alpha1.DirectResponse{StatusCode: i32(n), Body: v}
		},
		func(m *dataplane.Model, v string, _ int64) {
			routeFilter(m).RegexRewrite = &v1alpha1.RegexRewrite{Pattern: v, Substitution: v}
		},
		func(m *dataplane.Model, v string, n int64) {
			routeFilter(m).Redirect = &v1alpha1.LiteralRedirect{URL: v, StatusCode: i32(n)}
		},
		func(m *dataplane.Model, v string, _ int64) {
			headerFilter(m, false).Set = []gwv1.HTTPHeader{{Name: gwv1.HTTPHeaderName(v), Value: "x"}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			headerFilter(m, false).Add = []gwv1.HTTPHeader{{Name: "X-Tag", Value: v}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			headerFilter(m, true).Set, headerFilter(m, true).Remove = []gwv1.HTTPHeader{{Name: "X-Tag", Value: v}}, []string{v}
		},
		func(m *dataplane.Model, v string, n int64) {
			rule(m).Filters = append(rule(m).Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{
				Hostname: ptrTo(gwv1.PreciseHostname(v)), Port: ptrTo(gwv1.PortNumber(i32(n))), StatusCode: ptrTo(int(n % 1000)),
				Path: &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: &v},
			}})
			rule(m).BackendRefs = nil
		},
		func(m *dataplane.Model, v string, _ int64) {
			rule(m).Filters = append(rule(m).Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{
				Hostname: ptrTo(gwv1.PreciseHostname(v)), Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: &v},
			}})
		},
		func(m *dataplane.Model, v string, _ int64) { rule(m).Matches[0].Path.Value = &v },
		func(m *dataplane.Model, v string, _ int64) {
			exact := gwv1.HeaderMatchRegularExpression
			rule(m).Matches[0].Headers = []gwv1.HTTPHeaderMatch{{Type: &exact, Name: gwv1.HTTPHeaderName(v), Value: v}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			rule(m).Matches[0].QueryParams = []gwv1.HTTPQueryParamMatch{{Name: gwv1.HTTPHeaderName(v), Value: v}}
		},
		func(m *dataplane.Model, v string, _ int64) { app(m).Spec.Hostnames = []gwv1.Hostname{gwv1.Hostname(v)} },
		func(m *dataplane.Model, v string, n int64) {
			rule(m).BackendRefs = append(rule(m).BackendRefs, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(v), Port: ptrTo(gwv1.PortNumber(i32(n)))}, Weight: ptrTo(i32(n >> 32))}})
		},
		func(m *dataplane.Model, v string, _ int64) {
			m.Services[1].Spec.ExternalName = v
			rule(m).BackendRefs = append(rule(m).BackendRefs, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "ext", Port: ptrTo(gwv1.PortNumber(80))}}})
		},
		func(m *dataplane.Model, v string, _ int64) {
			timeout := gwv1.Duration(v)
			rule(m).Timeouts = &gwv1.HTTPRouteTimeouts{Request: &timeout, BackendRequest: &timeout}
		},
		func(m *dataplane.Model, v string, n int64) {
			gw := &m.Gateways[0].Spec
			gw.Listeners = append(gw.Listeners, gwv1.Listener{Name: gwv1.SectionName(v), Port: gwv1.PortNumber(i32(n)), Protocol: gwv1.HTTPProtocolType,
				Hostname: ptrTo(gwv1.Hostname(v)), AllowedRoutes: gw.Listeners[0].AllowedRoutes})
		},
		func(m *dataplane.Model, v string, _ int64) {
			gw := &m.Gateways[0].Spec
			gw.Listeners = append(gw.Listeners, gwv1.Listener{Name: "extra", Port: 80, Protocol: gwv1.HTTPProtocolType,
				Hostname: ptrTo(gwv1.Hostname(v)), AllowedRoutes: gw.Listeners[0].AllowedRoutes})
		},
		func(m *dataplane.Model, v string, _ int64) {
			m.Gateways[0].Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: v}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			rule(m).Filters = append(rule(m).Filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{
				BackendRef: gwv1.BackendObjectReference{Name: gwv1.ObjectName(v), Port: ptrTo(gwv1.PortNumber(80))}}})
		},
		func(m *dataplane.Model, v string, _ int64) {
			p := backendTLS(m)
			p.Validation.Hostname = gwv1.PreciseHostname(v)
			p.Validation.SubjectAltNames = []gwv1.SubjectAltName{{Type: gwv1.HostnameSubjectAltNameType, Hostname: gwv1.Hostname(v)}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			backendTLS(m).Validation.SubjectAltNames = []gwv1.SubjectAltName{{Type: gwv1.URISubjectAltNameType, URI: gwv1.AbsoluteURI(v)}, {Type: gwv1.SubjectAltNameType(v), Hostname: "a.example.com"}}
		},
		func(m *dataplane.Model, v string, _ int64) {
			p := backendTLS(m)
			p.Validation.WellKnownCACertificates = nil
			p.Validation.CACertificateRefs = []gwv1.LocalObjectReference{{Group: "", Kind: "ConfigMap", Name: "ca"}}
			m.ConfigMaps = append(m.ConfigMaps, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: "shop"}, Data: map[string]string{"ca.crt": v}})
		},
		func(m *dataplane.Model, v string, _ int64) {
			p := backendTLS(m)
			p.Options = map[gwv1.AnnotationKey]gwv1.AnnotationValue{gwv1.AnnotationKey(v): gwv1.AnnotationValue(v)}
			p.TargetRefs[0].SectionName = ptrTo(gwv1.SectionName(v))
		},
		func(m *dataplane.Model, v string, n int64) {
			l := &listenerSet(m).Listeners[0]
			l.Name, l.Port, l.Hostname = gwv1.SectionName(v), gwv1.PortNumber(i32(n)), ptrTo(gwv1.Hostname(v))
		},
		func(m *dataplane.Model, v string, _ int64) {
			listenerSet(m).Listeners[0].Protocol = gwv1.ProtocolType(v)
		},
		func(m *dataplane.Model, v string, _ int64) {
			ls := listenerSet(m)
			ls.ParentRef.Name, ls.ParentRef.Namespace = gwv1.ObjectName(v), ptrTo(gwv1.Namespace(v))
		},
		func(m *dataplane.Model, v string, _ int64) {
			listenerSet(m)
			app(m).Spec.ParentRefs[1].SectionName = ptrTo(gwv1.SectionName(v))
		},
	}
}

// TestValueSettersReachTheTranslation keeps FuzzTranslateValues honest about the objects
// it reaches through a relation (the Service a BackendTLSPolicy targets, the Gateway a
// ListenerSet joins): with ordinary values they change what Envoy gets, so hostile values
// are tried on a path that is translated, not on objects left aside.
func TestValueSettersReachTheTranslation(t *testing.T) {
	setters := valueSetters()
	last := len(setters) - 1
	// The last eight: BackendTLSPolicy (four), ListenerSet (four).
	m := valuesModel()
	setters[last-7](m, "secure.shop.internal", 0)
	out := dataplane.Translate(m, goldenOptions)
	if !clusterOriginatesTLS(t, out, "secure.shop.internal") {
		t.Errorf("the BackendTLSPolicy did not give a cluster TLS to secure.shop.internal; problems: %v", out.Problems)
	}
	m = valuesModel()
	setters[last-3](m, "app.example.com", 9090)
	out = dataplane.Translate(m, goldenOptions)
	if !listensOn(out, 9090) {
		t.Errorf("the ListenerSet's listener on 9090 is not served; problems: %v", out.Problems)
	}
}

// clusterOriginatesTLS reports whether a cluster of out has a transport socket whose
// configuration names sni.
func clusterOriginatesTLS(t *testing.T, out *dataplane.Output, sni string) bool {
	clusters := out.Resources.Clusters
	for _, e := range out.Resources.EncodedClusters {
		c, err := e.Decode()
		if err != nil {
			t.Fatalf("cluster %s: %v", e.GetName(), err)
		}
		clusters = append(clusters, c)
	}
	for _, c := range clusters {
		if ts := c.GetTransportSocket(); ts != nil && strings.Contains(string(ts.GetTypedConfig().GetValue()), sni) {
			return true
		}
	}
	return false
}

// listensOn reports whether out has a listener on port.
func listensOn(out *dataplane.Output, port uint32) bool {
	for _, l := range out.Resources.Listeners {
		if l.GetAddress().GetSocketAddress().GetPortValue() == port {
			return true
		}
	}
	return false
}

// TestEveryFieldTakesHostileValues is FuzzTranslateValues's property, checked for every
// field with each of a set of values that broke it before or would: control characters,
// invalid UTF-8, oversized strings and regular expressions (for Envoy's RE2), unbalanced
// regular expressions, an escape Envoy's RE2 refuses, formatter syntax, and
// out-of-range numbers.
func TestEveryFieldTakesHostileValues(t *testing.T) {
	values := []string{"", "\n", "a\r\nb", "\x00", "\xff", "((", "*", "*.", "%", "%REQ(x)%", "$request_uri",
		"😀", "-1", "/", "a b", ";", "http://", "::", "1.2.3.4/40", "/a/../b", "x.example.com", `\x{100}`, "Host", ":path", "%FOO%", "100%",
		strings.Repeat("a", 70000), strings.Repeat("[^/]+/", 2000)}
	numbers := []int64{-1, 0, 7, 80, 65536, 1<<31 - 1, 1 << 40, -(1 << 62)}
	setters := valueSetters()
	for i, set := range setters {
		for _, v := range values {
			for _, n := range numbers {
				m := valuesModel()
				set(m, v, n)
				out := dataplane.Translate(m, goldenOptions)
				if err := dataplane.Validate(out.Resources); err != nil {
					t.Fatalf("field %d = %.40q, %d: the translation does not validate: %v", i, v, n, err)
				}
				if !servesHost(out, "good.example.com") {
					t.Fatalf("field %d = %.40q, %d: the untouched route is not served", i, v, n)
				}
			}
		}
	}
}

// TestClientCertificatePolicyTakesHostileValues puts the hostile values into the
// client-certificate and cipher settings of the TLS hosts of a golden case (they need
// certificates): the translation validates, and the case's other hosts are still served.
func TestClientCertificatePolicyTakesHostileValues(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/ingress-auth-tls.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"", "\n", "a\r\nb", "\x00", "\xff", "((", "\\", `"]]--`, "\u2028", "%", "a)(b", `\x{100}`, strings.Repeat("[^/]+/", 2000)}
	setters := []func(p *v1alpha1.FrontendTLSPolicy, v string){
		func(p *v1alpha1.FrontendTLSPolicy, v string) { p.CipherSuites = []string{v} },
		func(p *v1alpha1.FrontendTLSPolicy, v string) { p.ClientCertificate.ErrorPageURL = v },
		func(p *v1alpha1.FrontendTLSPolicy, v string) { p.ClientCertificate.SubjectMatch = v },
		func(p *v1alpha1.FrontendTLSPolicy, v string) {
			p.ClientCertificate.Mode = v1alpha1.ClientCertificateMode(v)
		},
		func(p *v1alpha1.FrontendTLSPolicy, v string) {
			p.ClientCertificate.CACertificateRef.Name = gwv1.ObjectName(v)
		},
		func(p *v1alpha1.FrontendTLSPolicy, v string) { p.ClientCertificate.VerifyDepth = int32(len(v)) - 3 },
	}
	for i, set := range setters {
		for _, v := range values {
			m := pipeline.Build(loaded, converters.Options{}).Model
			touched := 0
			for _, p := range m.TrafficPolicies {
				if p.Spec.FrontendTLS != nil && p.Spec.FrontendTLS.ClientCertificate != nil {
					set(p.Spec.FrontendTLS, v)
					touched++
				}
			}
			if touched == 0 {
				t.Fatal("the golden case has no client-certificate policy to change")
			}
			out := dataplane.Translate(m, goldenOptions)
			if err := dataplane.Validate(out.Resources); err != nil {
				t.Fatalf("setting %d = %.40q: the translation does not validate: %v", i, v, err)
			}
			if !servesHost(out, "open.example.com") {
				t.Fatalf("setting %d = %.40q: open.example.com is not served", i, v)
			}
		}
	}
}
