package dataplane

import (
	"fmt"
	bandwidthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	"net"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
)

// HTTP filter names, in the order nginx's request phases run them: preaccess (limit_req),
// access (allow/deny, auth_basic, auth_request), then the body is read (client_max_body_size)
// and the request proxied. Redirects and CORS preflights are route actions, answered before
// any of these, as nginx answers them in the rewrite phase.
const (
	filterRateLimit = "envoy.filters.http.local_ratelimit"
	// filterRateLimitExempt tells the rate limit which clients limit-allowlist exempts: an
	// RBAC filter with shadow rules only, which records its verdict for the descriptor.
	filterRateLimitExempt = "gatebridge.rate_limit_exempt"
	// filterBandwidth throttles responses of the routes with limit-rate (off elsewhere).
	filterBandwidth = "envoy.filters.http.bandwidth_limit"
	filterRBAC      = "envoy.filters.http.rbac"
	filterAuthz     = "envoy.filters.http.ext_authz"
	filterBuffer    = "envoy.filters.http.buffer"
	filterCORS      = "envoy.filters.http.cors"
	filterRouter    = "envoy.filters.http.router"
)

// maxBufferedBody is the largest body limit enforced by buffering (the buffer filter's
// limit is 32-bit). Larger limits are not enforced; see docs/dataplane.md.
const maxBufferedBody = 1<<32 - 1

// authzTimeout bounds one auth decision; nginx's auth subrequest uses the proxy timeouts.
const authzTimeout = 65 * time.Second

// httpFilters is the connection manager's filter chain. Every filter is on, with a
// configuration that does nothing by itself; routes that need one carry its per-route
// configuration, and virtual hosts turn off by default the filters whose global
// configuration would act (see vhostFilterDefaults). Filters are not "disabled" at the
// connection manager and enabled per route, because Envoy decides which filters run from
// the route found before any filter runs, and the route is only known once the scope
// filter has chosen the route table (see scopes.go).
func (t *translator) httpFilters(g *portGroup) []*hcmv3.HttpFilter {
	filters := []*hcmv3.HttpFilter{
		// First: the other filters' per-route configuration is looked up in the scope it selects.
		scopeFilter(g.name(), t.bridged(g)),
	}
	// Then client certificates, on the Gateways that ask for them: nginx answers their 421
	// and 400 before anything else of the request, and the subject match (403) in the
	// server's rewrite phase.
	if t.hasClientCerts(g) {
		filters = append(filters, clientCertFilters()...)
	}
	filters = append(filters,
		errorStatusFilter(),
		affinityCookieFilter(),
		responseRewriteFilter(),
		customResponseFilter(),
	)
	if g.exemptClients {
		// No rules: records nothing unless a route gives its exempt ranges.
		filters = append(filters, &hcmv3.HttpFilter{Name: filterRateLimitExempt, ConfigType: typed(&rbacv3.RBAC{})})
	}
	filters = append(filters,
		// No token bucket and filter_enabled unset (0%): limits nothing unless a route says so.
		&hcmv3.HttpFilter{Name: filterRateLimit, ConfigType: typed(&localrlv3.LocalRateLimit{StatPrefix: "gatebridge_rate_limit"})},
		// No rules: allows everything unless a route has rules.
		&hcmv3.HttpFilter{Name: filterRBAC, ConfigType: typed(&rbacv3.RBAC{})},
	)
	if t.opts.AuthzAddress != "" {
		filters = append(filters, &hcmv3.HttpFilter{Name: filterAuthz, ConfigType: typed(&extauthzv3.ExtAuthz{
			TransportApiVersion: corev3.ApiVersion_V3,
			Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
				TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: AuthzClusterName}},
				Timeout:         durationpb.New(authzTimeout),
			}},
			FailureModeAllow: false,
			// Repeated headers reach the auth service as separate lines, bytes intact.
			EncodeRawHeaders: true,
			// nginx answers 500 when the auth service cannot be reached.
			StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_InternalServerError},
		})})
	}
	filters = append(filters,
		&hcmv3.HttpFilter{Name: filterBuffer, ConfigType: typed(&bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(uint32(clampBody(t.gatewayBodyLimit(g))))})},
		&hcmv3.HttpFilter{Name: filterCORS, ConfigType: typed(&corsv3.Cors{})},
		// Disabled (the default mode) unless a route gives its limit.
		&hcmv3.HttpFilter{Name: filterBandwidth, ConfigType: typed(&bandwidthv3.BandwidthLimit{StatPrefix: "gatebridge_bandwidth"})},
		&hcmv3.HttpFilter{Name: filterRouter, ConfigType: typed(&routerv3.Router{})},
	)
	return filters
}

