package xds

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// kind is one of the six resource types gatebridge publishes, in the order Envoy subscribes
// to them, which is only the order in which WaitForAck names what it waits for: every kind
// is otherwise handled on its own.
type kind int

const (
	kindCluster kind = iota
	kindEndpoint
	kindListener
	kindScopedRoute
	kindRoute
	kindSecret
	numKinds
)

var kindTypeURLs = [numKinds]string{
	kindCluster:     resourcev3.ClusterType,
	kindEndpoint:    resourcev3.EndpointType,
	kindListener:    resourcev3.ListenerType,
	kindScopedRoute: resourcev3.ScopedRouteType,
	kindRoute:       resourcev3.RouteType,
	kindSecret:      resourcev3.SecretType,
}

var kindNouns = [numKinds]string{
	kindCluster:     "cluster",
	kindEndpoint:    "cluster load assignment",
	kindListener:    "listener",
	kindScopedRoute: "scoped route configuration",
	kindRoute:       "route configuration",
	kindSecret:      "secret",
}

func (k kind) typeURL() string { return kindTypeURLs[k] }

func (k kind) String() string { return kindNouns[k] }

// kindOf returns the kind whose type URL is typeURL; ok is false for types gatebridge does
// not publish.
func kindOf(typeURL string) (k kind, ok bool) {
	for k := range numKinds {
		if kindTypeURLs[k] == typeURL {
			return k, true
		}
	}
	return 0, false
}

// resourceSet is the validated resources of one kind with a hash of each. It is immutable
// once built, so consecutive snapshots share the sets that did not change, proto pointers
// included, and the next input of the kind can reuse what was computed for a resource it
// hands over again.
type resourceSet struct {
	items []types.Resource
	// checked maps each resource name to the resource and what validating it computed.
	checked map[string]checked
	digest  setDigest
	// version is the snapshot version that first published this set: the type's version in
	// that and every later snapshot until the set changes. Zero until published.
	version uint64
	// sotw is the set as go-control-plane's snapshot cache wants it, once a published set
	// needs it (sotwMaps); nil until the set is published.
	sotw *sotwForm
	// copyOf is the set this one is the published copy of (see reusing), nil if it is not
	// a copy. Both hold the same resources, which sameAs can then tell without comparing
	// them one by one.
	copyOf *resourceSet
	// marks are the versions delta clients are sent instead of the hash for resources sent
	// again unchanged (resend.go); nil for most sets. They are transport, not content:
	// sameAs ignores them.
	marks map[string]string
}

// versionOf is the version delta clients are sent for the resource name of s, c its
// checked entry: its hash, or its mark when it was sent again unchanged (resend.go).
func (s *resourceSet) versionOf(name string, c checked) string {
	if m, ok := s.marks[name]; ok {
		return m
	}
	return c.hash
}

// checked is what validating one resource found out about it.
type checked struct {
	item types.Resource
	// hash is the SHA-256 of the resource's deterministic encoding. It is computed exactly
	// as go-control-plane computes delta resource versions, so it doubles as the snapshot's
	// version and matches the versions delta clients acknowledge.
	hash string
	// entry is the resource's share of the set's digest, kept so that a set built from
	// resources already checked costs no hashing at all.
	entry digestEntry
}

// newResourceSet validates items one by one — not nil, a non-empty unique name, the
// resource's own rules (validateResource) — and hashes each.
//
// prev is the set built from the previous input of kind k (nil if none). A resource that is
// the very proto prev holds under the same name is neither validated nor hashed again: it is
// unchanged, by Publish's contract that a resource handed over is never mutated, so prev's
// result stands. If items are exactly prev's, prev itself is returned.
func newResourceSet(k kind, items []types.Resource, prev *resourceSet) (*resourceSet, error) {
	if prev != nil && slices.Equal(items, prev.items) {
		return prev, nil
	}
	set := &resourceSet{items: items, checked: make(map[string]checked, len(items))}
	for i, item := range items {
		if item == nil || !item.ProtoReflect().IsValid() {
			return nil, fmt.Errorf("%s #%d is nil", k, i)
		}
		name := cachev3.GetResourceName(item)
		if name == "" {
			return nil, fmt.Errorf("%s #%d has an empty name", k, i)
		}
		if _, dup := set.checked[name]; dup {
			return nil, fmt.Errorf("%s %q is defined more than once", k, name)
		}
		c, ok := prev.reusable(name, item)
		if !ok {
			var err error
			if c, err = checkResource(k, name, item); err != nil {
				return nil, err
			}
		}
		set.checked[name] = c
		set.digest.addEntry(c.entry)
	}
	return set, nil
}

// reusable returns what s found out about item if s holds that very proto under name. s may
// be nil.
func (s *resourceSet) reusable(name string, item types.Resource) (checked, bool) {
	if s == nil {
		return checked{}, false
	}
	c, ok := s.checked[name]
	return c, ok && c.item == item
}

