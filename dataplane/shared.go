package dataplane

import (
	"maps"
	"slices"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// routeResources are the clusters and load assignments the HTTPRoute results of the
// translations add, counted by result, kept from one translation to the next while the
// memo keeps the results. A translation that replays every result but a few counts only
// the results that changed, and its sorted lists of clusters and load assignments are the
// previous ones with the names those results added or dropped patched in (patchSorted):
// one changed HTTPRoute among 10,000 does not put 20,000 names through a map and look
// them all up again.
type routeResources struct {
	clusters        *counted[*xds.EncodedCluster]
	loadAssignments *counted[*endpointv3.ClusterLoadAssignment]
	// others are the clusters and load assignments the last translation made besides
	// HTTPRoutes (the bridge's, the authorization service's, TLSRoutes'): compared with
	// the next translation's, so that names they gain or lose are patched in too.
	otherClusters        map[string]*xds.EncodedCluster
	otherLoadAssignments map[string]*endpointv3.ClusterLoadAssignment
}

func newRouteResources() *routeResources {
	return &routeResources{
		clusters:        newCounted((*xds.EncodedCluster).Same),
		loadAssignments: newCounted(protoEqual[*endpointv3.ClusterLoadAssignment]),
	}
}

// add counts the resources of res; replace says whether a resource with a name already
// counted but another content takes that name over (a result made by this translation,
// whose content is current) or not (a result replayed, or every result counted from
// nothing, where the first wins, as merging them in route order does).
func (rr *routeResources) add(res *routeResult, replace bool) {
	rr.clusters.add(res.clusters, replace)
	rr.loadAssignments.add(res.loadAssignments, replace)
}

// remove uncounts the resources of res.
func (rr *routeResources) remove(res *routeResult) {
	rr.clusters.remove(res.clusters)
	rr.loadAssignments.remove(res.loadAssignments)
}

// count updates the counts from prev, a port group's results in the previous translation
// (nil if none), to cur, its results in this one: when both list the same number of
// HTTPRoutes (the places are aligned, see previousResult), only the places whose result
// changed; else every result.
func (m *memo) count(prev, cur []*routeResult) {
	rr := m.resources
	replace := func(r *routeResult) bool { return !m.freshResources && r.gen == m.gen }
	if len(prev) == len(cur) {
		for i := range cur {
			if prev[i] != cur[i] {
				rr.remove(prev[i])
				rr.add(cur[i], replace(cur[i]))
			}
		}
		return
	}
	for _, r := range prev {
		rr.remove(r)
	}
	for _, r := range cur {
		rr.add(r, replace(r))
	}
}

// clustersAndLoadAssignments returns the translation's clusters and load assignments,
// sorted by name: those its HTTPRoute results add (counted) and others, the ones it made
// besides HTTPRoutes. The port groups the previous translation had and this one has not
// are uncounted first.
func (m *memo) clustersAndLoadAssignments(others map[string]*xds.EncodedCluster, otherLAs map[string]*endpointv3.ClusterLoadAssignment) ([]*xds.EncodedCluster, []*endpointv3.ClusterLoadAssignment) {
	rr := m.resources
	for group, results := range m.results {
		if _, ok := m.nextResults[group]; !ok {
			for _, r := range results {
				rr.remove(r)
			}
		}
	}
	touched, touchedLAs := rr.clusters.flush(), rr.loadAssignments.flush()
	laName := func(c *endpointv3.ClusterLoadAssignment) string { return c.ClusterName }
	var clusters []*xds.EncodedCluster
	var las []*endpointv3.ClusterLoadAssignment
	if m.freshResources {
		clusters = sortedValues(rr.clusters.all(others), m.order.clusters, (*xds.EncodedCluster).GetName, (*xds.EncodedCluster).Same)
		las = sortedValues(rr.loadAssignments.all(otherLAs), m.order.loadAssignments, laName, protoEqual)
	} else {
		clusters = patchSorted(m.order.clusters, rr.clusters, touched, others, rr.otherClusters, (*xds.EncodedCluster).GetName)
		las = patchSorted(m.order.loadAssignments, rr.loadAssignments, touchedLAs, otherLAs, rr.otherLoadAssignments, laName)
	}
	// others are maps the next translation empties and reuses (spareMaps).
	rr.otherClusters, rr.otherLoadAssignments = maps.Clone(others), maps.Clone(otherLAs)
	return clusters, las
}

// counted is a set of named resources, each counted by the results that add it. A name
// whose count falls to zero stays until flush, so that a result translated anew with the
// same resource keeps the very same proto.
type counted[T comparable] struct {
	entries map[string]*countedEntry[T]
	// touched are the names whose presence or value changed since the last flush.
	touched map[string]bool
	same    func(a, b T) bool
}

type countedEntry[T comparable] struct {
	value T
	refs  int
}

func newCounted[T comparable](same func(a, b T) bool) *counted[T] {
	return &counted[T]{entries: map[string]*countedEntry[T]{}, touched: map[string]bool{}, same: same}
}

func (c *counted[T]) add(list []named[T], replace bool) {
	for _, kv := range list {
		e := c.entries[kv.name]
		switch {
		case e == nil:
			c.entries[kv.name] = &countedEntry[T]{value: kv.value, refs: 1}
			c.touched[kv.name] = true
			continue
		case e.refs == 0:
			c.touched[kv.name] = true
		}
		e.refs++
		if replace && e.value != kv.value && !c.same(e.value, kv.value) {
			e.value = kv.value
			c.touched[kv.name] = true
		}
	}
}

func (c *counted[T]) remove(list []named[T]) {
	for _, kv := range list {
		if e := c.entries[kv.name]; e != nil {
			e.refs--
			if e.refs == 0 {
				c.touched[kv.name] = true
			}
		}
	}
}

// get returns the value counted under name, if any result adds it.
func (c *counted[T]) get(name string) (T, bool) {
	if e := c.entries[name]; e != nil && e.refs > 0 {
		return e.value, true
	}
	var zero T
	return zero, false
}

// flush drops the names no result adds any more and returns the names touched since the
// last flush.
func (c *counted[T]) flush() map[string]bool {
	touched := c.touched
	for name := range touched {
		if e := c.entries[name]; e != nil && e.refs <= 0 {
			delete(c.entries, name)
		}
	}
	c.touched = map[string]bool{}
	return touched
}

// all returns every counted resource and others (others win a name both have: equal
// names are equal content), for a translation from nothing.
func (c *counted[T]) all(others map[string]T) map[string]T {
	out := make(map[string]T, len(c.entries)+len(others))
	for name, e := range c.entries {
		if e.refs > 0 {
			out[name] = e.value
		}
	}
	for name, v := range others {
		out[name] = v
	}
	return out
}

// patchSorted returns prev, the previous translation's resources sorted by name, with
// the names that may have changed patched in: touched (by the counts), and those others
// (this translation's resources besides HTTPRoutes) or prevOthers (the previous one's)
// name. A name's value is others', else the counted one, else the name is gone. A value
// with the content of prev's under the same name is prev's (see sortedValues). prev
// itself is returned when nothing changed.
func patchSorted[T comparable](prev []T, c *counted[T], touched map[string]bool, others, prevOthers map[string]T, name func(T) string) []T {
	names := make([]string, 0, len(touched)+len(others)+len(prevOthers))
	for n := range touched {
		names = append(names, n)
	}
	for n := range others {
		names = append(names, n)
	}
	for n := range prevOthers {
		names = append(names, n)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	type change struct {
		at      int // the place of the name in prev (or where it goes)
		found   bool
		value   T
		present bool
	}
	var changes []change
	for _, n := range names {
		v, present := others[n]
		if !present {
			v, present = c.get(n)
		}
		at, found := slices.BinarySearchFunc(prev, n, func(x T, n string) int { return strings.Compare(name(x), n) })
		switch {
		case found && present && (prev[at] == v || c.same(prev[at], v)):
			continue // unchanged
		case !found && !present:
			continue
		}
		changes = append(changes, change{at: at, found: found, value: v, present: present})
	}
	if len(changes) == 0 {
		return prev
	}
	out := make([]T, 0, len(prev)+len(changes))
	i := 0
	for _, ch := range changes {
		out = append(out, prev[i:ch.at]...)
		i = ch.at
		if ch.found {
			i++ // replaced or removed
		}
		if ch.present {
			out = append(out, ch.value)
		}
	}
	return append(out, prev[i:]...)
}
