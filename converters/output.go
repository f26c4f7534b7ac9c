package converters

import (
	"cmp"
	"maps"
	"runtime"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// kindOrder is the apply order: classes and gateways first, routes after what they
// reference, policies last.
var kindOrder = []string{"GatewayClass", "Gateway", "ListenerSet", "ReferenceGrant", "ConfigMap", "RouteFilter", "HTTPRoute", "GRPCRoute", "TLSRoute", "BackendTLSPolicy", "TrafficPolicy"}

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
// the conversion), member the position of its Ingress among the part's members (-1: none).
type keyedObject struct {
	rank                           int
	kind, ns, name, srcNS, srcName string
	obj                            client.Object
	// enc is obj encoded, in a streaming conversion (stream.go); obj is then nil.
	enc    emit.Encoded
	part   *part
	member int
}

func keyedObjects(objs []client.Object, members []int, p *part) []keyedObject {
	ks := make([]keyedObject, len(objs))
	for i, o := range objs {
		l := o.GetLabels()
		kind := o.GetObjectKind().GroupVersionKind().Kind
		m := -1
		if members != nil {
			m = members[i]
		}
		ks[i] = keyedObject{rank: kindRank(kind), kind: kind, ns: o.GetNamespace(), name: o.GetName(), srcNS: l[LabelSourceNamespace], srcName: l[LabelSourceIngress], obj: o, part: p, member: m}
	}
	return ks
}

// compareKeyed orders by rank, kind, namespace, name, source namespace, source name. It
// stops at the first key that differs (cmp.Or would compare all six strings first: the
// sort of 15,000 objects spent most of its time there).
func compareKeyed(a, b *keyedObject) int {
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ns, b.ns); c != 0 {
		return c
	}
	if c := cmp.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.srcNS, b.srcNS); c != 0 {
		return c
	}
	return cmp.Compare(a.srcName, b.srcName)
}

// sortKeyed sorts ks by key, equal keys in their order in ks.
func sortKeyed(ks []keyedObject) {
	copy(ks, sortedKeyed(ks))
}

// sortedKeyed returns ks sorted by key, equal keys in their order in ks, in a new slice
// (ks is left as it is). Indices are sorted, not the objects (~140 bytes each), which
// are then moved once.
func sortedKeyed(ks []keyedObject) []keyedObject {
	order := make([]int, len(ks))
	for i := range order {
		order[i] = i
	}
	sortIndices(order, func(i, j int) int { return cmp.Or(compareKeyed(&ks[i], &ks[j]), i-j) })
	sorted := make([]keyedObject, len(ks))
	for k, i := range order {
		sorted[k] = ks[i]
	}
	return sorted
}

// mergeKeyed merges two sorted lists, of a only the objects kept reports (all when nil);
// on equal keys a's come first. One pass: the previous conversion's 20,000 objects are
// copied once, not filtered into a list first.
func mergeKeyed(a []keyedObject, kept func(*keyedObject) bool, b []keyedObject) []keyedObject {
	out := make([]keyedObject, 0, len(a)+len(b))
	j := 0
	for i := range a {
		if kept != nil && !kept(&a[i]) {
			continue
		}
		for j < len(b) && compareKeyed(&b[j], &a[i]) < 0 {
			out, j = append(out, b[j]), j+1
		}
		out = append(out, a[i])
	}
	return append(out, b[j:]...)
}

// sameObject: a and b have one kind, namespace and name — one object for the API server.
func sameObject(a, b *keyedObject) bool { return a.kind == b.kind && a.ns == b.ns && a.name == b.name }

// ingressIndex is the input index of the Ingress that made k, -1 for the conversion's own.
func (k *keyedObject) ingressIndex() int {
	if k.part == nil || k.member < 0 {
		return -1
	}
	return k.part.members[k.member]
}

// collisions finds the Ingresses an object of which would have the kind, namespace and name
// of another Ingress's object or of the conversion's own (object names join the Ingress
// name and a hostname label, and shop with api.shop.com reads like shop-api with shop.com).
// The conversion's own objects keep their names, then Ingresses in namespace/name order
// (input order for one listed twice) keep theirs unless an Ingress kept before took one;
// the others are returned by input index with the reason, for convert to refuse them. In
// sorted order equal names are adjacent, so finding none costs one comparison per object.
func collisions(sorted []keyedObject, ings []networkingv1.Ingress) map[int]string {
	byIngress := map[int][]*keyedObject{}
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sameObject(&sorted[i], &sorted[j]) {
			j++
		}
		for k := i + 1; k < j; k++ {
			if sorted[k].ingressIndex() != sorted[i].ingressIndex() {
				for _, o := range sorted[i:j] {
					byIngress[o.ingressIndex()] = append(byIngress[o.ingressIndex()], &o)
				}
				break
			}
		}
		i = j
	}
	if len(byIngress) == 0 {
		return nil
	}
	order := slices.SortedFunc(maps.Keys(byIngress), func(a, b int) int {
		if a < 0 || b < 0 {
			return cmp.Compare(a, b)
		}
		return cmp.Or(cmp.Compare(ings[a].Namespace, ings[b].Namespace), cmp.Compare(ings[a].Name, ings[b].Name), cmp.Compare(a, b))
	})
	type objectKey struct{ kind, ns, name string }
	kept := map[objectKey]int{}
	losers := map[int]string{}
	for _, i := range order {
		objs := byIngress[i]
		lost := slices.IndexFunc(objs, func(o *keyedObject) bool {
			w, taken := kept[objectKey{o.kind, o.ns, o.name}]
			return taken && w != i
		})
		if lost < 0 {
			for _, o := range objs {
				kept[objectKey{o.kind, o.ns, o.name}] = i
			}
			continue
		}
		o := objs[lost]
		losers[i] = collisionReason(o, kept[objectKey{o.kind, o.ns, o.name}], i, ings)
	}
	return losers
}

