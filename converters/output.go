package converters

import (
	"sort"

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

// sortObjects orders objects by kind, namespace and name (then source Ingress, should two
// Ingresses make the same name): the output is byte-for-byte stable whatever the input
// order. Keys are computed once: a GroupVersionKind parses the apiVersion each time.
func sortObjects(objs []client.Object) []client.Object {
	type keyed struct {
		rank, index              int
		ns, name, srcNS, srcName string
		obj                      client.Object
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		l := o.GetLabels()
		ks[i] = keyed{kindRank(o.GetObjectKind().GroupVersionKind().Kind), i, o.GetNamespace(), o.GetName(), l[LabelSourceNamespace], l[LabelSourceIngress], o}
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := &ks[i], &ks[j]
		switch {
		case a.rank != b.rank:
			return a.rank < b.rank
		case a.ns != b.ns:
			return a.ns < b.ns
		case a.name != b.name:
			return a.name < b.name
		case a.srcNS != b.srcNS:
			return a.srcNS < b.srcNS
		case a.srcName != b.srcName:
			return a.srcName < b.srcName
		}
		return a.index < b.index // stable
	})
	for i := range ks {
		objs[i] = ks[i].obj
	}
	return objs
}
