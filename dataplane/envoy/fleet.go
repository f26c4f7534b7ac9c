package envoy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// What a fleet Envoy (one that joins a controller's xDS server, rather than one a local
// stack starts) adds to its bootstrap: its port map in the node metadata and a listener
// that exposes readiness without exposing the admin endpoint.

// NodeMetadataPortMap is the key of node.metadata that carries BootstrapOptions.PortMap:
// a struct from the Gateway port (as a decimal string) to the port this Envoy binds for it,
// e.g. {"80": 8080, "443": 8443}. It reaches the xDS server in the node of the first
// discovery request, so one server can serve Envoys with different port mappings.
const NodeMetadataPortMap = "gatebridge.dev/port-map"

// ReadyListenerName and ReadyPath: the static listener of BootstrapOptions.ReadyAddress
// answers GET ReadyPath.
const (
	ReadyListenerName = "gatebridge-ready"
	ReadyPath         = "/ready"
)

// GatewayRuntime is the static runtime layer Envoys serving gatebridge's translation need:
// Ingress paths become regular expressions, and RE2's default program size limit (100) is
// too small for some real ones. Envoy refuses a larger one with its whole resource (and
// the rest of the push), so the translator sends none larger than a tenth of the limit
// (envoyregex.Check); Envoy warns above that tenth.
func GatewayRuntime() map[string]any {
	return map[string]any{
		"re2.max_program_size.error_level": envoyregex.EnvoyProgramLimit,
		"re2.max_program_size.warn_level":  envoyregex.MaxProgram,
	}
}

// nodeMetadata is node.metadata for a port map (nil when there is none).
func nodeMetadata(portMap map[int32]uint32) (*structpb.Struct, error) {
	if len(portMap) == 0 {
		return nil, nil
	}
	ports := map[string]any{}
	for gw, local := range portMap {
		if gw <= 0 || gw > 65535 || local == 0 || local > 65535 {
			return nil, fmt.Errorf("bootstrap: PortMap %d→%d: ports are 1-65535", gw, local)
		}
		ports[strconv.Itoa(int(gw))] = float64(local)
	}
	md, err := structpb.NewStruct(map[string]any{NodeMetadataPortMap: ports})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: node metadata: %w", err)
	}
	return md, nil
}

// PortMapFromNode reads back the port map an Envoy declared in its node metadata; nil when
// it declared none. The xDS server uses it to bind each Envoy's listeners where its
// bootstrap said.
func PortMapFromNode(node *corev3.Node) (map[int32]uint32, error) {
	v, ok := node.GetMetadata().GetFields()[NodeMetadataPortMap]
	if !ok {
		return nil, nil
	}
	s := v.GetStructValue()
	if s == nil {
		return nil, fmt.Errorf("node %q: metadata %s is not a struct", node.GetId(), NodeMetadataPortMap)
	}
	out := make(map[int32]uint32, len(s.GetFields()))
	for k, p := range s.GetFields() {
		gw, err := strconv.ParseUint(k, 10, 16)
		n := p.GetNumberValue()
		if _, isNum := p.GetKind().(*structpb.Value_NumberValue); err != nil || gw == 0 || !isNum || n < 1 || n > 65535 || n != float64(int(n)) {
			return nil, fmt.Errorf("node %q: metadata %s: %q: %v is not a port mapping (want \"80\": 8080)", node.GetId(), NodeMetadataPortMap, k, p.AsInterface())
		}
		out[int32(gw)] = uint32(n)
	}
	return out, nil
}

// readyListener is a static listener on addr ("ip:port") that answers GET /ready with
// Envoy's health-check filter: 200 while Envoy is healthy, 503 once /healthcheck/fail was
// posted to the admin endpoint (the pre-stop drain does), 404 for any other path. Envoy
// accepts connections on it only once its initialization is over — with
// InitialFetchTimeout 0, once the xDS server has sent listeners and clusters — so a probe
// of it reports "configured and not draining" without exposing the admin endpoint.
func readyListener(addr string) (*listenerv3.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: ready address %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return nil, fmt.Errorf("bootstrap: ready address %q: the host must be an IP address (0.0.0.0 for every interface)", addr)
	}
	p, err := parsePort(port)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("bootstrap: ready address %q: bad port", addr)
	}
	health, err := anyOf(&healthcheckv3.HealthCheck{
		PassThroughMode: wrapperspb.Bool(false),
		Headers: []*routev3.HeaderMatcher{{
			Name: ":path",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: ReadyPath},
			}},
		}},
	})
	if err != nil {
		return nil, err
	}
	router, err := anyOf(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm, err := anyOf(&hcmv3.HttpConnectionManager{
		StatPrefix: ReadyListenerName,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name:         ReadyListenerName,
			VirtualHosts: []*routev3.VirtualHost{{Name: ReadyListenerName, Domains: []string{"*"}}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.health_check", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: health}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}},
		},
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:    ReadyListenerName,
		Address: socketAddress(ip.Unmap().String(), p),
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm},
			}},
		}},
	}, nil
}
