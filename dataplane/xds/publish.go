package xds

import (
	"errors"
	"fmt"
	"slices"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Publish makes res the configuration every Envoy is served.
//
// res is validated first (see newResourceSet and resolveReferences); if anything is wrong
// the snapshot being served is left alone, the failure is counted, and the error names the
// offending resource. Scoped route configurations, route configurations,
// ClusterLoadAssignments and secrets that no listener or cluster uses are left out. If what
// remains has exactly the content of the snapshot being served, nothing is published and
// published is false: clients are not pushed anything. Otherwise a snapshot with the next
// version ("1", "2", …) is published.
//
// Within a snapshot each resource type keeps the version of the snapshot that last changed
// it, so a state-of-the-world client is only re-sent the types that changed, and a delta
// client only the resources that changed (delta versions are per-resource content hashes).
//
// The protos of res are taken as they are, and none may be mutated afterwards. The cache
// serves those very protos to every client; and since validating and hashing tens of
// thousands of resources on every call would dominate its cost, a resource that is the same
// proto pointer, under the same name, as in the last input that passed validation is taken
// to be unchanged: it is neither validated nor hashed again. So callers build a new proto
// for each changed resource and may hand unchanged ones over again by pointer. Resources
// and its slices are not kept and may be reused.
func (s *Server) Publish(res *Resources) (published bool, err error) {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()

	c, err := newConfig(res, s.inputs)
	if err != nil {
		return false, s.rejected(err)
	}
	// Each resource passed its own validation, whatever resolving references finds.
	s.inputs = c.sets
	c, err = s.resolve(c)
	if err != nil {
		return false, err
	}
	// Additions and removals reach connected Envoys make-before-break (stages.go).
	return s.publishStaged(c)
}

// PublishEndpoints replaces only the ClusterLoadAssignments of the snapshot being served,
// keeping its listeners, routes, clusters and secrets — the same proto pointers and the same
// versions — so an endpoint change reaches Envoy without rebuilding routes. The rules of
// Publish apply: eps must contain a ClusterLoadAssignment for each EDS cluster (others are
// left out), an invalid input changes nothing, an unchanged one publishes nothing, and a
// ClusterLoadAssignment handed over must never be mutated afterwards.
func (s *Server) PublishEndpoints(eps []*endpointv3.ClusterLoadAssignment) (bool, error) {
	s.publishMu.Lock()
	defer s.publishMu.Unlock()

	current := s.currentConfig()
	if current == nil {
		return false, s.rejected(errors.New("no snapshot to update the endpoints of: Publish first"))
	}
	endpoints, err := newResourceSet(kindEndpoint, asResources(eps, s.inputs[kindEndpoint]), s.inputs[kindEndpoint])
	if err != nil {
		return false, s.rejected(err)
	}
	s.inputs[kindEndpoint] = endpoints
	return s.resolveAndPublish(current.with(kindEndpoint, endpoints))
}

// resolveAndPublish checks c's references, leaves out what nothing uses and publishes the
// rest.
func (s *Server) resolveAndPublish(c *config) (bool, error) {
	c, err := s.resolve(c)
	if err != nil {
		return false, err
	}
	return s.publish(c)
}

// resolve checks c's references and leaves out what nothing uses.
func (s *Server) resolve(c *config) (*config, error) {
	c, unused, err := resolveReferences(c, &s.clusterRefs)
	if err != nil {
		return nil, s.rejected(err)
	}
	if len(unused) > 0 {
		s.log.V(1).Info("leaving out of the snapshot resources nothing uses", "resources", unused)
	}
	return c, nil
}

func (s *Server) currentConfig() *config {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return nil
	}
	return s.current.config
}

// rejected counts a configuration that failed validation and returns its error.
func (s *Server) rejected(err error) error {
	s.mu.Lock()
	s.counts.validationFailures++
	version := s.versionLocked()
	s.mu.Unlock()
	s.log.Error(err, "rejected xDS configuration, still serving the previous snapshot", "version", version)
	return fmt.Errorf("xds: configuration rejected: %w", err)
}

