package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// The bridge (docs/bridge.md): with Model.Bridge set, one Gateway stands in front of a
// running ingress-nginx, and whatever that Gateway does not serve natively goes to it
// untouched:
//
//   - every virtual host of its HTTP(S) listeners ends with a route to the fallback
//     instead of a 404, and the catch-all "*" is that route alone: unknown hosts and paths
//     no route matches;
//   - refused and not-migrated locations (Model.RefusedLocations) take the fallback route
//     instead of answering 503, with the precedence their paths have inside the host;
//   - an HTTPRoute with gatebridge.dev/weight N < 100 gets, before each of its Envoy
//     routes, a twin with the same match that also requires the request's bucket (0…99,
//     see the scope filter) to be ≥ N and goes to the fallback: N % of its requests stay
//     native, and raising N only ever moves buckets from the fallback to Envoy;
//   - it always serves port 80 and, with a TLS target, port 443, even without listeners
//     there; each of its TLS ports passes the handshakes whose SNI it holds no certificate
//     for (or that have none) to the fallback's TLS port, so ingress-nginx's certificates
//     stay where they are.
//
// The fallback must see the request as the client sent it, with the client address
// appended to X-Forwarded-For (ingress-nginx, told to trust Envoy, recovers the client from
// it). The nginx headers native routes add (X-Forwarded-For replaced by the peer, X-Real-IP,
// X-Original-*, X-Scheme…) are therefore not set at the route table's level on the bridged
// Gateway, where they would apply to every route, but on each native route; the table sets
// only what both sides send (X-Forwarded-Host, -Port, -Proto) and removes gatebridge's own
// headers.

// The fallback clusters.
const (
	// ClusterBridgeHTTP is plain HTTP to Bridge.HTTP.
	ClusterBridgeHTTP = "bridge/http"
	// ClusterBridgeTLS is a raw TCP stream to Bridge.TLS, for TLS passthrough by SNI.
	ClusterBridgeTLS = "bridge/tls"
	// ClusterBridgeHTTPS is HTTPS to Bridge.TLS (SNI = the request's Host, no verification:
	// the in-cluster hop to the same ingress-nginx), for requests Envoy terminated.
	ClusterBridgeHTTPS = "bridge/https"
)

// Route statistics: on the bridged Gateway every route has the stat_prefix
// "gatebridge.<side>.<source>", so Envoy counts upstream requests per host, source and
// side under "vhost.<host>.route.gatebridge.<side>.<source>.upstream_rq_…". The bootstrap's
// tag extraction (dataplane/envoy, StatsTags) turns those into
// envoy_gatebridge_upstream_rq_total{host, side, ingress} and friends.
const (
	// RouteStatPrefix roots the per-source route statistics.
	RouteStatPrefix = "gatebridge"
	// SideNative and SideFallback are the values of the side.
	SideNative   = "native"
	SideFallback = "fallback"
	// StatSourceNone is the source of requests no Ingress or HTTPRoute names (unknown
	// hosts, paths no route matches).
	StatSourceNone = "none"
	// StatSourceHTTPRoutePrefix precedes "namespace/name" for hand-written HTTPRoutes; an
	// Ingress is "namespace/name" alone.
	StatSourceHTTPRoutePrefix = "httproute:"
)

const (
	bucketHeader = v1alpha1.BucketHeader
	bucketCookie = v1alpha1.BucketCookie
	// setCookieKey is the key, in the scope filter's dynamic metadata (requestMetadata),
	// of the Set-Cookie value for a client without a valid bucket cookie.
	setCookieKey = "set_cookie"
	// The labels the converter puts on the HTTPRoutes of an Ingress
	// (converters.LabelSourceNamespace, LabelSourceIngress).
	labelSourceNamespace = "gatebridge.dev/source-namespace"
	labelSourceIngress   = "gatebridge.dev/source-ingress"
	// fallbackRetries is how often a fallback request whose connection failed is tried on
	// another endpoint (nothing was sent; anything else is not retried).
	fallbackRetries = 2
)

// bridgedGateway reports whether gw is the Gateway Model.Bridge names.
func (t *translator) bridgedGateway(gw *gwv1.Gateway) bool {
	b := t.model.Bridge
	return b != nil && gw.Namespace == b.GatewayNamespace && gw.Name == b.GatewayName
}

