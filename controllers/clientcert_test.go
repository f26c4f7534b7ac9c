package controllers

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestClientCertificatePolicyWritten: a migrated Ingress with auth-tls-* gets its host's
// frontendTLS TrafficPolicy (client certificates against the CA Secret of its namespace)
// and the ReferenceGrant that lets that policy read the CA — the shared objects the
// controller cuts down to the migrated Ingresses keep both (without them the host would be
// served without client certificates).
func TestClientCertificatePolicyWritten(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "clientcert")
	own := "gatebridge-clientcert"
	create(t, env, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: own}, Spec: networkingv1.IngressClassSpec{Controller: IngressControllerName}})
	startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: "nginx-clientcert"}}})
	create(t, env, service(ns, "web"))
	create(t, env, ingressSpec{name: "mtls", namespace: ns, class: own, host: "mtls.clientcert.example.com", tls: true,
		annotations: map[string]string{
			"nginx.ingress.kubernetes.io/auth-tls-secret":        ns + "/mtls-ca",
			"nginx.ingress.kubernetes.io/auth-tls-verify-client": "optional",
		}}.build())

	eventually(t, func() error {
		var policies gbv1.TrafficPolicyList
		if err := env.Client.List(ctxT(t), &policies, client.InNamespace(gatewayNS)); err != nil {
			return err
		}
		var found *gbv1.ClientCertificatePolicy
		for _, p := range policies.Items {
			if ft := p.Spec.FrontendTLS; ft != nil && ft.ClientCertificate != nil && ft.ClientCertificate.CACertificateRef.Name == "mtls-ca" {
				found = ft.ClientCertificate
			}
		}
		if found == nil {
			return fmt.Errorf("no frontendTLS TrafficPolicy naming the CA among %d policies", len(policies.Items))
		}
		if found.Mode != gbv1.ClientCertificateOptional || found.CACertificateRef.Namespace == nil || string(*found.CACertificateRef.Namespace) != ns {
			return fmt.Errorf("client certificate policy %+v", found)
		}
		var grants gwv1b1.ReferenceGrantList
		if err := env.Client.List(ctxT(t), &grants, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, g := range grants.Items {
			if isClientCAGrantFor(g, "mtls-ca") {
				return nil
			}
		}
		return fmt.Errorf("no ReferenceGrant in %s lets TrafficPolicies read mtls-ca (%d grants)", ns, len(grants.Items))
	})
}

func isClientCAGrantFor(g gwv1b1.ReferenceGrant, secret string) bool {
	from := false
	for _, f := range g.Spec.From {
		from = from || (f.Kind == "TrafficPolicy" && string(f.Group) == gbv1.GroupVersion.Group)
	}
	for _, to := range g.Spec.To {
		if from && to.Kind == "Secret" && to.Name != nil && string(*to.Name) == secret {
			return true
		}
	}
	return false
}
