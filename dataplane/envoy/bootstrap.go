package envoy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamconnsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// XDSClusterName is the name of the static cluster through which Envoy reaches the ADS server.
const XDSClusterName = "xds"

// Defaults of BootstrapOptions.
const (
	DefaultNodeID                   = "gatebridge"
	DefaultCluster                  = "gatebridge"
	DefaultAdminAddress             = "127.0.0.1:0"
	DefaultMaxDownstreamConnections = 50000
)

// The name and type of the overload-manager resource monitor that bounds downstream
// connections. Envoy 1.40 warns at start-up when no limit is configured, and warns that the
// older runtime key overload.global_downstream_max_connections is deprecated (and still
// prints the first warning) when that is used instead.
const globalDownstreamConnectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"

// BootstrapOptions describe the static part of Envoy's configuration; everything else
// (listeners, routes, clusters, endpoints, secrets) comes from the ADS server.
type BootstrapOptions struct {
	// NodeID and Cluster identify this Envoy to the ADS server (node.id, node.cluster).
	// Default: DefaultNodeID, DefaultCluster.
	NodeID, Cluster string

	// XDSAddress is host:port of the gRPC ADS server. The host is an IP address (a STATIC
	// cluster) or a DNS name (a STRICT_DNS cluster). Required.
	XDSAddress string

	// AdminAddress is ip:port of Envoy's admin endpoint; it must be a loopback address
	// ("localhost" means 127.0.0.1) because the admin endpoint is unauthenticated and can
	// stop Envoy. Port 0 lets Envoy choose; Process reads the chosen address back.
	// Default: DefaultAdminAddress.
	AdminAddress string

	// InitialFetchTimeout is how long Envoy waits for the first CDS and then the first LDS
	// response before initializing without them (and /ready turning LIVE). Zero means wait
	// for ever: Envoy is LIVE only once the ADS server has configured it. Tests without an
	// ADS server set a short value.
	InitialFetchTimeout time.Duration

	// MaxDownstreamConnections bounds the active downstream connections of the whole Envoy
	// (the global_downstream_max_connections resource monitor). Default:
	// DefaultMaxDownstreamConnections.
	MaxDownstreamConnections int64

	// Runtime holds values of the static runtime layer ("static"), e.g.
	// {"envoy.reloadable_features.some_flag": false}. An admin layer ("admin") sits on top
	// so /runtime_modify works for experiments.
	Runtime map[string]any

	// PortMap (Gateway port → port this Envoy binds) goes into node.metadata (fleet.go,
	// NodeMetadataPortMap) for the xDS server; nil: none.
	PortMap map[int32]uint32

	// ReadyAddress is ip:port of a static listener answering GET /ready (fleet.go,
	// readyListener), for probes that cannot reach the loopback admin endpoint; "": none.
	ReadyAddress string
}

// Bootstrap returns Envoy's bootstrap configuration as JSON (which Envoy also reads as YAML),
// validated against Envoy's proto constraints:
//
//   - node: id and cluster;
//   - admin: on AdminAddress, refusing anything but loopback;
//   - static_resources: only the "xds" cluster to XDSAddress, HTTP/2 with keepalive;
//   - dynamic_resources: ADS over delta gRPC (transport V3, node sent on the first message
//     only) through the "xds" cluster, with LDS and CDS from ADS;
//   - layered_runtime: a static layer (Runtime) and an admin layer;
//   - stats_config: the tags of the bridge's per-source route statistics (stats.go);
//   - stats_flush_on_admin: statistics are flushed when the admin endpoint is read, not
//     every 5 s (there are no sinks);
//   - overload_manager: the global downstream connection limit.
func Bootstrap(o BootstrapOptions) ([]byte, error) {
	b, err := bootstrapProto(o)
	if err != nil {
		return nil, err
	}
	return marshalJSON(b)
}

