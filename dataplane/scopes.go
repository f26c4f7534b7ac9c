package dataplane

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
)

// Route tables are split by hostname so that a change to one Ingress or HTTPRoute sends
// Envoy, and makes it rebuild, only the table of the hostnames it serves — a few routes
// instead of every route of the listener. Envoy re-validates a whole RouteConfiguration on
// every update, which costs about 200 ms at 20,000 routes.
//
// The split uses scoped routes (SRDS). Each port group has:
//   - one table per exact hostname ("<group>/host/<hostname>"), with that hostname's
//     virtual host only;
//   - one fallback table ("<group>/host/*") with the virtual hosts of wildcard hostnames
//     and of the catch-all "*";
//   - a directory table ("<group>/hosts"): one virtual host per exact hostname whose single
//     route carries the name of that hostname's scope, and a "*" virtual host naming the
//     fallback scope.
//
// Envoy picks a scope by the exact value of a request header, while virtual-host matching
// is case-insensitive, ignores the port and knows wildcards. So the scope is chosen in two
// steps by a small Lua filter, first in the HTTP filter chain: it selects the directory
// scope, lets Envoy's own virtual-host matching find the hostname there, reads the scope
// name from that route's metadata and selects that scope. Host matching is therefore
// exactly what it is with a single table: an exact hostname wins over wildcards, wildcards
// over the catch-all. The header that carries the scope key is set by the filter on every
// request (a client's value is replaced) and removed before the request goes upstream.
const (
	// scopeHeader carries the scope key; scope keys are "<group>|<hostname>".
	scopeHeader = authz.ScopeHeader
	// scopeMetadataKey is the directory routes' metadata key holding a scope key.
	scopeMetadataKey = "scope"
	// filterScope is the Lua filter; route metadata for it is filed under this name.
	filterScope = "envoy.filters.http.lua"
	// fallbackHost names the fallback table and scope.
	fallbackHost = "*"
)

// scopeKey is the value of scopeHeader that selects host's table in group; host "" is the
// directory.
func scopeKey(group, host string) string { return group + "|" + host }

func hostTableName(group, host string) string { return group + "/host/" + host }

func directoryTableName(group string) string { return group + "/hosts" }

// routeTablesOut is the route tables of one port group and the scopes that select them.
type routeTablesOut struct {
	routes []*routev3.RouteConfiguration
	scopes []*routev3.ScopedRouteConfiguration
}

