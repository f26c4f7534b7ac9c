package dataplane

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// Model is everything the translator reads. The slices need not be sorted: Translate sorts
// what it needs, so the output does not depend on input order.
type Model struct {
	GatewayClasses []*gwv1.GatewayClass
	Gateways       []*gwv1.Gateway
	ListenerSets   []*gwv1.ListenerSet
	HTTPRoutes     []*gwv1.HTTPRoute
	TLSRoutes      []*gwv1.TLSRoute
	// GRPCRoutes are served on the HTTP(S) listeners like HTTPRoutes, with HTTP/2 to
	// their backends.
	GRPCRoutes      []*gwv1.GRPCRoute
	ReferenceGrants []*gwv1b1.ReferenceGrant
	// BackendTLSPolicies make Envoy originate TLS to the Services they target, verifying
	// the backend's certificate against their CA ConfigMaps (or the system roots) and
	// hostname.
	BackendTLSPolicies []*gwv1.BackendTLSPolicy
	TrafficPolicies    []*v1alpha1.TrafficPolicy
	RouteFilters       []*v1alpha1.RouteFilter
	Services           []*corev1.Service
	EndpointSlices     []*discoveryv1.EndpointSlice
	//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
	Endpoints []*corev1.Endpoints
	Secrets   []*corev1.Secret
	// ConfigMaps hold the CA certificates BackendTLSPolicies name.
	ConfigMaps []*corev1.ConfigMap
	// Namespaces carry the labels a listener's allowedRoutes.namespaces.selector selects
	// route namespaces by. Without any, such a listener admits routes of its own namespace
	// only.
	Namespaces []*corev1.Namespace
	// RefusedLocations are the hosts and paths of refused Ingresses (refused.go): served by
	// no route, answered 503 rather than by another route of the host or a catch-all. With
	// a Bridge they go to the fallback instead, and so do the locations of the Ingresses
	// not served natively (not migrated): Reason says which.
	RefusedLocations []RefusedLocation
	// Bridge, when set, puts the Gateway it names in front of ingress-nginx (bridge.go):
	// whatever that Gateway does not serve natively goes to the fallback untouched.
	Bridge *Bridge
}

// Bridge is the fallback of one Gateway: the running ingress-nginx the Gateway stands in
// front of during a migration.
type Bridge struct {
	// GatewayNamespace and GatewayName name the bridged Gateway (the shared one).
	GatewayNamespace, GatewayName string
	// HTTP receives plain-HTTP requests not served natively (unknown hosts, paths no
	// route matches, refused and not-migrated locations, the non-native share of
	// migrating routes).
	HTTP FallbackTarget
	// TLS, when set, receives by SNI (TCP passthrough) the TLS connections for hostnames
	// the Gateway holds no certificate for, and, re-encrypted with SNI = Host, the
	// non-native share of HTTPS requests Envoy terminated. Unset: such handshakes fail,
	// and the HTTPS share goes to HTTP with X-Forwarded-Proto: https.
	TLS *FallbackTarget
}

// FallbackTarget is where fallback traffic goes: a Service port of the model (resolved
// through its EndpointSlices like a backend) or a fixed address.
type FallbackTarget struct {
	// ServiceNamespace, ServiceName and Port name a Service port of the model.
	ServiceNamespace, ServiceName string
	Port                          int32
	// Address is "host:port" when no Service is named: an IP address, or a DNS name
	// resolved by Envoy.
	Address string
}

// RefusedLocation is a host and path an Ingress the converter refused still owns (an
// invalid allowlist or auth setting, a snippet…). It has no HTTPRoute, and must not fall
// through to another route of the host, a wildcard host or the catch-all: the listeners of
// its Gateway answer it 503, with the precedence its path would have had inside the host —
// as ingress-nginx answers a denied location.
type RefusedLocation struct {
	// GatewayNamespace and GatewayName name the Gateway whose HTTP and HTTPS listeners
	// answer it.
	GatewayNamespace, GatewayName string
	// Host is the hostname ("*.example.com" for a wildcard); "" is the catch-all, served
	// on the listeners without a hostname.
	Host string
	// Path is the location's match: Exact, PathPrefix, or RegularExpression in the host's
	// regex mode (ordered as the Gateway's TrafficPolicy says, like the host's routes).
	Path gwv1.HTTPPathMatch
	// Source is the refused Ingress (namespace/name) and Reason why it is refused.
	Source, Reason string
}

// Add puts obj into the slice of its kind and reports whether the kind is one the
// translator reads.
func (m *Model) Add(obj client.Object) bool {
	switch o := obj.(type) {
	case *gwv1.GatewayClass:
		m.GatewayClasses = append(m.GatewayClasses, o)
	case *gwv1.Gateway:
		m.Gateways = append(m.Gateways, o)
	case *gwv1.ListenerSet:
		m.ListenerSets = append(m.ListenerSets, o)
	case *gwv1.HTTPRoute:
		m.HTTPRoutes = append(m.HTTPRoutes, o)
	case *gwv1.TLSRoute:
		m.TLSRoutes = append(m.TLSRoutes, o)
	case *gwv1.GRPCRoute:
		m.GRPCRoutes = append(m.GRPCRoutes, o)
	case *gwv1.BackendTLSPolicy:
		m.BackendTLSPolicies = append(m.BackendTLSPolicies, o)
	case *gwv1b1.ReferenceGrant:
		m.ReferenceGrants = append(m.ReferenceGrants, o)
	case *v1alpha1.TrafficPolicy:
		m.TrafficPolicies = append(m.TrafficPolicies, o)
	case *v1alpha1.RouteFilter:
		m.RouteFilters = append(m.RouteFilters, o)
	case *corev1.Service:
		m.Services = append(m.Services, o)
	case *discoveryv1.EndpointSlice:
		m.EndpointSlices = append(m.EndpointSlices, o)
	//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
	case *corev1.Endpoints:
		m.Endpoints = append(m.Endpoints, o)
	case *corev1.Secret:
		m.Secrets = append(m.Secrets, o)
	case *corev1.ConfigMap:
		m.ConfigMaps = append(m.ConfigMaps, o)
	case *corev1.Namespace:
		m.Namespaces = append(m.Namespaces, o)
	default:
		return false
	}
	return true
}

// Problem is something in the model the data plane could not serve as written. It names
// the object and the field, and says what happens instead and what to do.
type Problem struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Field     string `json:"field,omitempty"`
	Message   string `json:"message"`
}

func (p Problem) String() string {
	s := p.Kind + " " + qualified(p.Namespace, p.Name)
	if p.Field != "" {
		s += " " + p.Field
	}
	return s + ": " + p.Message
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// RoutesDependOnReadiness reports whether some route's translation depends on which
// Services have ready endpoints (a TrafficPolicy with a default backend sends the rules of
// a Service without ready endpoints there), so that an endpoints change must be translated
// in full rather than by TranslateEndpoints alone.
func (m *Model) RoutesDependOnReadiness() bool {
	for _, p := range m.TrafficPolicies {
		if ep := p.Spec.ErrorPages; ep != nil && ep.DefaultBackend != nil {
			return true
		}
	}
	return false
}
