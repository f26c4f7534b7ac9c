package sources

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// perKind holds one T for each kind of object a Loaded holds.
type perKind[T any] struct{ ingresses, classes, services, secrets, configMaps, objects T }

// kindSet says which kinds of what is read changed since a previous Loaded.
type kindSet perKind[bool]

var allKinds = kindSet{true, true, true, true, true, true}

// note adds the kinds d holds.
func (k *kindSet) note(d *decoded) {
	k.ingresses = k.ingresses || len(d.ingresses) > 0
	k.classes = k.classes || len(d.classes) > 0
	k.services = k.services || len(d.services) > 0
	k.secrets = k.secrets || len(d.secrets) > 0
	k.configMaps = k.configMaps || len(d.cms) > 0
	k.objects = k.objects || len(d.objects) > 0
}

// merge joins groups of decoded documents (a Reader's files), in order, into one Loaded.
func merge(groups [][]decoded, opts Options) *Loaded {
	return mergeReusing(groups, opts, nil, allKinds, nil)
}

// mergeReusing is merge taking from prev (when not nil) what a Read did not change: the
// objects of the kinds no changed file held are prev's, and those of a kind that changed
// only inside changedGroups (a file edited, no file added or removed) are spliced into
// prev's (splice): a reload after an Ingress edit neither copies 10,000 Services again nor
// hashes 10,000 Ingress names. changedGroups is nil when the files are not those of prev.
//
// An object defined more than once (same kind, namespace and name) is kept once: the last
// definition wins, as `kubectl apply` of the files in that order would, and each earlier
// one is a Problem naming both places. The objects of a kind that did not change are the
// same objects as before, so their duplicates, and the Problems about them, are reused too.
func mergeReusing(groups [][]decoded, opts Options, prev *Loaded, changed kindSet, changedGroups []bool) *Loaded {
	if prev == nil {
		prev, changed, changedGroups = &Loaded{}, allKinds, nil
	}
	l := &Loaded{Ignored: map[string]int{}}
	for _, g := range groups {
		for i := range g {
			l.Problems = append(l.Problems, g[i].problems...)
			for _, k := range g[i].ignored {
				l.Ignored[k]++
			}
		}
	}
	ingresses := mergeKind(groups, mergedKind[networkingv1.Ingress]{values: prev.Input.Ingresses, origins: prev.origins.ingresses, duplicates: prev.duplicates.ingresses, counts: prev.counts.ingresses},
		changed.ingresses, changedGroups, false, func(d *decoded) ([]networkingv1.Ingress, []string) { return d.ingresses, d.origins.ingresses },
		func(o *networkingv1.Ingress) identity {
			return identity{kind: "Ingress", namespace: o.Namespace, name: o.Name}
		})
	l.Input.Ingresses, l.origins.ingresses, l.duplicates.ingresses, l.counts.ingresses = ingresses.values, ingresses.origins, ingresses.duplicates, ingresses.counts
	l.splicedIngresses = ingresses.spliced
	classes := mergeKind(groups, mergedKind[networkingv1.IngressClass]{values: prev.Input.IngressClasses, origins: prev.origins.classes, duplicates: prev.duplicates.classes, counts: prev.counts.classes},
		changed.classes, changedGroups, false, func(d *decoded) ([]networkingv1.IngressClass, []string) { return d.classes, d.origins.classes },
		func(o *networkingv1.IngressClass) identity { return identity{kind: "IngressClass", name: o.Name} })
	l.Input.IngressClasses, l.origins.classes, l.duplicates.classes, l.counts.classes = classes.values, classes.origins, classes.duplicates, classes.counts
	// The Service and Secret pointers are into the decoded documents, which a Reader keeps
	// while their file is unchanged: the same Service keeps its pointer.
	services := mergeKind(groups, mergedKind[corev1.Service]{values: prev.Input.Services, pointers: prev.Services, origins: prev.origins.services, duplicates: prev.duplicates.services, counts: prev.counts.services},
		changed.services, changedGroups, true, func(d *decoded) ([]corev1.Service, []string) { return d.services, d.origins.services },
		func(o *corev1.Service) identity {
			return identity{kind: "Service", namespace: o.Namespace, name: o.Name}
		})
	l.Input.Services, l.Services, l.origins.services, l.duplicates.services, l.counts.services = services.values, services.pointers, services.origins, services.duplicates, services.counts
	secrets := mergeKind(groups, mergedKind[corev1.Secret]{values: prev.Input.Secrets, pointers: prev.Secrets, origins: prev.origins.secrets, duplicates: prev.duplicates.secrets, counts: prev.counts.secrets},
		changed.secrets, changedGroups, true, func(d *decoded) ([]corev1.Secret, []string) { return d.secrets, d.origins.secrets },
		func(o *corev1.Secret) identity { return identity{kind: "Secret", namespace: o.Namespace, name: o.Name} })
	l.Input.Secrets, l.Secrets, l.origins.secrets, l.duplicates.secrets, l.counts.secrets = secrets.values, secrets.pointers, secrets.origins, secrets.duplicates, secrets.counts
	configMaps := mergeKind(groups, mergedKind[corev1.ConfigMap]{values: prev.configMaps, origins: prev.origins.configMaps, duplicates: prev.duplicates.configMaps, counts: prev.counts.configMaps},
		changed.configMaps, changedGroups, false, func(d *decoded) ([]corev1.ConfigMap, []string) { return d.cms, d.origins.configMaps },
		func(o *corev1.ConfigMap) identity {
			return identity{kind: "ConfigMap", namespace: o.Namespace, name: o.Name}
		})
	l.configMaps, l.origins.configMaps, l.duplicates.configMaps, l.counts.configMaps = configMaps.values, configMaps.origins, configMaps.duplicates, configMaps.counts
	objects := mergeKind(groups, mergedKind[client.Object]{values: prev.Objects, origins: prev.origins.objects, duplicates: prev.duplicates.objects, counts: prev.counts.objects},
		changed.objects, changedGroups, false, func(d *decoded) ([]client.Object, []string) { return d.objects, d.origins.objects }, objectIdentity)
	l.Objects, l.origins.objects, l.duplicates.objects, l.counts.objects = objects.values, objects.origins, objects.duplicates, objects.counts
	d := &l.duplicates
	for _, dups := range [][]Problem{d.ingresses, d.classes, d.services, d.secrets, d.configMaps, d.objects} {
		l.Problems = append(l.Problems, dups...)
	}
	l.pickConfigMap(opts.ConfigMap)
	return l
}

