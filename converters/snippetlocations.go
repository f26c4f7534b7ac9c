package converters

import (
	"fmt"
	"regexp"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// A configuration-snippet's `location [=|^~] PATH { … }` is nested in every location
// ingress-nginx writes for the Ingress. nginx looks into it only once the outer location
// was chosen for the request: the server's exact locations first, then its longest prefix
// location; then, inside that one, the nested exact location, then the longest nested
// prefix (a plain string prefix, case-sensitive). nginx rejects a nested location inside an
// exact or a regular-expression location, and one whose path does not start with the outer
// location's ("is outside location"): ingress-nginx then never ran the snippet.
//
// A nested location becomes a rule of an HTTPRoute of its own (without the Ingress's
// policies: its return answers in nginx's rewrite phase, before them): an Exact match for
// `= PATH`, and for a prefix the RegularExpression ^PATH.*, which the data plane tries
// before every PathPrefix of the host (TrafficPolicy pathMatching IngressNginx). That is
// nginx's choice as long as no other location of the host that is longer than the outer
// one overlaps it (nestedLocationConflict); otherwise the Ingress is refused.

// nginxLocationNames are the locations ingress-nginx writes for l on a host outside regex
// mode: the exact one (`location = PATH`, "" = none) and the prefix one ("" = none). A
// Prefix path other than "/" gets both, "/" only the prefix, unless the host has an Exact
// location of the same path (which then is the exact one).
func nginxLocationNames(h *hostModel, l *location) (exact, prefix string) {
	if l.pathType == pathExact {
		return l.path, ""
	}
	if l.path == "/" {
		return "", "/"
	}
	prefix = l.path
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if _, ok := h.locations[string(pathExact)+" "+l.path]; !ok {
		exact = l.path
	}
	return exact, prefix
}

// refuseNestedLocations refuses the Ingresses whose configuration-snippet has location
// blocks nginx rejected inside their locations, or that gatebridge cannot order as nginx
// does among the host's other locations. It runs once regex mode is known.
func (m *model) refuseNestedLocations() {
	for _, h := range m.sortedHosts() {
		bySrc := map[*source][]*location{}
		var srcs []*source
		for _, key := range sortedLocationKeys(h) {
			l := h.locations[key]
			s := l.src.ann.ConfigurationSnippet
			if s == nil || len(s.Locations) == 0 || l.src.refused() {
				continue
			}
			if bySrc[l.src] == nil {
				srcs = append(srcs, l.src)
			}
			bySrc[l.src] = append(bySrc[l.src], l)
		}
		for _, src := range srcs {
			if why := nestedLocationProblem(h, src, bySrc[src]); why != "" {
				src.add(Finding{Annotation: "configuration-snippet", Level: annotations.Refused, Severity: SeverityError, Message: why})
				src.ann.Refused = append(src.ann.Refused, "configuration-snippet")
				src.ann.ConfigurationSnippet = nil
				m.refuseServerSnippetOf(src)
			}
		}
	}
}

// refuseServerSnippetOf fails closed the hosts whose server-snippet src, now refused, owns.
func (m *model) refuseServerSnippetOf(src *source) {
	for _, h := range m.sortedHosts() {
		if h.serverSnippet == src {
			h.refuseForServerSnippet()
		}
	}
}

// nestedLocationProblem says why the snippet locations of src cannot be served on host h
// ("" = they can); outers are src's locations on h.
func nestedLocationProblem(h *hostModel, src *source, outers []*location) string {
	s := src.ann.ConfigurationSnippet
	never := ", so nginx rejects the configuration and ingress-nginx never ran this snippet"
	for _, l := range outers {
		for _, nl := range s.Locations {
			if h.regexMode {
				return fmt.Sprintf("its location %s is outside location \"^%s\" (every location of host %s is a regular expression, as an Ingress of the host uses use-regex or rewrite-target)%s", nl.Path, l.path, hostOrAll(h.name), never)
			}
			exact, prefix := nginxLocationNames(h, l)
			if exact != "" {
				return fmt.Sprintf("its location %s cannot be inside the exact location \"= %s\" ingress-nginx writes for path %s (%s) of host %s%s; write the snippet's locations on an Ingress whose only path is Prefix /", nl.Path, exact, l.path, l.pathType, hostOrAll(h.name), never)
			}
			if !strings.HasPrefix(nl.Path, prefix) {
				return fmt.Sprintf("its location %s is outside location \"%s\" (path %s of host %s)%s", nl.Path, prefix, l.path, hostOrAll(h.name), never)
			}
		}
	}
	if why := coveredLocation(s.Locations); why != "" {
		return why
	}
	var server *annotations.Snippet
	if h.serverSnippet != nil {
		server = h.serverSnippet.ann.ServerSnippet
	}
	for _, nl := range s.Locations {
		if why := locationMatchProblem(nl); why != "" {
			return why
		}
		if hs := nestedHeaders(server, s, nl.Body); len(hs.AddHeaders)+len(hs.SetHeaders) > maxSnippetHeaders {
			return fmt.Sprintf("its location %s sets more than %d response headers with those it inherits, more than a Gateway API header filter holds", nl.Path, maxSnippetHeaders)
		}
		outer := outerOf(h, outers, nl.Path)
		if why := nestedLocationConflict(h, src, nl, outer); why != "" {
			return why
		}
	}
	return ""
}

// outerOf is the location of outers nginx chooses for the nested path: the longest prefix.
func outerOf(h *hostModel, outers []*location, path string) *location {
	var best *location
	bestLen := -1
	for _, l := range outers {
		if _, prefix := nginxLocationNames(h, l); strings.HasPrefix(path, prefix) && len(prefix) > bestLen {
			best, bestLen = l, len(prefix)
		}
	}
	return best
}

// locationMatchProblem says why a snippet location cannot be Gateway API path matches.
func locationMatchProblem(nl annotations.SnippetLocation) string {
	if nl.Kind == annotations.LocationExact {
		if why := gatewayPathProblem(nl.Path, pathExact); why != "" {
			return "its location = " + nl.Path + ": " + why
		}
		return ""
	}
	if !strings.HasSuffix(nl.Path, "/") {
		if why := gatewayPathProblem(nl.Path, pathPrefix); why != "" {
			return "its location " + nl.Path + ": " + why
		}
	}
	if n := len(locationPrefixRegex(nl.Path)); n > maxGatewayPath {
		return fmt.Sprintf("its location %s is %d characters long as a regular expression; a Gateway API path match holds at most %d", nl.Path, n, maxGatewayPath)
	}
	return ""
}

// coveredLocation says why two prefix locations of one snippet cannot be ordered as nginx
// does ("" = they can): nginx gives /ab… to `location /ab` over `location /a`, but the
// data plane tries /a's regular expression (locationPrefixRegex) before /ab's PathPrefix.
func coveredLocation(ls []annotations.SnippetLocation) string {
	for _, a := range ls {
		for _, b := range ls {
			if a.Kind != annotations.LocationExact && b.Kind != annotations.LocationExact && regexCovers(a.Path, b.Path) {
				return fmt.Sprintf("its locations %s and %s: nginx gives the paths starting with %s to the longer one, but the data plane would try the regular expression of %s first, so gatebridge refuses it; write %s with a trailing / or as = PATH", a.Path, b.Path, b.Path, a.Path, a.Path)
			}
		}
	}
	return ""
}

// regexCovers reports whether the regular-expression part of prefix location path
// (locationPrefixRegex) matches paths under the prefix location p: the data plane tries it
// before every PathPrefix, so nginx's choice of a longer p would be lost. The PathPrefix
// part never is: a longer PathPrefix wins.
func regexCovers(path, p string) bool {
	if !strings.HasPrefix(p, path) || len(p) <= len(path) {
		return false
	}
	return strings.HasSuffix(path, "/") || p[len(path)] != '/'
}

// nestedLocationConflict says why the rule of nested location nl (in outer, src's location
// chosen for it) would answer a request nginx gives to another location of host h, or
// miss one nginx gives to nl ("" = none): a server-level exact location of the same path
// (nginx tries it first; the data plane cannot order two Exact rules), a longer prefix
// location whose path nl's starts with (nginx never reaches nl), or one that starts with
// nl's path (nginx gives its paths to it; the data plane tries nl's regular expression
// first).
func nestedLocationConflict(h *hostModel, src *source, nl annotations.SnippetLocation, outer *location) string {
	_, outerPrefix := nginxLocationNames(h, outer)
	if ss := h.serverSnippet; ss != nil && ss.ann.ServerSnippet != nil && nl.Kind == annotations.LocationExact {
		for _, sl := range ss.ann.ServerSnippet.Locations {
			if sl.Path == nl.Path {
				return fmt.Sprintf("its location = %s repeats the server-snippet's location = %s (on %s), which nginx tries first: this one is never reached; remove it", nl.Path, sl.Path, ss.key())
			}
		}
	}
	for _, o := range otherLocations(h, src) {
		exact, prefix := o.exact, o.prefix
		if nl.Kind == annotations.LocationExact && exact == nl.Path {
			return fmt.Sprintf("its location = %s is never reached: nginx answers %s with the exact location of %s, a location of the server tried before the nested ones; remove it", nl.Path, nl.Path, o.owner())
		}
		if prefix == "" || len(prefix) <= len(outerPrefix) {
			continue
		}
		switch {
		case strings.HasPrefix(nl.Path, prefix):
			return fmt.Sprintf("its location %s is never reached: nginx gives %s to the longer location %s (%s) on host %s, not to the location %s this snippet is nested in; gatebridge would answer it with the snippet's location, so it refuses the Ingress: remove the location, which nginx never runs", nl.Path, nl.Path, prefix, o.owner(), hostOrAll(h.name), outerPrefix)
		case nl.Kind != annotations.LocationExact && regexCovers(nl.Path, prefix):
			return fmt.Sprintf("its location %s also covers the paths under %s, which nginx gives to that longer location (%s) on host %s rather than to this Ingress's location %s; the data plane would try the snippet's location first, so gatebridge refuses the Ingress: write the location as = PATH, or one that does not cover %s", nl.Path, prefix, o.owner(), hostOrAll(h.name), outerPrefix, prefix)
		}
	}
	return ""
}

// serverLocation is a location nginx has at server level: one written for an Ingress
// location (loc), or a server-snippet's (loc is a stand-in naming its Ingress and path).
type serverLocation struct {
	loc           *location
	exact, prefix string
}

// owner names whose location o is, for messages.
func (o serverLocation) owner() string {
	if o.loc.pathType == serverSnippetLocation {
		return "the server-snippet of " + o.loc.src.key()
	}
	return fmt.Sprintf("path %s (%s) of %s", o.loc.path, o.loc.pathType, o.loc.src.key())
}

// serverSnippetLocation marks the stand-in location of a server-snippet's location.
const serverSnippetLocation pathType = "server-snippet"

// otherLocations are the server-level locations of host h but those of src's own paths:
// ingress-nginx's, and the prefix locations of the host's server-snippet.
func otherLocations(h *hostModel, src *source) []serverLocation {
	var out []serverLocation
	for _, key := range sortedLocationKeys(h) {
		l := h.locations[key]
		if l.src == src {
			continue
		}
		exact, prefix := nginxLocationNames(h, l)
		out = append(out, serverLocation{loc: l, exact: exact, prefix: prefix})
	}
	if ss := h.serverSnippet; ss != nil && ss.ann.ServerSnippet != nil {
		for _, sl := range ss.ann.ServerSnippet.Locations {
			if sl.Kind != annotations.LocationExact {
				out = append(out, serverLocation{loc: &location{src: ss, host: h.name, path: sl.Path, pathType: serverSnippetLocation}, prefix: sl.Path})
			}
		}
	}
	return out
}

// refuseServerSnippetLocations refuses the server-snippets whose prefix locations
// (`location [^~] PATH`) gatebridge cannot order as nginx does among the host's locations,
// and with them every Ingress of the host (fails closed). It runs once regex mode is known.
func (m *model) refuseServerSnippetLocations() {
	for _, h := range m.sortedHosts() {
		owner := h.serverSnippet
		if owner == nil || owner.ann.ServerSnippet == nil || owner.refused() {
			continue
		}
		if why := serverPrefixLocationProblem(h); why != "" {
			owner.add(Finding{Annotation: "server-snippet", Level: annotations.Refused, Severity: SeverityError, Message: why})
			owner.ann.Refused = append(owner.ann.Refused, "server-snippet")
			h.refuseForServerSnippet()
		}
	}
}

// serverPrefixLocationProblem says why the prefix locations of host h's server-snippet
// cannot be served ("" = they can). nginx picks the longest prefix location of the
// server: the snippet's rule, a regular expression the data plane tries before the host's
// PathPrefix rules, is right unless a longer location of an Ingress starts with its path.
// In regex mode nginx tries the Ingresses' regular expressions after the longest prefix
// (or not at all after ^~), an order the data plane does not have.
func serverPrefixLocationProblem(h *hostModel) string {
	if why := coveredLocation(h.serverSnippet.ann.ServerSnippet.Locations); why != "" {
		return why
	}
	for _, sl := range h.serverSnippet.ann.ServerSnippet.Locations {
		if sl.Kind == annotations.LocationExact {
			continue
		}
		if h.regexMode {
			return fmt.Sprintf("its location %s is a prefix location on host %s, where every Ingress location is a regular expression (an Ingress of the host uses use-regex or rewrite-target): nginx tries those after the longest prefix location (none after ^~), which gatebridge cannot order; write location = PATH", sl.Path, hostOrAll(h.name))
		}
		if why := locationMatchProblem(sl); why != "" {
			return why
		}
		for _, key := range sortedLocationKeys(h) {
			l := h.locations[key]
			_, prefix := nginxLocationNames(h, l)
			switch {
			case prefix == sl.Path:
				return fmt.Sprintf("its location %s repeats the location %s ingress-nginx writes for path %s of %s, so nginx rejects the configuration (duplicate location) and ingress-nginx never ran it; remove one of them", sl.Path, prefix, l.path, l.src.key())
			case regexCovers(sl.Path, prefix):
				return fmt.Sprintf("its location %s also covers the paths under %s, which nginx gives to the longer location of %s (path %s); the data plane would try the snippet's location first, so gatebridge refuses the host: write location = PATH, or one that does not cover %s", sl.Path, prefix, l.src.key(), l.path, prefix)
			}
		}
	}
	return ""
}

// locationPrefixRegex is the RE2 full-match form of the part of prefix location path the
// Gateway API PathPrefix cannot say: nginx compares characters (case-sensitively), so
// /x also takes /xy; the PathPrefix /x takes /x and /x/…. A path ending in "/" is all
// regular expression (the PathPrefix /x/ would also take /x).
func locationPrefixRegex(path string) string {
	if strings.HasSuffix(path, "/") {
		return "^" + regexp.QuoteMeta(path) + ".*"
	}
	return "^" + regexp.QuoteMeta(path) + "[^/].*"
}

// snippetLocationMatches are the Gateway API path matches of snippet location nl on host
// h: Exact for `= PATH`; for a prefix, the PathPrefix and the regular expression of the
// rest (locationPrefixRegex), without the PathPrefix where an Ingress path of the host is
// the same prefix (nginx gives PATH and PATH/… to its locations = PATH and PATH/).
func snippetLocationMatches(h *hostModel, nl annotations.SnippetLocation) []gwv1.HTTPPathMatch {
	if nl.Kind == annotations.LocationExact {
		return []gwv1.HTTPPathMatch{{Type: ptr(gwv1.PathMatchExact), Value: ptr(nl.Path)}}
	}
	re := gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr(locationPrefixRegex(nl.Path))}
	if strings.HasSuffix(nl.Path, "/") {
		return []gwv1.HTTPPathMatch{re}
	}
	for _, l := range h.locations {
		if _, prefix := nginxLocationNames(h, l); prefix == nl.Path+"/" {
			return []gwv1.HTTPPathMatch{re}
		}
	}
	return []gwv1.HTTPPathMatch{{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(nl.Path)}, re}
}

