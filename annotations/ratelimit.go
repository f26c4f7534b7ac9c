package annotations

import (
	"math"
	"net/netip"
	"strings"
)

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
		Spec{Name: "limit-allowlist", Family: "ratelimit", Level: Exact, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "comma-separated CIDRs", validate: validateCIDRList,
			Note: "Clients in these ranges are not rate-limited (limit-rps, limit-rpm); the address is the one the limit keys on.", Target: "TrafficPolicy.rateLimit.exempt"},
		Spec{Name: "limit-whitelist", Family: "ratelimit", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, AliasOf: "limit-allowlist",
			Accepts: "comma-separated CIDRs", validate: validateCIDRList,
			Note: "Alias of limit-allowlist; the canonical name wins when both are set.", Target: "TrafficPolicy.rateLimit.exempt"},
		Spec{Name: "limit-connections", Family: "ratelimit", Level: Refused, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (off)",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note: "Concurrent requests per client address (503 above) have no equivalent in Envoy: its limits count requests per time (local rate limit), connections per listener or requests per backend, never one client's requests in flight. Serving the Ingress without the limit would drop a protection silently, so it is refused: remove the annotation (limit-rps or limit-rpm bound each client's request rate instead) or keep the Ingress on ingress-nginx."},
		Spec{Name: "limit-rate", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (off)",
			Accepts: "integer KB/s", validate: validateIntAtMost(math.MaxInt32, "KiB per second"),
			Note:   "Response bandwidth in KiB/s through Envoy's bandwidth limit filter, only with proxy-buffering on (nginx throttles buffered responses only; off is the default, and then it has no effect, as in ingress-nginx); ConfigMap limit-rate is the default. The limit is shared by all responses of the rule at once, where nginx gives each request its own.",
			Target: "TrafficPolicy.responseBandwidth.kibPerSecond"},
		Spec{Name: "limit-rate-after", Family: "ratelimit", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "0",
			Accepts: "integer KB", validate: validateNonNegativeInt,
			Note: "Envoy's bandwidth limit has no free allowance: with limit-rate, responses are throttled from their first byte; alone it has no effect, as in ingress-nginx."},
	)
}

// RateLimit is the limit-* family.
type RateLimit struct {
	RPS, RPM        int
	BurstMultiplier int
	Exempt          []netip.Prefix
	// RateKiBps is limit-rate: response bandwidth in KiB per second (0 = off).
	RateKiBps int
}

// Enabled reports whether any request limit is set.
func (l RateLimit) Enabled() bool { return l.RPS > 0 || l.RPM > 0 }

func parseRateLimit(r *reader, d Defaults) RateLimit {
	l := RateLimit{BurstMultiplier: 5}
	l.RPS = r.integer("limit-rps", 0)
	l.RPM = r.integer("limit-rpm", 0)
	if m := r.integer("limit-burst-multiplier", 5); m >= 1 {
		l.BurstMultiplier = m
	}
	if v, ok := r.str(aliasOr(r, "limit-allowlist", "limit-whitelist")); ok {
		l.Exempt, _ = parseCIDRList(v)
	}
	if n := r.integer("limit-connections", 0); n > 0 {
		spec, _ := Lookup("limit-connections")
		r.refuse("limit-connections", spec.Note)
	}
	l.RateKiBps = r.integer("limit-rate", d.LimitRate)
	if l.RateKiBps > 0 && !responseBuffered(r, d) {
		// nginx's limit_rate throttles what it writes from its buffers: with proxy_buffering
		// off (ingress-nginx's default) a proxied response passes unthrottled.
		if r.has("limit-rate") {
			r.note("limit-rate", Exact, "has no effect, as in ingress-nginx: nginx throttles only buffered responses and proxy-buffering is off for this Ingress (the default); set proxy-buffering: \"on\" to throttle")
		}
		l.RateKiBps = 0
	}
	if after := r.integer("limit-rate-after", d.LimitRateAfter); after > 0 && l.RateKiBps > 0 && r.has("limit-rate-after") {
		r.note("limit-rate-after", Approximate, "Envoy's bandwidth limit has no free allowance: the response is throttled from its first byte, not after "+r.values["limit-rate-after"]+" KB")
	}
	return l
}

// responseBuffered is the Ingress's proxy-buffering (else the ConfigMap's): whether nginx
// buffers the backend's responses. Read without consuming the annotation, which keeps its
// own ignored note.
func responseBuffered(r *reader, d Defaults) bool {
	switch strings.TrimSpace(r.values["proxy-buffering"]) {
	case "on":
		return true
	case "off":
		return false
	}
	return d.ProxyBuffering
}
