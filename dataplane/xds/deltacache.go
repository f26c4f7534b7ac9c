package xds

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// adsCache is the cache the go-control-plane server serves from: go-control-plane's
// snapshot cache for state-of-the-world streams (and for reading the snapshot back), and
// deltaWatches for delta streams.
//
// The snapshot cache answers delta watches too, but on every snapshot it compares every
// resource version of every type for every open watch, and builds a map of all of them:
// with 10,000 clusters and 10,000 load assignments, one changed route table cost about
// 5 ms and 3 MB of garbage per Envoy, on every change. deltaWatches knows which sets
// changed since the last publish, and which names within them, and sends only those.
//
// The snapshot cache gets snapshots only once a state-of-the-world client has come (or the
// snapshot is read back): until then a publish reaches delta clients only, and no snapshot
// maps are made or held (sotwForm).
type adsCache struct {
	cachev3.SnapshotCache
	delta *deltaWatches
	// sotwOn is set once the snapshot cache is in use; mu orders the snapshots it gets,
	// and current (published to node) is what it gets when it comes into use.
	sotwOn  atomic.Bool
	mu      sync.Mutex
	current *config
	node    string
}

// CreateWatch answers a state-of-the-world request from the snapshot cache, which from now
// on gets every snapshot.
func (c *adsCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if err := c.useSnapshots(); err != nil {
		return nil, err
	}
	return c.SnapshotCache.CreateWatch(req, sub, out)
}

// Fetch answers a REST request from the snapshot cache, as CreateWatch.
func (c *adsCache) Fetch(ctx context.Context, req *cachev3.Request) (cachev3.Response, error) {
	if err := c.useSnapshots(); err != nil {
		return nil, err
	}
	return c.SnapshotCache.Fetch(ctx, req)
}

// GetSnapshot returns the snapshot of node, the snapshot cache then being in use.
func (c *adsCache) GetSnapshot(node string) (cachev3.ResourceSnapshot, error) {
	if err := c.useSnapshots(); err != nil {
		return nil, err
	}
	return c.SnapshotCache.GetSnapshot(node)
}

// useSnapshots puts the snapshot cache in use, giving it the configuration published last.
func (c *adsCache) useSnapshots() error {
	if c.sotwOn.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sotwOn.Load() {
		return nil
	}
	c.sotwOn.Store(true)
	if c.current == nil {
		return nil
	}
	return c.SnapshotCache.SetSnapshot(context.Background(), c.node, c.current.snapshot(true))
}

// CreateDeltaWatch answers delta requests from deltaWatches, not the snapshot cache.
func (c *adsCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	return c.delta.watch(req, sub, out)
}

// publish makes c the configuration served: c itself for delta streams, a snapshot built
// from c for state-of-the-world streams once there are any (useSnapshots).
func (a *adsCache) publish(node string, c *config) error {
	// Delta first: the snapshot cache's error (a watch it could not answer) must not keep
	// delta clients from the configuration.
	a.delta.publish(c)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.current, a.node = c, node
	if !a.sotwOn.Load() {
		return nil
	}
	return a.SnapshotCache.SetSnapshot(context.Background(), node, c.snapshot(true))
}

// deltaWatches holds the open delta watches and the configuration they are answered from.
//
// A watch is opened by each delta request (an ACK, a NACK or a change of subscription)
// and answered at once when the client lacks something of the current configuration;
// otherwise it waits, the client being up to date with that configuration for the watch's
// type. The next publish answers it with what changed in between: for a type whose set
// did not change, nothing (the watch keeps waiting); for one that changed, the names
// whose version differs and those removed, restricted to the watch's subscription. So a
// publish costs in proportion to the resources that changed, not to all those served.
type deltaWatches struct {
	mu sync.Mutex
	// current is the configuration served (nil before the first publish).
	current *config
	open    map[int64]*deltaWatch
	lastID  int64
}

// deltaWatch is one waiting delta request.
type deltaWatch struct {
	kind kind
	req  *cachev3.DeltaRequest
	sub  cachev3.Subscription
	out  chan cachev3.DeltaResponse
	// upTo is the configuration the client was found up to date with for this type.
	upTo *config
}

func newDeltaWatches() *deltaWatches {
	return &deltaWatches{open: map[int64]*deltaWatch{}}
}