// collisionReason says why Ingress i is refused: its object o would have the name of one of
// Ingress winner's (-1: the conversion's own).
func collisionReason(o *keyedObject, winner, i int, ings []networkingv1.Ingress) string {
	obj := o.kind + " " + o.ns + "/" + o.name
	switch w := winner; {
	case w < 0:
		return "its " + obj + " would have the name of the shared Gateway's own " + o.kind + ", and the API server holds one object per kind, namespace and name: rename the Ingress, or choose another --gateway-namespace"
	case ings[w].Namespace == ings[i].Namespace && ings[w].Name == ings[i].Name:
		return "it is listed twice in the input, and both copies make " + obj + ": keep one copy"
	default:
		return "its " + obj + " would have the kind, namespace and name of " + ings[w].Namespace + "/" + ings[w].Name + "'s, and the API server holds one object per kind, namespace and name (object names join the Ingress name and the hostname, and these two read alike, like shop with api.shop.com and shop-api with shop.com): rename one of the two Ingresses"
	}
}

// duplicate is an object dropped because an earlier one in output order has its kind,
// namespace and name.
type duplicate struct{ dropped, kept keyedObject }

// panicOnOwnDuplicate makes dropDuplicates panic when one Ingress made two objects of one
// name — always a converter bug (uniqueName prevents it) — so that the package's own tests
// and fuzzing fail loudly; export_test.go sets it. Elsewhere the duplicate is dropped with
// an error finding.
var panicOnOwnDuplicate = false

// dropDuplicates is the last guard of the output: the API server holds one object per
// kind, namespace and name, and a second one in the output would be refused by `kubectl
// apply` or overwrite the first. The first of each name is kept and the others are
// returned for the report to say so (noteDropped). Between Ingresses, convert refuses the
// later one first (collisions), so what remains is one Ingress making one name twice: a
// converter bug. It costs one comparison per object and allocates only when something is
// dropped.
func dropDuplicates(sorted []keyedObject) ([]keyedObject, []duplicate) {
	var out []keyedObject
	var dups []duplicate
	first := 0
	for i := 1; i < len(sorted); i++ {
		a, b := &sorted[first], &sorted[i]
		if !sameObject(a, b) {
			first = i
			if out != nil {
				out = append(out, *b)
			}
			continue
		}
		if panicOnOwnDuplicate && a.ingressIndex() == b.ingressIndex() && a.part == b.part {
			panic("converters: one Ingress made " + b.kind + " " + b.ns + "/" + b.name + " twice")
		}
		if out == nil {
			out = append(make([]keyedObject, 0, len(sorted)), sorted[:i]...)
		}
		dups = append(dups, duplicate{dropped: *b, kept: *a})
	}
	if out == nil {
		return sorted, nil
	}
	return out, dups
}

// parallelSortMin is the length from which sortIndices sorts on all cores.
const parallelSortMin = 4096

// sortIndices sorts order by compare, a strict total order (no two indices equal), so the
// result is the one sequence whatever the way: long lists are cut into one run per core,
// each sorted on its own, then merged run by run.
func sortIndices(order []int, compare func(i, j int) int) {
	workers := runtime.GOMAXPROCS(0)
	if len(order) < parallelSortMin || workers < 2 {
		slices.SortFunc(order, compare)
		return
	}
	runs := make([][]int, workers)
	for w := range runs {
		runs[w] = order[w*len(order)/workers : (w+1)*len(order)/workers]
	}
	parallel.For(len(runs), func(w int) { slices.SortFunc(runs[w], compare) })
	for len(runs) > 1 {
		next := make([][]int, (len(runs)+1)/2)
		parallel.For(len(next), func(k int) {
			if 2*k+1 == len(runs) {
				next[k] = runs[2*k]
				return
			}
			next[k] = mergeIndices(runs[2*k], runs[2*k+1], compare)
		})
		runs = next
	}
	copy(order, runs[0])
}

// mergeIndices merges two sorted runs into a new one.
func mergeIndices(a, b []int, compare func(i, j int) int) []int {
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if compare(b[j], a[i]) < 0 {
			out, j = append(out, b[j]), j+1
		} else {
			out, i = append(out, a[i]), i+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
