package xds

import (
	"strconv"
	"strings"

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
// unchanged as they are. To state-of-the-world clients that is a new version of the set.
// To delta clients it is a new version of each of those resources: the version they are
// sent is "<hash>~<snapshot version>" (a mark, resourceSet.marks) instead of the hash, so
// the resources differ from what every client holds. A client whose endpoints watch is not
// open at the publish (a response to it in flight) compares its versions with the marks
// when it asks next, and gets them then; a per-publish "send these anyway" flag would be
// lost for it. Marks stay while the content does not change (carried to the next sets),
// so a client is not sent the same assignment twice; they are transport, never content
// (sameAs and changedKinds ignore them).

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

// markSeparator separates a resource's hash from the snapshot version of its mark.
const markSeparator = "~"

// contentVersion is the content hash of a version a delta client was sent: the version
// itself, or what precedes its mark.
func contentVersion(version string) string {
	hash, _, _ := strings.Cut(version, markSeparator)
	return hash
}

// markedResent returns s, the endpoints set of a publish stamped with version, with the
// names of resend marked as sent again at version and the marks of prev (the set published
// before) kept where the content did not change. s is returned as it is when there is
// nothing to mark or it is prev, unchanged and with nothing sent again. A set that gets
// new marks while its content is prev's is given version: state-of-the-world clients are
// sent a type again only when its version changes.
func (s *resourceSet) markedResent(prev *resourceSet, resend map[string]bool, version uint64) *resourceSet {
	if len(resend) == 0 && (s == prev || len(prev.marks) == 0) {
		return s
	}
	marks := make(map[string]string, len(prev.marks)+len(resend))
	for name, mark := range prev.marks {
		if c, ok := s.checked[name]; ok && strings.HasPrefix(mark, c.hash+markSeparator) {
			marks[name] = mark
		}
	}
	for name := range resend {
		if c, ok := s.checked[name]; ok {
			marks[name] = c.hash + markSeparator + strconv.FormatUint(version, 10)
		}
	}
	set := *s
	if s == prev {
		set.copyOf = s.original()
		set.version = version
		set.sotw = &sotwForm{}
	}
	set.marks = marks
	return &set
}
