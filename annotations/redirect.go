package annotations

import (
	"net/url"
	"strconv"
	"strings"
)

func init() {
	register(
		Spec{Name: "ssl-redirect", Family: "redirect", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "true (ConfigMap ssl-redirect)",
			Accepts: "boolean", validate: validateBool,
			Note:   "Plain HTTP to a host with TLS answers 308 to https, trailing slash dropped, query kept, ACME challenge path exempt.",
			Target: "HTTPRoute on the HTTP listener with RequestRedirect scheme https + TrafficPolicy.redirects"},
		Spec{Name: "force-ssl-redirect", Family: "redirect", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "false (ConfigMap)",
			Accepts: "boolean", validate: validateBool,
			Note:   "Redirects plain HTTP to https even when the host has no TLS certificate.",
			Target: "RequestRedirect scheme https on the HTTP listener"},
		Spec{Name: "preserve-trailing-slash", Family: "redirect", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note:   "Keeps the trailing slash in https redirects.",
			Target: "TrafficPolicy.redirects.httpsTrailingSlash"},
		Spec{Name: "use-port-in-redirects", Family: "redirect", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false (ConfigMap)",
			Accepts: "boolean", validate: validateBool,
			Note:   "Writes the https port into the redirect Location.",
			Target: "TrafficPolicy.redirects.httpsIncludePort"},
		Spec{Name: "permanent-redirect", Family: "redirect", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "an http:// or https:// URL, or a path starting with /, without nginx variables", validate: redirectURL(true),
			Note:   "Answers with the literal URL (path and query not appended), before auth and access lists.",
			Target: "RequestRedirect (RouteFilter.redirect for codes 300/304/305/306 or URLs with a query)"},
		Spec{Name: "permanent-redirect-code", Family: "redirect", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "301",
			Accepts: "an integer 300–308 (else 301)", validate: validateInt,
			Note: "Status code of permanent-redirect.", Target: "RequestRedirect statusCode"},
		Spec{Name: "temporal-redirect", Family: "redirect", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "an http:// or https:// URL without nginx variables", validate: redirectURL(false),
			Note:   "Like permanent-redirect with 302; wins over permanent-redirect when both are set.",
			Target: "RequestRedirect (RouteFilter.redirect for codes 300/304/305/306 or URLs with a query)"},
		Spec{Name: "temporal-redirect-code", Family: "redirect", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "302",
			Accepts: "an integer 300–307 (else 302)", validate: validateInt,
			Note: "Status code of temporal-redirect.", Target: "RequestRedirect statusCode"},
		Spec{Name: "from-to-www-redirect", Family: "redirect", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note:   "www.<host> ↔ <host> answers 308 to the other name on HTTP and HTTPS, dropping one final \"/\" of the URI as nginx does; only a non-443 HTTPS port differs (nginx writes it even in HTTP redirects, gatebridge writes the listener's).",
			Target: "HTTPRoute for the other hostname with RequestRedirect 308, an HTTPS listener for it, TrafficPolicy redirects.hostnameTrailingSlash"},
		Spec{Name: "relative-redirects", Family: "redirect", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false (ConfigMap)",
			Accepts: "boolean", validate: validateBool,
			Note:   "Keeps the Location of redirects to a path relative (permanent-redirect: /new), as nginx's absolute_redirect off; \"false\" does not undo the ConfigMap's relative-redirects.",
			Target: "RouteFilter.redirect with the relative URL"},
	)
}

// Redirect is the redirect family of one Ingress. Pointers are nil when the annotation is
// absent (the ConfigMap default applies).
type Redirect struct {
	SSLRedirect           *bool
	ForceSSLRedirect      *bool
	PreserveTrailingSlash *bool
	UsePortInRedirects    *bool
	FromToWWW             bool
	// RelativeRedirects is relative-redirects (nil = absent or invalid). It can only turn
	// relative redirects on: "false" leaves the ConfigMap's relative-redirects in force.
	RelativeRedirects *bool
	// Literal is the permanent/temporal redirect in effect (nil = none).
	Literal *LiteralRedirect
}