func (t *translator) bridged(g *portGroup) bool { return t.bridgedGateway(g.gw) }

// fallbackCluster is where g's HTTP requests not served natively go; "" when g is not on
// the bridged Gateway. Requests Envoy terminated go back over TLS when the bridge has a
// TLS target, else over plain HTTP (with X-Forwarded-Proto: https, as for native routes).
func (t *translator) fallbackCluster(g *portGroup) string {
	if !t.bridged(g) {
		return ""
	}
	if g.tls && t.model.Bridge.TLS != nil {
		return ClusterBridgeHTTPS
	}
	return ClusterBridgeHTTP
}

// bridgePorts adds to the port groups of the bridged Gateway the ports it always serves:
// 80 (plain HTTP) and, with a TLS target, 443 (TLS), as the Gateway's own listeners would
// be, so that everything falls back there until an Ingress is migrated.
func (t *translator) bridgePorts(gw *gwv1.Gateway, groups []*portGroup) []*portGroup {
	type port struct {
		number int32
		tls    bool
	}
	want := []port{{80, false}}
	if t.model.Bridge.TLS != nil {
		want = append(want, port{443, true})
	}
	addr := t.opts.address(gw)
	for _, p := range want {
		ep := t.opts.envoyPort(p.number)
		i := slices.IndexFunc(groups, func(g *portGroup) bool { return g.address == addr && g.envoyPort == ep })
		if i < 0 {
			groups = append(groups, &portGroup{gw: gw, address: addr, envoyPort: ep, gatewayPort: p.number, tls: p.tls})
			continue
		}
		if g := groups[i]; g.tls != p.tls && len(g.listeners) > 0 {
			what := "plain HTTP"
			if p.tls {
				what = "TLS passthrough"
			}
			t.problem("Gateway", gw.Namespace, gw.Name, "spec.listeners", fmt.Sprintf("port %d has listeners of protocol %s, so the bridge's %s to the fallback is not served on it", p.number, g.listeners[0].spec.Protocol, what))
		}
	}
	return groups
}

// bridgeClusters adds the fallback clusters.
func (t *translator) bridgeClusters() {
	b := t.model.Bridge
	t.clusters[ClusterBridgeHTTP] = xds.EncodeCluster(t.fallbackTargetCluster(ClusterBridgeHTTP, b.HTTP))
	if b.TLS != nil {
		t.clusters[ClusterBridgeTLS] = xds.EncodeCluster(t.fallbackTargetCluster(ClusterBridgeTLS, *b.TLS))
		https := t.fallbackTargetCluster(ClusterBridgeHTTPS, *b.TLS)
		// No verification and no ALPN (HTTP/1.1): the in-cluster hop to ingress-nginx.
		https.TransportSocket = uncheckedTLS()
		// SNI = the request's Host, so that ingress-nginx picks the certificate (and server
		// block) the client asked for; auto_sni keys the connection pool by it too.
		https.TypedExtensionProtocolOptions = map[string]*anyType{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&upstreamhttpv3.HttpProtocolOptions{
				UpstreamHttpProtocolOptions: &corev3.UpstreamHttpProtocolOptions{AutoSni: true},
				UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
				}},
			}),
		}
		t.clusters[ClusterBridgeHTTPS] = xds.EncodeCluster(https)
	}
}

// fallbackTargetCluster is a cluster named name to a fallback target: a Service port of
// the model through EDS (its endpoints shared with backends of the same port), or an
// address — STATIC for an IP, STRICT_DNS for a name. A target that cannot be resolved
// gives a cluster without endpoints (fallback requests are answered 503) and a problem.
func (t *translator) fallbackTargetCluster(name string, target FallbackTarget) *clusterv3.Cluster {
	b := t.model.Bridge
	c := baseCluster(name, defaultConnectTimeout)
	fail := func(msg string) *clusterv3.Cluster {
		t.problem("Gateway", b.GatewayNamespace, b.GatewayName, "", "fallback "+msg+"; requests for it are answered 503")
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: name}
		return c
	}
	if target.ServiceName != "" {
		svc := t.ix.services[qualified(target.ServiceNamespace, target.ServiceName)]
		if svc == nil {
			return fail(fmt.Sprintf("Service %s not found", qualified(target.ServiceNamespace, target.ServiceName)))
		}
		sp := findServicePort(svc, target.Port)
		if sp == nil {
			return fail(fmt.Sprintf("Service %s has no port %d", qualified(target.ServiceNamespace, target.ServiceName), target.Port))
		}
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
			c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
			c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(svc.Spec.ExternalName, uint32(sp.Port))},
			}}}
			return c
		}
		base := fmt.Sprintf("%s/%s/%d", target.ServiceNamespace, target.ServiceName, target.Port)
		c.ClusterDiscoveryType = edsDiscovery
		c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfig, ServiceName: base}
		if _, ok := t.loadAssignments[base]; !ok {
			t.loadAssignments[base] = t.loadAssignment(base, svc, sp)
		}
		return c
	}
	host, portStr, err := net.SplitHostPort(target.Address)
	port, perr := strconv.ParseUint(portStr, 10, 16)
	if err != nil || perr != nil || port == 0 || host == "" {
		return fail(fmt.Sprintf("address %q is not host:port", target.Address))
	}
	setAddress(c, host, uint32(port))
	return c
}