// checkResource validates and hashes item, named name.
//
// Route configurations and load assignments are validated as Envoy reads them, decoded
// from their encoding: the translator holds their routes and endpoints in wire form (an
// empty message whose unknown fields are its encoding, dataplane/wireform.go), whose own
// fields would not pass validation and whose content validation would not see. An
// EncodedCluster is validated decoded too.
func checkResource(k kind, name string, item types.Resource) (checked, error) {
	encoded, err := encodeResource(item)
	if err != nil {
		return checked{}, fmt.Errorf("encoding %s %q: %w", k, name, err)
	}
	validated := item
	switch e := item.(type) {
	case *EncodedCluster:
		if validated, err = e.Decode(); err != nil {
			return checked{}, err
		}
	default:
		if k == kindRoute || k == kindEndpoint {
			validated = item.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(encoded, validated); err != nil {
				return checked{}, fmt.Errorf("decoding %s %q: %w", k, name, err)
			}
		}
	}
	if err := validateResource(k, validated); err != nil {
		return checked{}, fmt.Errorf("invalid %s %q: %w", k, name, err)
	}
	hash := cachev3.HashResource(encoded)
	return checked{item: item, hash: hash, entry: newDigestEntry(name, hash)}, nil
}

// only returns the subset of s whose names are in keep.
func (s *resourceSet) only(keep map[string]bool) *resourceSet {
	out := &resourceSet{checked: make(map[string]checked, len(keep))}
	for _, item := range s.items {
		name := cachev3.GetResourceName(item)
		if !keep[name] {
			continue
		}
		c := s.checked[name]
		out.items = append(out.items, item)
		out.checked[name] = c
		out.digest.addEntry(c.entry)
	}
	return out
}

// has reports whether s holds a resource named name.
func (s *resourceSet) has(name string) bool {
	_, ok := s.checked[name]
	return ok
}

// sameAs reports whether both sets hold the same resources with the same content.
func (s *resourceSet) sameAs(other *resourceSet) bool {
	if other == nil {
		return false
	}
	if s.original() == other.original() {
		return true // the common case of a kind whose input did not change (newResourceSet)
	}
	return s.digest == other.digest && maps.EqualFunc(s.checked, other.checked, sameHash)
}

// original returns the set s is a copy of, or s.
func (s *resourceSet) original() *resourceSet {
	if s.copyOf != nil {
		return s.copyOf
	}
	return s
}

func sameHash(a, b checked) bool { return a.hash == b.hash }

// versionMap maps each resource name of s to its version, as the snapshot's VersionMap
// wants it.
func (s *resourceSet) versionMap() map[string]string {
	versions := make(map[string]string, len(s.checked))
	for name, c := range s.checked {
		versions[name] = c.hash
	}
	return versions
}

// validateResource checks item's own protoc-gen-validate rules and, for the kinds that have
// them, gatebridge's own.
func validateResource(k kind, item types.Resource) error {
	if err := validateAll(item); err != nil {
		return err
	}
	if k == kindScopedRoute {
		return validateScope(item.(*routev3.ScopedRouteConfiguration))
	}
	return nil
}

// validator is what protoc-gen-validate generates for every Envoy message.
type validator interface {
	ValidateAll() error
}

func validateAll(m proto.Message) error {
	v, ok := m.(validator)
	if !ok {
		return fmt.Errorf("%T has no validation rules", m)
	}
	return v.ValidateAll()
}

