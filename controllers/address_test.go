package controllers

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestEnvoyAddressInStatus: the shared Gateway's status.addresses and the
// status.loadBalancer of a drop-in Ingress show the Envoy Service's address — its cluster
// IP, then its load balancer's IP once it has one; an Ingress migrated by annotation (of
// ingress-nginx's class) gets no status from gatebridge.
func TestEnvoyAddressInStatus(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "address")
	own := "gatebridge-address"
	envoySvc := "envoy-address-test"
	create(t, env, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: own}, Spec: networkingv1.IngressClassSpec{Controller: IngressControllerName}})
	startWriterAndServing(t, env, Options{Converter: converters.Options{IngressClass: "nginx-address"}, EnvoyService: gatewayNS + "/" + envoySvc})
	create(t, env, service(ns, "web"))
	dropIn := ingressSpec{name: "dropin", namespace: ns, class: own, host: "dropin.address.example.com"}.build()
	annotated := ingressSpec{name: "annotated", namespace: ns, class: "nginx-address", host: "annotated.address.example.com",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build()
	create(t, env, dropIn)
	create(t, env, annotated)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: envoySvc, Namespace: gatewayNS}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	create(t, env, svc)
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(svc), svc); err != nil {
		t.Fatal(err)
	}

	expect := func(addr string, typ gwv1.AddressType) {
		t.Helper()
		eventually(t, func() error {
			var gw gwv1.Gateway
			if err := env.Client.Get(ctxT(t), client.ObjectKey{Namespace: gatewayNS, Name: "gatebridge"}, &gw); err != nil {
				return err
			}
			a := gw.Status.Addresses
			if len(a) != 1 || a[0].Value != addr || a[0].Type == nil || *a[0].Type != typ {
				return fmt.Errorf("Gateway status.addresses %+v, want %s %s", a, typ, addr)
			}
			var ing networkingv1.Ingress
			if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(dropIn), &ing); err != nil {
				return err
			}
			lb := ing.Status.LoadBalancer.Ingress
			want := networkingv1.IngressLoadBalancerIngress{IP: addr}
			if typ == gwv1.HostnameAddressType {
				want = networkingv1.IngressLoadBalancerIngress{Hostname: addr}
			}
			if len(lb) != 1 || lb[0].IP != want.IP || lb[0].Hostname != want.Hostname {
				return fmt.Errorf("drop-in Ingress status.loadBalancer.ingress %+v, want %+v", lb, want)
			}
			if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(annotated), &ing); err != nil {
				return err
			}
			if lb := ing.Status.LoadBalancer.Ingress; len(lb) != 0 {
				return fmt.Errorf("the annotated Ingress (of ingress-nginx's class) got status.loadBalancer %+v", lb)
			}
			return nil
		})
	}
	expect(svc.Spec.ClusterIP, gwv1.IPAddressType)

	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.address.example.com"}}
	if err := env.Client.Status().Update(ctxT(t), svc); err != nil {
		t.Fatal(err)
	}
	expect("lb.address.example.com", gwv1.HostnameAddressType)
}