// withPathMatches returns rule matching each of paths (the rule's one match replaced).
func withPathMatches(rule gwv1.HTTPRouteRule, paths []gwv1.HTTPPathMatch) gwv1.HTTPRouteRule {
	rule.Matches = make([]gwv1.HTTPRouteMatch, len(paths))
	for i := range paths {
		rule.Matches[i] = gwv1.HTTPRouteMatch{Path: &paths[i]}
	}
	return rule
}

// addNestedLocations adds the rules of the snippet locations of rs's Ingress (ls are its
// locations on the host): a return answers on both listeners, before ingress-nginx's https
// redirect; a location without return answers 503 (annotations.SnippetLocation.NoBackend)
// after the https redirect. The answers carry the headers the outer location's answers
// carry (custom-headers, HSTS, the snippet's headers: nginx inherits them).
func (c *converter) addNestedLocations(rs *routeSet, ls []*location) {
	s := rs.src.ann.ConfigurationSnippet
	if s == nil {
		return
	}
	for i, nl := range s.Locations {
		outer := outerOf(rs.host, ls, nl.Path)
		if outer == nil {
			continue
		}
		paths := snippetLocationMatches(rs.host, nl)
		match := paths[0]
		if nl.Kind != annotations.LocationExact {
			c.lost(rs.src, Finding{Annotation: "configuration-snippet", Severity: SeverityWarning}, "nginx's order for the snippet's location "+nl.Path+" (a RegularExpression path tried before the host's prefixes)")
		}
		var rule gwv1.HTTPRouteRule
		if nl.NoBackend {
			rule = c.snippetReturnRule(rs, outer, match, nil, &annotations.SnippetResponse{Code: 503})
		} else {
			rule = c.snippetReturnRule(rs, outer, match, nl.Redirect, nl.Response)
		}
		rule = withPathMatches(rule, paths)
		rule.Name = snippetRuleName("snippet-location", i, nl.Path)
		httpRule := rule
		if nl.NoBackend && c.redirectsToHTTPS(outer) {
			httpRule = withPathMatches(redirectToHTTPS(match, c.defaults.HTTPRedirectCode), paths)
			httpRule.Name = rule.Name
		}
		// The nested location runs no `if` of the outer one: its headers are its own and
		// those it inherits (nestedHeaders), on both listeners.
		_, headers := snippetResponse(nil, nestedHeaders(c.serverSnippetOf(rs.host), s, nl.Body), c.snippetVariables(outer))
		custom := outer.src.customHeaders
		rs.nestedHTTPS = append(rs.nestedHTTPS, c.withSnippetHeaders(rs, outer, withResponseHeaders(withResponseHeaders(rule, custom), c.hstsFor(rs.host, custom)), nil, headers))
		rs.nestedHTTP = append(rs.nestedHTTP, c.withSnippetHeaders(rs, outer, withResponseHeaders(httpRule, custom), nil, headers))
	}
}