func bootstrapProto(o BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	if o.NodeID == "" {
		o.NodeID = DefaultNodeID
	}
	if o.Cluster == "" {
		o.Cluster = DefaultCluster
	}
	if o.AdminAddress == "" {
		o.AdminAddress = DefaultAdminAddress
	}
	if o.MaxDownstreamConnections == 0 {
		o.MaxDownstreamConnections = DefaultMaxDownstreamConnections
	}
	if o.MaxDownstreamConnections < 0 {
		return nil, fmt.Errorf("bootstrap: MaxDownstreamConnections %d is negative", o.MaxDownstreamConnections)
	}
	if o.InitialFetchTimeout < 0 {
		return nil, fmt.Errorf("bootstrap: InitialFetchTimeout %v is negative", o.InitialFetchTimeout)
	}

	admin, err := adminAddress(o.AdminAddress)
	if err != nil {
		return nil, err
	}
	xds, err := xdsCluster(o.XDSAddress)
	if err != nil {
		return nil, err
	}
	staticLayer, err := structpb.NewStruct(o.Runtime)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: Runtime: %w", err)
	}
	monitor, err := anyOf(&downstreamconnsv3.DownstreamConnectionsConfig{
		MaxActiveDownstreamConnections: o.MaxDownstreamConnections,
	})
	if err != nil {
		return nil, err
	}

	ads := func() *corev3.ConfigSource {
		return &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			// Zero is explicit: unset would mean Envoy's default of 15 s.
			InitialFetchTimeout: durationpb.New(o.InitialFetchTimeout),
		}
	}

	metadata, err := nodeMetadata(o.PortMap)
	if err != nil {
		return nil, err
	}

	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: o.NodeID, Cluster: o.Cluster, Metadata: metadata},
		Admin: &bootstrapv3.Admin{
			Address: socketAddress(admin.Addr().String(), admin.Port()),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: []*clusterv3.Cluster{xds},
		},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:                   corev3.ApiConfigSource_DELTA_GRPC,
				TransportApiVersion:       corev3.ApiVersion_V3,
				SetNodeOnFirstMessageOnly: true,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
						EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName},
					},
				}},
			},
			LdsConfig: ads(),
			CdsConfig: ads(),
		},
		LayeredRuntime: &bootstrapv3.LayeredRuntime{
			Layers: []*bootstrapv3.RuntimeLayer{
				{Name: "static", LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: staticLayer}},
				{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
			},
		},
		// The bridge's per-source request counts as labelled metrics (stats.go).
		StatsConfig: &metricsv3.StatsConfig{StatsTags: StatsTags()},
		// No stats sinks: statistics are read through the admin endpoint, which flushes
		// them when asked. Envoy's default 5 s flush timer walks every statistic on the
		// main thread — with 10,000 clusters a stall of ~300 ms that delays whatever xDS
		// update arrives meanwhile (1 change in 100 served 300+ ms late at 10,000 routes,
		// hack/bench-dataplane.sh; none after). The flush now happens when /stats is
		// read: a metrics scrape holds the main thread as the timer did, once per scrape.
		StatsFlush: &bootstrapv3.Bootstrap_StatsFlushOnAdmin{StatsFlushOnAdmin: true},
		OverloadManager: &overloadv3.OverloadManager{
			ResourceMonitors: []*overloadv3.ResourceMonitor{{
				Name:       globalDownstreamConnectionsMonitor,
				ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: monitor},
			}},
		},
	}
	if o.ReadyAddress != "" {
		ready, err := readyListener(o.ReadyAddress)
		if err != nil {
			return nil, err
		}
		b.StaticResources.Listeners = append(b.StaticResources.Listeners, ready)
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return b, nil
}

// adminAddress parses a loopback ip:port ("localhost" is 127.0.0.1).
func adminAddress(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bootstrap: admin address %q: %w", s, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bootstrap: admin address %q: the host must be a loopback IP address (127.0.0.1 or ::1)", s)
	}
	if !ip.Unmap().IsLoopback() || ip.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("bootstrap: refusing admin address %q: Envoy's admin endpoint is unauthenticated (it can change and stop Envoy), so it must listen on loopback only (127.0.0.1 or ::1)", s)
	}
	p, err := parsePort(port)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bootstrap: admin address %q: %w", s, err)
	}
	return netip.AddrPortFrom(ip.Unmap(), p), nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}

// xdsCluster is the static cluster to the ADS server: HTTP/2 (gRPC) with HTTP/2 PING and TCP
// keepalives, so a dead server is noticed and Envoy reconnects.
func xdsCluster(addr string) (*clusterv3.Cluster, error) {
	if addr == "" {
		return nil, errors.New("bootstrap: XDSAddress (host:port of the ADS server) is required")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: XDSAddress %q: %w", addr, err)
	}
	p, err := parsePort(port)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("bootstrap: XDSAddress %q: bad port", addr)
	}
	if host == "" {
		return nil, fmt.Errorf("bootstrap: XDSAddress %q: no host", addr)
	}
	discovery := clusterv3.Cluster_STATIC
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else {
		discovery = clusterv3.Cluster_STRICT_DNS
	}

	protocol, err := anyOf(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(30 * time.Second),
							Timeout:  durationpb.New(5 * time.Second),
						},
					},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}

	c := &clusterv3.Cluster{
		Name:                 XDSClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:       durationpb.New(time.Second),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": protocol,
		},
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{
			TcpKeepalive: &corev3.TcpKeepalive{
				KeepaliveProbes:   wrapperspb.UInt32(3),
				KeepaliveTime:     wrapperspb.UInt32(30),
				KeepaliveInterval: wrapperspb.UInt32(5),
			},
		},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
						Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, p)},
					},
				}},
			}},
		},
	}
	if discovery == clusterv3.Cluster_STRICT_DNS {
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	return c, nil
}

func socketAddress(host string, port uint16) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
	}}}
}

// validator is what the generated Envoy protos implement.
type validator interface{ ValidateAll() error }

func anyOf(m proto.Message) (*anypb.Any, error) {
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	a, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return a, nil
}

// marshalJSON renders m with proto field names, indented. protojson deliberately varies its
// whitespace between runs; re-indenting makes the output stable.
func marshalJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
