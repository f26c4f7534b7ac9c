package converters

import (
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// gatewayPathChars is what the Gateway API CRD accepts in Exact and PathPrefix values.
var gatewayPathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)

// maxGatewayPath is the longest path match value, and the longest replaceFullPath, the
// Gateway API CRD accepts.
const maxGatewayPath = 1024

// gatewayPathProblem says why path cannot be a Gateway API Exact or PathPrefix match
// ("" = it can): the CRD's pattern, length and rules. Exact and Prefix Ingress paths
// already obey the API server's like rules; ImplementationSpecific ones need not.
func gatewayPathProblem(path string, pt pathType) string {
	kind := map[pathType]string{pathExact: "Exact", pathPrefix: "PathPrefix"}[pt]
	if len(path) > maxGatewayPath {
		return fmt.Sprintf("path is %d characters long; a Gateway API %s match holds at most %d", len(path), kind, maxGatewayPath)
	}
	if !gatewayPathChars.MatchString(path) {
		return "path " + path + " contains characters a Gateway API " + kind +
			" match cannot hold; outside regex mode ingress-nginx treats it literally; use pathType ImplementationSpecific with use-regex if it is meant as a regex"
	}
	for _, seq := range []string{"//", "/./", "/../", "%2f", "%2F"} {
		if strings.Contains(path, seq) {
			return "path " + path + " contains \"" + seq + "\", which a Gateway API " + kind + " match must not hold"
		}
	}
	for _, suffix := range []string{"/..", "/."} {
		if strings.HasSuffix(path, suffix) {
			return "path " + path + " ends with \"" + suffix + "\", which a Gateway API " + kind + " match must not"
		}
	}
	return ""
}

// nginxRegex is the RE2 full-match form of an ingress-nginx regex location
// `location ~* "^<path>"`: case-insensitive, anchored at the start only. Every path of a
// regex-mode host gets the same wrapper, so ordering by the regex string's length is
// ordering by the path's length, as ingress-nginx does.
func nginxRegex(path string) string {
	return "(?i)^(?:" + path + ").*"
}

// checkRegexPath compiles a regex-mode path with RE2 (Envoy's engine); PCRE-only syntax
// is refused rather than guessed.
func checkRegexPath(path string) error {
	re := nginxRegex(path)
	if _, err := syntax.Parse(re, syntax.Perl); err != nil {
		return fmt.Errorf("is not a valid RE2 regular expression (%v); PCRE-only syntax such as lookarounds or backreferences cannot be served", err)
	}
	// Envoy's own limits: too long or large a pattern, a \x{…} escape above U+00FF.
	if err := envoyregex.Check(re); err != nil {
		return fmt.Errorf("is a regular expression Envoy does not take (%v)", err)
	}
	return nil
}

// topLevelAlternation reports whether path has a "|" outside any group: nginx anchors
// only the first branch ("^/a|/b" matches /b anywhere), gatebridge anchors all.
func topLevelAlternation(path string) bool {
	depth, esc := 0, false
	for _, c := range path {
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			return true
		}
	}
	return false
}

// orderLocations sorts locations in ingress-nginx order: regex-mode hosts by path string
// length descending then string descending; normal hosts Exact before Prefix, longer
// paths first (only for readability — Gateway API precedence already picks the longest).
func orderLocations(ls []*location, regexMode bool) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if !regexMode && a.pathType != b.pathType {
			return a.pathType == pathExact
		}
		if len(a.path) != len(b.path) {
			return len(a.path) > len(b.path)
		}
		if a.path != b.path {
			return a.path > b.path
		}
		return a.pathType < b.pathType
	})
}

// pathMatch is the Gateway API match of a location.
func pathMatch(l *location, regexMode bool) gwv1.HTTPPathMatch {
	switch {
	case regexMode:
		return gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr(nginxRegex(l.path))}
	case l.pathType == pathExact:
		return gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr(l.path)}
	default:
		return gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(l.path)}
	}
}

