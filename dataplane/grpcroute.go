package dataplane

import (
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// GRPCRoutes are served on the HTTP(S) listeners as the HTTPRoutes they amount to: a gRPC
// call is a POST to /<service>/<method> over HTTP/2, so a method match is a path match,
// header matches and the header and mirror filters are the HTTPRoute ones, and the
// backends are spoken to in HTTP/2 (h2c; h2 over TLS when a BackendTLSPolicy applies).
// The translated HTTPRoute keeps the GRPCRoute's namespace and name, and carries
// grpcRouteAnnotation so that the translator knows where it came from (forwardAction,
// statusResults).

// grpcRouteAnnotation marks an HTTPRoute made from a GRPCRoute (never on a stored object).
const grpcRouteAnnotation = "gatebridge.dev/internal-grpcroute"

// fromGRPCRoute reports whether r was made from a GRPCRoute.
func fromGRPCRoute(r *gwv1.HTTPRoute) bool {
	_, ok := r.Annotations[grpcRouteAnnotation]
	return ok
}

// routeKind is the kind r is reported as.
func routeKind(r *gwv1.HTTPRoute) string {
	if fromGRPCRoute(r) {
		return "GRPCRoute"
	}
	return "HTTPRoute"
}

// withGRPCRoutes returns m with its GRPCRoutes added to its HTTPRoutes as the HTTPRoutes
// they amount to (m itself when it has none).
func withGRPCRoutes(m *Model) *Model {
	if len(m.GRPCRoutes) == 0 {
		return m
	}
	out := *m
	out.HTTPRoutes = append(append(make([]*gwv1.HTTPRoute, 0, len(m.HTTPRoutes)+len(m.GRPCRoutes)), m.HTTPRoutes...), grpcAsHTTPRoutes(m.GRPCRoutes)...)
	return &out
}

func grpcAsHTTPRoutes(rs []*gwv1.GRPCRoute) []*gwv1.HTTPRoute {
	out := make([]*gwv1.HTTPRoute, 0, len(rs))
	for _, g := range rs {
		out = append(out, grpcAsHTTPRoute(g))
	}
	return out
}

// grpcAsHTTPRoute is the HTTPRoute GRPCRoute g amounts to.
func grpcAsHTTPRoute(g *gwv1.GRPCRoute) *gwv1.HTTPRoute {
	meta := metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace, CreationTimestamp: g.CreationTimestamp,
		Generation: g.Generation, UID: g.UID, Labels: g.Labels, Annotations: map[string]string{grpcRouteAnnotation: ""}}
	for k, v := range g.Annotations {
		meta.Annotations[k] = v
	}
	r := &gwv1.HTTPRoute{ObjectMeta: meta, Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: g.Spec.CommonRouteSpec, Hostnames: g.Spec.Hostnames}}
	for _, rule := range g.Spec.Rules {
		hr := gwv1.HTTPRouteRule{Name: rule.Name, SessionPersistence: rule.SessionPersistence}
		for _, m := range rule.Matches {
			hr.Matches = append(hr.Matches, grpcMatchAsHTTP(m))
		}
		hr.Filters = grpcFiltersAsHTTP(rule.Filters)
		for _, b := range rule.BackendRefs {
			hr.BackendRefs = append(hr.BackendRefs, gwv1.HTTPBackendRef{BackendRef: b.BackendRef, Filters: grpcFiltersAsHTTP(b.Filters)})
		}
		r.Spec.Rules = append(r.Spec.Rules, hr)
	}
	return r
}

// grpcMatchAsHTTP is a GRPCRoute match as an HTTPRoute match. The method match's type
// defaults to Exact; a missing service or method matches any.
func grpcMatchAsHTTP(m gwv1.GRPCRouteMatch) gwv1.HTTPRouteMatch {
	var out gwv1.HTTPRouteMatch
	if mm := m.Method; mm != nil {
		svc, method := "", ""
		if mm.Service != nil {
			svc = *mm.Service
		}
		if mm.Method != nil {
			method = *mm.Method
		}
		regex := mm.Type != nil && *mm.Type == gwv1.GRPCMethodMatchRegularExpression
		switch {
		case !regex && svc != "" && method != "":
			out.Path = &gwv1.HTTPPathMatch{Type: grpcPtr(gwv1.PathMatchExact), Value: grpcPtr("/" + svc + "/" + method)}
		case !regex && svc != "":
			out.Path = &gwv1.HTTPPathMatch{Type: grpcPtr(gwv1.PathMatchPathPrefix), Value: grpcPtr("/" + svc)}
		default:
			s, me := "[^/]+", "[^/]+"
			switch {
			case regex && svc != "":
				s = svc
			case svc != "":
				s = regexp.QuoteMeta(svc)
			}
			switch {
			case regex && method != "":
				me = method
			case method != "":
				me = regexp.QuoteMeta(method)
			}
			out.Path = &gwv1.HTTPPathMatch{Type: grpcPtr(gwv1.PathMatchRegularExpression), Value: grpcPtr("/(?:" + s + ")/(?:" + me + ")")}
		}
	}
	for _, h := range m.Headers {
		t := gwv1.HeaderMatchExact
		if h.Type != nil && *h.Type == gwv1.GRPCHeaderMatchRegularExpression {
			t = gwv1.HeaderMatchRegularExpression
		}
		out.Headers = append(out.Headers, gwv1.HTTPHeaderMatch{Type: grpcPtr(t), Name: gwv1.HTTPHeaderName(h.Name), Value: h.Value})
	}
	return out
}

// grpcFiltersAsHTTP maps the filters GRPCRoute allows onto HTTPRoute's.
func grpcFiltersAsHTTP(fs []gwv1.GRPCRouteFilter) []gwv1.HTTPRouteFilter {
	var out []gwv1.HTTPRouteFilter
	for _, f := range fs {
		h := gwv1.HTTPRouteFilter{RequestHeaderModifier: f.RequestHeaderModifier, ResponseHeaderModifier: f.ResponseHeaderModifier,
			RequestMirror: f.RequestMirror, ExtensionRef: f.ExtensionRef}
		switch f.Type {
		case gwv1.GRPCRouteFilterRequestHeaderModifier:
			h.Type = gwv1.HTTPRouteFilterRequestHeaderModifier
		case gwv1.GRPCRouteFilterResponseHeaderModifier:
			h.Type = gwv1.HTTPRouteFilterResponseHeaderModifier
		case gwv1.GRPCRouteFilterRequestMirror:
			h.Type = gwv1.HTTPRouteFilterRequestMirror
		case gwv1.GRPCRouteFilterExtensionRef:
			h.Type = gwv1.HTTPRouteFilterExtensionRef
		default:
			h.Type = gwv1.HTTPRouteFilterType(f.Type)
		}
		out = append(out, h)
	}
	return out
}

// grpcVariant makes the cluster of a GRPCRoute's backend speak HTTP/2: h2c, or h2 over
// TLS when the route's policy asks for TLS.
func grpcVariant(r *gwv1.HTTPRoute, v clusterVariant) clusterVariant {
	if !fromGRPCRoute(r) {
		return v
	}
	switch v.protocol {
	case "", v1alpha1.BackendProtocolHTTP:
		v.protocol = v1alpha1.BackendProtocolGRPC
	case v1alpha1.BackendProtocolHTTPS:
		v.protocol = v1alpha1.BackendProtocolGRPCS
	}
	return v
}

func grpcPtr[T any](v T) *T { return &v }
