package controllers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// applyForm is a planned object as gatebridge applies it, and the hash of that form.
type applyForm struct {
	key  objectKey
	obj  *unstructured.Unstructured
	hash string
}

// newApplyForm turns a planned object into what is sent with server-side apply: its JSON
// form without status and empty timestamps, the owner reference to its Ingress when they
// share a namespace (owner references cannot cross namespaces; the writer deletes those
// objects itself), the requires annotation of a route (requires.go; "" for none), and the
// applied-hash annotation — the hash of everything else.
func newApplyForm(obj client.Object, owner *networkingv1.Ingress, requires string) (applyForm, error) {
	m, err := plainJSON(obj)
	if err != nil {
		return applyForm{}, fmt.Errorf("encoding %s: %w", keyOf(obj), err)
	}
	delete(m, "status")
	pruneNulls(m)
	md, _ := m["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		m["metadata"] = md
	}
	if owner != nil && owner.Namespace == obj.GetNamespace() && owner.UID != "" {
		md["ownerReferences"] = []any{map[string]any{
			"apiVersion":         networkingv1.SchemeGroupVersion.String(),
			"kind":               "Ingress",
			"name":               owner.Name,
			"uid":                string(owner.UID),
			"controller":         true,
			"blockOwnerDeletion": false,
		}}
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	if requires != "" {
		ann[RequiresAnnotation] = requires
	}
	hash, err := hashOf(m)
	if err != nil {
		return applyForm{}, err
	}
	ann[AppliedHashAnnotation] = hash
	return applyForm{key: keyOf(obj), obj: &unstructured.Unstructured{Object: m}, hash: hash}, nil
}

// plainJSON is obj's JSON form as a map of JSON values, numbers as int64 or float64 (the
// unstructured convention), so that two objects compare field by field.
func plainJSON(obj any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return normalizeNumbers(m).(map[string]any), nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// pruneNulls removes null values (a nil slice or map of a field without omitempty): sent
// with server-side apply they would not mean "unset", and they never compare equal.
func pruneNulls(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			pruneNulls(e)
		}
	case []any:
		for _, e := range x {
			pruneNulls(e)
		}
	}
}

// hashOf is 16 hex characters of the SHA-256 of m's JSON (map keys sorted).
func hashOf(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8]), nil
}

// owned reports whether gatebridge's controller wrote obj: it carries the managed-by label
// and the applied-hash annotation. The label alone is not enough: `gatebridge convert`
// output applied by hand carries it too, and the controller must leave that alone.
func owned(obj metav1.Object) bool {
	return obj.GetLabels()[converters.LabelManagedBy] == converters.ManagedByValue && obj.GetAnnotations()[AppliedHashAnnotation] != ""
}

// inSync reports whether applying want would change nothing of what gatebridge sets on
// live: the live object was last applied from the same form (hash) and still holds every
// field of it (someone may have edited or removed one since). Fields others set, and
// defaults the API server filled in, do not count.
func inSync(want applyForm, live client.Object) (bool, error) {
	if live.GetAnnotations()[AppliedHashAnnotation] != want.hash {
		return false, nil
	}
	m, err := plainJSON(live)
	if err != nil {
		return false, fmt.Errorf("encoding live %s: %w", want.key, err)
	}
	for k, v := range want.obj.Object {
		// Objects read from the cache carry no apiVersion and kind; the key says the kind.
		if k != "apiVersion" && k != "kind" && !contains(m[k], v) {
			return false, nil
		}
	}
	return true, nil
}

// contains reports whether have holds everything of want: maps key by key (extra keys in
// have are fine), lists element by element with the same length, scalars equal.
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				if wv == nil {
					continue
				}
				return false
			}
			if !contains(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	case int64:
		return numberEqual(have, float64(w))
	case float64:
		return numberEqual(have, w)
	}
	return have == want
}

func numberEqual(have any, w float64) bool {
	switch h := have.(type) {
	case int64:
		return float64(h) == w
	case float64:
		return h == w || math.IsNaN(h) && math.IsNaN(w)
	}
	return false
}
