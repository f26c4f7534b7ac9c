package annotations

import "net/netip"

func init() {
	register(
		Spec{Name: "limit-rps", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (off)",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note: "Requests per second per client address, burst rps × multiplier, excess answered 503; gatebridge keeps one bucket per route, nginx one per Ingress.", Target: "TrafficPolicy.rateLimit.requestsPerSecond"},
		Spec{Name: "limit-rpm", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (off)",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note: "Requests per minute per client address; one bucket per route (nginx: per Ingress).", Target: "TrafficPolicy.rateLimit.requestsPerMinute"},
		Spec{Name: "limit-burst-multiplier", Family: "ratelimit", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "5",
			Accepts: "integer ≥ 1", validate: validateNonNegativeInt,
			Note: "Burst size = limit × multiplier.", Target: "TrafficPolicy.rateLimit.burstMultiplier"},
		Spec{Name: "limit-allowlist", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "comma-separated CIDRs", validate: validateCIDRList,
			Note: "Kept in TrafficPolicy.rateLimit.exempt, but not applied by gatebridge's data plane yet: these clients are limited too.", Target: "TrafficPolicy.rateLimit.exempt"},
		Spec{Name: "limit-whitelist", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, AliasOf: "limit-allowlist",
			Accepts: "comma-separated CIDRs", validate: validateCIDRList,
			Note: "Alias of limit-allowlist; the canonical name wins when both are set.", Target: "TrafficPolicy.rateLimit.exempt"},
		Spec{Name: "limit-connections", Family: "ratelimit", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (off)",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note: "Concurrent connections per client address (503 above); Envoy has no per-client concurrency limit, so it is not enforced."},
		Spec{Name: "limit-rate", Family: "ratelimit", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (ConfigMap)",
			Accepts: "integer KB/s", validate: validateNonNegativeInt,
			Note: "Response bandwidth per connection; not converted yet, responses are not throttled."},
		Spec{Name: "limit-rate-after", Family: "ratelimit", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "0",
			Accepts: "integer KB", validate: validateNonNegativeInt,
			Note: "Bytes sent at full speed before limit-rate applies; not converted."},
	)
}

// RateLimit is the limit-* family.
type RateLimit struct {
	RPS, RPM        int
	BurstMultiplier int
	Exempt          []netip.Prefix
}

// Enabled reports whether any request limit is set.
func (l RateLimit) Enabled() bool { return l.RPS > 0 || l.RPM > 0 }

func parseRateLimit(r *reader) RateLimit {
	l := RateLimit{BurstMultiplier: 5}
	l.RPS = r.integer("limit-rps", 0)
	l.RPM = r.integer("limit-rpm", 0)
	if m := r.integer("limit-burst-multiplier", 5); m >= 1 {
		l.BurstMultiplier = m
	}
	if v, ok := r.str(aliasOr(r, "limit-allowlist", "limit-whitelist")); ok {
		l.Exempt, _ = parseCIDRList(v)
	}
	for _, n := range []string{"limit-connections", "limit-rate", "limit-rate-after"} {
		if n2 := r.integer(n, 0); n2 > 0 {
			r.unsupported(n)
		}
	}
	return l
}
