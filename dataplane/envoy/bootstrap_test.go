package envoy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestBootstrapRefusesNonLoopbackAdmin(t *testing.T) {
	for _, addr := range []string{
		"0.0.0.0:9901", ":9901", "[::]:9901", "10.1.2.3:9901", "192.168.0.1:0",
		"example.com:9901", "[fe80::1%eth0]:9901", "[::ffff:10.0.0.1]:9901",
	} {
		_, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:18000", AdminAddress: addr})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("admin %q: err = %v; want a refusal naming loopback", addr, err)
		}
	}
	for _, c := range []struct{ addr, ip string }{
		{"", "127.0.0.1"}, {"127.0.0.1:9901", "127.0.0.1"}, {"127.4.5.6:0", "127.4.5.6"},
		{"[::1]:9901", "::1"}, {"localhost:0", "127.0.0.1"}, {"[::ffff:127.0.0.1]:1", "127.0.0.1"},
	} {
		b := mustBootstrap(t, BootstrapOptions{XDSAddress: "127.0.0.1:18000", AdminAddress: c.addr})
		if got := b.GetAdmin().GetAddress().GetSocketAddress().GetAddress(); got != c.ip {
			t.Errorf("admin %q: bootstrap admin address %q, want %q", c.addr, got, c.ip)
		}
	}
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:18000", AdminAddress: addr}); err == nil {
			t.Errorf("admin %q accepted", addr)
		}
	}
}

func mustBootstrap(t *testing.T, o BootstrapOptions) *bootstrapv3.Bootstrap {
	t.Helper()
	js, err := Bootstrap(o)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("bootstrap does not parse back: %v\n%s", err, js)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestBootstrapContent(t *testing.T) {
	o := BootstrapOptions{
		NodeID: "node-1", Cluster: "gw", XDSAddress: "127.0.0.1:18000", AdminAddress: "127.0.0.1:19000",
		InitialFetchTimeout: 1500 * time.Millisecond, Runtime: map[string]any{"some.key": 7},
	}
	b := mustBootstrap(t, o)
	if b.GetNode().GetId() != "node-1" || b.GetNode().GetCluster() != "gw" {
		t.Errorf("node = %v", b.GetNode())
	}
	if p := b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue(); p != 19000 {
		t.Errorf("admin port = %d", p)
	}

	ads := b.GetDynamicResources().GetAdsConfig()
	if ads.GetApiType() != corev3.ApiConfigSource_DELTA_GRPC || ads.GetTransportApiVersion() != corev3.ApiVersion_V3 ||
		!ads.GetSetNodeOnFirstMessageOnly() || len(ads.GetGrpcServices()) != 1 ||
		ads.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() != XDSClusterName {
		t.Errorf("ads_config = %v", ads)
	}
	for name, cs := range map[string]*corev3.ConfigSource{
		"lds": b.GetDynamicResources().GetLdsConfig(), "cds": b.GetDynamicResources().GetCdsConfig(),
	} {
		if cs.GetAds() == nil || cs.GetResourceApiVersion() != corev3.ApiVersion_V3 ||
			cs.GetInitialFetchTimeout().AsDuration() != 1500*time.Millisecond {
			t.Errorf("%s_config = %v", name, cs)
		}
	}

	clusters := b.GetStaticResources().GetClusters()
	if len(clusters) != 1 || clusters[0].GetName() != "xds" || clusters[0].GetType() != clusterv3.Cluster_STATIC {
		t.Fatalf("static clusters = %v", clusters)
	}
	sa := clusters[0].GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if sa.GetAddress() != "127.0.0.1" || sa.GetPortValue() != 18000 {
		t.Errorf("xds endpoint = %v", sa)
	}
	var hpo upstreamhttpv3.HttpProtocolOptions
	if err := clusters[0].GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].UnmarshalTo(&hpo); err != nil {
		t.Fatal(err)
	}
	if h2 := hpo.GetExplicitHttpConfig().GetHttp2ProtocolOptions(); h2 == nil || h2.GetConnectionKeepalive().GetInterval() == nil {
		t.Errorf("xds cluster protocol options = %v", &hpo)
	}

	layers := b.GetLayeredRuntime().GetLayers()
	if len(layers) != 2 || layers[0].GetStaticLayer().GetFields()["some.key"].GetNumberValue() != 7 || layers[1].GetAdminLayer() == nil {
		t.Errorf("runtime layers = %v", layers)
	}
	if m := b.GetOverloadManager().GetResourceMonitors(); len(m) != 1 || m[0].GetName() != globalDownstreamConnectionsMonitor {
		t.Errorf("overload manager = %v", b.GetOverloadManager())
	}

	// Stable output, and zero InitialFetchTimeout is written as an explicit 0s (wait for ever).
	first, _ := Bootstrap(o)
	for range 5 {
		if again, _ := Bootstrap(o); !bytes.Equal(first, again) {
			t.Fatalf("Bootstrap output varies:\n%s\n%s", first, again)
		}
	}
	o.InitialFetchTimeout = 0
	if js, _ := Bootstrap(o); !bytes.Contains(js, []byte(`"initial_fetch_timeout": "0s"`)) {
		t.Errorf("zero InitialFetchTimeout not explicit:\n%s", js)
	}
}

func TestBootstrapXDSAddress(t *testing.T) {
	b := mustBootstrap(t, BootstrapOptions{XDSAddress: "gatebridge.gatebridge-system.svc:18000"})
	if c := b.GetStaticResources().GetClusters()[0]; c.GetType() != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("DNS xds address: cluster type %v, want STRICT_DNS", c.GetType())
	}
	b = mustBootstrap(t, BootstrapOptions{XDSAddress: "[::1]:18000"})
	if a := b.GetStaticResources().GetClusters()[0].GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); a != "::1" {
		t.Errorf("IPv6 xds address = %q", a)
	}
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:0", ":18000", "127.0.0.1:http"} {
		if _, err := Bootstrap(BootstrapOptions{XDSAddress: addr}); err == nil {
			t.Errorf("XDSAddress %q accepted", addr)
		}
	}
	if _, err := Bootstrap(BootstrapOptions{XDSAddress: "127.0.0.1:1", InitialFetchTimeout: -time.Second}); err == nil {
		t.Error("negative InitialFetchTimeout accepted")
	}
}