// setAddress points c at one address: STATIC for an IP, STRICT_DNS for a name.
func setAddress(c *clusterv3.Cluster, host string, port uint32) {
	c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: c.Name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(host, port)},
	}}}
}

// bridgeTLSChain is the default filter chain of a TLS port of the bridged Gateway: a
// handshake whose SNI matches no certificate or passthrough hostname here (or without SNI)
// goes, as it is, to the fallback's TLS port.
func (t *translator) bridgeTLSChain(g *portGroup) *listenerv3.FilterChain {
	t.served = append(t.served, Served{Listener: g.name(), Host: fallbackHost, Match: "TLS, any other SNI", Action: "→ fallback " + ClusterBridgeTLS + " (TLS passthrough)", Route: "bridge"})
	tp := &tcpproxyv3.TcpProxy{StatPrefix: ClusterBridgeTLS, ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: ClusterBridgeTLS}}
	return &listenerv3.FilterChain{
		Name: ClusterBridgeTLS,
		Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(tp)}}},
	}
}

// bridgedBaseTable is baseTable on the bridged Gateway: only the headers both sides send
// (the rest is set per native route, nativeHeaders), and gatebridge's own removed.
func bridgedBaseTable(g *portGroup) *routev3.RouteConfiguration {
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	return &routev3.RouteConfiguration{
		RequestHeadersToAdd: []*corev3.HeaderValueOption{
			setHeader("x-forwarded-host", "%REQ(:AUTHORITY)%"),
			setHeader("x-forwarded-port", strconv.Itoa(int(g.gatewayPort))),
			setHeader("x-forwarded-proto", scheme),
		},
		RequestHeadersToRemove:   []string{"proxy", scopeHeader, bucketHeader},
		IgnorePortInHostMatching: true,
	}
}

// nativeHeaders are the nginx headers of forwardedHeaders that the bridged Gateway's table
// does not set (bridgedBaseTable), in the same order, for its native routes: after the
// route's own, so that they apply as the table's would.
func nativeHeaders(g *portGroup) []*corev3.HeaderValueOption {
	scheme := "http"
	if g.tls {
		scheme = "https"
	}
	return []*corev3.HeaderValueOption{
		setHeader("x-original-forwarded-for", "%REQ(x-forwarded-for)%"),
		setHeader("x-original-forwarded-host", "%REQ(x-forwarded-host)%"),
		setHeader("x-real-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
		setHeader("x-forwarded-for", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
		setHeader("x-forwarded-scheme", scheme),
		setHeader("x-scheme", scheme),
	}
}

// fallbackRequestHeaders: the client address appended to the client's X-Forwarded-For
// (Envoy joins an appended value with ","; without a client value it is the address alone).
var fallbackRequestHeaders = []*corev3.HeaderValueOption{{
	Header:       &corev3.HeaderValue{Key: "x-forwarded-for", Value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
	AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
}}

// fallbackRequestHeadersToRemove: Envoy's own header for the client address (the connection
// manager adds it to every request); the fallback reads X-Forwarded-For.
var fallbackRequestHeadersToRemove = []string{"x-envoy-external-address"}

// stickyCookieHeader sets the bucket cookie the scope filter chose for a client that had
// none; the value is empty (and so not sent) when the client had one.
var stickyCookieHeader = &corev3.HeaderValueOption{
	Header:       &corev3.HeaderValue{Key: "set-cookie", Value: "%DYNAMIC_METADATA(" + requestMetadata + ":" + setCookieKey + ")%"},
	AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
}

// fallbackFilters turns off the body limit for fallback requests: ingress-nginx applies its
// own, and the body must stream through untouched (uploads, websockets).
var fallbackFilters = map[string]*anypb.Any{
	filterBuffer: mustAny(&bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Disabled{Disabled: true}}),
}

// fallbackAction forwards to cluster as the client sent the request: no total timeout (a
// download may take long), retried on another endpoint only when the connection failed.
func fallbackAction(cluster string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
		Timeout:          noTimeout,
		RetryPolicy: &routev3.RetryPolicy{
			RetryOn:                       "connect-failure",
			NumRetries:                    wrapperspb.UInt32(fallbackRetries),
			HostSelectionRetryMaxAttempts: 3,
			RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
				Name:       "envoy.retry_host_predicates.previous_hosts",
				ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: mustAny(&previoushostsv3.PreviousHostsPredicate{})},
			}},
		},
	}}
}

