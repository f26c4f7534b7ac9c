package dataplane

import (
	"fmt"
	"slices"
	"strconv"

	xdscorev3 "github.com/cncf/xds/go/xds/core/v3"
	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	customresponsev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	localresponsev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/local_response_policy/v3"
	redirectpolicyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Error pages (`custom-http-errors`). ingress-nginx answers a listed status code, from the
// backend or from nginx itself, with an internal redirect to the default backend: path
// "/" (query kept), the original Host, headers X-Code, X-Format, X-Original-URI,
// X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port; the client gets whatever the
// default backend answers.
//
// Envoy's custom_response filter does the same with a redirect policy per status code on
// the route. Its internal redirect is a new request through the whole filter chain, so it
// must find a route like any request. Each port group with error pages therefore serves a
// reserved hostname, errorPagesHost, whose table has one route per default backend
// ("/<namespace>/<service>/<port>", exact) that forwards with the path rewritten to "/".
// The redirect policy names that host and path, and sets the scope header so that Envoy
// finds the route before it redirects. The scope filter (scopes.go) records the original
// Host and URI of every request in dynamic metadata, from where the policy copies them into
// the redirected request; on the reserved host it puts the original Host and method back
// (Envoy's redirect always uses GET; nginx keeps the method). Envoy answers a redirected
// request with the intercepted status; nginx with the default backend's. So the error-page
// routes copy the backend's status into a response header, and a small Lua filter, on only
// for those routes and placed before custom_response (response filters run in reverse),
// puts it back.
const (
	filterCustomResponse = "envoy.filters.http.custom_response"
	// filterErrorStatus is a second Lua filter, on only for error-page routes.
	filterErrorStatus = "gatebridge.error_page_status"
	// errorStatusHeader carries the default backend's status past custom_response, which
	// would answer with the intercepted status instead.
	errorStatusHeader = "x-gatebridge-status"
	// errorPagesHost is the reserved hostname of the error-page routes. ".invalid" never
	// resolves (RFC 2606); a client that sends it reaches a default backend with path "/",
	// which is what any error page would show it.
	errorPagesHost = "error-pages.gatebridge.invalid"
	// requestMetadata is the dynamic metadata namespace where the scope filter records the
	// request's original Host ("host") and URI ("uri").
	requestMetadata = "gatebridge"
	// errorHostHeader and errorMethodHeader carry the original Host and method across the
	// redirect; the scope filter consumes them on the reserved host.
	errorHostHeader   = "x-gatebridge-host"
	errorMethodHeader = "x-gatebridge-method"
)

// customResponseFilter intercepts nothing by itself: routes with error pages carry their
// own configuration. It comes right after the scope filter so that it also sees the error
// responses the later filters answer locally (403, 503, 401), as nginx's error_page does.
func customResponseFilter() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: filterCustomResponse, ConfigType: typed(&customresponsev3.CustomResponse{})}
}

// errorStatusFilter restores the default backend's status on error pages (see above).
// Virtual hosts turn it off (vhostFilterDefaults), except the error pages' own.
func errorStatusFilter() *hcmv3.HttpFilter {
	src := `-- gatebridge: an error page answers with the default backend's status.
function envoy_on_response(response)
  local headers = response:headers()
  local status = headers:get("` + errorStatusHeader + `")
  if status then
    headers:replace(":status", status)
    headers:remove("` + errorStatusHeader + `")
  end
end
`
	return luaFilter(filterErrorStatus, src)
}

// errorPages returns the custom_response configuration of a forwarding rule whose policy
// lists error codes, and the default backend cluster its redirects go to ("" when the
// policy names none: then the codes are answered 404, as ingress-nginx's own default
// backend answers). ok is false when nothing is to be intercepted.
func (t *translator) errorPages(g *portGroup, r *gwv1.HTTPRoute, ri int, ep *effectivePolicy) (cfg *anypb.Any, cluster string, ok bool) {
	eps := ep.spec.ErrorPages
	if eps == nil || len(eps.Codes) == 0 {
		return nil, "", false
	}
	field := fmt.Sprintf("spec.rules[%d]", ri)
	var codes []int32
	for _, c := range eps.Codes {
		if c < 400 || c > 599 {
			t.problem("HTTPRoute", r.Namespace, r.Name, field, fmt.Sprintf("error page code %d is not a 4xx or 5xx status; ignored", c))
			continue
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return nil, "", false
	}
	var policy func(code int32) *xdscorev3.TypedExtensionConfig
	if eps.DefaultBackend == nil {
		policy = func(code int32) *xdscorev3.TypedExtensionConfig {
			return &xdscorev3.TypedExtensionConfig{Name: "default-404", TypedConfig: mustAny(&localresponsev3.LocalResponsePolicy{StatusCode: wrapperspb.UInt32(404)})}
		}
	} else {
		name, found := t.defaultBackendCluster(r, ri, eps.DefaultBackend)
		if !found {
			return nil, "", false
		}
		cluster = name
		scope := scopeKey(g.name(), errorPagesHost)
		fixed := append([]*corev3.HeaderValueOption{
			setHeader(scopeHeader, scope),
			setHeader(errorHostHeader, "%DYNAMIC_METADATA("+requestMetadata+":host)%"),
			// Read before Envoy sets GET for the redirect.
			setHeader(errorMethodHeader, "%REQ(:method)%"),
			setHeader("x-original-uri", "%DYNAMIC_METADATA("+requestMetadata+":uri)%"),
		}, t.defaultBackendHeaders(r, ri, ep)...)
		policy = func(code int32) *xdscorev3.TypedExtensionConfig {
			headers := append([]*corev3.HeaderValueOption{setHeader("x-code", strconv.Itoa(int(code)))}, fixed...)
			return &xdscorev3.TypedExtensionConfig{Name: "default-backend-" + strconv.Itoa(int(code)), TypedConfig: mustAny(&redirectpolicyv3.RedirectPolicy{
				RedirectActionSpecifier: &redirectpolicyv3.RedirectPolicy_RedirectAction{RedirectAction: &routev3.RedirectAction{
					HostRedirect: errorPagesHost,
					// Without "?" in it the original query string is kept, as nginx's
					// `rewrite (.*) / break;` keeps it.
					PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: errorPagePath(cluster)},
				}},
				RequestHeadersToAdd: headers,
			})}
		}
	}
	list := &xdsmatcherv3.Matcher_MatcherList{}
	for _, c := range codes {
		match := statusIs(c)
		if !eps.InterceptUpstreamErrors {
			match = bothOf(match, notFromUpstream)
		}
		list.Matchers = append(list.Matchers, &xdsmatcherv3.Matcher_MatcherList_FieldMatcher{
			Predicate: match,
			OnMatch:   &xdsmatcherv3.Matcher_OnMatch{OnMatch: &xdsmatcherv3.Matcher_OnMatch_Action{Action: policy(c)}},
		})
	}
	return mustAny(&customresponsev3.CustomResponse{CustomResponseMatcher: &xdsmatcherv3.Matcher{
		MatcherType: &xdsmatcherv3.Matcher_MatcherList_{MatcherList: list},
	}}), cluster, true
}

