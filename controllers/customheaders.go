package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// The ConfigMaps custom-headers annotations name ("namespace/name"): the conversion reads
// their data (the response headers it sets, converters.Input.ConfigMaps) as `run` reads
// them from its input. Only the ConfigMaps an Ingress names are read, straight from the
// API server (the cache holds ConfigMaps without their data, stripConfigMapData and
// stripConfigMapForCache); a watch of ConfigMaps makes a change of one of them convert
// again.

// customHeadersRefs are the ConfigMaps the custom-headers annotations of ings name. The
// converter refuses a ConfigMap of another namespace than its Ingress's, or a name without
// namespace (ingress-nginx finds none), so those are not read.
func customHeadersRefs(ings []networkingv1.Ingress, prefix string) []types.NamespacedName {
	if prefix == "" {
		prefix = annotations.DefaultPrefix
	}
	key := prefix + "/custom-headers"
	seen := map[types.NamespacedName]bool{}
	var out []types.NamespacedName
	for i := range ings {
		v, ok := ings[i].Annotations[key]
		if !ok {
			continue
		}
		ns, name, qualified := strings.Cut(strings.TrimSpace(v), "/")
		if !qualified || ns != ings[i].Namespace || name == "" {
			continue
		}
		k := types.NamespacedName{Namespace: ns, Name: name}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// configMapRefs is the set of ConfigMaps the last snapshot's Ingresses name, read by the
// watch's predicate (informer goroutines) and written by the pass.
type configMapRefs struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]bool
}

func (r *configMapRefs) set(keys []types.NamespacedName) {
	m := make(map[types.NamespacedName]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	r.mu.Lock()
	r.keys = m
	r.mu.Unlock()
}

// names reports whether o is one of the ConfigMaps.
func (r *configMapRefs) names(o client.Object) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}]
}

// readCustomHeaders reads the named ConfigMaps from the API server. A missing one is left
// out: the converter then fails its Ingresses closed (503), as ingress-nginx denies them.
func readCustomHeaders(ctx context.Context, r client.Reader, keys []types.NamespacedName) ([]corev1.ConfigMap, error) {
	var out []corev1.ConfigMap
	for _, k := range keys {
		var cm corev1.ConfigMap
		switch err := r.Get(ctx, k, &cm); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading ConfigMap %s (custom-headers): %w", k, err)
		default:
			out = append(out, cm)
		}
	}
	return out, nil
}

// stripConfigMapData keeps, of every ConfigMap but keep (the ingress-nginx ConfigMap, when
// named), only the metadata: the writer only needs to see the custom-headers ConfigMaps
// change, and reads their data from the API server.
func stripConfigMapData(keep types.NamespacedName, named bool) func(any) (any, error) {
	return func(in any) (any, error) {
		in, err := stripForCache(in)
		cm, ok := in.(*corev1.ConfigMap)
		if !ok || (named && cm.Namespace == keep.Namespace && cm.Name == keep.Name) {
			return in, err
		}
		cm.Data, cm.BinaryData = nil, nil
		return in, err
	}
}