// fallbackRoute is a route of g that sends match to the fallback, counted for source.
func fallbackRoute(cluster, name string, match *routev3.RouteMatch, source string, sticky bool) *routev3.Route {
	r := &routev3.Route{
		Name:                   name,
		Match:                  match,
		Action:                 fallbackAction(cluster),
		RequestHeadersToAdd:    fallbackRequestHeaders,
		RequestHeadersToRemove: fallbackRequestHeadersToRemove,
		TypedPerFilterConfig:   fallbackFilters,
		StatPrefix:             statPrefix(SideFallback, source),
	}
	if sticky {
		r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{stickyCookieHeader}
	}
	return r
}

func statPrefix(side, source string) string { return RouteStatPrefix + "." + side + "." + source }

// finalRoute ends every virtual host of g: 404 (notFoundRoute), or on the bridged Gateway
// the fallback. The memo keeps the fallback's proto, so that unchanged tables stay the
// same protos.
func (t *translator) finalRoute(g *portGroup) wireRoute {
	c := t.fallbackCluster(g)
	if c == "" {
		return notFoundWire
	}
	r, ok := t.memo.fallbackRoutes[c]
	if !ok {
		r = encodeOwnRoute(fallbackRoute(c, "fallback", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, StatSourceNone, false))
	}
	t.memo.nextFallbackRoutes[c] = r
	return r
}

// routeSource is the source an HTTPRoute's statistics are counted for: its Ingress
// (converter labels), else the route itself.
func routeSource(r *gwv1.HTTPRoute) string {
	ns, name := r.Labels[labelSourceNamespace], r.Labels[labelSourceIngress]
	if ns != "" && name != "" {
		return ns + "/" + name
	}
	return StatSourceHTTPRoutePrefix + qualified(r.Namespace, r.Name)
}

// routeWeight reads an HTTPRoute's gatebridge.dev/weight: 100 without one; an integer
// 0…100 (blanks around it allowed); anything else is a problem and counts as 0, which
// sends the route's requests to ingress-nginx.
func (t *translator) routeWeight(r *gwv1.HTTPRoute) int {
	v, ok := r.Annotations[v1alpha1.WeightAnnotation]
	if !ok {
		return 100
	}
	s := strings.TrimSpace(v)
	n, err := strconv.Atoi(s)
	if s == "" || strings.Trim(s, "0123456789") != "" || err != nil || n > 100 {
		t.problem("HTTPRoute", r.Namespace, r.Name, "metadata.annotations["+v1alpha1.WeightAnnotation+"]",
			fmt.Sprintf("%q is not a whole number from 0 to 100; its requests all go to the fallback (weight 0) until it is fixed", v))
		return 0
	}
	return n
}

