package xds

import (
	"maps"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// Load assignments sent again.
//
// An EDS cluster that Envoy gets anew or changed does not serve until it "warms": until it
// has received its load assignment in an EDS response after the cluster came. A load
// assignment that did not change is not sent again by an xDS server that only sends what
// changed — so such a cluster waits for its initial_fetch_timeout (15 s by default) and then
// warms with the assignment Envoy cached. With ADS, Envoy also holds back the listener and
// route updates that came after the cluster until it has warmed: an annotation that changes
// a cluster (an affinity, a load-balancing algorithm, a timeout, backend TLS) would go live
// only after that timeout, and every change published behind it too (envoyproxy/envoy
// #13009 and #26749 describe the behaviour; the protocol leaves it to the server).
//
// So each publish sends again the load assignments of the clusters it adds or changes,
// unchanged as they are: to delta clients as resources of the same version
// (deltaWatches.changes), to state-of-the-world clients as a new version of the set
// (config.reusing), which is what Envoy waits for.

// endpointsToResend returns the names of c's load assignments that a cluster added or
// changed since prev uses, or nil. It costs a pass over the clusters only when their set
// changed.
func endpointsToResend(prev, c *config) map[string]bool {
	if prev == nil || c.sets[kindCluster].sameAs(prev.sets[kindCluster]) {
		return nil
	}
	before, endpoints := prev.sets[kindCluster], c.sets[kindEndpoint]
	var resend map[string]bool
	for name, cl := range c.sets[kindCluster].checked {
		if old, ok := before.checked[name]; ok && old.hash == cl.hash {
			continue
		}
		eds := edsAssignmentName(cl.item)
		if eds == "" || !endpoints.has(eds) {
			continue
		}
		if resend == nil {
			resend = map[string]bool{}
		}
		resend[eds] = true
	}
	return resend
}

// edsAssignmentName returns the load assignment an EDS cluster asks for, "" for a cluster
// of another type (or one whose encoding cannot be read, which validation refused).
func edsAssignmentName(item types.Resource) string {
	switch cl := item.(type) {
	case *EncodedCluster:
		name, err := edsReference(cl)
		if err != nil {
			return ""
		}
		return name
	case *clusterv3.Cluster:
		if cl.GetType() == clusterv3.Cluster_EDS {
			return edsServiceName(cl)
		}
	}
	return ""
}

// withResent returns diff with the names of resend added to those changed (kept sorted),
// and marks them resent so that they are sent even to a client that holds their version.
func (diff *setDiff) withResent(resend map[string]bool) *setDiff {
	if len(resend) == 0 {
		return diff
	}
	out := &setDiff{removed: diff.removed, resent: resend}
	out.changed = slices.Sorted(maps.Keys(resend))
	for _, name := range diff.changed {
		if !resend[name] {
			out.changed = append(out.changed, name)
		}
	}
	slices.Sort(out.changed)
	return out
}