// checkLocation reports why a location cannot be expressed ("" = fine) and notes
// approximations.
func checkLocation(l *location, regexMode bool) string {
	if regexMode {
		if err := checkRegexPath(l.path); err != nil {
			return "path " + l.path + " " + err.Error()
		}
		if n := len(nginxRegex(l.path)); n > maxGatewayPath {
			return fmt.Sprintf("path is %d characters long; as the host's regular expression it would exceed the %d characters a Gateway API path match holds", len(l.path), maxGatewayPath)
		}
		if topLevelAlternation(l.path) {
			l.src.add(Finding{Field: l.field + ".path", Value: l.path, Severity: SeverityInfo, Level: annotations.Approximate,
				Message: "has a top-level \"|\": ingress-nginx anchors only the first alternative at the start, gatebridge anchors all; group the alternatives to make both agree"})
		}
		return ""
	}
	if why := gatewayPathProblem(l.path, l.pathType); why != "" {
		return why
	}
	return ""
}

// ruleFilters returns the filters of a location's forwarding rules (rewrite, headers,
// upstream host) and, for capture-group rewrites, the RouteFilter to create.
func ruleFilters(l *location, regexMode bool, upstreamHost string) ([]gwv1.HTTPRouteFilter, *gbv1.RouteFilter) {
	ann := l.src.ann
	var filters []gwv1.HTTPRouteFilter
	var rf *gbv1.RouteFilter
	rewrite := &gwv1.HTTPURLRewriteFilter{}
	rewriting := !l.noRewrite && ann.Rewrite.Target != "" && ann.Rewrite.Target != l.path
	if rewriting {
		target := ann.Rewrite.Target
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		if ann.Rewrite.HasCaptureRefs() {
			rf = &gbv1.RouteFilter{Spec: gbv1.RouteFilterSpec{RegexRewrite: &gbv1.RegexRewrite{
				Pattern: nginxRegex(l.path), Substitution: captureRefsToRE2(target)}}}
		} else {
			rewrite.Path = &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr(target)}
		}
		if ann.Rewrite.XForwardedPrefix != "" {
			filters = append(filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier,
				RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-Forwarded-Prefix", Value: ann.Rewrite.XForwardedPrefix}}}})
		}
	}
	if upstreamHost != "" {
		rewrite.Hostname = ptr(gwv1.PreciseHostname(upstreamHost))
	}
	if rewrite.Path != nil || rewrite.Hostname != nil {
		filters = append(filters, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: rewrite})
	}
	return filters, rf
}

// captureRefsToRE2 turns nginx $1…$9 into Envoy's \1…\9.
func captureRefsToRE2(target string) string {
	var b strings.Builder
	for i := 0; i < len(target); i++ {
		if target[i] == '$' && i+1 < len(target) && target[i+1] >= '1' && target[i+1] <= '9' {
			b.WriteByte('\\')
			continue
		}
		b.WriteByte(target[i])
	}
	return b.String()
}

// backendRef is a weighted Service backend reference.
func backendRef(b backend, weight int32, fromNamespace string) gwv1.HTTPBackendRef {
	ref := gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{
		BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(b.service), Port: ptr(gwv1.PortNumber(b.port))},
		Weight:                 ptr(weight),
	}}
	if b.namespace != fromNamespace {
		ref.Namespace = ptr(gwv1.Namespace(b.namespace))
	}
	return ref
}

