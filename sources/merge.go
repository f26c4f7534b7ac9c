package sources

import (
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
	return mergeReusing(groups, opts, nil, allKinds)
}

// mergeReusing is merge taking the objects of the kinds that did not change from prev
// (when not nil): a reload after an Ingress edit does not copy 10,000 Services again.
//
// An object defined more than once (same kind, namespace and name) is kept once: the last
// definition wins, as `kubectl apply` of the files in that order would, and each earlier
// one is a Problem naming both places. The objects of a kind that did not change are the
// same objects as before, so their duplicates, and the Problems about them, are reused too.
func mergeReusing(groups [][]decoded, opts Options, prev *Loaded, changed kindSet) *Loaded {
	if prev == nil {
		changed = allKinds
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
	if changed.ingresses {
		kept, origins, dups := collect(groups, func(d *decoded) ([]networkingv1.Ingress, []string) { return d.ingresses, d.origins.ingresses },
			func(o *networkingv1.Ingress) identity {
				return identity{kind: "Ingress", namespace: o.Namespace, name: o.Name}
			})
		l.Input.Ingresses, l.origins.ingresses, l.duplicates.ingresses = values(kept), origins, dups
	} else {
		l.Input.Ingresses, l.origins.ingresses, l.duplicates.ingresses = prev.Input.Ingresses, prev.origins.ingresses, prev.duplicates.ingresses
	}
	if changed.classes {
		kept, origins, dups := collect(groups, func(d *decoded) ([]networkingv1.IngressClass, []string) { return d.classes, d.origins.classes },
			func(o *networkingv1.IngressClass) identity { return identity{kind: "IngressClass", name: o.Name} })
		l.Input.IngressClasses, l.origins.classes, l.duplicates.classes = values(kept), origins, dups
	} else {
		l.Input.IngressClasses, l.origins.classes, l.duplicates.classes = prev.Input.IngressClasses, prev.origins.classes, prev.duplicates.classes
	}
	if changed.services {
		kept, origins, dups := collect(groups, func(d *decoded) ([]corev1.Service, []string) { return d.services, d.origins.services },
			func(o *corev1.Service) identity {
				return identity{kind: "Service", namespace: o.Namespace, name: o.Name}
			})
		// The pointers are into the decoded documents, which a Reader keeps while their
		// file is unchanged: the same Service keeps its pointer.
		l.Services, l.Input.Services, l.origins.services, l.duplicates.services = kept, values(kept), origins, dups
	} else {
		l.Services, l.Input.Services, l.origins.services, l.duplicates.services = prev.Services, prev.Input.Services, prev.origins.services, prev.duplicates.services
	}
	if changed.secrets {
		kept, origins, dups := collect(groups, func(d *decoded) ([]corev1.Secret, []string) { return d.secrets, d.origins.secrets },
			func(o *corev1.Secret) identity { return identity{kind: "Secret", namespace: o.Namespace, name: o.Name} })
		l.Secrets, l.Input.Secrets, l.origins.secrets, l.duplicates.secrets = kept, values(kept), origins, dups
	} else {
		l.Secrets, l.Input.Secrets, l.origins.secrets, l.duplicates.secrets = prev.Secrets, prev.Input.Secrets, prev.origins.secrets, prev.duplicates.secrets
	}
	if changed.configMaps {
		kept, origins, dups := collect(groups, func(d *decoded) ([]corev1.ConfigMap, []string) { return d.cms, d.origins.configMaps },
			func(o *corev1.ConfigMap) identity {
				return identity{kind: "ConfigMap", namespace: o.Namespace, name: o.Name}
			})
		l.configMaps, l.origins.configMaps, l.duplicates.configMaps = values(kept), origins, dups
	} else {
		l.configMaps, l.origins.configMaps, l.duplicates.configMaps = prev.configMaps, prev.origins.configMaps, prev.duplicates.configMaps
	}
	if changed.objects {
		kept, origins, dups := collect(groups, func(d *decoded) ([]client.Object, []string) { return d.objects, d.origins.objects }, objectIdentity)
		l.Objects, l.origins.objects, l.duplicates.objects = values(kept), origins, dups
	} else {
		l.Objects, l.origins.objects, l.duplicates.objects = prev.Objects, prev.origins.objects, prev.duplicates.objects
	}
	d := &l.duplicates
	for _, dups := range [][]Problem{d.ingresses, d.classes, d.services, d.secrets, d.configMaps, d.objects} {
		l.Problems = append(l.Problems, dups...)
	}
	l.pickConfigMap(opts.ConfigMap)
	return l
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