// mergedKind is what a Loaded holds of one kind: the objects (values, and pointers into
// the decoded documents when the kind keeps them), where each was read, the Problems of
// duplicates, and how many objects each group held (nil when the kind has duplicates, so
// that no group's objects are a run of values).
type mergedKind[T any] struct {
	values     []T
	pointers   []*T
	origins    []string
	duplicates []Problem
	counts     []int
	// spliced: this merge spliced changed groups into the previous one (splice).
	spliced bool
}

// mergeKind merges one kind: prev's when the kind did not change, prev's with the changed
// groups' spliced in when it can (splice), all groups anew otherwise. pointers says
// whether the kind keeps pointers.
func mergeKind[T any](groups [][]decoded, prev mergedKind[T], changed bool, changedGroups []bool, pointers bool, of func(*decoded) ([]T, []string), identify func(*T) identity) mergedKind[T] {
	if !changed {
		if changedGroups == nil && prev.counts != nil {
			// Files without objects of this kind came or went: the counts are by position.
			prev.counts = groupCounts(groups, of)
		}
		return prev
	}
	if m, ok := splice(groups, prev, changedGroups, pointers, of, identify); ok {
		return m
	}
	kept, origins, dups := collect(groups, of, identify)
	m := mergedKind[T]{values: values(kept), origins: origins, duplicates: dups}
	if pointers {
		m.pointers = kept
	}
	if dups == nil {
		m.counts = groupCounts(groups, of)
	}
	return m
}

// groupCounts is how many objects of one kind each group holds.
func groupCounts[T any](groups [][]decoded, of func(*decoded) ([]T, []string)) []int {
	counts := make([]int, len(groups))
	for gi, g := range groups {
		for i := range g {
			objs, _ := of(&g[i])
			counts[gi] += len(objs)
		}
	}
	return counts
}

