package converters

import (
	"cmp"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kindOrder is the apply order: classes and gateways first, routes after what they
// reference, policies last.
var kindOrder = []string{"GatewayClass", "Gateway", "ListenerSet", "ReferenceGrant", "RouteFilter", "HTTPRoute", "TLSRoute", "TrafficPolicy"}

func kindRank(kind string) int {
	for i, k := range kindOrder {
		if k == kind {
			return i
		}
	}
	return len(kindOrder)
}

// keyedObject is an object with what objects are ordered by: kind, namespace and name
// (then source Ingress, should two Ingresses make the same name), so that the output is
// byte-for-byte stable whatever the input order. Keys are computed once: a
// GroupVersionKind parses the apiVersion each time. part is the part that made it (nil:
// the conversion).
type keyedObject struct {
	rank                           int
	kind, ns, name, srcNS, srcName string
	obj                            client.Object
	part                           *part
}

func keyedObjects(objs []client.Object, p *part) []keyedObject {
	ks := make([]keyedObject, len(objs))
	for i, o := range objs {
		l := o.GetLabels()
		kind := o.GetObjectKind().GroupVersionKind().Kind
		ks[i] = keyedObject{kindRank(kind), kind, o.GetNamespace(), o.GetName(), l[LabelSourceNamespace], l[LabelSourceIngress], o, p}
	}
	return ks
}

func compareKeyed(a, b *keyedObject) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.ns, b.ns), cmp.Compare(a.name, b.name),
		cmp.Compare(a.srcNS, b.srcNS), cmp.Compare(a.srcName, b.srcName))
}

// sortKeyed sorts ks by key, equal keys in their order in ks.
func sortKeyed(ks []keyedObject) {
	order := make([]int, len(ks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Or(compareKeyed(&ks[i], &ks[j]), i-j) })
	sorted := make([]keyedObject, len(ks))
	for k, i := range order {
		sorted[k] = ks[i]
	}
	copy(ks, sorted)
}

// mergeKeyed merges two sorted lists; on equal keys a's come first.
func mergeKeyed(a, b []keyedObject) []keyedObject {
	out := make([]keyedObject, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if compareKeyed(&b[j], &a[i]) < 0 {
			out, j = append(out, b[j]), j+1
		} else {
			out, i = append(out, a[i]), i+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
