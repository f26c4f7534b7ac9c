package envoy

import (
	"reflect"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestBootstrapPortMap: the port map travels in the node metadata and reads back as it
// was; a node without one reads back as nil; a malformed one is an error naming it.
func TestBootstrapPortMap(t *testing.T) {
	want := map[int32]uint32{80: 8080, 443: 8443}
	b := mustBootstrap(t, BootstrapOptions{XDSAddress: "127.0.0.1:18000", PortMap: want})
	got, err := PortMapFromNode(b.GetNode())
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PortMapFromNode = %v, %v; want %v", got, err, want)
	}
	b = mustBootstrap(t, BootstrapOptions{XDSAddress: "127.0.0.1:18000"})
	if b.GetNode().GetMetadata() != nil {
		t.Errorf("metadata without a port map: %v", b.GetNode().GetMetadata())
	}
	if got, err := PortMapFromNode(b.GetNode()); got != nil || err != nil {
		t.Errorf("no port map: %v, %v", got, err)
	}
	for _, pm := range []map[int32]uint32{{0: 8080}, {80: 0}, {80: 70000}, {-1: 80}} {
		if _, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:18000", PortMap: pm}); err == nil {
			t.Errorf("PortMap %v accepted", pm)
		}
	}
	for _, bad := range []map[string]any{
		{NodeMetadataPortMap: "80=8080"},
		{NodeMetadataPortMap: map[string]any{"http": 8080.0}},
		{NodeMetadataPortMap: map[string]any{"80": "8080"}},
		{NodeMetadataPortMap: map[string]any{"80": 8080.5}},
		{NodeMetadataPortMap: map[string]any{"80": 0.0}},
	} {
		md, err := structpb.NewStruct(bad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := PortMapFromNode(&corev3.Node{Id: "n", Metadata: md}); err == nil || !strings.Contains(err.Error(), NodeMetadataPortMap) {
			t.Errorf("metadata %v: %v, %v; want an error naming %s", bad, got, err, NodeMetadataPortMap)
		}
	}
}

// TestBootstrapReadyListener: a static listener with the health-check filter on /ready,
// on the address asked for; bad addresses are refused.
func TestBootstrapReadyListener(t *testing.T) {
	b := mustBootstrap(t, BootstrapOptions{XDSAddress: "127.0.0.1:18000", ReadyAddress: "0.0.0.0:19001"})
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 || ls[0].GetName() != ReadyListenerName {
		t.Fatalf("listeners = %v", ls)
	}
	if sa := ls[0].GetAddress().GetSocketAddress(); sa.GetAddress() != "0.0.0.0" || sa.GetPortValue() != 19001 {
		t.Errorf("ready listener address = %v", sa)
	}
	js, _ := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:18000", ReadyAddress: "0.0.0.0:19001"})
	for _, want := range []string{"envoy.filters.http.health_check", `"exact": "/ready"`, `"pass_through_mode": false`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the ready listener lacks %s", want)
		}
	}
	for _, addr := range []string{"19001", "0.0.0.0:0", "0.0.0.0:x", "localhost:19001", "[fe80::1%eth0]:19001"} {
		if _, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:18000", ReadyAddress: addr}); err == nil {
			t.Errorf("ReadyAddress %q accepted", addr)
		}
	}
}