// splice is collect for a Read that changed only the groups changedGroups marks, when
// prev had no duplicates and each changed group defines the same objects (kind, namespace,
// name), in the same order, as before — an edit of objects, not of which objects there
// are: prev's objects with each changed group's run replaced by its new objects. The
// result is what collect would return, at the cost of the changed groups. ok is false
// when that does not hold (the caller collects anew).
func splice[T any](groups [][]decoded, prev mergedKind[T], changedGroups []bool, pointers bool, of func(*decoded) ([]T, []string), identify func(*T) identity) (m mergedKind[T], ok bool) {
	if changedGroups == nil || len(changedGroups) != len(groups) || len(prev.counts) != len(groups) || (pointers && len(prev.pointers) != len(prev.values)) {
		return m, false
	}
	// First check every changed group, so that nothing is copied for a Read that fails.
	start := 0
	for gi, g := range groups {
		n := prev.counts[gi]
		if start+n > len(prev.values) {
			return m, false
		}
		if changedGroups[gi] && !sameIdentities(g, prev.values[start:start+n], of, identify) {
			return m, false
		}
		start += n
	}
	m = mergedKind[T]{values: slices.Clone(prev.values), origins: slices.Clone(prev.origins), counts: prev.counts, spliced: true}
	if pointers {
		m.pointers = slices.Clone(prev.pointers)
	}
	start = 0
	for gi, g := range groups {
		if !changedGroups[gi] {
			start += prev.counts[gi]
			continue
		}
		for i := range g {
			objs, from := of(&g[i])
			for j := range objs {
				m.values[start] = objs[j]
				m.origins[start] = ""
				if j < len(from) {
					m.origins[start] = from[j]
				}
				if pointers {
					m.pointers[start] = &objs[j]
				}
				start++
			}
		}
	}
	return m, true
}

// sameIdentities says whether the documents g define the objects before names, in order.
func sameIdentities[T any](g []decoded, before []T, of func(*decoded) ([]T, []string), identify func(*T) identity) bool {
	k := 0
	for i := range g {
		objs, _ := of(&g[i])
		for j := range objs {
			if k == len(before) || identify(&objs[j]) != identify(&before[k]) {
				return false
			}
			k++
		}
	}
	return k == len(before)
}

// identity is what names an object in a cluster: two objects with one identity are one
// object, and the later overwrites the earlier.
type identity struct{ group, kind, namespace, name string }

func objectIdentity(o *client.Object) identity {
	gvk := (*o).GetObjectKind().GroupVersionKind()
	return identity{group: gvk.Group, kind: gvk.Kind, namespace: (*o).GetNamespace(), name: (*o).GetName()}
}

// collect returns the objects of one kind of all groups, in order, each identity once (its
// last definition), with where each was read, and a Problem for every earlier definition.
// The objects are pointers into groups.
func collect[T any](groups [][]decoded, of func(*decoded) ([]T, []string), identify func(*T) identity) (kept []*T, origins []string, duplicates []Problem) {
	// each calls visit for every object, in order, with its position and origin.
	each := func(visit func(pos int, o *T, origin string)) {
		pos := 0
		for _, g := range groups {
			for i := range g {
				objs, from := of(&g[i])
				for j := range objs {
					origin := ""
					if j < len(from) {
						origin = from[j]
					}
					visit(pos, &objs[j], origin)
					pos++
				}
			}
		}
	}
	type definition struct {
		pos    int
		origin string
	}
	n := 0
	each(func(int, *T, string) { n++ })
	if n == 0 {
		return nil, nil, nil
	}
	last := make(map[identity]definition, n)
	each(func(pos int, o *T, origin string) { last[identify(o)] = definition{pos, origin} })
	kept, origins = make([]*T, 0, len(last)), make([]string, 0, len(last))
	if len(last) == n {
		// No identity twice (the usual case): every object is kept, no lookups.
		each(func(_ int, o *T, origin string) { kept, origins = append(kept, o), append(origins, origin) })
		return kept, origins, nil
	}
	each(func(pos int, o *T, origin string) {
		id := identify(o)
		winner := last[id]
		if winner.pos == pos {
			kept, origins = append(kept, o), append(origins, origin)
			return
		}
		duplicates = append(duplicates, duplicateProblem(id, origin, winner.origin))
	})
	return kept, origins, duplicates
}

// duplicateProblem says that the object id read at earlier is defined again at later.
func duplicateProblem(id identity, earlier, later string) Problem {
	return Problem{Source: earlier, Kind: id.kind, Name: qualified(id.namespace, id.name),
		Message: "is defined again in " + later + ", which is used (the later definition wins, as with kubectl apply of the files in this order); this one is not: remove or rename one of them"}
}

// values copies the objects ptrs point to (nil for none, as appending nothing leaves it).
func values[T any](ptrs []*T) []T {
	if len(ptrs) == 0 {
		return nil
	}
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}
