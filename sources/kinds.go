package sources

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// servedKinds are the kinds, besides those the converter reads, that the data plane serves
// when they are found in the input: "apiVersion/kind" → a new empty object.
var servedKinds = map[string]func() client.Object{
	"gateway.networking.k8s.io/v1/GatewayClass":        func() client.Object { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1/Gateway":             func() client.Object { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1/ListenerSet":         func() client.Object { return &gwv1.ListenerSet{} },
	"gateway.networking.k8s.io/v1/HTTPRoute":           func() client.Object { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1/TLSRoute":            func() client.Object { return &gwv1.TLSRoute{} },
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant": func() client.Object { return &gwv1b1.ReferenceGrant{} },
	"gateway.networking.k8s.io/v1/ReferenceGrant":      func() client.Object { return &gwv1b1.ReferenceGrant{} },
	"gatebridge.dev/v1alpha1/TrafficPolicy":            func() client.Object { return &v1alpha1.TrafficPolicy{} },
	"gatebridge.dev/v1alpha1/RouteFilter":              func() client.Object { return &v1alpha1.RouteFilter{} },
	"discovery.k8s.io/v1/EndpointSlice":                func() client.Object { return &discoveryv1.EndpointSlice{} },
	//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
	"v1/Endpoints": func() client.Object { return &corev1.Endpoints{} },
}