// encodeResource is r's deterministic encoding: what Envoy is sent, and what a resource's
// version hashes (cachev3.HashResource, the hex SHA-256 go-control-plane sends as a delta
// resource's version, so our change detection and the versions on the wire agree).
func encodeResource(r proto.Message) ([]byte, error) {
	if e, ok := r.(*EncodedCluster); ok {
		if e.err != nil {
			return nil, e.err
		}
		return e.encoding(), nil // read only: hashed, decoded, sent
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(r)
}

// config is one complete, validated configuration: what a snapshot is built from.
type config struct {
	sets [numKinds]*resourceSet
}

// newConfig validates and hashes every resource of res, reusing what prev, the sets built
// from the previous input, already computed (see newResourceSet). References between
// resources are resolved separately (resolveReferences) because PublishEndpoints combines a
// new set of endpoints with the sets already published.
func newConfig(res *Resources, prev [numKinds]*resourceSet) (*config, error) {
	if res == nil {
		return nil, errors.New("nil Resources")
	}
	inputs := [numKinds][]types.Resource{
		kindCluster:     clusterResources(res, prev[kindCluster]),
		kindEndpoint:    asResources(res.Endpoints, prev[kindEndpoint]),
		kindListener:    asResources(res.Listeners, prev[kindListener]),
		kindScopedRoute: asResources(res.ScopedRoutes, prev[kindScopedRoute]),
		kindRoute:       asResources(res.Routes, prev[kindRoute]),
		kindSecret:      asResources(res.Secrets, prev[kindSecret]),
	}
	c := &config{}
	for k := range numKinds {
		set, err := newResourceSet(k, inputs[k], prev[k])
		if err != nil {
			return nil, err
		}
		c.sets[k] = set
	}
	return c, nil
}

// with returns a copy of c whose set of kind k is replaced by set.
func (c *config) with(k kind, set *resourceSet) *config {
	out := *c
	out.sets[k] = set
	return &out
}

// changedKinds lists the kinds whose sets differ between prev (nil: nothing published yet)
// and c.
func (c *config) changedKinds(prev *config) []kind {
	var changed []kind
	for k := range numKinds {
		if prev == nil || !c.sets[k].sameAs(prev.sets[k]) {
			changed = append(changed, k)
		}
	}
	return changed
}

// asResources returns items as resources: prev's items when they are the same protos in
// the same order (then newResourceSet returns prev without a copy of 10,000 items made
// for nothing).
func asResources[T types.Resource](items []T, prev *resourceSet) []types.Resource {
	if prev != nil && len(prev.items) == len(items) {
		same := true
		for i, item := range items {
			if types.Resource(item) != prev.items[i] {
				same = false
				break
			}
		}
		if same {
			return prev.items
		}
	}
	out := make([]types.Resource, len(items))
	for i, item := range items {
		out[i] = item
	}
	return out
}

// clusterResources returns res's clusters, protos and encoded, as resources (asResources).
func clusterResources(res *Resources, prev *resourceSet) []types.Resource {
	switch {
	case len(res.EncodedClusters) == 0:
		return asResources(res.Clusters, prev)
	case len(res.Clusters) == 0:
		return asResources(res.EncodedClusters, prev)
	}
	return append(asResources(res.Clusters, nil), asResources(res.EncodedClusters, nil)...)
}

// setDigest summarises a set of (name, version) pairs so that two sets compare in O(1) and a
// set can be updated one entry at a time: the XOR of the SHA-256 of every entry, plus the
// number of entries. A delta client's acknowledged resources are compared with published
// sets this way.
type setDigest struct {
	sum   [sha256.Size]byte
	count int
}

// digestEntry is one (name, version) pair's share of a setDigest: the pair's SHA-256.
type digestEntry [sha256.Size]byte

func newDigestEntry(name, version string) digestEntry {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0}) // versions are hex, so the last NUL separates name and version
	h.Write([]byte(version))
	var entry digestEntry
	h.Sum(entry[:0])
	return entry
}

func (d *setDigest) add(name, version string) {
	d.addEntry(newDigestEntry(name, version))
}

func (d *setDigest) remove(name, version string) {
	d.toggle(newDigestEntry(name, version))
	d.count--
}

func (d *setDigest) addEntry(entry digestEntry) {
	d.toggle(entry)
	d.count++
}

func (d *setDigest) toggle(entry digestEntry) {
	for i := range d.sum {
		d.sum[i] ^= entry[i]
	}
}

// sotwForm is a published set as the snapshot cache wants it: its resources by name, and
// their versions (hashes). Only state-of-the-world clients read the snapshot cache (Envoy
// uses delta xDS), so the maps are made when the first such client comes (adsCache), not
// on every publish: at 10,000 clusters and load assignments they are ~3 MB that a delta-only
// control plane would hold for nothing.
type sotwForm struct {
	mu       sync.Mutex
	indexed  *cachev3.Resources
	versions map[string]string
}

// sotwMaps returns s as the snapshot cache wants it. keep says to remember them, for a
// snapshot the cache will hold; otherwise, unless they were kept before, they are made
// for the caller alone (the consistency check of a publish).
func (s *resourceSet) sotwMaps(keep bool) (cachev3.Resources, map[string]string) {
	if s.sotw == nil {
		return s.makeSotwMaps()
	}
	s.sotw.mu.Lock()
	defer s.sotw.mu.Unlock()
	if s.sotw.indexed != nil {
		return *s.sotw.indexed, s.sotw.versions
	}
	indexed, versions := s.makeSotwMaps()
	if keep {
		s.sotw.indexed, s.sotw.versions = &indexed, versions
	}
	return indexed, versions
}

func (s *resourceSet) makeSotwMaps() (cachev3.Resources, map[string]string) {
	items, cloned := s.items, false
	for i, item := range s.items {
		d := decodedForSnapshot(item)
		if d == item {
			continue
		}
		if !cloned {
			items, cloned = slices.Clone(s.items), true
		}
		items[i] = d
	}
	return cachev3.NewResources(strconv.FormatUint(s.version, 10), items), s.versionMap()
}