// gatewayBodyLimit is the request body limit of the Gateway's TrafficPolicy (0: none).
func (t *translator) gatewayBodyLimit(g *portGroup) int64 {
	if rb := t.policyFor(g.gw, nil).spec.RequestBody; rb != nil {
		return rb.MaxBytes
	}
	return 0
}

// vhostFilterDefaults turns off, for a whole virtual host, the filters whose global
// configuration would act on every request: ext_authz (routes with auth re-enable it with
// their policy key) and, when the Gateway sets no body limit, the buffer filter. A route's
// own configuration takes precedence over its virtual host's.
func (t *translator) vhostFilterDefaults(g *portGroup) map[string]*anypb.Any {
	out := map[string]*anypb.Any{filterErrorStatus: luaOff, filterAffinityCookie: luaOff, filterResponseRewrite: luaOff}
	if t.hasClientCerts(g) {
		out[filterClientCert] = luaOff
	}
	if t.opts.AuthzAddress != "" {
		out[filterAuthz] = mustAny(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}})
	}
	if !bufferable(t.gatewayBodyLimit(g)) {
		out[filterBuffer] = mustAny(&bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Disabled{Disabled: true}})
	}
	return out
}

// luaOff turns a Lua filter off for a virtual host or route; the Lua filters that act on
// every request they see (error-page status, affinity cookie, response rewrite, client
// certificates) are off by default on every virtual host (vhostFilterDefaults).
var luaOff = mustAny(&luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Disabled{Disabled: true}})

// bufferable reports whether the buffer filter can enforce body limit n (0: none).
func bufferable(n int64) bool { return n > 0 && n <= maxBufferedBody }

func clampBody(n int64) int64 {
	if !bufferable(n) {
		return 1 << 20
	}
	return n
}

func typed(m proto.Message) *hcmv3.HttpFilter_TypedConfig {
	return &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(m)}
}

// bufferPerRoute sets a route's body limit, or turns the limit off (maxBytes 0 = unlimited).
func bufferPerRoute(maxBytes int64) *anypb.Any {
	if !bufferable(maxBytes) {
		return mustAny(&bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Disabled{Disabled: true}})
	}
	return mustAny(&bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Buffer{
		Buffer: &bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(uint32(maxBytes))},
	}})
}

// rbacPerRoute allows a client when it is not in Deny and, if Allow is set, in Allow; the
// rest get 403, as nginx's `deny …; allow …; deny all;` does. The address is the TCP peer.
func rbacPerRoute(a *v1alpha1.AccessPolicy) (*anypb.Any, error) {
	deny, err := cidrPrincipals(a.Deny)
	if err != nil {
		return nil, err
	}
	allow, err := cidrPrincipals(a.Allow)
	if err != nil {
		return nil, err
	}
	var ids []*rbacconfigv3.Principal
	if len(deny) > 0 {
		ids = append(ids, &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_NotId{NotId: orIDs(deny)}})
	}
	if len(allow) > 0 {
		ids = append(ids, orIDs(allow))
	}
	var principal *rbacconfigv3.Principal
	switch len(ids) {
	case 0:
		principal = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_Any{Any: true}}
	case 1:
		principal = ids[0]
	default:
		principal = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_AndIds{AndIds: &rbacconfigv3.Principal_Set{Ids: ids}}}
	}
	rules := &rbacconfigv3.RBAC{Action: rbacconfigv3.RBAC_ALLOW, Policies: map[string]*rbacconfigv3.Policy{
		"source-ranges": {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  []*rbacconfigv3.Principal{principal},
		},
	}}
	return mustAny(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: rules}}), nil
}