// forwardRules are the rules that proxy a location, expanded for its canary in
// ingress-nginx precedence: header, then cookie, then weight.
func forwardRules(l *location, match gwv1.HTTPPathMatch, filters []gwv1.HTTPRouteFilter) []gwv1.HTTPRouteRule {
	ns := l.src.ing.Namespace
	primary := []gwv1.HTTPBackendRef{backendRef(l.backend, 1, ns)}
	rule := func(headers []gwv1.HTTPHeaderMatch, refs []gwv1.HTTPBackendRef) gwv1.HTTPRouteRule {
		return gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{{Path: ptr(match), Headers: headers}},
			Filters:     filters,
			BackendRefs: refs,
		}
	}
	c := l.canary
	if c == nil {
		return []gwv1.HTTPRouteRule{rule(nil, primary)}
	}
	canary := []gwv1.HTTPBackendRef{backendRef(c.backend, 1, ns)}
	exact := func(name, value string) []gwv1.HTTPHeaderMatch {
		return []gwv1.HTTPHeaderMatch{{Type: ptr(gwv1.HeaderMatchExact), Name: gwv1.HTTPHeaderName(name), Value: value}}
	}
	regex := func(name, value string) []gwv1.HTTPHeaderMatch {
		l.src.needGatebridge("canary-by-header-pattern: RegularExpression header matches are implementation-specific")
		return []gwv1.HTTPHeaderMatch{{Type: ptr(gwv1.HeaderMatchRegularExpression), Name: gwv1.HTTPHeaderName(name), Value: value}}
	}
	var out []gwv1.HTTPRouteRule
	if h := c.cfg.ByHeader; h != "" {
		switch {
		case c.cfg.ByHeaderValue != "":
			out = append(out, rule(exact(h, c.cfg.ByHeaderValue), canary))
		case c.cfg.ByHeaderPattern != "" && c.cfg.PatternValid:
			out = append(out, rule(regex(h, ".*(?:"+c.cfg.ByHeaderPattern+").*"), canary))
		case c.cfg.ByHeaderPattern != "":
			// A pattern error sends the request to the primary and stops (no cookie, no weight).
			out = append(out, rule(regex(h, ".*"), primary))
		default:
			out = append(out, rule(exact(h, "always"), canary), rule(exact(h, "never"), primary))
		}
	}
	if k := c.cfg.ByCookie; k != "" {
		q := regexp.QuoteMeta(k)
		out = append(out,
			rule(regex("Cookie", `(?:.*;\s*)?`+q+`=always(?:;.*)?`), canary),
			rule(regex("Cookie", `(?:.*;\s*)?`+q+`=never(?:;.*)?`), primary))
	}
	weighted := primary
	if w := int32(c.cfg.Weight); w > 0 {
		total := int32(c.cfg.WeightTotal)
		if w > total {
			w = total
		}
		weighted = []gwv1.HTTPBackendRef{backendRef(l.backend, total-w, ns), backendRef(c.backend, w, ns)}
	}
	return append(out, rule(nil, weighted))
}

// redirectToHTTPS is the ssl-redirect rule of a location on the HTTP listener.
func redirectToHTTPS(match gwv1.HTTPPathMatch, code int) gwv1.HTTPRouteRule {
	return gwv1.HTTPRouteRule{
		Matches: []gwv1.HTTPRouteMatch{{Path: ptr(match)}},
		Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: ptr("https"), StatusCode: ptr(code)}}},
	}
}

// appRootRule is the app-root redirect: GET / → 302 <app-root>, before any location.
func appRootRule(appRoot string) gwv1.HTTPRouteRule {
	return gwv1.HTTPRouteRule{
		Name:    ptr(gwv1.SectionName("app-root")),
		Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/")}}},
		Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwv1.HTTPRequestRedirectFilter{
				Path:       &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr(appRoot)},
				StatusCode: ptr(302)}}},
	}
}

// standardRedirectCodes are the codes Gateway API's RequestRedirect can send.
var standardRedirectCodes = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// literalRedirectRule is permanent-redirect / temporal-redirect: the standard filter when
// it can say it exactly, else a RouteFilter with the literal Location.
//
// With relative-redirects a Location that is a path stays one (nginx absolute_redirect
// off): only the literal RouteFilter sends it as written; the standard filter makes it
// absolute.
func literalRedirectRule(match gwv1.HTTPPathMatch, lr *annotations.LiteralRedirect, relative bool) (gwv1.HTTPRouteRule, *gbv1.RouteFilter) {
	rule := gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{{Path: ptr(match)}}}
	if f, ok := standardRedirect(lr); ok && !(relative && strings.HasPrefix(lr.URL, "/")) {
		rule.Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: f}}
		return rule, nil
	}
	rf := &gbv1.RouteFilter{Spec: gbv1.RouteFilterSpec{Redirect: &gbv1.LiteralRedirect{StatusCode: int32(lr.Code), URL: lr.URL}}}
	return rule, rf
}