// routeTables builds the route tables of a port group from the HTTPRoutes attached to its
// listeners (oldest first).
func (t *translator) routeTables(g *portGroup, routes []*gwv1.HTTPRoute) routeTablesOut {
	group := g.name()
	vhosts := map[string][]*routeEntry{}
	errorBackends := map[string]bool{}
	results := make([]*routeResult, len(routes))
	t.memo.nextResults[group] = results
	for order, r := range routes {
		res := t.httpRoute(g, group, r, order, len(routes))
		results[order] = res
		for _, h := range res.hosts {
			vhosts[h] = append(vhosts[h], res.entries...)
		}
		for _, c := range res.errorBackends() {
			errorBackends[c] = true
		}
	}
	t.memo.count(t.memo.results[group], results)
	covered := func(string) bool { return true }
	if t.bridged(g) {
		covered = nativelyCovered(vhosts)
	}
	for h, es := range t.refusedEntries(g, covered) {
		vhosts[h] = append(vhosts[h], es...)
	}
	// Every hostname of a listener has its virtual host, even without routes (404): its
	// requests must not reach the routes of a less specific listener (listener isolation).
	for _, l := range g.listeners {
		if h := l.hostname(); h != "" && (l.spec.Protocol == gwv1.HTTPProtocolType || l.spec.Protocol == gwv1.HTTPSProtocolType) {
			if _, ok := vhosts[h]; !ok {
				vhosts[h] = nil
			}
		}
	}
	if _, taken := vhosts[errorPagesHost]; taken {
		t.problem("Gateway", g.gw.Namespace, g.gw.Name, "spec.listeners", "hostname "+errorPagesHost+" is reserved for gatebridge's error pages; routes for it are not served")
		delete(vhosts, errorPagesHost)
	}
	if len(errorBackends) > 0 {
		vhosts[errorPagesHost] = nil
	}
	var exact, wildcard []string
	for h := range vhosts {
		if strings.Contains(h, "*") {
			wildcard = append(wildcard, h)
		} else {
			exact = append(exact, h)
		}
	}
	sort.Strings(exact)
	sort.Strings(wildcard)
	defaults := t.vhostFilterDefaults(g)
	base := func() *routev3.RouteConfiguration { return baseTable(g) }
	hostBase := base
	if t.bridged(g) {
		hostBase = func() *routev3.RouteConfiguration { return bridgedBaseTable(g) }
		t.served = append(t.served, Served{Listener: group, Host: fallbackHost, Match: "/ (what no route above matches)", Action: "→ fallback (unknown host or path)", Route: "bridge"})
	}
	last := t.finalRoute(g)
	var out routeTablesOut
	add := func(host string, rc *routev3.RouteConfiguration) {
		out.routes = append(out.routes, rc)
		// A table kept from the previous translation keeps its scope too (the same proto,
		// which xds.Publish need not check again).
		tr := t.memo.nextTables[rc.Name]
		if tr == nil || tr.table != rc || tr.scope == nil {
			sc := &routev3.ScopedRouteConfiguration{
				Name:                   rc.Name,
				RouteConfigurationName: rc.Name,
				Key:                    &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: scopeKey(group, host)}}}},
			}
			if tr == nil || tr.table != rc {
				out.scopes = append(out.scopes, sc)
				return
			}
			tr.scope = sc
		}
		out.scopes = append(out.scopes, tr.scope)
	}
	add("", t.directoryTable(group, exact))
	for _, h := range exact {
		if h == errorPagesHost {
			// The scope filter gives the request its original Host back once it has chosen
			// this table, so its one virtual host matches any host.
			add(h, t.table(hostTableName(group, h), base, errorPagesDefaults(defaults), vhostConfigs{}, []string{fallbackHost}, [][]wireRoute{t.errorPagesRoutes(slices.Sorted(maps.Keys(errorBackends)))}))
			continue
		}
		add(h, t.hostTable(hostTableName(group, h), hostBase, defaults, t.vhostConfigs(g, []string{h}), h, vhosts[h], last))
	}
	// The fallback table always answers every host, so that every request has a route.
	if len(wildcard) == 0 || wildcard[0] != fallbackHost {
		wildcard = append([]string{fallbackHost}, wildcard...)
	}
	fallback := make([][]wireRoute, len(wildcard))
	for i, h := range wildcard {
		fallback[i] = orderedRoutes(vhosts[h], last)
	}
	add(fallbackHost, t.table(hostTableName(group, fallbackHost), hostBase, defaults, t.vhostConfigs(g, wildcard), wildcard, fallback))
	return out
}

// hostTable is the route table of one exact hostname with entries (in route order): the
// previous one when it had the very same entries, which spares sorting and comparing
// every host's routes on every translation.
func (t *translator) hostTable(name string, base func() *routev3.RouteConfiguration, defaults map[string]*anypb.Any, own vhostConfigs, host string, entries []*routeEntry, last wireRoute) *routev3.RouteConfiguration {
	if prev, ok := t.memo.tables[name]; ok && len(entries) > 0 && prev.key == own.key && slices.Equal(prev.entries, entries) && sameWire(prev.last, last) {
		t.memo.nextTables[name] = prev
		return prev.table
	}
	sorted := slices.Clone(entries)
	routes := orderedRoutes(sorted, last)
	rc := t.table(name, base, defaults, own, []string{host}, [][]wireRoute{routes})
	tr := t.memo.nextTables[name]
	tr.entries, tr.last = entries, last
	// The table's encoding holds a copy of every route's: from now on the entries hold
	// theirs as part of it (and the table remembers them so), so that each route's
	// encoding is in memory once, not twice. An entry of several hosts' tables holds
	// the one of the table built last; the others, which compare entries rather than
	// encodings (above), are not built again for that.
	if placed := routesOf(rc.VirtualHosts[0]); len(placed) == len(routes) {
		for k, e := range sorted {
			e.wire, routes[k] = placed[k], placed[k]
		}
	}
	return rc
}

// orderedRoutes sorts a virtual host's entries into matching order and returns their
// encoded routes, followed by last (notFoundRoute, or the fallback on the bridged Gateway).
func orderedRoutes(es []*routeEntry, last wireRoute) []wireRoute {
	sort.SliceStable(es, func(i, j int) bool { return lessEntry(es[i], es[j]) })
	out := make([]wireRoute, len(es), len(es)+1)
	for i, e := range es {
		out[i] = e.wire
	}
	return append(out, last)
}