func orIDs(ps []*rbacconfigv3.Principal) *rbacconfigv3.Principal {
	if len(ps) == 1 {
		return ps[0]
	}
	return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_OrIds{OrIds: &rbacconfigv3.Principal_Set{Ids: ps}}}
}

// cidrPrincipals are the principals of the TCP peers in cidrs (nginx's allow/deny).
func cidrPrincipals(cidrs []string) ([]*rbacconfigv3.Principal, error) {
	return principalsOf(cidrs, func(r *corev3.CidrRange) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_DirectRemoteIp{DirectRemoteIp: r}}
	})
}

// principalsOf makes one principal per CIDR of cidrs; the first invalid one is the error.
func principalsOf(cidrs []string, principal func(*corev3.CidrRange) *rbacconfigv3.Principal) ([]*rbacconfigv3.Principal, error) {
	out := make([]*rbacconfigv3.Principal, 0, len(cidrs))
	for _, c := range cidrs {
		r, err := cidrRange(c)
		if err != nil {
			return nil, err
		}
		out = append(out, principal(r))
	}
	return out, nil
}

// cidrRange parses "10.0.0.0/8" or a bare address.
func cidrRange(s string) (*corev3.CidrRange, error) {
	if ip := net.ParseIP(s); ip != nil {
		bits := 32
		if ip.To4() == nil {
			bits = 128
		}
		return &corev3.CidrRange{AddressPrefix: ip.String(), PrefixLen: wrapperspb.UInt32(uint32(bits))}, nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("invalid CIDR %q", s)
	}
	ones, _ := n.Mask.Size()
	return &corev3.CidrRange{AddressPrefix: n.IP.String(), PrefixLen: wrapperspb.UInt32(uint32(ones))}, nil
}

// authzPerRoute enables ext_authz for a route and tells the service which policy applies.
func authzPerRoute(key string) *anypb.Any {
	return mustAny(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{
		CheckSettings: &extauthzv3.CheckSettings{ContextExtensions: map[string]string{authz.ContextExtensionKey: key}},
	}})
}

// rateLimitPerRoute is nginx `limit_req zone=<per client address> burst=<rate×multiplier>
// nodelay`: a token bucket per client address holding rate×multiplier+1 tokens, refilled at
// the rate, excess answered with the policy's status (503).
func rateLimitPerRoute(rl *v1alpha1.RateLimitPolicy, statPrefix string) *anypb.Any {
	rate, period := int64(rl.RequestsPerSecond), time.Second
	if rate <= 0 {
		rate, period = int64(rl.RequestsPerMinute), time.Minute
	}
	if rate <= 0 {
		return nil
	}
	mult := int64(rl.BurstMultiplier)
	if mult <= 0 {
		mult = 5
	}
	// Refill one token at a time where Envoy allows it (its smallest fill interval is 50 ms)
	// so the bucket leaks steadily like nginx's.
	interval := period / time.Duration(rate)
	perFill := int64(1)
	if interval < 50*time.Millisecond {
		interval = 50 * time.Millisecond
		perFill = (rate*int64(interval) + int64(period) - 1) / int64(period)
	}
	bucket := &typev3.TokenBucket{
		MaxTokens:     uint32(rate*mult + 1),
		TokensPerFill: wrapperspb.UInt32(uint32(perFill)),
		FillInterval:  durationpb.New(interval),
	}
	status := rl.StatusCode
	if status == 0 {
		status = 503
	}
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	return mustAny(&localrlv3.LocalRateLimit{
		StatPrefix: statPrefix,
		Status:     &typev3.HttpStatus{Code: typev3.StatusCode(status)},
		// The route-wide bucket is effectively unlimited: only the per-client buckets limit.
		TokenBucket:    &typev3.TokenBucket{MaxTokens: 1 << 30, TokensPerFill: wrapperspb.UInt32(1 << 30), FillInterval: durationpb.New(time.Second)},
		FilterEnabled:  all,
		FilterEnforced: all,
		Descriptors: []*ratelimitcommonv3.LocalRateLimitDescriptor{{
			Entries:     append(exemptEntry(rl), &ratelimitcommonv3.RateLimitDescriptor_Entry{Key: "remote_address"}),
			TokenBucket: bucket,
		}},
		MaxDynamicDescriptors: wrapperspb.UInt32(100000),
		RateLimits: []*routev3.RateLimit{{Actions: append(exemptAction(rl), &routev3.RateLimit_Action{
			ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}},
		})}},
	})
}

