package bench

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// RouteHosts is the number of hostnames the generated HTTPRoutes share.
const RouteHosts = 200

// GenerateRoutes returns a data-plane model of n HTTPRoutes with 2 rules each over
// RouteHosts hostnames, attached to one Gateway of gatebridge's class, plus one Service and
// one EndpointSlice (2 endpoints on 127.0.0.1, at port) per route. Route i is
// ns-<i%200>/route-<i> for host host-<i%200>.example.com, rule 1 PathPrefix /r<i>/api to
// port 80 of Service svc-<i> with a header match, rule 2 PathPrefix /r<i> with a
// RequestHeaderModifier.
func GenerateRoutes(n int, port int32) *dataplane.Model {
	m := &dataplane.Model{}
	m.GatewayClasses = append(m.GatewayClasses, &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gatebridge"},
		Spec:       gwv1.GatewayClassSpec{ControllerName: dataplane.DefaultControllerName},
	})
	from := gwv1.NamespacesFromAll
	m.Gateways = append(m.Gateways, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gatebridge", Namespace: "gatebridge-system"},
		Spec: gwv1.GatewaySpec{GatewayClassName: "gatebridge", Listeners: []gwv1.Listener{{
			Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
			AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &from}},
		}}},
	})
	for i := range n {
		m.HTTPRoutes = append(m.HTTPRoutes, Route(i, ""))
		ns, svc := routeNames(i)
		m.Services = append(m.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(port)}}},
		})
		ready := true
		m.EndpointSlices = append(m.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: svc + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(port)}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
				{Addresses: []string{"127.0.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
			},
		})
	}
	return m
}

func routeNames(i int) (namespace, service string) {
	return fmt.Sprintf("ns-%d", i%Namespaces), fmt.Sprintf("svc-%d", i)
}

// RouteHost is the hostname of route i.
func RouteHost(i int) string { return fmt.Sprintf("host-%d.example.com", i%RouteHosts) }

// Route returns HTTPRoute i; tag changes the value of its request header (a one-route
// change for the change-to-serving benchmark).
func Route(i int, tag string) *gwv1.HTTPRoute {
	ns, svc := routeNames(i)
	prefix := gwv1.PathMatchPathPrefix
	exact := gwv1.HeaderMatchExact
	ref := []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
		Name: gwv1.ObjectName(svc), Port: ptr(gwv1.PortNumber(80)),
	}}}}
	gwNs := gwv1.Namespace("gatebridge-system")
	if tag == "" {
		tag = "v1"
	}
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("route-%d", i), Namespace: ns, CreationTimestamp: metav1.NewTime(BaseTime.Add(time.Duration(i) * time.Second))},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gatebridge", Namespace: &gwNs}}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(RouteHost(i))},
			Rules: []gwv1.HTTPRouteRule{
				{
					Matches: []gwv1.HTTPRouteMatch{{
						Path:    &gwv1.HTTPPathMatch{Type: &prefix, Value: ptr(fmt.Sprintf("/r%d/api", i))},
						Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "X-Tenant", Value: "blue"}},
					}},
					BackendRefs: ref,
				},
				{
					Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: ptr(fmt.Sprintf("/r%d", i))}}},
					Filters: []gwv1.HTTPRouteFilter{{
						Type:                  gwv1.HTTPRouteFilterRequestHeaderModifier,
						RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-Tag", Value: tag}}},
					}},
					BackendRefs: ref,
				},
			},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// Objects lists the model's objects, for writing them as files.
func Objects(m *dataplane.Model) []client.Object {
	var out []client.Object
	for _, o := range m.GatewayClasses {
		out = append(out, o)
	}
	for _, o := range m.Gateways {
		out = append(out, o)
	}
	for _, o := range m.HTTPRoutes {
		out = append(out, o)
	}
	for _, o := range m.Services {
		out = append(out, o)
	}
	for _, o := range m.EndpointSlices {
		out = append(out, o)
	}
	return out
}