// notFoundRoute ends every virtual host: what no route matches is answered 404, as without
// it, but by a route, so that the virtual host's filter defaults apply (without a route,
// Envoy's filters use their global configuration, and ext_authz would ask the auth service
// about a request no policy covers). Shared by every table; never modified.
var notFoundRoute = &routev3.Route{
	Name:   "not-found",
	Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
	Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 404}},
}

// notFoundWire is notFoundRoute encoded.
var notFoundWire, _ = encodeRoute(notFoundRoute)

// baseTable is what every route table of a port group has besides its virtual hosts.
func baseTable(g *portGroup) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		RequestHeadersToAdd: forwardedHeaders(g),
		// nginx sends `Proxy: ""` (httpoxy): the client's Proxy header never reaches a backend.
		// The X-Original-* headers are always nginx's own (removals run before additions).
		// The scope header is gatebridge's own.
		RequestHeadersToRemove:   []string{"proxy", "x-original-forwarded-for", "x-original-forwarded-host", scopeHeader},
		IgnorePortInHostMatching: true,
	}
}

// directoryTable maps each exact hostname, and everything else, to its scope key.
func (t *translator) directoryTable(group string, exact []string) *routev3.RouteConfiguration {
	name := directoryTableName(group)
	hosts := append(append([]string(nil), exact...), fallbackHost)
	return t.cachedTable(name, "", hosts, nil, func() *routev3.RouteConfiguration {
		rc := &routev3.RouteConfiguration{Name: name, IgnorePortInHostMatching: true}
		for _, h := range hosts {
			rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{Name: h, Domains: []string{h}, Routes: []*routev3.Route{{
				Name:  "scope",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				// Never answered: the scope filter moves every request to the scope named here.
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 404}},
				Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{filterScope: {Fields: map[string]*structpb.Value{
					scopeMetadataKey: structpb.NewStringValue(scopeKey(group, h)),
				}}}},
			}}})
		}
		return rc
	})
}

// scopedRoutes is the connection manager's route specifier: scopes over ADS, keyed by the
// scope header.
func scopedRoutes(group string) *hcmv3.HttpConnectionManager_ScopedRoutes {
	return &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		Name: group,
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
			Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{
				HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
					Name:        scopeHeader,
					ExtractType: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
				},
			},
		}}},
		RdsConfigSource: adsConfig,
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsConfig}},
	}}
}

// scopeFilter is the Lua filter that selects a request's scope (see the comment at the top).
// On the bridged Gateway it also sets the request's bucket (bridge.go, bucketLua).
func scopeFilter(group string, bridged bool) *hcmv3.HttpFilter {
	bucket := ""
	if bridged {
		bucket = bucketLua()
	}
	src := `-- gatebridge: select the route table of the request's host.
local directory = ` + strconv.Quote(scopeKey(group, "")) + `
local fallback = ` + strconv.Quote(scopeKey(group, fallbackHost)) + `
local errorPages = ` + strconv.Quote(scopeKey(group, errorPagesHost)) + `
function envoy_on_request(request)
  local headers = request:headers()
  -- For error pages (errorpages.go): what the client asked for.
  local info = request:streamInfo():dynamicMetadata()
  info:set("` + requestMetadata + `", "host", headers:get(":authority") or "")
  info:set("` + requestMetadata + `", "uri", headers:get(":path") or "")
  headers:replace("` + scopeHeader + `", directory)
  request:clearRouteCache()
  local scope = request:metadata():get("` + scopeMetadataKey + `") or fallback
` + bucket + `  headers:replace("` + scopeHeader + `", scope)
  request:clearRouteCache()
  if scope == errorPages then
    -- An error page (its table matches any host): restore the original Host and method.
    local host, method = headers:get("` + errorHostHeader + `"), headers:get("` + errorMethodHeader + `")
    if host and host ~= "" then headers:replace(":authority", host) end
    if method and method ~= "" then headers:replace(":method", method) end
    headers:remove("` + errorHostHeader + `")
    headers:remove("` + errorMethodHeader + `")
  end
end
-- nginx sends no such header. The error-page matcher reads it to tell a backend's answer from
-- Envoy's own (errorpages.go); first in the chain, this filter sees the response after it.
function envoy_on_response(response)
  response:headers():remove("` + upstreamTimeHeader + `")
end
`
	return luaFilter(filterScope, src)
}

// luaFilter is a Lua HTTP filter running src.
func luaFilter(name, src string) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: typed(&luav3.Lua{
		DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: src}},
	})}
}