// nestedHeaders are the response headers of a nested location as nginx inherits them:
// add_header (and proxy_hide_header) from the nearest level that has any — the location,
// the outer location's snippet, the server-snippet; more_set_headers and
// more_clear_headers of every level, outermost first.
func nestedHeaders(levels ...*annotations.Snippet) *annotations.Snippet {
	out := &annotations.Snippet{}
	for _, s := range levels {
		if s == nil {
			continue
		}
		if len(s.AddHeaders) > 0 {
			out.AddHeaders = s.AddHeaders
		}
		if len(s.HideHeaders) > 0 {
			out.HideHeaders = s.HideHeaders
		}
		out.SetHeaders = append(out.SetHeaders, s.SetHeaders...)
		out.ClearHeaders = append(out.ClearHeaders, s.ClearHeaders...)
	}
	return out
}

// snippetRuleName names the rule of a snippet's location i: prefix, i and the path.
func snippetRuleName(prefix string, i int, path string) *gwv1.SectionName {
	slug := dnsSafe(path)
	if len(slug) > 40 {
		slug = strings.Trim(slug[:40], "-")
	}
	if slug == "" {
		slug = "root"
	}
	return ptr(gwv1.SectionName(fmt.Sprintf("%s-%d-%s", prefix, i, slug)))
}