// publish sets c as the next snapshot unless it has the content of the current one. The
// caller holds publishMu and has validated c.
func (s *Server) publish(c *config) (bool, error) {
	s.mu.Lock()
	prev := s.current
	s.mu.Unlock()

	var prevConfig *config
	version := uint64(1)
	if prev != nil {
		prevConfig, version = prev.config, prev.version+1
	}
	changed := c.changedKinds(prevConfig)
	if len(changed) == 0 {
		s.log.V(1).Info("xDS configuration unchanged, nothing to publish", "version", prev.version)
		return false, nil
	}
	resend := endpointsToResend(prevConfig, c)
	c = c.reusing(prevConfig, version)
	if prevConfig != nil {
		c.sets[kindEndpoint] = c.sets[kindEndpoint].markedResent(prevConfig.sets[kindEndpoint], resend, version)
	}

	// resolveReferences already guarantees what the cache checks here (every RDS and EDS
	// name used exists, and nothing else); this is a second opinion on our own code. It
	// walks every cluster, so it is skipped when no reference can have changed since the
	// last snapshot passed it.
	if !sameReferences(c, prevConfig, changed) {
		if err := c.consistent(); err != nil {
			return false, s.rejected(fmt.Errorf("inconsistent snapshot: %w", err))
		}
	}

	// Record the new state before the cache can send it, so that ACKs of it are understood.
	s.mu.Lock()
	s.current = &publishedConfig{version: version, config: c}
	s.recordHistoryLocked(version, c)
	s.counts.published++
	s.notifyLocked()
	s.mu.Unlock()

	// The cache stores the snapshot before answering watches; an error here means some
	// watch could not be answered, yet the snapshot is the one served from now on.
	if err := s.cache.publish(s.opts.NodeID, c); err != nil {
		return true, fmt.Errorf("xds: snapshot %d published but not sent to every client: %w", version, err)
	}
	s.log.Info("published xDS snapshot", "version", version, "changed", kindNames(changed), "counts", c.counts())
	return true, nil
}

// reusing returns c with the sets that did not change since prev replaced by prev's, which
// keeps their versions and proto pointers, and with the changed sets stamped with version.
func (c *config) reusing(prev *config, version uint64) *config {
	out := &config{}
	for k := range numKinds {
		if prev != nil && c.sets[k].sameAs(prev.sets[k]) {
			out.sets[k] = prev.sets[k]
			continue
		}
		set := *c.sets[k]
		set.copyOf = c.sets[k].original()
		set.version = version
		set.sotw = &sotwForm{}
		out.sets[k] = &set
	}
	return out
}

// consistent is the second opinion on c's references: go-control-plane's
// Snapshot.Consistent, which reads clusters as protos. Clusters held encoded would have to
// be decoded for it (10,000: ~8 MB at once, on every change of the cluster set), so when
// there are any, the snapshot it checks leaves clusters and load assignments out, and
// edsReferencesMatch checks those from the clusters' encodings the way it would.
func (c *config) consistent() error {
	clusters := c.sets[kindCluster]
	encoded := slices.ContainsFunc(clusters.items, func(r types.Resource) bool {
		_, ok := r.(*EncodedCluster)
		return ok
	})
	if !encoded {
		return c.snapshot(false).Consistent()
	}
	snapshot := c.with(kindCluster, &resourceSet{}).with(kindEndpoint, &resourceSet{}).snapshot(false)
	if err := snapshot.Consistent(); err != nil {
		return err
	}
	return edsReferencesMatch(clusters, c.sets[kindEndpoint])
}

// snapshot builds the cache snapshot of a published config. The version map is filled in
// from our hashes, which are exactly what the cache would compute for delta clients. keep
// says the snapshot goes to the cache (sotwMaps).
func (c *config) snapshot(keep bool) *cachev3.Snapshot {
	snapshot := &cachev3.Snapshot{VersionMap: make(map[string]map[string]string, numKinds)}
	for k := range numKinds {
		typeURL := k.typeURL()
		snapshot.Resources[cachev3.GetResponseType(typeURL)], snapshot.VersionMap[typeURL] = c.sets[k].sotwMaps(keep)
	}
	return snapshot
}

// counts returns how many resources of each kind c has, for logs.
func (c *config) counts() map[string]int {
	out := make(map[string]int, numKinds)
	for k := range numKinds {
		out[k.String()] = len(c.sets[k].items)
	}
	return out
}

func kindNames(kinds []kind) []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.String()
	}
	return names
}

// sameReferences reports whether c refers and can be referred to exactly as prev, the
// last published config: only route configurations and load assignments changed, and
// under the same names (they refer to nothing Consistent checks; listeners, scoped routes
// and clusters, which refer to them, are the same sets).
func sameReferences(c, prev *config, changed []kind) bool {
	if prev == nil {
		return false
	}
	for _, k := range changed {
		if k != kindRoute && k != kindEndpoint || !sameNames(c.sets[k], prev.sets[k]) {
			return false
		}
	}
	return true
}

// sameNames reports whether two sets hold resources of the same names.
func sameNames(a, b *resourceSet) bool {
	if len(a.checked) != len(b.checked) {
		return false
	}
	for name := range a.checked {
		if !b.has(name) {
			return false
		}
	}
	return true
}