// statusIs matches a response status.
func statusIs(code int32) *xdsmatcherv3.Matcher_MatcherList_Predicate {
	return &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: &xdscorev3.TypedExtensionConfig{Name: "status", TypedConfig: mustAny(&matcherv3.HttpResponseStatusCodeMatchInput{})},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{
				ValueMatch: &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_Exact{Exact: strconv.Itoa(int(code))}},
			},
		},
	}}
}

// upstreamTimeHeader is the header Envoy's router adds to responses from upstream. The
// scope filter removes it before the response leaves (scopes.go).
const upstreamTimeHeader = "x-envoy-upstream-service-time"

// notFromUpstream matches responses Envoy answered itself (403 of an allowlist, 503 of a
// rate limit, 401 of auth, …): only responses from upstream carry the router's
// x-envoy-upstream-service-time. With `disable-proxy-intercept-errors` nginx still replaces
// its own errors by error pages, just not the backend's.
var notFromUpstream = &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_NotMatcher{
	NotMatcher: &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_{
		SinglePredicate: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate{
			Input: &xdscorev3.TypedExtensionConfig{Name: "upstream-service-time", TypedConfig: mustAny(&matcherv3.HttpResponseHeaderMatchInput{HeaderName: upstreamTimeHeader})},
			Matcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_SinglePredicate_ValueMatch{
				ValueMatch: &xdsmatcherv3.StringMatcher{MatchPattern: &xdsmatcherv3.StringMatcher_SafeRegex{SafeRegex: &xdsmatcherv3.RegexMatcher{
					EngineType: &xdsmatcherv3.RegexMatcher_GoogleRe2{GoogleRe2: &xdsmatcherv3.RegexMatcher_GoogleRE2{}},
					Regex:      ".*",
				}}},
			},
		},
	}},
}}

// bothOf matches when a and b match.
func bothOf(a, b *xdsmatcherv3.Matcher_MatcherList_Predicate) *xdsmatcherv3.Matcher_MatcherList_Predicate {
	return &xdsmatcherv3.Matcher_MatcherList_Predicate{MatchType: &xdsmatcherv3.Matcher_MatcherList_Predicate_AndMatcher{
		AndMatcher: &xdsmatcherv3.Matcher_MatcherList_Predicate_PredicateList{Predicate: []*xdsmatcherv3.Matcher_MatcherList_Predicate{a, b}},
	}}
}

// errorPagePath is the path of the error-page route to a default backend cluster; cluster
// names ("namespace/service/port") are made of path-safe characters.
func errorPagePath(cluster string) string { return "/" + cluster }

// errorPagesDefaults are the per-filter defaults of the error pages' virtual host: the
// port group's, with the status filter on.
func errorPagesDefaults(defaults map[string]*anypb.Any) map[string]*anypb.Any {
	out := make(map[string]*anypb.Any, len(defaults))
	for k, v := range defaults {
		if k != filterErrorStatus {
			out[k] = v
		}
	}
	return out
}

// errorPagesRoutes are the routes of the reserved error-page host: one per default
// backend, forwarding with the path "/" and the query kept. A route depends only on its
// cluster's name, so the memo keeps it for as long as the cluster is used.
func (t *translator) errorPagesRoutes(clusters []string) []wireRoute {
	out := make([]wireRoute, 0, len(clusters)+1)
	for _, c := range clusters {
		r, ok := t.memo.errorRoutes[c]
		if !ok {
			r = encodeOwnRoute(&routev3.Route{
				Name:  "error-page " + c,
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: errorPagePath(c)}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c},
					PrefixRewrite:    "/",
					Timeout:          noTimeout,
				}},
				ResponseHeadersToAdd: []*corev3.HeaderValueOption{setHeader(errorStatusHeader, "%RESPONSE_CODE%")},
			})
		}
		t.memo.nextErrorRoutes[c] = r
		out = append(out, r)
	}
	return append(out, notFoundWire)
}