// standardRedirect maps a literal URL onto RequestRedirect fields when exact.
func standardRedirect(lr *annotations.LiteralRedirect) (*gwv1.HTTPRequestRedirectFilter, bool) {
	if !standardRedirectCodes[lr.Code] {
		return nil, false
	}
	u, err := url.Parse(lr.URL)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil || u.Opaque != "" {
		return nil, false
	}
	f := &gwv1.HTTPRequestRedirectFilter{StatusCode: ptr(lr.Code)}
	if u.Scheme != "" {
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, false
		}
		f.Scheme = ptr(u.Scheme)
	}
	if h := u.Hostname(); h != "" {
		if len(h) > 253 || !preciseHostname.MatchString(strings.ToLower(h)) {
			return nil, false
		}
		f.Hostname = ptr(gwv1.PreciseHostname(strings.ToLower(h)))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, false
		}
		f.Port = ptr(gwv1.PortNumber(n))
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if len(path) > maxGatewayPath || !gatewayPathChars.MatchString(path) {
		return nil, false
	}
	f.Path = &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr(path)}
	return f, true
}

var preciseHostname = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ruleName is a readable, unique-in-route name for a rule.
func ruleName(i int, l *location, regexMode bool, suffix string) *gwv1.SectionName {
	kind := strings.ToLower(string(l.pathType))
	if regexMode {
		kind = "regex"
	}
	slug := dnsSafe(l.path)
	if len(slug) > 40 {
		slug = strings.Trim(slug[:40], "-")
	}
	parts := []string{"r" + strconv.Itoa(i), kind}
	if slug != "" {
		parts = append(parts, slug)
	} else {
		parts = append(parts, "root")
	}
	if suffix != "" {
		parts = append(parts, suffix)
	}
	return ptr(gwv1.SectionName(strings.Join(parts, "-")))
}

func ptr[T any](v T) *T { return &v }

// vhostVariable finds the nginx variables of an upstream-vhost ($name, ${name}).
var vhostVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// upstreamHost is the Host l's backend receives from upstream-vhost ("" = the client's),
// as far as a Gateway API hostname holds it. nginx sends the value as written, variables
// evaluated: $host (the request's host name) and $server_name (the host's name) are the
// route's own hostname on a host without wildcard (and, for $host, without aliases: one
// route serves them all); a :port is dropped, a Gateway API hostname holds none. What
// cannot be said (another variable, a wildcard host) keeps the client's Host, with a
// finding.
func (c *converter) upstreamHost(l *location) string {
	v := l.src.ann.Backend.UpstreamVhost
	if v == "" {
		return ""
	}
	h := c.model.hosts[l.host]
	named := h.name != "" && !strings.HasPrefix(h.name, "*")
	var unknown []string
	host := vhostVariable.ReplaceAllStringFunc(v, func(ref string) string {
		switch name := vhostVariable.FindStringSubmatch(ref)[1]; {
		case name == "server_name" && named, name == "host" && named && len(h.servedAliases) == 0:
			return h.name
		default:
			unknown = append(unknown, ref)
			return ref
		}
	})
	if len(unknown) > 0 {
		l.src.addOnce(Finding{Annotation: "upstream-vhost", Value: v, Severity: SeverityWarning, Level: annotations.Approximate,
			Message: fmt.Sprintf("uses %s, which gatebridge cannot evaluate for host %s (it evaluates $host on a host without wildcard or server-alias, and $server_name on a host without wildcard): the backend receives the client's Host header there, where nginx sends the evaluated value", strings.Join(unknown, ", "), hostOrAll(h.name))})
		return ""
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		l.src.addOnce(Finding{Annotation: "upstream-vhost", Value: v, Severity: SeverityInfo, Level: annotations.Approximate,
			Message: "names port " + host[i+1:] + ": the backend receives Host " + strings.ToLower(host[:i]) + " without it, where nginx sends " + host + " (a Gateway API hostname holds no port); servers that select a virtual host by name are not affected"})
		host = host[:i]
	}
	host = strings.ToLower(host)
	if len(host) > 253 || !preciseHostname.MatchString(host) {
		l.src.addOnce(Finding{Annotation: "upstream-vhost", Value: v, Severity: SeverityWarning, Level: annotations.Approximate,
			Message: "is " + host + " for host " + hostOrAll(h.name) + ", which is not a host name a Gateway API hostname holds: the backend receives the client's Host header there"})
		return ""
	}
	return host
}
