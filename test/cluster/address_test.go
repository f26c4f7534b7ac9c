package cluster

import (
	"context"
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestDropInIngressServedWithAddress: an Ingress of the gatebridge IngressClass is served
// by Envoy without the annotation, and the controller started with --gateway-address shows
// that address in its status.loadBalancer and in the shared Gateway's status.addresses.
func TestDropInIngressServedWithAddress(t *testing.T) {
	env := require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "address")
	h.startBackend("dropin")
	h.apply(h.serviceYAML("dropin"))
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge-e2e"}, Spec: networkingv1.IngressClassSpec{Controller: "gatebridge.dev/ingress-controller"}}
	if err := env.Client.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), class) })
	const address = "192.0.2.10"
	h.controllerArgs = []string{"--gateway-address", address}
	h.startController()
	h.startEnvoy()

	h.apply(fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: dropin, namespace: %s}
spec:
  ingressClassName: gatebridge-e2e
  rules:
  - host: dropin.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: dropin, port: {number: 80}}}}
`, h.ns))
	h.served("dropin.example.com", "/x", "dropin", "/x")
	h.eventually("the drop-in Ingress's status.loadBalancer and the Gateway's status.addresses", func() (bool, string) {
		var ing networkingv1.Ingress
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: h.ns, Name: "dropin"}, &ing); err != nil {
			return false, err.Error()
		}
		var gw gwv1.Gateway
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: gatewayNS, Name: gatewayName}, &gw); err != nil {
			return false, err.Error()
		}
		lb := ing.Status.LoadBalancer.Ingress
		a := gw.Status.Addresses
		ok := len(lb) == 1 && lb[0].IP == address && len(a) == 1 && a[0].Value == address && a[0].Type != nil && *a[0].Type == gwv1.IPAddressType
		return ok, fmt.Sprintf("Ingress %+v; Gateway %+v", lb, a)
	})
}