// With exempt ranges (limit-allowlist), the descriptor starts with the verdict of the
// exempt filter's shadow rules (rateLimitExemptPerRoute): only clients outside the ranges
// ("denied") match the limited descriptor; the others fall to the route-wide bucket, which
// limits nothing — nginx's geo map giving them an empty key.
const (
	rbacMetadataNamespace = "envoy.filters.http.rbac"
	exemptVerdictKey      = "shadow_engine_result"
	exemptDescriptorKey   = "limit_allowlist"
)

func exemptEntry(rl *v1alpha1.RateLimitPolicy) []*ratelimitcommonv3.RateLimitDescriptor_Entry {
	if len(rl.Exempt) == 0 {
		return nil
	}
	return []*ratelimitcommonv3.RateLimitDescriptor_Entry{{Key: exemptDescriptorKey, Value: "denied"}}
}

func exemptAction(rl *v1alpha1.RateLimitPolicy) []*routev3.RateLimit_Action {
	if len(rl.Exempt) == 0 {
		return nil
	}
	return []*routev3.RateLimit_Action{{ActionSpecifier: &routev3.RateLimit_Action_Metadata{Metadata: &routev3.RateLimit_Action_MetaData{
		DescriptorKey: exemptDescriptorKey,
		MetadataKey:   &metadatav3.MetadataKey{Key: rbacMetadataNamespace, Path: []*metadatav3.MetadataKey_PathSegment{{Segment: &metadatav3.MetadataKey_PathSegment_Key{Key: exemptVerdictKey}}}},
		// Without a verdict (never expected), the client is limited: fail closed.
		DefaultValue: "denied",
		Source:       routev3.RateLimit_Action_MetaData_DYNAMIC,
	}}}}
}

// rateLimitExemptPerRoute is the exempt filter's configuration for a route: shadow rules
// only (nothing is denied), "allowed" for clients in the ranges. The address is the one
// the rate limit keys on (the client address Envoy trusts, as nginx's $remote_addr).
func rateLimitExemptPerRoute(cidrs []string) (*anypb.Any, error) {
	ids, err := principalsOf(cidrs, func(r *corev3.CidrRange) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: r}}
	})
	if err != nil {
		return nil, err
	}
	return mustAny(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{ShadowRules: &rbacconfigv3.RBAC{
		Action: rbacconfigv3.RBAC_ALLOW,
		Policies: map[string]*rbacconfigv3.Policy{"limit-allowlist": {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  []*rbacconfigv3.Principal{orIDs(ids)},
		}},
	}}}), nil
}

// bandwidthPerRoute throttles a route's responses to kib KiB/s (nginx limit_rate). Envoy
// keeps one token bucket for the route: its responses share the allowance.
func bandwidthPerRoute(kib int32, statPrefix string) *anypb.Any {
	return mustAny(&bandwidthv3.BandwidthLimit{
		StatPrefix: statPrefix,
		EnableMode: bandwidthv3.BandwidthLimit_RESPONSE,
		LimitKbps:  wrapperspb.UInt64(uint64(kib)),
	})
}
