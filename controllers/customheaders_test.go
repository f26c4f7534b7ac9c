package controllers

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestCustomHeadersConfigMap: the controller reads the ConfigMap a custom-headers
// annotation names (as `run` reads it from its input) and sets its headers on the
// Ingress's routes; a change of that ConfigMap converts again.
func TestCustomHeadersConfigMap(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "customheaders")
	own := "gatebridge-customheaders"
	create(t, env, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: own}, Spec: networkingv1.IngressClassSpec{Controller: IngressControllerName}})
	create(t, env, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "controller", Namespace: ns},
		Data: map[string]string{"global-allowed-response-headers": "X-Frame-Options"}})
	headers := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "frame-headers", Namespace: ns}, Data: map[string]string{"X-Frame-Options": "DENY"}}
	create(t, env, headers)
	startWriter(t, env, harnessOptions{writer: Options{ConfigMap: ns + "/controller", Converter: converters.Options{IngressClass: "nginx-customheaders"}}})
	create(t, env, service(ns, "web"))
	create(t, env, ingressSpec{name: "framed", namespace: ns, class: own, host: "framed.customheaders.example.com",
		annotations: map[string]string{"nginx.ingress.kubernetes.io/custom-headers": ns + "/frame-headers"}}.build())

	frameHeader := func() (string, error) {
		rs := routesOf(t, env, ns, "framed")
		if len(rs) == 0 {
			return "", fmt.Errorf("no routes yet")
		}
		for _, r := range rs {
			for _, rule := range r.Spec.Rules {
				for _, f := range rule.Filters {
					if f.Type == gwv1.HTTPRouteFilterResponseHeaderModifier && f.ResponseHeaderModifier != nil {
						for _, h := range f.ResponseHeaderModifier.Set {
							if h.Name == "X-Frame-Options" {
								return h.Value, nil
							}
						}
					}
				}
			}
		}
		return "", fmt.Errorf("no X-Frame-Options on the routes %+v", rs)
	}
	want := func(v string) func() error {
		return func() error {
			got, err := frameHeader()
			if err != nil {
				return err
			}
			if got != v {
				return fmt.Errorf("X-Frame-Options %q, want %q", got, v)
			}
			return nil
		}
	}
	eventually(t, want("DENY"))
	updateObj(t, env, headers, func(cm *corev1.ConfigMap) { cm.Data["X-Frame-Options"] = "SAMEORIGIN" })
	eventually(t, want("SAMEORIGIN"))
}
