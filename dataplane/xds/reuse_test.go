package xds

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Handing the very same protos over again, in the same slices or in new ones and in any
// order, is no change.
func TestPublishSameProtosPublishesNothing(t *testing.T) {
	s := New(testLogger(t), Options{})
	res := testScopedResources(t)
	if published, err := s.Publish(res); !published || err != nil {
		t.Fatalf("Publish() = %v, %v; want true, nil", published, err)
	}
	if published, err := s.Publish(res); published || err != nil {
		t.Errorf("Publish(same Resources) = %v, %v; want false, nil", published, err)
	}
	again := &Resources{
		Listeners:    slices.Clone(res.Listeners),
		Routes:       slices.Clone(res.Routes),
		ScopedRoutes: slices.Clone(res.ScopedRoutes),
		Clusters:     slices.Clone(res.Clusters),
		Endpoints:    slices.Clone(res.Endpoints),
	}
	slices.Reverse(again.Clusters)
	slices.Reverse(again.Routes)
	if published, err := s.Publish(again); published || err != nil {
		t.Errorf("Publish(same protos, new slices) = %v, %v; want false, nil", published, err)
	}
	if published, err := s.PublishEndpoints(res.Endpoints); published || err != nil {
		t.Errorf("PublishEndpoints(same protos) = %v, %v; want false, nil", published, err)
	}
	if s.Version() != "1" {
		t.Errorf("Version() = %q, want 1", s.Version())
	}
}

// This test breaks Publish's contract on purpose, mutating a proto after handing it over,
// to observe what the contract allows: a proto handed over again under the same name is
// neither validated nor hashed again.
func TestPublishDoesNotCheckTheSameProtoTwice(t *testing.T) {
	s := New(testLogger(t), Options{})
	res := testResources(t)
	if _, err := s.Publish(res); err != nil {
		t.Fatal(err)
	}
	hash := servedSnapshot(t, s).VersionMap[resourcev3.ClusterType]["c1"]

	res.Clusters[0].LbPolicy = 99 // invalid, but not looked at again
	next := *res
	next.Clusters = []*clusterv3.Cluster{res.Clusters[0], testCluster("c2", 2*time.Second)}
	if published, err := s.Publish(&next); !published || err != nil {
		t.Fatalf("Publish() = %v, %v; want true, nil", published, err)
	}
	if got := servedSnapshot(t, s).VersionMap[resourcev3.ClusterType]["c1"]; got != hash {
		t.Errorf("c1 has version %q, want the hash of the proto as first handed over, %q", got, hash)
	}
}

// A changed resource is a new proto, whatever it was copied from, and is checked and hashed
// anew; a new proto with the same content is no change.
func TestPublishChecksEveryNewProto(t *testing.T) {
	s := New(testLogger(t), Options{})
	res := testResources(t)
	if _, err := s.Publish(res); err != nil {
		t.Fatal(err)
	}
	changed := proto.Clone(res.Clusters[0]).(*clusterv3.Cluster)
	changed.ConnectTimeout = durationpb.New(3 * time.Second)
	next := *res
	next.Clusters = []*clusterv3.Cluster{changed, res.Clusters[1]}
	if published, err := s.Publish(&next); !published || err != nil {
		t.Fatalf("Publish(changed copy) = %v, %v; want true, nil", published, err)
	}
	want, _ := hashResource(changed)
	if got := servedSnapshot(t, s).VersionMap[resourcev3.ClusterType]["c1"]; got != want {
		t.Errorf("c1 has version %q, want the hash of its new content %q", got, want)
	}

	next.Clusters = []*clusterv3.Cluster{proto.Clone(changed).(*clusterv3.Cluster), res.Clusters[1]}
	if published, err := s.Publish(&next); published || err != nil {
		t.Errorf("Publish(unchanged copy) = %v, %v; want false, nil", published, err)
	}

	// An invalid new proto is rejected, every time it is handed over: only what passed
	// validation is remembered.
	invalid := proto.Clone(changed).(*clusterv3.Cluster)
	invalid.LbPolicy = 99
	next.Clusters = []*clusterv3.Cluster{invalid, res.Clusters[1]}
	for i := range 2 {
		if published, err := s.Publish(&next); published || !errorContains(err, `invalid cluster "c1"`) {
			t.Errorf("Publish(invalid copy) #%d = %v, %v; want false and an error", i+1, published, err)
		}
	}
	eps := []*endpointv3.ClusterLoadAssignment{res.Endpoints[0], testEndpoints("c2", 9002)}
	eps[1].Endpoints[0].LbEndpoints[0].LoadBalancingWeight = wrapperspb.UInt32(0) // must be at least 1
	for i := range 2 {
		if published, err := s.PublishEndpoints(eps); published || !errorContains(err, `invalid cluster load assignment "c2"`) {
			t.Errorf("PublishEndpoints(invalid) #%d = %v, %v; want false and an error", i+1, published, err)
		}
	}
	if s.Version() != "2" || s.Stats().ValidationFailures != 4 {
		t.Errorf("version %q, %d failures; want 2 and 4", s.Version(), s.Stats().ValidationFailures)
	}

	// Nor does a rejected first input leave anything behind.
	fresh := New(testLogger(t), Options{})
	for i := range 2 {
		if published, err := fresh.Publish(&next); published || !errorContains(err, `invalid cluster "c1"`) {
			t.Errorf("first Publish(invalid) #%d = %v, %v; want false and an error", i+1, published, err)
		}
	}
}

