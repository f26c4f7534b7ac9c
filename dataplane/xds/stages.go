package xds

import (
	"context"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// Make before break.
//
// Envoy applies each resource type as it arrives, and a change that adds or removes
// resources is only safe in one order: what is referred to must exist before what refers to
// it, and must stay until nothing refers to it any more. ADS delivers types one by one, and
// some references are not even xDS references: gatebridge's scope filter picks a scoped
// route table by a key it reads from the directory table (docs/dataplane.md), so a
// directory that names a new host before Envoy holds the host's scope and table — or that
// still names a removed host after its scope is gone — answers that host's requests 404.
// Likewise a route that already names a new cluster Envoy does not have yet answers 503.
//
// So when clients are connected, Publish reaches the new configuration in up to three
// snapshots, each acknowledged before the next:
//
//  1. make: the current configuration plus every resource the new one adds (new clusters,
//     endpoints, scopes and tables); what changes keeps its current content, so nothing
//     refers to the additions yet;
//  2. switch: the new configuration (listeners and secrets included) plus every other
//     resource it removes, which nothing refers to any more;
//  3. the new configuration itself.
//
// A stage with nothing to add (or remove) is skipped, so a change that only modifies
// resources is one snapshot, as before. A stage that is not acknowledged within
// stageAckTimeout (an Envoy that is slow or rejects it) does not hold the change back:
// the next stage follows, as a single snapshot would have.

// stageAckTimeout bounds the wait for each intermediate stage's ACK.
const stageAckTimeout = 2 * time.Second

// publishStaged publishes target, the validated configuration to serve, through the stages
// above. The caller holds publishMu.
func (s *Server) publishStaged(target *config) (bool, error) {
	prev := s.currentConfig()
	if prev == nil || !s.hasClients() {
		return s.publish(target)
	}
	if mk, ok := stageWith(prev, target); ok {
		s.publishStage("make", mk)
	}
	if sw, ok := stageWith(target, prev); ok {
		s.publishStage("switch", sw)
	}
	return s.publish(target)
}

// publishStage publishes an intermediate stage and waits, bounded, for its ACK.
func (s *Server) publishStage(name string, c *config) {
	published, err := s.publish(c)
	if err != nil || !published {
		if err != nil {
			s.log.Error(err, "intermediate xDS stage not published; going on with the next", "stage", name)
		}
		return
	}
	version := s.versionString()
	ctx, cancel := context.WithTimeout(context.Background(), stageAckTimeout)
	defer cancel()
	if err := s.WaitForAck(ctx, version); err != nil {
		s.log.Info("intermediate xDS stage not acknowledged in time; going on with the next", "stage", name, "version", version, "reason", err.Error())
	}
}

// stageWith returns base with every resource of extra that base has no resource of that
// name for, of every kind but listeners and secrets, and whether there was any.
//
// Listeners are the top of the reference graph: nothing refers to them, so a new one can
// come with the switch and a removed one can go with it. Staging them would even be wrong:
// a listener renamed on the same address would be published twice over one port, which
// Envoy rejects. Envoy asks for a secret only once a listener or cluster names it, so a new
// secret published ahead would never be acknowledged; it need not be: a listener or
// cluster that names one waits for it (warms) before it is used.
func stageWith(base, extra *config) (*config, bool) {
	out := &config{}
	added := false
	for k := range numKinds {
		if k == kindSecret || k == kindListener {
			out.sets[k] = base.sets[k]
			continue
		}
		set, some := unionSet(base.sets[k], extra.sets[k])
		out.sets[k] = set
		added = added || some
	}
	return out, added
}

// unionSet is base plus the resources of extra whose names base lacks (reusing what
// validating them found), and whether there were any; base itself when none.
func unionSet(base, extra *resourceSet) (*resourceSet, bool) {
	if base.original() == extra.original() {
		return base, false // the usual case for most kinds: the set did not change
	}
	var missing []types.Resource
	for _, item := range extra.items {
		if !base.has(cachev3.GetResourceName(item)) {
			missing = append(missing, item)
		}
	}
	if len(missing) == 0 {
		return base, false
	}
	out := &resourceSet{items: make([]types.Resource, 0, len(base.items)+len(missing)), checked: make(map[string]checked, len(base.items)+len(missing))}
	for _, set := range []struct {
		from  *resourceSet
		items []types.Resource
	}{{base, base.items}, {extra, missing}} {
		for _, item := range set.items {
			name := cachev3.GetResourceName(item)
			c := set.from.checked[name]
			out.items = append(out.items, item)
			out.checked[name] = c
			out.digest.addEntry(c.entry)
		}
	}
	return out, true
}

// hasClients reports whether any client is connected (has sent a request).
func (s *Server) hasClients() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clientsLocked()) > 0
}

// versionString is the version of the snapshot being served.
func (s *Server) versionString() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versionLocked()
}
