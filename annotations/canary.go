package annotations

import (
	"strconv"

	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

func init() {
	register(
		Spec{Name: "canary", Family: "canary", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "Joins the non-canary Ingress with the same host, path and pathType; its other annotations are ignored (the primary's apply).", Target: "rules in the primary's HTTPRoute"},
		Spec{Name: "canary-by-header", Family: "canary", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "a header name", validate: validateHeaderName,
			Note: "Header value always → canary, never → primary, else fall through to cookie, then weight.", Target: "HTTPRoute header matches"},
		Spec{Name: "canary-by-header-value", Family: "canary", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "-._~a-zA-Z0-9/: characters", validate: maxLength(maxHeaderValue, "Gateway API header value", validateRegexp(headerNameChars, "made of -._~a-zA-Z0-9/: characters")),
			Note: "Header equal to this value → canary; any other value falls through.", Target: "HTTPRoute header match Exact"},
		Spec{Name: "canary-by-header-pattern", Family: "canary", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "a regular expression (RE2 subset of PCRE)", validate: maxLength(maxHeaderValue-len(".*(?:).*"), "Gateway API header match", nil),
			Note: "Header matching the pattern anywhere → canary; an invalid pattern sends every request carrying the header to the primary.", Target: "HTTPRoute header match RegularExpression"},
		Spec{Name: "canary-by-cookie", Family: "canary", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "a cookie name", validate: maxLength(maxCanaryCookie, "Gateway API header match on Cookie", validateRegexp(cookieNameChars, "a cookie name")),
			Note: "Cookie value always → canary, never → primary, else fall through to weight.", Target: "HTTPRoute header match RegularExpression on Cookie"},
		Spec{Name: "canary-weight", Family: "canary", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "0",
			Accepts: "integer ≥ 0", validate: validateNonNegativeInt,
			Note: "Share of the remaining requests sent to the canary.", Target: "backendRefs weights"},
		Spec{Name: "canary-weight-total", Family: "canary", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "100",
			Accepts: "integer; honoured only above 100", validate: validateIntAtMost(1000000, "the largest Gateway API backend weight"),
			Note: "Denominator of canary-weight; values of 100 or less count as 100.", Target: "backendRefs weights"},
	)
}

// Canary is the canary family of one Ingress.
type Canary struct {
	Enabled bool
	// ByHeader is the header name ("" = none).
	ByHeader      string
	ByHeaderValue string
	// ByHeaderPattern is the pattern as written; PatternValid says whether RE2 accepts it.
	ByHeaderPattern string
	PatternValid    bool
	ByCookie        string
	Weight          int
	// WeightTotal is the effective denominator (≥ 100).
	WeightTotal int
}

// maxCanaryCookie keeps the Cookie header match of canary-by-cookie (the name quoted for
// a regular expression, at most doubled, in a fixed pattern) within a header value.
const maxCanaryCookie = 1024

var canaryNames = []string{"canary-by-header", "canary-by-header-value", "canary-by-header-pattern",
	"canary-by-cookie", "canary-weight", "canary-weight-total"}

func parseCanary(r *reader) Canary {
	c := Canary{Enabled: r.boolean("canary", false), WeightTotal: 100}
	if !c.Enabled {
		for _, n := range canaryNames {
			if r.has(n) {
				r.seen[n] = true
				r.findings = append(r.findings, Finding{Annotation: n, Value: r.values[n], Level: Exact, Invalid: true,
					Message: "is set but canary is not \"true\": ingress-nginx rejects this Ingress (\"configured but not enabled\"); set canary: \"true\" or remove it"})
				r.rejected = true
			}
		}
		return c
	}
	c.ByHeader, _ = r.str("canary-by-header")
	c.ByHeaderValue, _ = r.str("canary-by-header-value")
	if p, ok := r.str("canary-by-header-pattern"); ok {
		c.ByHeaderPattern = p
		err := envoyregex.Check(p) // RE2 as Envoy takes it
		c.PatternValid = err == nil
		if !c.PatternValid {
			r.note("canary-by-header-pattern", Approximate, "is not a valid RE2 regular expression ("+err.Error()+"); as ingress-nginx does for a pattern error, requests carrying the header go to the primary")
		}
		if c.ByHeaderValue != "" {
			r.note("canary-by-header-pattern", Exact, "is ignored because canary-by-header-value is set (as in ingress-nginx)")
		}
	}
	if c.ByHeader == "" && (c.ByHeaderValue != "" || c.ByHeaderPattern != "") {
		r.note("canary-by-header-value", Exact, "has no effect without canary-by-header")
	}
	c.ByCookie, _ = r.str("canary-by-cookie")
	c.Weight = r.integer("canary-weight", 0)
	if t := r.integer("canary-weight-total", 100); t > 100 {
		c.WeightTotal = t
	} else if r.has("canary-weight-total") && t < 100 {
		r.note("canary-weight-total", Exact, "is "+strconv.Itoa(t)+"; ingress-nginx only honours totals above 100, so 100 is used")
	}
	return c
}
