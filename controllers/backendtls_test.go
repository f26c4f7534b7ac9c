package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// TestStripConfigMapForCache: the cache keeps only ca.crt of a ConfigMap, and the named
// ingress-nginx ConfigMap whole.
func TestStripConfigMapForCache(t *testing.T) {
	keep := types.NamespacedName{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}
	strip := stripConfigMapForCache(keep)
	cm := func(ns, name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data, BinaryData: map[string][]byte{"blob": {1}}}
	}
	out, err := strip(cm("apps", "ca", map[string]string{"ca.crt": "PEM", "other": "big"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.ConfigMap); len(got.Data) != 1 || got.Data["ca.crt"] != "PEM" || got.BinaryData != nil {
		t.Errorf("CA ConfigMap cached as %v %v, want only ca.crt", got.Data, got.BinaryData)
	}
	out, _ = strip(cm("apps", "settings", map[string]string{"other": "big"}))
	if got := out.(*corev1.ConfigMap); got.Data != nil || got.BinaryData != nil {
		t.Errorf("other ConfigMap cached with %v %v, want no data", got.Data, got.BinaryData)
	}
	out, _ = strip(cm(keep.Namespace, keep.Name, map[string]string{"ssl-redirect": "false"}))
	if got := out.(*corev1.ConfigMap); got.Data["ssl-redirect"] != "false" {
		t.Errorf("the ingress-nginx ConfigMap lost its data: %v", got.Data)
	}
}

// TestReferencedConfigMaps: the ConfigMaps of caCertificateRefs, in the policy's namespace;
// refs of other kinds name none.
func TestReferencedConfigMaps(t *testing.T) {
	p := &gwv1.BackendTLSPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "p"}}
	p.Spec.Validation.CACertificateRefs = []gwv1.LocalObjectReference{
		{Group: "", Kind: "ConfigMap", Name: "ca"},
		{Group: "example.io", Kind: "ConfigMap", Name: "not-core"},
		{Group: "", Kind: "Secret", Name: "secret"},
	}
	got := referencedConfigMaps(&dataplane.Model{BackendTLSPolicies: []*gwv1.BackendTLSPolicy{p}})
	if len(got) != 1 || !got[types.NamespacedName{Namespace: "apps", Name: "ca"}] {
		t.Errorf("referenced ConfigMaps %v, want apps/ca only", got)
	}
}

// TestConfigMapChanged: only data (or identity) changes matter.
func TestConfigMapChanged(t *testing.T) {
	a := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{UID: "1", ResourceVersion: "1"}, Data: map[string]string{"ca.crt": "A"}}
	b := a.DeepCopy()
	b.ResourceVersion = "2"
	if configMapChanged(a, b) {
		t.Errorf("a new resourceVersion with the same data counts as a change")
	}
	b.Data["ca.crt"] = ""
	if !configMapChanged(a, b) {
		t.Errorf("ca.crt emptied does not count as a change")
	}
}

// TestPolicyAncestors: one entry per Gateway, with the controller's name and the
// conditions as judged.
func TestPolicyAncestors(t *testing.T) {
	conds := []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 3}}
	st := dataplane.BackendTLSPolicyStatus{Namespace: "apps", Name: "p", Generation: 3, Ancestors: []dataplane.BackendTLSPolicyAncestor{
		{GatewayNamespace: "infra", GatewayName: "gw", Conditions: conds},
	}}
	got := policyAncestors(st, "gatebridge.dev/gateway-controller")
	if len(got) != 1 {
		t.Fatalf("%d ancestors, want 1", len(got))
	}
	a := got[0]
	if a.ControllerName != "gatebridge.dev/gateway-controller" || *a.AncestorRef.Kind != "Gateway" || *a.AncestorRef.Group != gwv1.GroupName ||
		*a.AncestorRef.Namespace != "infra" || a.AncestorRef.Name != "gw" || len(a.Conditions) != 1 {
		t.Errorf("ancestor %+v", a)
	}
}
