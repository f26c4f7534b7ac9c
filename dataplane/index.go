package dataplane

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// index holds the model's objects by key for the lookups translation needs.
type index struct {
	services map[string]*corev1.Service
	secrets  map[string]*corev1.Secret
	slices   map[string][]*discoveryv1.EndpointSlice // by namespace/service
	//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
	endpoints map[string]*corev1.Endpoints
	filters   map[string]*v1alpha1.RouteFilter
	grants    []*gwv1b1.ReferenceGrant
	// gatewayPolicies and routePolicies hold the TrafficPolicies by target, oldest first.
	gatewayPolicies map[string][]*v1alpha1.TrafficPolicy
	routePolicies   map[string][]*v1alpha1.TrafficPolicy
	// listenerTLS holds the TrafficPolicies with a frontendTLS block by the listener they
	// target (listenerTarget), oldest first.
	listenerTLS map[string][]*v1alpha1.TrafficPolicy
	// namespaceLabels are the labels of the model's Namespaces by name (nil: none known).
	namespaceLabels map[string]map[string]string
	// backendTLS are the BackendTLSPolicies by target (backendtls.go).
	backendTLS *backendTLSIndex
}

func newIndex(m *Model) *index {
	ix := &index{
		services: map[string]*corev1.Service{},
		secrets:  map[string]*corev1.Secret{},
		slices:   map[string][]*discoveryv1.EndpointSlice{},
		//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
		endpoints:       map[string]*corev1.Endpoints{},
		filters:         map[string]*v1alpha1.RouteFilter{},
		gatewayPolicies: map[string][]*v1alpha1.TrafficPolicy{},
		routePolicies:   map[string][]*v1alpha1.TrafficPolicy{},
		listenerTLS:     map[string][]*v1alpha1.TrafficPolicy{},
		grants:          m.ReferenceGrants,
	}
	for _, s := range m.Services {
		ix.services[qualified(s.Namespace, s.Name)] = s
	}
	if len(m.Namespaces) > 0 {
		ix.namespaceLabels = make(map[string]map[string]string, len(m.Namespaces))
		for _, n := range m.Namespaces {
			ix.namespaceLabels[n.Name] = n.Labels
		}
	}
	for _, s := range m.Secrets {
		ix.secrets[qualified(s.Namespace, s.Name)] = s
	}
	for _, s := range m.EndpointSlices {
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := qualified(s.Namespace, svc)
		ix.slices[k] = append(ix.slices[k], s)
	}
	for k := range ix.slices {
		sort.Slice(ix.slices[k], func(i, j int) bool { return ix.slices[k][i].Name < ix.slices[k][j].Name })
	}
	for _, e := range m.Endpoints {
		ix.endpoints[qualified(e.Namespace, e.Name)] = e
	}
	for _, f := range m.RouteFilters {
		ix.filters[qualified(f.Namespace, f.Name)] = f
	}
	ix.indexPolicies(m.TrafficPolicies)
	ix.backendTLS = newBackendTLSIndex(m)
	return ix
}

// withPolicies returns a copy of ix with policies indexed in place of its TrafficPolicies;
// the other maps are shared (an index is never modified once built).
func (ix *index) withPolicies(policies []*v1alpha1.TrafficPolicy) *index {
	c := *ix
	c.gatewayPolicies = map[string][]*v1alpha1.TrafficPolicy{}
	c.routePolicies = map[string][]*v1alpha1.TrafficPolicy{}
	c.listenerTLS = map[string][]*v1alpha1.TrafficPolicy{}
	c.indexPolicies(policies)
	return &c
}

// indexPolicies fills gatewayPolicies and routePolicies, oldest first.
func (ix *index) indexPolicies(policies []*v1alpha1.TrafficPolicy) {
	for _, p := range oldestFirst(policies) {
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group != gwv1.GroupName {
				continue
			}
			k := qualified(p.Namespace, string(ref.Name))
			if p.Spec.FrontendTLS != nil && ref.SectionName != nil && (ref.Kind == "Gateway" || ref.Kind == "ListenerSet") {
				lk := listenerTarget(string(ref.Kind), p.Namespace, string(ref.Name), string(*ref.SectionName))
				ix.listenerTLS[lk] = append(ix.listenerTLS[lk], p)
			}
			switch ref.Kind {
			case "Gateway":
				ix.gatewayPolicies[k] = append(ix.gatewayPolicies[k], p)
			case "HTTPRoute":
				ix.routePolicies[k] = append(ix.routePolicies[k], p)
			}
		}
	}
}

// granted reports whether a ReferenceGrant in toNamespace lets fromKind objects of
// fromNamespace refer to toKind/toName. References within a namespace need no grant.
func (ix *index) granted(fromGroup, fromKind, fromNamespace, toGroup, toKind, toNamespace, toName string) bool {
	if fromNamespace == toNamespace {
		return true
	}
	for _, g := range ix.grants {
		if g.Namespace != toNamespace {
			continue
		}
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNamespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || string(*t.Name) == toName) {
				return true
			}
		}
	}
	return false
}
