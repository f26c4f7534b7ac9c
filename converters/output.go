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

// sortObjects orders objects by kind, namespace and name: the output is byte-for-byte
// stable whatever the input order.
func sortObjects(objs []client.Object) []client.Object {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		ka, kb := a.GetObjectKind().GroupVersionKind().Kind, b.GetObjectKind().GroupVersionKind().Kind
		if ka != kb {
			return kindRank(ka) < kindRank(kb)
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
	return objs
}