// watch answers req at once if the client lacks something of the current configuration
// of its type, or opens a watch for the next publish. Like go-control-plane's caches, it
// answers the first request of a wildcard subscription even when there is nothing to send:
// Envoy waits for that answer to finish initialising.
func (d *deltaWatches) watch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	k, ok := kindOf(req.GetTypeUrl())
	if !ok {
		return nil, fmt.Errorf("xds: type %q is not served", req.GetTypeUrl())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil {
		first := sub.IsWildcard() && req.GetResponseNonce() == ""
		if resp := d.fullDiff(k, req, sub, first); !resp.empty() || first {
			out <- resp // out has room for every type (one answer per type waits at most)
			return nil, nil
		}
	}
	d.lastID++
	id := d.lastID
	d.open[id] = &deltaWatch{kind: k, req: req, sub: sub, out: out, upTo: d.current}
	return func() {
		d.mu.Lock()
		delete(d.open, id)
		d.mu.Unlock()
	}, nil
}

// publish makes c the configuration served and answers the open watches of the types
// that changed, in go-control-plane's order of types for ADS (clusters, endpoints,
// listeners, route configurations, scoped route configurations, secrets).
func (d *deltaWatches) publish(c *config) {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.current
	d.current = c
	var diffs [numKinds]*setDiff
	ids := slices.Collect(maps.Keys(d.open))
	slices.SortFunc(ids, func(a, b int64) int {
		ta, tb := cachev3.GetResponseType(d.open[a].req.GetTypeUrl()), cachev3.GetResponseType(d.open[b].req.GetTypeUrl())
		if ta != tb {
			return int(ta) - int(tb)
		}
		return int(a - b)
	})
	for _, id := range ids {
		w := d.open[id]
		var resp *deltaAnswer
		switch {
		case w.upTo != nil && w.upTo == prev && prev.sets[w.kind] == c.sets[w.kind]:
			// The type's set is the one the client is up to date with.
			w.upTo = c
			continue
		case w.upTo != nil && w.upTo == prev:
			if diffs[w.kind] == nil {
				diffs[w.kind] = diffSets(prev.sets[w.kind], c.sets[w.kind])
			}
			resp = d.changes(w, diffs[w.kind])
		default:
			// A watch opened before the first publish may be a wildcard subscription's
			// first request, which must be answered even with nothing in it: Envoy waits
			// for that answer to finish initialising (an empty configuration included).
			first := w.upTo == nil && w.sub.IsWildcard() && w.req.GetResponseNonce() == ""
			resp = d.fullDiff(w.kind, w.req, w.sub, first)
			if first {
				w.out <- resp
				delete(d.open, id)
				continue
			}
		}
		if resp.empty() {
			w.upTo = c
			continue
		}
		w.out <- resp
		delete(d.open, id)
	}
}

// setDiff is what changed from one set of a type to the next: the names added or whose
// version changed (a mark included, resend.go), and the names removed, each sorted.
type setDiff struct {
	changed, removed []string
}

func diffSets(prev, next *resourceSet) *setDiff {
	diff := &setDiff{}
	for name, c := range next.checked {
		if old, ok := prev.checked[name]; !ok || prev.versionOf(name, old) != next.versionOf(name, c) {
			diff.changed = append(diff.changed, name)
		}
	}
	for name := range prev.checked {
		if !next.has(name) {
			diff.removed = append(diff.removed, name)
		}
	}
	slices.Sort(diff.changed)
	slices.Sort(diff.removed)
	return diff
}

// changes answers w, whose client is up to date with the previous configuration, with
// diff restricted to its subscription.
func (d *deltaWatches) changes(w *deltaWatch, diff *setDiff) *deltaAnswer {
	set := d.current.sets[w.kind]
	returned := w.sub.ReturnedResources()
	resp := d.response(w.kind, w.req)
	wanted := func(name string) bool {
		if w.sub.IsWildcard() {
			return true
		}
		_, ok := w.sub.SubscribedResources()[name]
		return ok
	}
	for _, name := range diff.changed {
		if c := set.checked[name]; wanted(name) && returned[name] != set.versionOf(name, c) {
			resp.resources = append(resp.resources, set.named(name, c))
		}
	}
	for _, name := range diff.removed {
		if _, ok := returned[name]; ok {
			resp.removed = append(resp.removed, name)
		}
	}
	if resp.empty() {
		return resp
	}
	// The subscription's map must not be altered: the next one is a copy, updated.
	resp.next = maps.Clone(returned)
	if resp.next == nil {
		resp.next = map[string]string{}
	}
	for _, r := range resp.resources {
		resp.next[r.name] = r.hash
	}
	for _, name := range resp.removed {
		delete(resp.next, name)
	}
	return resp
}