// bridgeRouteEntries completes the Envoy routes of HTTPRoute r on g for the bridge: on
// the bridged Gateway, native routes get the nginx headers and their statistics, sticky
// routes the bucket cookie, and a route weighted below 100 a fallback twin before each of
// its routes. Elsewhere the entries are unchanged, and a weight is reported as without
// effect.
func (t *translator) bridgeRouteEntries(g *portGroup, r *gwv1.HTTPRoute, es []*routeEntry) []*routeEntry {
	if !t.bridged(g) {
		if _, ok := r.Annotations[v1alpha1.WeightAnnotation]; ok {
			t.problem("HTTPRoute", r.Namespace, r.Name, "metadata.annotations["+v1alpha1.WeightAnnotation+"]",
				fmt.Sprintf("has no effect on Gateway %s, which is not bridged to a fallback; all of its requests there are served natively", qualified(g.gw.Namespace, g.gw.Name)))
		}
		return es
	}
	weight := t.routeWeight(r)
	sticky := false
	switch v := r.Annotations[v1alpha1.StickyAnnotation]; strings.TrimSpace(v) {
	case "true":
		sticky = true
	case "", "false":
	default:
		t.problem("HTTPRoute", r.Namespace, r.Name, "metadata.annotations["+v1alpha1.StickyAnnotation+"]", fmt.Sprintf("%q is neither \"true\" nor \"false\"; clients are not pinned to a side", v))
	}
	source := routeSource(r)
	cluster := t.fallbackCluster(g)
	native := nativeHeaders(g)
	out := make([]*routeEntry, 0, 2*len(es))
	for _, e := range es {
		rt := e.route
		if _, forwards := rt.Action.(*routev3.Route_Route); forwards {
			rt.RequestHeadersToRemove = slices.Concat(rt.RequestHeadersToRemove, []string{"x-original-forwarded-for", "x-original-forwarded-host"})
			rt.RequestHeadersToAdd = slices.Concat(rt.RequestHeadersToAdd, native)
		}
		if sticky {
			rt.ResponseHeadersToAdd = slices.Concat(rt.ResponseHeadersToAdd, []*corev3.HeaderValueOption{stickyCookieHeader})
		}
		rt.StatPrefix = statPrefix(SideNative, source)
		if weight < 100 {
			twin := *e
			twin.route = fallbackRoute(cluster, rt.Name+"/fallback", withBucketAtLeast(rt.Match, weight), source, sticky)
			twin.sub = 2 * e.sub
			twin.servedAction = fmt.Sprintf("→ fallback (weight %d: buckets %d–99)", weight, weight)
			e.sub = 2*e.sub + 1
			out = append(out, &twin)
		}
		out = append(out, e)
	}
	return out
}

// withBucketAtLeast is m that also requires the bucket header to be in [n, 100).
func withBucketAtLeast(m *routev3.RouteMatch, n int) *routev3.RouteMatch {
	c := proto.Clone(m).(*routev3.RouteMatch)
	c.Headers = append(c.Headers, &routev3.HeaderMatcher{Name: bucketHeader, HeaderMatchSpecifier: &routev3.HeaderMatcher_RangeMatch{
		RangeMatch: &typev3.Int64Range{Start: int64(n), End: 100},
	}})
	return c
}

// fallbackServed says where a refused or not-migrated location goes on the bridged Gateway.
func fallbackServed(reason string) string {
	if strings.HasPrefix(reason, "not migrated") {
		return "→ fallback (" + reason + ")"
	}
	return "→ fallback (refused: " + reason + ")"
}

// bucketLua is the part of the scope filter that runs on the bridged Gateway: the
// request's bucket, from the client's cookie when it holds one (0…99), else drawn at
// random; a new bucket is also recorded for the sticky routes' Set-Cookie.
func bucketLua() string {
	return `  -- The bridge: the request's bucket (0-99) decides a weighted route's side.
  local bucket = nil
  local cookie = headers:get("cookie")
  if cookie then
    local v = string.match(";" .. cookie .. ";", ";%s*` + luaPattern(bucketCookie) + `=(%d%d?)%s*;")
    if v then bucket = tonumber(v) end
  end
  if bucket == nil then
    bucket = math.random(0, 99)
    info:set("` + requestMetadata + `", "` + setCookieKey + `", "` + bucketCookie + `=" .. bucket .. "; Path=/; HttpOnly")
  end
  headers:replace("` + bucketHeader + `", tostring(bucket))
`
}

// luaPattern escapes s for a Lua pattern.
func luaPattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("^$()%.[]*+-?", r) {
			b.WriteByte('%')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// websocketUpgrade lets websocket upgrades through the bridged Gateway's connection
// manager (ingress-nginx proxies them by default). It must be allowed there rather than
// per route: Envoy decides on an upgrade from the route found before the scope filter has
// chosen the request's table.
func websocketUpgrade() []*hcmv3.HttpConnectionManager_UpgradeConfig {
	return []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}}
}
