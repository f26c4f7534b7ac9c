package xds

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// kind is one of the five resource types gatebridge publishes, in the order ADS delivers them.
type kind int

const (
	kindCluster kind = iota
	kindEndpoint
	kindListener
	kindRoute
	kindSecret
	numKinds
)

var kindTypeURLs = [numKinds]string{
	kindCluster:  resourcev3.ClusterType,
	kindEndpoint: resourcev3.EndpointType,
	kindListener: resourcev3.ListenerType,
	kindRoute:    resourcev3.RouteType,
	kindSecret:   resourcev3.SecretType,
}

var kindNouns = [numKinds]string{
	kindCluster:  "cluster",
	kindEndpoint: "cluster load assignment",
	kindListener: "listener",
	kindRoute:    "route configuration",
	kindSecret:   "secret",
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
// included.
type resourceSet struct {
	items []types.Resource
	// hashes maps each resource name to the SHA-256 of its deterministic encoding. It is
	// computed exactly as go-control-plane computes delta resource versions, so it doubles
	// as the snapshot's version map and matches the versions delta clients acknowledge.
	hashes map[string]string
	digest setDigest
	// version is the snapshot version that first published this set: the type's version in
	// that and every later snapshot until the set changes. Zero until published.
	version uint64
	// indexed is the set as the cache wants it, built once when the set is first published.
	indexed cachev3.Resources
}

// newResourceSet validates items one by one — not nil, a non-empty unique name, the
// resource's own protoc-gen-validate rules — and hashes each.
func newResourceSet(k kind, items []types.Resource) (*resourceSet, error) {
	set := &resourceSet{items: items, hashes: make(map[string]string, len(items))}
	for i, item := range items {
		if item == nil || !item.ProtoReflect().IsValid() {
			return nil, fmt.Errorf("%s #%d is nil", k, i)
		}
		name := cachev3.GetResourceName(item)
		if name == "" {
			return nil, fmt.Errorf("%s #%d has an empty name", k, i)
		}
		if _, dup := set.hashes[name]; dup {
			return nil, fmt.Errorf("%s %q is defined more than once", k, name)
		}
		if err := validateAll(item); err != nil {
			return nil, fmt.Errorf("invalid %s %q: %w", k, name, err)
		}
		hash, err := hashResource(item)
		if err != nil {
			return nil, fmt.Errorf("hashing %s %q: %w", k, name, err)
		}
		set.hashes[name] = hash
		set.digest.add(name, hash)
	}
	return set, nil
}

// only returns the subset of s whose names are in keep.
func (s *resourceSet) only(keep map[string]bool) *resourceSet {
	out := &resourceSet{hashes: make(map[string]string, len(keep))}
	for _, item := range s.items {
		name := cachev3.GetResourceName(item)
		if !keep[name] {
			continue
		}
		out.items = append(out.items, item)
		out.hashes[name] = s.hashes[name]
		out.digest.add(name, s.hashes[name])
	}
	return out
}

// sameAs reports whether both sets hold the same resources with the same content.
func (s *resourceSet) sameAs(other *resourceSet) bool {
	return other != nil && s.digest == other.digest && maps.Equal(s.hashes, other.hashes)
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

// hashResource returns the hex SHA-256 of the deterministic encoding of r: the same value
// go-control-plane sends as a delta resource's version (cachev3.MarshalResource and
// cachev3.HashResource), so our change detection and the versions on the wire agree.
func hashResource(r proto.Message) (string, error) {
	encoded, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return "", err
	}
	return cachev3.HashResource(encoded), nil
}

// config is one complete, validated configuration: what a snapshot is built from.
type config struct {
	sets [numKinds]*resourceSet
}

// newConfig validates and hashes every resource of res. References between resources are
// resolved separately (resolveReferences) because PublishEndpoints combines a new set of
// endpoints with the sets already published.
func newConfig(res *Resources) (*config, error) {
	if res == nil {
		return nil, errors.New("nil Resources")
	}
	inputs := [numKinds][]types.Resource{
		kindCluster:  asResources(res.Clusters),
		kindEndpoint: asResources(res.Endpoints),
		kindListener: asResources(res.Listeners),
		kindRoute:    asResources(res.Routes),
		kindSecret:   asResources(res.Secrets),
	}
	c := &config{}
	for k := range numKinds {
		set, err := newResourceSet(k, inputs[k])
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

func asResources[T types.Resource](items []T) []types.Resource {
	out := make([]types.Resource, len(items))
	for i, item := range items {
		out[i] = item
	}
	return out
}

// setDigest summarises a set of (name, version) pairs so that two sets compare in O(1) and a
// set can be updated one entry at a time: the XOR of the SHA-256 of every entry, plus the
// number of entries. A delta client's acknowledged resources are compared with published
// sets this way.
type setDigest struct {
	sum   [sha256.Size]byte
	count int
}

func (d *setDigest) add(name, version string) {
	d.toggle(name, version)
	d.count++
}

func (d *setDigest) remove(name, version string) {
	d.toggle(name, version)
	d.count--
}

func (d *setDigest) toggle(name, version string) {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0}) // versions are hex, so the last NUL separates name and version
	h.Write([]byte(version))
	var entry [sha256.Size]byte
	h.Sum(entry[:0])
	for i := range d.sum {
		d.sum[i] ^= entry[i]
	}
}
