package controllers

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// BackendTLSPolicies (Gateway API): the feed serves them with the ConfigMaps they name
// (the CA certificates, key ca.crt), and the status writer writes their status.ancestors
// entries, one per Gateway of ours whose routes use a targeted Service
// (dataplane.BackendTLSPolicyStatuses). Only the ConfigMaps a policy names go into the
// model, and only their changes make a batch: the informer holds every ConfigMap of the
// cluster, with only the ca.crt key of the ones that are not the ingress-nginx ConfigMap.

// configMapChanged: a ConfigMap's data changed (or it is another one of the same name).
func configMapChanged(a, b client.Object) bool {
	ca, okA := a.(*corev1.ConfigMap)
	cb, okB := b.(*corev1.ConfigMap)
	return !okA || !okB || ca.UID != cb.UID || !equality.Semantic.DeepEqual(ca.Data, cb.Data)
}

// referencedConfigMaps are the ConfigMaps the BackendTLSPolicies of a model name.
func referencedConfigMaps(m *dataplane.Model) map[types.NamespacedName]bool {
	out := map[types.NamespacedName]bool{}
	for _, p := range m.BackendTLSPolicies {
		for _, ref := range p.Spec.Validation.CACertificateRefs {
			if ref.Group == "" && ref.Kind == "ConfigMap" {
				out[types.NamespacedName{Namespace: p.Namespace, Name: string(ref.Name)}] = true
			}
		}
	}
	return out
}

// usedConfigMapsLocked puts into m the ConfigMaps its BackendTLSPolicies name, and
// remembers them: the changes of other ConfigMaps make no batch.
func (f *Feed) usedConfigMapsLocked(m *dataplane.Model) {
	f.configMapsUsed = referencedConfigMaps(m)
	setKind(m, "ConfigMap", f.usedLocked("ConfigMap", f.configMapsUsed))
}

// stripConfigMapForCache keeps, of a ConfigMap other than keep (the ingress-nginx
// ConfigMap the writer reads whole), only the CA certificates a BackendTLSPolicy may
// name: the informer holds every ConfigMap of the cluster, most of them of no use here.
func stripConfigMapForCache(keep types.NamespacedName) func(any) (any, error) {
	return func(in any) (any, error) {
		in, err := stripForCache(in)
		cm, ok := in.(*corev1.ConfigMap)
		if !ok || (cm.Namespace == keep.Namespace && cm.Name == keep.Name) {
			return in, err
		}
		var data map[string]string
		if ca, ok := cm.Data["ca.crt"]; ok {
			data = map[string]string{"ca.crt": ca}
		}
		cm.Data, cm.BinaryData = data, nil
		return in, err
	}
}

// writeBackendTLSPolicies writes the status.ancestors entries of ours of every
// BackendTLSPolicy of the model (other controllers' entries are kept).
func (w *StatusWriter) writeBackendTLSPolicies(ctx context.Context, m *dataplane.Model, now metav1.Time) error {
	byKey := make(map[types.NamespacedName]*gwv1.BackendTLSPolicy, len(m.BackendTLSPolicies))
	for _, p := range m.BackendTLSPolicies {
		byKey[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}] = p
	}
	var errs []error
	for _, st := range dataplane.BackendTLSPolicyStatuses(m, w.controllerName) {
		p := byKey[types.NamespacedName{Namespace: st.Namespace, Name: st.Name}]
		if p == nil {
			continue
		}
		want := policyAncestors(st, gwv1.GatewayController(w.controllerName))
		errs = append(errs, w.once("BackendTLSPolicy", p, want, func() error { return w.patchBackendTLSPolicy(ctx, p, want, now) }))
	}
	return errors.Join(errs...)
}

// policyAncestors are the status.ancestors entries of a policy's status.
func policyAncestors(st dataplane.BackendTLSPolicyStatus, controller gwv1.GatewayController) []gwv1.PolicyAncestorStatus {
	out := make([]gwv1.PolicyAncestorStatus, 0, len(st.Ancestors))
	group, kind := gwv1.Group(gwv1.GroupName), gwv1.Kind("Gateway")
	for _, a := range st.Ancestors {
		ns := gwv1.Namespace(a.GatewayNamespace)
		out = append(out, gwv1.PolicyAncestorStatus{
			AncestorRef:    gwv1.ParentReference{Group: &group, Kind: &kind, Namespace: &ns, Name: gwv1.ObjectName(a.GatewayName)},
			ControllerName: controller,
			Conditions:     a.Conditions,
		})
	}
	return out
}

// patchBackendTLSPolicy replaces our entries of status.ancestors with want; a policy
// without ours that wants none is left alone.
func (w *StatusWriter) patchBackendTLSPolicy(ctx context.Context, p *gwv1.BackendTLSPolicy, want []gwv1.PolicyAncestorStatus, now metav1.Time) error {
	live := &gwv1.BackendTLSPolicy{}
	if ok, err := w.live(ctx, "BackendTLSPolicy", live, client.ObjectKeyFromObject(p)); !ok {
		return err
	}
	controller := gwv1.GatewayController(w.controllerName)
	ours := map[string]gwv1.PolicyAncestorStatus{}
	merged := []gwv1.PolicyAncestorStatus{}
	for _, a := range live.Status.Ancestors {
		if a.ControllerName == controller {
			ours[ancestorKey(a.AncestorRef)] = a
			continue
		}
		merged = append(merged, a)
	}
	if len(ours) == 0 && len(want) == 0 {
		return nil
	}
	for _, a := range want {
		a.Conditions = mergeConditions(ours[ancestorKey(a.AncestorRef)].Conditions, a.Conditions, now)
		merged = append(merged, a)
	}
	updated := live.DeepCopy()
	updated.Status.Ancestors = merged
	return w.patch(ctx, "BackendTLSPolicy", live, updated, equality.Semantic.DeepEqual(live.Status, updated.Status))
}

func ancestorKey(r gwv1.ParentReference) string {
	ns := ""
	if r.Namespace != nil {
		ns = string(*r.Namespace)
	}
	return ns + "/" + string(r.Name)
}