// fullDiff compares what the client holds of kind k with the current configuration, as
// go-control-plane's caches do: for a wildcard subscription every resource whose version
// differs and every resource it holds that is gone; otherwise the same for the names
// subscribed. The map of what the client then holds is built only for a response that
// will be sent (respond: even one without resources).
func (d *deltaWatches) fullDiff(k kind, req *cachev3.DeltaRequest, sub cachev3.Subscription, respond bool) *deltaAnswer {
	set := d.current.sets[k]
	returned := sub.ReturnedResources()
	resp := d.response(k, req)
	var names []string // what the client holds afterwards
	if sub.IsWildcard() {
		for _, item := range set.items {
			name := cachev3.GetResourceName(item)
			if c := set.checked[name]; returned[name] != set.versionOf(name, c) || !hasKey(returned, name) {
				resp.resources = append(resp.resources, set.named(name, c))
			}
		}
		for name := range returned {
			if !set.has(name) {
				resp.removed = append(resp.removed, name)
			}
		}
		if !resp.empty() || respond {
			names = make([]string, 0, len(set.items))
			for _, item := range set.items {
				names = append(names, cachev3.GetResourceName(item))
			}
		}
	} else {
		for name := range sub.SubscribedResources() {
			c, ok := set.checked[name]
			switch {
			case ok:
				if returned[name] != set.versionOf(name, c) || !hasKey(returned, name) {
					resp.resources = append(resp.resources, set.named(name, c))
				}
				names = append(names, name)
			case hasKey(returned, name):
				resp.removed = append(resp.removed, name)
			}
		}
		slices.SortFunc(resp.resources, func(a, b namedResource) int { return strings.Compare(a.name, b.name) })
	}
	slices.Sort(resp.removed)
	if !resp.empty() || respond {
		resp.next = make(map[string]string, len(names))
		for _, name := range names {
			resp.next[name] = set.versionOf(name, set.checked[name])
		}
	}
	return resp
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func (d *deltaWatches) response(k kind, req *cachev3.DeltaRequest) *deltaAnswer {
	// The system version is the snapshot version that last changed the type, as the
	// snapshot cache sends it: the ACK accounting (acks.go) reads it.
	return &deltaAnswer{request: req, typeURL: k.typeURL(), version: strconv.FormatUint(d.current.sets[k].version, 10)}
}

// namedResource is a resource of a response, with what validating it found; hash is the
// version it is sent with (set.named).
type namedResource struct {
	name string
	checked
}

// named is the resource name of s as a response sends it: with its mark for a hash when it
// has one (resend.go).
func (s *resourceSet) named(name string, c checked) namedResource {
	c.hash = s.versionOf(name, c)
	return namedResource{name, c}
}

// deltaAnswer is a DeltaResponse of deltaWatches, encoded when the server asks for it.
type deltaAnswer struct {
	request   *cachev3.DeltaRequest
	typeURL   string
	version   string
	resources []namedResource
	removed   []string
	// next is what the client holds once it applies the response.
	next map[string]string

	once    sync.Once
	encoded *discoveryv3.DeltaDiscoveryResponse
	err     error
}

var _ cachev3.DeltaResponse = (*deltaAnswer)(nil)

func (r *deltaAnswer) empty() bool { return len(r.resources) == 0 && len(r.removed) == 0 }

func (r *deltaAnswer) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	r.once.Do(func() {
		out := &discoveryv3.DeltaDiscoveryResponse{
			TypeUrl:           r.typeURL,
			SystemVersionInfo: r.version,
			RemovedResources:  r.removed,
			Resources:         make([]*discoveryv3.Resource, 0, len(r.resources)),
		}
		for _, res := range r.resources {
			encoded, err := encodeResource(res.item)
			if err != nil {
				r.err = fmt.Errorf("encoding %s %q: %w", r.typeURL, res.name, err)
				return
			}
			out.Resources = append(out.Resources, &discoveryv3.Resource{
				Name:     res.name,
				Version:  res.hash,
				Resource: &anypb.Any{TypeUrl: r.typeURL, Value: encoded},
			})
		}
		r.encoded = out
	})
	return r.encoded, r.err
}

func (r *deltaAnswer) GetDeltaRequest() *discoveryv3.DeltaDiscoveryRequest { return r.request }

func (r *deltaAnswer) GetSystemVersion() (string, error) { return r.version, nil }

func (r *deltaAnswer) GetResponseVersion() string { return r.version }

func (r *deltaAnswer) GetNextVersionMap() map[string]string { return r.next }

func (r *deltaAnswer) GetReturnedResources() map[string]string { return r.next }

func (r *deltaAnswer) GetContext() context.Context { return context.Background() }