// Reusing what was computed for the protos handed over again changes nothing of what is
// published: a server handed unchanged protos by pointer publishes exactly the versions,
// hashes and resources that one handed new protos every time does.
func TestReusedProtosPublishWhatNewOnesDo(t *testing.T) {
	steps := []publishStep{
		{"scoped", testScopedResources},
		{"one cluster changed", withClusterChanged},
		{"unchanged", withClusterChanged},
		{"one scope changed", func(t testing.TB) *Resources {
			res := withClusterChanged(t)
			res.ScopedRoutes[1] = testScope("s-b", "r3", "c.example")
			return res
		}},
		{"SRDS listener gone", func(t testing.TB) *Resources {
			res := testScopedResources(t)
			res.Listeners = res.Listeners[:1]
			return res
		}},
		{"SRDS listener back", testScopedResources},
	}
	reusing, renewing := New(testLogger(t), Options{}), New(testLogger(t), Options{})
	var handed *Resources
	for _, step := range steps {
		res := step.build(t)
		handed = reuseEqual(handed, step.build(t))
		publishedA, errA := reusing.Publish(handed)
		publishedB, errB := renewing.Publish(res)
		if errA != nil || errB != nil || publishedA != publishedB {
			t.Fatalf("%s: Publish() = %v, %v reusing protos and %v, %v with new ones", step.name, publishedA, errA, publishedB, errB)
		}
		sameSnapshots(t, step.name, reusing, renewing)
	}

	eps := []*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9001, 9003), handed.Endpoints[1]}
	publishedA, errA := reusing.PublishEndpoints(eps)
	publishedB, errB := renewing.PublishEndpoints([]*endpointv3.ClusterLoadAssignment{testEndpoints("c1", 9001, 9003), testEndpoints("c2", 9002)})
	if errA != nil || errB != nil || !publishedA || !publishedB {
		t.Fatalf("PublishEndpoints() = %v, %v reusing protos and %v, %v with new ones", publishedA, errA, publishedB, errB)
	}
	sameSnapshots(t, "endpoints", reusing, renewing)
}

// reuseEqual returns next with every proto that equals one of prev replaced by that one, as
// a translator keeping what did not change hands it over. prev may be nil.
func reuseEqual(prev, next *Resources) *Resources {
	if prev == nil {
		return next
	}
	return &Resources{
		Listeners:    reuseEqualItems(prev.Listeners, next.Listeners),
		Routes:       reuseEqualItems(prev.Routes, next.Routes),
		ScopedRoutes: reuseEqualItems(prev.ScopedRoutes, next.ScopedRoutes),
		Clusters:     reuseEqualItems(prev.Clusters, next.Clusters),
		Endpoints:    reuseEqualItems(prev.Endpoints, next.Endpoints),
		Secrets:      reuseEqualItems(prev.Secrets, next.Secrets),
	}
}

func reuseEqualItems[T types.Resource](prev, next []T) []T {
	out := slices.Clone(next)
	for i, item := range out {
		if j := slices.IndexFunc(prev, func(old T) bool { return proto.Equal(old, item) }); j >= 0 {
			out[i] = prev[j]
		}
	}
	return out
}

