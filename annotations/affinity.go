package annotations

import "strings"

func init() {
	register(
		Spec{Name: "affinity", Family: "affinity", Level: Exact, Risk: RiskLow, Scope: ScopeIngress,
			Accepts: "cookie", validate: validateEnum("cookie"),
			Note: "Sticky sessions with a cookie set when an endpoint is first chosen.", Target: "TrafficPolicy.sessionAffinity"},
		Spec{Name: "affinity-mode", Family: "affinity", Level: Approximate, Risk: RiskMedium, Scope: ScopeIngress, Default: "balanced",
			Accepts: "balanced, persistent", validate: validateEnum("balanced", "persistent"),
			Note: "persistent is exact; balanced rebalances on scale-up with a different share of moved sessions than nginx's Lua balancer.", Target: "TrafficPolicy.sessionAffinity.mode"},
		Spec{Name: "affinity-canary-behavior", Family: "affinity", Level: Approximate, Risk: RiskLow, Scope: ScopeIngress, Default: "sticky",
			Accepts: "sticky, legacy", validate: validateEnum("sticky", "legacy"),
			Note: "On a canary Ingress: legacy → the canary's answers set no affinity cookie; sticky → they set the primary's (a client is not kept on the canary by it).", Target: "TrafficPolicy.sessionAffinity.noCookieBackends"},
		Spec{Name: "session-cookie-name", Family: "affinity", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: "INGRESSCOOKIE",
			Accepts: "a cookie name", validate: validateRegexp(cookieNameChars, "a cookie name"),
			Note: "Name of the affinity cookie.", Target: "TrafficPolicy.sessionAffinity.cookieName"},
		Spec{Name: "session-cookie-path", Family: "affinity", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: "the Ingress path",
			Accepts: "a path", validate: validateRegexp(rewriteTargetChars, "a path"),
			Note: "Path attribute of the affinity cookie.", Target: "TrafficPolicy.sessionAffinity.cookiePath"},
		Spec{Name: "session-cookie-domain", Family: "affinity", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "a domain", validate: maxLength(maxHostname, "domain name", validateRegexp(dnsNameWithWildcard, "a domain")),
			Note: "Domain attribute of the affinity cookie.", Target: "TrafficPolicy.sessionAffinity.cookieDomain"},
		Spec{Name: "session-cookie-expires", Family: "affinity", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Expires attribute (now + N seconds).", Target: "TrafficPolicy.sessionAffinity.expiresSeconds"},
		Spec{Name: "session-cookie-max-age", Family: "affinity", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Max-Age attribute.", Target: "TrafficPolicy.sessionAffinity.maxAgeSeconds"},
		Spec{Name: "session-cookie-secure", Family: "affinity", Level: Exact, Risk: RiskLow, Scope: ScopeIngress,
			Accepts: "boolean", validate: validateBool,
			Note: "Secure attribute; unset means Secure on HTTPS requests.", Target: "TrafficPolicy.sessionAffinity.secure"},
		Spec{Name: "session-cookie-samesite", Family: "affinity", Level: Exact, Risk: RiskLow, Scope: ScopeIngress,
			Accepts: "None, Lax, Strict", validate: validateEnum("None", "Lax", "Strict"),
			Note: "SameSite attribute.", Target: "TrafficPolicy.sessionAffinity.sameSite"},
		Spec{Name: "session-cookie-conditional-samesite-none", Family: "affinity", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "With session-cookie-samesite: None, omits SameSite=None from the affinity cookie for user agents known to reject it (Chrome 40-69, iOS 12, Safari on macOS 10.14), with ingress-nginx's user-agent rules.", Target: "TrafficPolicy.sessionAffinity.conditionalSameSiteNone"},
		Spec{Name: "session-cookie-change-on-failure", Family: "affinity", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "Picks a new endpoint and re-issues the cookie when the pinned one fails.", Target: "TrafficPolicy.sessionAffinity.changeOnFailure"},
	)
}

// Affinity is the affinity family of one Ingress.
type Affinity struct {
	// Cookie is true for affinity: cookie.
	Cookie         bool
	Mode           string
	CanaryBehavior string
	Name           string
	Path           string
	Domain         string
	Expires        *int
	MaxAge         *int
	Secure         *bool
	SameSite       string
	// ConditionalSameSiteNone is session-cookie-conditional-samesite-none.
	ConditionalSameSiteNone bool
	ChangeOnFailure         bool
}

var affinityNames = []string{"affinity-mode", "affinity-canary-behavior", "session-cookie-name", "session-cookie-path",
	"session-cookie-domain", "session-cookie-expires", "session-cookie-max-age", "session-cookie-secure",
	"session-cookie-samesite", "session-cookie-conditional-samesite-none", "session-cookie-change-on-failure"}

func parseAffinity(r *reader) Affinity {
	a := Affinity{Mode: "balanced", CanaryBehavior: "sticky", Name: "INGRESSCOOKIE"}
	// ingress-nginx reads affinity-canary-behavior whatever the affinity type: on a canary
	// Ingress it says whether the canary takes the primary's affinity (sticky) or keeps
	// its own (legacy: usually none).
	if v, ok := r.str("affinity-canary-behavior"); ok {
		a.CanaryBehavior = v
	}
	_, a.Cookie = r.str("affinity")
	if !a.Cookie {
		for _, n := range affinityNames {
			if n == "affinity-canary-behavior" {
				continue
			}
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without affinity: cookie (as in ingress-nginx)")
			}
		}
		return a
	}
	if v, ok := r.str("affinity-mode"); ok {
		a.Mode = v
	}
	if v, ok := r.str("session-cookie-name"); ok {
		a.Name = v
	}
	a.Path, _ = r.str("session-cookie-path")
	a.Domain, _ = r.str("session-cookie-domain")
	a.Expires = r.optInt("session-cookie-expires")
	a.MaxAge = r.optInt("session-cookie-max-age")
	a.Secure = r.optBool("session-cookie-secure")
	if v, ok := r.str("session-cookie-samesite"); ok {
		a.SameSite = canonicalSameSite(v)
	}
	// Only meaningful with SameSite=None (sticky.lua tests both); kept as written otherwise.
	a.ConditionalSameSiteNone = r.boolean("session-cookie-conditional-samesite-none", false)
	a.ChangeOnFailure = r.boolean("session-cookie-change-on-failure", false)
	if a.Mode == "balanced" && r.has("affinity-mode") {
		r.note("affinity-mode", Approximate, "balanced: on scale-up Envoy's ring hash moves a different share of sessions than nginx's Lua balancer")
	}
	return a
}

func canonicalSameSite(v string) string {
	switch {
	case strings.EqualFold(v, "none"):
		return "None"
	case strings.EqualFold(v, "lax"):
		return "Lax"
	default:
		return "Strict"
	}
}
