package xds

import (
	"bytes"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// withClustersEncoded returns res with its clusters handed over encoded.
func withClustersEncoded(res *Resources) *Resources {
	out := *res
	out.Clusters, out.EncodedClusters = nil, make([]*EncodedCluster, len(res.Clusters))
	for i, c := range res.Clusters {
		out.EncodedClusters[i] = EncodeCluster(c)
	}
	return &out
}

// An encoded cluster is its Cluster's deterministic encoding, decodes to it, and has its
// version.
func TestEncodedClusterIsItsCluster(t *testing.T) {
	c := withUpstreamTLS(t, testCluster("c1", time.Second), "ca")
	e := EncodeCluster(c)
	want, err := encodeResource(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Marshal(EncodeCluster(c)) = %x, %v; want the bytes of c, %x", got, err, want)
	}
	if proto.Size(e) != len(want) || !proto.Equal(e, EncodeCluster(c)) || proto.Equal(e, EncodeCluster(testCluster("c1", 2*time.Second))) {
		t.Error("proto.Size or proto.Equal do not read the encoding")
	}
	if e.GetName() != "c1" {
		t.Errorf("GetName() = %q, want c1", e.GetName())
	}
	decoded, err := e.Decode()
	if err != nil || !proto.Equal(decoded, c) {
		t.Fatalf("Decode() = %v, %v; want %v", decoded, err, c)
	}
	hashC, _ := hashResource(c)
	hashE, _ := hashResource(e)
	if hashC != hashE {
		t.Errorf("versions %s (Cluster) and %s (encoded) differ", hashC, hashE)
	}
	if !e.Same(EncodeCluster(c)) || e.Same(EncodeCluster(testCluster("c1", 2*time.Second))) {
		t.Error("Same does not compare encodings")
	}
	if e.refs.eds != "c1" || len(e.refs.secrets) != 1 || e.refs.secrets[0].secret != "ca" {
		t.Errorf("references %+v, want the load assignment c1 and the secret ca", e.refs)
	}
}

// Publishing clusters encoded serves what publishing the Clusters does, step after step
// (the same versions, version maps and, decoded, the same resources), and the snapshot is
// consistent: go-control-plane reads its clusters as protos.
func TestEncodedClustersPublishAsClusters(t *testing.T) {
	steps := []publishStep{
		{"scoped", testScopedResources},
		{"one cluster changed", withClusterChanged},
		{"a cluster with TLS", func(t testing.TB) *Resources {
			res := testScopedResources(t)
			withUpstreamTLS(t, res.Clusters[1], "ca")
			res.Secrets = append(res.Secrets, testSecret("ca"))
			return res
		}},
		{"a cluster gone", func(t testing.TB) *Resources {
			res := testResources(t)
			res.Clusters, res.Endpoints = res.Clusters[:1], res.Endpoints[:1]
			return res
		}},
		{"back", testScopedResources},
	}
	asProtos, encoded := New(testLogger(t), Options{}), New(testLogger(t), Options{})
	var handed *Resources
	for _, step := range steps {
		// Unchanged clusters are handed over as the same EncodedClusters, as a publisher
		// keeping them does.
		next := withClustersEncoded(step.build(t))
		if handed != nil {
			for i, e := range next.EncodedClusters {
				for _, old := range handed.EncodedClusters {
					if old.Same(e) {
						next.EncodedClusters[i] = old
					}
				}
			}
		}
		handed = next
		publishedA, errA := asProtos.Publish(step.build(t))
		publishedB, errB := encoded.Publish(handed)
		if errA != nil || errB != nil || publishedA != publishedB {
			t.Fatalf("%s: Publish() = %v, %v with Clusters and %v, %v encoded", step.name, publishedA, errA, publishedB, errB)
		}
		sameSnapshots(t, step.name, asProtos, encoded)
		if err := servedSnapshot(t, encoded).Consistent(); err != nil {
			t.Fatalf("%s: Consistent() = %v", step.name, err)
		}
		for _, r := range servedSnapshot(t, encoded).GetResources(resourcev3.ClusterType) {
			if _, ok := r.(*clusterv3.Cluster); !ok {
				t.Fatalf("%s: the snapshot holds a %T, want Clusters", step.name, r)
			}
		}
	}
}

// The second opinion on an encoded cluster's references reads them from its encoding.
func TestEDSReferenceFromTheEncoding(t *testing.T) {
	named := testCluster("c1", time.Second)
	named.EdsClusterConfig.ServiceName = "svc"
	static := testCluster("c3", time.Second)
	static.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
	static.EdsClusterConfig = nil
	for _, tc := range []struct {
		cluster *clusterv3.Cluster
		want    string
	}{
		{testCluster("c2", time.Second), "c2"}, // EDS without a service name: its own name
		{named, "svc"},
		{static, ""},
	} {
		if got, err := edsReference(EncodeCluster(tc.cluster)); got != tc.want || err != nil {
			t.Errorf("edsReference(%s) = %q, %v; want %q", tc.cluster.Name, got, err, tc.want)
		}
	}
	if _, err := edsReference(&EncodedCluster{name: "bad", wire: []byte{0x0a, 0x05, 'a'}}); err == nil {
		t.Error("edsReference of a truncated encoding: no error")
	}

	set := func(k kind, items ...types.Resource) *resourceSet {
		s, err := newResourceSet(k, items, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	clusters := set(kindCluster, EncodeCluster(testCluster("c1", time.Second)), EncodeCluster(static))
	if err := edsReferencesMatch(clusters, set(kindEndpoint, testEndpoints("c1", 9001))); err != nil {
		t.Errorf("matching references: %v", err)
	}
	if err := edsReferencesMatch(clusters, set(kindEndpoint, testEndpoints("c1", 9001), testEndpoints("c9", 9002))); err == nil {
		t.Error("a load assignment no cluster uses: no error")
	}
	if err := edsReferencesMatch(clusters, set(kindEndpoint, testEndpoints("c9", 9002))); err == nil {
		t.Error("a cluster's load assignment missing: no error")
	}
}