// sameSnapshots fails the test unless a and b serve the same versions, version maps and
// resource contents.
func sameSnapshots(t *testing.T, step string, a, b *Server) {
	t.Helper()
	if a.Version() != b.Version() {
		t.Fatalf("%s: versions %q and %q", step, a.Version(), b.Version())
	}
	snapshotA, snapshotB := servedSnapshot(t, a), servedSnapshot(t, b)
	for _, typeURL := range kindTypeURLs {
		if va, vb := snapshotA.GetVersion(typeURL), snapshotB.GetVersion(typeURL); va != vb {
			t.Errorf("%s: %s versions %q and %q", step, typeURL, va, vb)
		}
		if !maps.Equal(snapshotA.VersionMap[typeURL], snapshotB.VersionMap[typeURL]) {
			t.Errorf("%s: %s version maps %v and %v", step, typeURL, snapshotA.VersionMap[typeURL], snapshotB.VersionMap[typeURL])
		}
		resourcesB := snapshotB.GetResources(typeURL)
		for name, r := range snapshotA.GetResources(typeURL) {
			if !proto.Equal(r, resourcesB[name]) {
				t.Errorf("%s: %s %s differs", step, typeURL, name)
			}
		}
		if len(resourcesB) != len(snapshotA.GetResources(typeURL)) {
			t.Errorf("%s: %s %v and %v", step, typeURL, resourceNames(snapshotA, typeURL), resourceNames(snapshotB, typeURL))
		}
		if want, _ := hashesOf(snapshotB.GetResources(typeURL)); !maps.Equal(snapshotB.VersionMap[typeURL], want) {
			t.Errorf("%s: %s versions are not the resources' hashes", step, typeURL)
		}
	}
}

func hashesOf(resources map[string]types.Resource) (map[string]string, error) {
	hashes := make(map[string]string, len(resources))
	for name, r := range resources {
		hash, err := hashResource(r)
		if err != nil {
			return nil, err
		}
		hashes[name] = hash
	}
	return hashes, nil
}

// The cache's own consistency check is skipped only when no reference can have changed:
// a route configuration edited under the same name. A route configuration renamed, or a
// cluster added, runs it again.
func TestSameReferences(t *testing.T) {
	build := func(res *Resources) *config {
		t.Helper()
		c, err := newConfig(res, [numKinds]*resourceSet{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := testScopedResources(t)
	prev := build(base)
	edited := testScopedResources(t)
	edited.Routes[1] = testRoute("r2", "c2") // same name, other content
	renamed := testScopedResources(t)
	renamed.Routes[1] = testRoute("r9", "c1")
	moreClusters := testScopedResources(t)
	moreClusters.Clusters = append(moreClusters.Clusters, testCluster("c3", time.Second))
	for _, tc := range []struct {
		name string
		res  *Resources
		want bool
	}{
		{"route edited", edited, true},
		{"route renamed", renamed, false},
		{"cluster added", moreClusters, false},
	} {
		c := build(tc.res)
		if got := sameReferences(c, prev, c.changedKinds(prev)); got != tc.want {
			t.Errorf("%s: sameReferences = %v, want %v", tc.name, got, tc.want)
		}
	}
	if sameReferences(prev, nil, nil) {
		t.Error("nothing published yet: sameReferences")
	}
}

// The clusters' references are walked again whenever the clusters, endpoints or secrets
// change, and not otherwise: the same clusters with an endpoint set that lacks one they
// use are rejected, the same sets again publish nothing, and an endpoint the clusters stop
// using is left out.
func TestClusterReferencesFollowTheirSets(t *testing.T) {
	s := New(testLogger(t), Options{})
	res := testResources(t)
	if _, err := s.Publish(res); err != nil {
		t.Fatal(err)
	}
	if published, err := s.Publish(res); published || err != nil {
		t.Fatalf("the same resources again: Publish() = %v, %v; want false, nil", published, err)
	}
	missing := *res
	missing.Endpoints = res.Endpoints[:1] // c2's are gone
	if _, err := s.Publish(&missing); err == nil || !strings.Contains(err.Error(), `"c2"`) {
		t.Fatalf("c2 without endpoints: Publish() error = %v, want one naming c2", err)
	}
	fewer := *res
	fewer.Clusters = res.Clusters[:1] // c2 is gone, its endpoints unused
	if published, err := s.Publish(&fewer); !published || err != nil {
		t.Fatalf("without c2: Publish() = %v, %v; want true, nil", published, err)
	}
	if got := resourceNames(servedSnapshot(t, s), resourcev3.EndpointType); !slices.Equal(got, []string{"c1"}) {
		t.Errorf("endpoints served without c2: %v, want [c1]", got)
	}
	secret := *res
	secret.Clusters = []*clusterv3.Cluster{withUpstreamTLS(t, testCluster("c1", time.Second), "s1"), res.Clusters[1]}
	if _, err := s.Publish(&secret); err == nil {
		t.Fatal("a cluster naming a secret that is not published: Publish() succeeded")
	}
	secret.Secrets = []*tlsv3.Secret{testSecret("s1")}
	if _, err := s.Publish(&secret); err != nil {
		t.Fatalf("with its secret: %v", err)
	}
	secret.Secrets = nil
	if _, err := s.Publish(&secret); err == nil {
		t.Fatal("the same clusters, their secret gone: Publish() succeeded")
	}
}