// LiteralRedirect is nginx `return <code> <url>`.
type LiteralRedirect struct {
	// Annotation that produced it (permanent-redirect or temporal-redirect).
	Annotation string
	URL        string
	Code       int
}

// redirectGroup are the annotations ingress-nginx reads in one parser (redirect.go): an
// error that is not a validation error drops them all for the Ingress.
// (relative-redirects has a parser of its own.)
var redirectGroup = []string{"from-to-www-redirect", "permanent-redirect", "permanent-redirect-code", "temporal-redirect", "temporal-redirect-code"}

func parseRedirect(r *reader) Redirect {
	rd := Redirect{
		SSLRedirect:           r.optBool("ssl-redirect"),
		ForceSSLRedirect:      r.optBool("force-ssl-redirect"),
		PreserveTrailingSlash: r.optBool("preserve-trailing-slash"),
		UsePortInRedirects:    r.optBool("use-port-in-redirects"),
		RelativeRedirects:     r.optBool("relative-redirects"),
	}
	if dropRedirectGroup(r) {
		return rd
	}
	rd.FromToWWW = r.boolean("from-to-www-redirect", false)
	// ingress-nginx checks temporal-redirect first; it wins when both are set.
	if u, ok := r.str("temporal-redirect"); ok {
		code := redirectCode(r, "temporal-redirect-code", 302, 307)
		rd.Literal = &LiteralRedirect{Annotation: "temporal-redirect", URL: u, Code: code}
		if r.has("permanent-redirect") {
			r.seen["permanent-redirect"] = true
			r.seen["permanent-redirect-code"] = true
			r.note("permanent-redirect", Exact, "is overridden by temporal-redirect (as in ingress-nginx)")
		}
	} else if u, ok := r.str("permanent-redirect"); ok {
		code := redirectCode(r, "permanent-redirect-code", 301, 308)
		rd.Literal = &LiteralRedirect{Annotation: "permanent-redirect", URL: u, Code: code}
	}
	for _, n := range []string{"permanent-redirect-code", "temporal-redirect-code"} {
		if r.has(n) && !r.seen[n] {
			r.seen[n] = true
			r.note(n, Exact, "has no effect without its redirect annotation")
		}
	}
	return rd
}

// dropRedirectGroup handles a temporal-redirect that passes the character validator but
// is not an http(s) URL (a relative "/new", "ftp://…"): ingress-nginx's URL check returns
// a plain error, which drops the whole redirect group of the Ingress — the request is
// proxied as if none of its annotations were set. It reports whether that happened.
func dropRedirectGroup(r *reader) bool {
	v, ok := r.values["temporal-redirect"]
	if !ok {
		return false
	}
	clean := normalize(v)
	if clean == "" || rejectControlChars(clean) != nil || checkLength(clean, maxRedirectURL, "redirect URL") != nil ||
		strings.Contains(clean, "$") || !redirectURLChars.MatchString(clean) {
		return false // a validation error: the Ingress is rejected (parseRedirect)
	}
	u, err := url.Parse(clean)
	if err == nil && strings.HasPrefix(u.Scheme, "http") {
		return false
	}
	present := []string{}
	for _, n := range redirectGroup {
		if r.has(n) {
			r.seen[n] = true
			present = append(present, n)
		}
	}
	r.findings = append(r.findings, Finding{Annotation: "temporal-redirect", Value: v, Level: Exact, Warning: true,
		Message: "is not an absolute http:// or https:// URL: ingress-nginx's URL check fails and drops the redirect annotations of this Ingress (" +
			strings.Join(present, ", ") + "), so the request is proxied as if they were absent; so does gatebridge — write an absolute URL to redirect"})
	return true
}

// redirectCode reads a redirect code; values outside 300..max fall back to def, as
// ingress-nginx does.
func redirectCode(r *reader, name string, def, max int) int {
	v, ok := r.str(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 300 || n > max {
		r.findings = append(r.findings, Finding{Annotation: name, Value: v, Level: Exact,
			Message: "is outside 300–" + strconv.Itoa(max) + "; ingress-nginx uses " + strconv.Itoa(def) + " instead, and so does gatebridge"})
		return def
	}
	return n
}
