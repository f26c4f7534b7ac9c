package annotations

import (
	"regexp"
	"strings"
)

// CORS defaults of ingress-nginx (cors/main.go).
const (
	DefaultCORSMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	DefaultCORSHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	DefaultCORSMaxAge  = 1728000
)

// ingress-nginx's validators of the CORS lists (cors/main.go); a value they refuse falls
// back to the default. \s is narrowed to blanks: a line break left inside a value after
// trimming is refused before (it would be unsafe in a response header).
var (
	corsMethodsList = regexp.MustCompile(`^([A-Za-z]+,?[ \t]?)+$`)
	corsHeadersList = regexp.MustCompile(`^([A-Za-z0-9\-_]+,?[ \t]?)+$`)
	corsExposeList  = regexp.MustCompile(`^(([A-Za-z0-9\-_]+|\*),?[ \t]?)+$`)
)

// corsOrigin is ingress-nginx's accepted origin form; other entries are dropped.
var corsOrigin = regexp.MustCompile(`^([a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*|null)?$`)

func init() {
	register(
		Spec{Name: "enable-cors", Family: "cors", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "Any OPTIONS from an allowed origin is answered 204 by the proxy; CORS headers go on every response from an allowed origin.", Target: "TrafficPolicy.cors"},
		Spec{Name: "cors-allow-origin", Family: "cors", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: "*",
			Accepts: "comma-separated scheme://host[:port], scheme://*.domain, null or *",
			Note:    "Entries without a scheme are dropped, as in ingress-nginx; * anywhere means *.", Target: "TrafficPolicy.cors.allowOrigins"},
		Spec{Name: "cors-allow-methods", Family: "cors", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: DefaultCORSMethods,
			Accepts: "comma-separated methods", validate: validateRegexp(corsMethodsList, "a list of methods (letters, separated by a comma and at most one blank)"),
			Note: "Access-Control-Allow-Methods, sent as written.", Target: "TrafficPolicy.cors.allowMethods"},
		Spec{Name: "cors-allow-headers", Family: "cors", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: DefaultCORSHeaders,
			Accepts: "comma-separated header names", validate: validateRegexp(corsHeadersList, "a list of header names (separated by a comma and at most one blank)"),
			Note: "Access-Control-Allow-Headers, sent as written.", Target: "TrafficPolicy.cors.allowHeaders"},
		Spec{Name: "cors-expose-headers", Family: "cors", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "comma-separated header names or *", validate: validateRegexp(corsExposeList, "a list of header names or * (separated by a comma and at most one blank)"),
			Note: "Access-Control-Expose-Headers, sent as written.", Target: "TrafficPolicy.cors.exposeHeaders"},
		Spec{Name: "cors-allow-credentials", Family: "cors", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "true",
			Accepts: "boolean", validate: validateBool,
			Note: "Access-Control-Allow-Credentials (sent even with origin *).", Target: "TrafficPolicy.cors.allowCredentials"},
		Spec{Name: "cors-max-age", Family: "cors", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "1728000",
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Access-Control-Max-Age.", Target: "TrafficPolicy.cors.maxAgeSeconds"},
		Spec{Name: "custom-headers", Family: "cors", Level: Approximate, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "namespace/name of a ConfigMap (of the Ingress's namespace) in the input", validate: validateObjectRef,
			Note:   "Sets every key of the ConfigMap as a response header (each must be listed in the ConfigMap global-allowed-response-headers, else the paths answer 503); Envoy adds them to every answer of the route (its 401/403/413/503 too) but not to the CORS preflight 204 gatebridge answers itself.",
			Target: "HTTPRoute ResponseHeaderModifier set"},
	)
}

// CORS is the CORS family of one Ingress (only meaningful when Enabled).
type CORS struct {
	Enabled          bool
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           int
}

var corsNames = []string{"cors-allow-origin", "cors-allow-methods", "cors-allow-headers", "cors-expose-headers", "cors-allow-credentials", "cors-max-age"}

func parseCORS(r *reader) CORS {
	c := CORS{Enabled: r.boolean("enable-cors", false)}
	if !c.Enabled {
		for _, n := range corsNames {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without enable-cors: \"true\"")
			}
		}
		return c
	}
	c.AllowOrigins = parseCORSOrigins(r)
	c.AllowMethods = splitAsWritten(DefaultCORSMethods)
	if v, ok := r.str("cors-allow-methods"); ok {
		c.AllowMethods = splitAsWritten(v)
	}
	c.AllowHeaders = splitAsWritten(DefaultCORSHeaders)
	if v, ok := r.str("cors-allow-headers"); ok {
		c.AllowHeaders = splitAsWritten(v)
	}
	if v, ok := r.str("cors-expose-headers"); ok {
		c.ExposeHeaders = splitAsWritten(v)
	}
	c.AllowCredentials = r.boolean("cors-allow-credentials", true)
	c.MaxAge = r.integer("cors-max-age", DefaultCORSMaxAge)
	return c
}

// splitAsWritten splits a validated CORS list at its commas and keeps every blank: ingress-nginx
// writes the value into the response header as written ("DNT, User-Agent" keeps its blank,
// "get" stays lower-case), and the data plane joins the elements with "," to do the same.
func splitAsWritten(v string) []string {
	return strings.Split(v, ",")
}

// parseCORSOrigins applies ingress-nginx's rules: invalid entries are dropped, "*"
// anywhere (or nothing valid) means "*".
func parseCORSOrigins(r *reader) []string {
	v, ok := r.str("cors-allow-origin")
	if !ok {
		return []string{"*"}
	}
	var kept, dropped []string
	for _, o := range splitList(v) {
		if o == "*" {
			return []string{"*"}
		}
		if !corsOrigin.MatchString(o) {
			dropped = append(dropped, o)
			continue
		}
		kept = append(kept, strings.ToLower(o))
	}
	if len(dropped) > 0 {
		r.note("cors-allow-origin", Exact, "drops "+strings.Join(dropped, ", ")+": entries need a scheme (https://…), as ingress-nginx requires")
	}
	if len(kept) == 0 {
		return []string{"*"}
	}
	return kept
}
