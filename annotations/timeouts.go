package annotations

import (
	"regexp"
	"strings"
)

func init() {
	register(
		Spec{Name: "proxy-connect-timeout", Family: "timeouts", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "5 (ConfigMap)",
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Time to connect to the backend.", Target: "TrafficPolicy.timeouts.connect"},
		Spec{Name: "proxy-read-timeout", Family: "timeouts", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "60 (ConfigMap)",
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Longest idle gap between two reads from the backend, not a total deadline.", Target: "TrafficPolicy.timeouts.read"},
		Spec{Name: "proxy-send-timeout", Family: "timeouts", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "60 (ConfigMap)",
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Envoy has one idle timeout per stream, so the send and read idle timeouts are folded into the larger of the two.", Target: "TrafficPolicy.timeouts.send"},
		Spec{Name: "proxy-next-upstream", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "error timeout (ConfigMap)",
			Accepts:  "space-separated error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, off",
			validate: validateNextUpstream,
			Note:     "Conditions to retry on the next endpoint; POST, LOCK and PATCH are never retried unless non_idempotent.", Target: "TrafficPolicy.retry.on"},
		Spec{Name: "proxy-next-upstream-timeout", Family: "timeouts", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "0 (no limit)",
			Accepts: "integer seconds", validate: validateNonNegativeInt,
			Note: "Time budget for all tries.", Target: "TrafficPolicy.retry.budget"},
		Spec{Name: "proxy-next-upstream-tries", Family: "timeouts", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "3 (ConfigMap)",
			Accepts: "integer ≥ 0 (0 = unlimited)", validate: validateNonNegativeInt,
			Note: "Tries including the first.", Target: "TrafficPolicy.retry.attempts"},
		Spec{Name: "proxy-body-size", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "1m (ConfigMap)",
			Accepts: "nginx size: digits with optional k, m or g; 0 = unlimited", validate: validateNginxSize,
			Note: "Larger request bodies get 413.", Target: "TrafficPolicy.requestBody.maxBytes"},
		Spec{Name: "client-body-buffer-size", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "8k (ConfigMap)",
			Accepts: "nginx size", validate: validateNginxSize,
			Note: "nginx memory buffer size before spilling to disk; no observable behaviour."},
		Spec{Name: "proxy-request-buffering", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "on",
			Accepts: "on, off", validate: validateEnum("on", "off"),
			Note: "Envoy streams request bodies to the backend as they arrive; backends see the same bytes."},
		Spec{Name: "proxy-buffering", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "off",
			Accepts: "on, off", validate: validateEnum("on", "off"),
			Note: "Envoy streams responses (nginx's default, off); on also turns limit-rate on, as nginx throttles buffered responses only."},
		Spec{Name: "proxy-buffers-number", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "4",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note: "nginx buffer tuning; no observable behaviour."},
		Spec{Name: "proxy-buffer-size", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "4k",
			Accepts: "nginx size", validate: validateNginxSize,
			Note: "nginx response-header buffer; Envoy accepts response headers up to 60 KiB by default, more than any usual setting."},
		Spec{Name: "proxy-busy-buffers-size", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "nginx size", validate: validateNginxSize,
			Note: "nginx buffer tuning; no observable behaviour."},
		Spec{Name: "proxy-max-temp-file-size", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "1024m",
			Accepts: "nginx size", validate: validateNginxSize,
			Note: "nginx temp-file tuning; no observable behaviour."},
		Spec{Name: "proxy-cookie-domain", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "off",
			Accepts: "off, or \"FROM TO\": two domains without nginx variables or regular expressions", validate: validateRewritePair,
			Note: "Rewrites the Domain attribute of the backend's Set-Cookie headers equal to FROM (any case, a leading dot ignored and kept) to TO, as proxy_cookie_domain.", Target: "TrafficPolicy.responseRewrite.cookieDomain"},
		Spec{Name: "proxy-cookie-path", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "off",
			Accepts: "off, or \"FROM TO\": two paths without nginx variables or regular expressions", validate: validateRewritePair,
			Note: "Rewrites the Path attribute of the backend's Set-Cookie headers that starts with FROM (case-sensitive) to start with TO, as proxy_cookie_path.", Target: "TrafficPolicy.responseRewrite.cookiePath"},
		Spec{Name: "proxy-redirect-from", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "off",
			Accepts: "off, default, or a URL prefix without nginx variables or regular expressions", validate: validateRewriteWord,
			Note: "With proxy-redirect-to, a Location (or Refresh url=) from the backend that starts with it (case-sensitive) starts with proxy-redirect-to instead, as proxy_redirect; off and default change nothing (default names the internal upstream URL).", Target: "TrafficPolicy.responseRewrite.redirect"},
		Spec{Name: "proxy-redirect-to", Family: "timeouts", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "off",
			Accepts: "off, or a URL prefix without nginx variables", validate: validateRewriteWord,
			Note: "Replacement of proxy-redirect-from; ignored when that is off or default, and off itself changes nothing.", Target: "TrafficPolicy.responseRewrite.redirect"},
		Spec{Name: "connection-proxy-header", Family: "timeouts", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "close, keep-alive", validate: validateEnum("close", "keep-alive"),
			Note: "Envoy manages hop-by-hop headers and upstream connection reuse itself."},
	)
}

var nextUpstreamConditions = map[string]bool{"error": true, "timeout": true, "invalid_header": true,
	"http_500": true, "http_502": true, "http_503": true, "http_504": true, "http_403": true,
	"http_404": true, "http_429": true, "non_idempotent": true, "off": true}

func validateNextUpstream(v string) error {
	f := strings.Fields(v)
	if len(f) == 0 {
		return errorf("lists no condition")
	}
	for _, c := range f {
		if !nextUpstreamConditions[c] {
			return errorf("%q is not a proxy_next_upstream condition", c)
		}
	}
	return nil
}

// Timeouts is the timeout/retry/body family of one Ingress; nil = ConfigMap default.
type Timeouts struct {
	Connect, Read, Send *int
	// NextUpstream conditions as written (nil = default).
	NextUpstream        []string
	NextUpstreamTries   *int
	NextUpstreamTimeout *int
	// BodySizeBytes from proxy-body-size (nil = default; 0 = unlimited).
	BodySizeBytes *int64
	// CookieDomain, CookiePath and Redirect rewrite the backend's response headers
	// (proxy-cookie-domain, proxy-cookie-path, proxy-redirect-from/-to; nil = off).
	CookieDomain, CookiePath, Redirect *RewritePair
}

func parseTimeouts(r *reader) Timeouts {
	t := Timeouts{
		Connect:             r.optInt("proxy-connect-timeout"),
		Read:                r.optInt("proxy-read-timeout"),
		Send:                r.optInt("proxy-send-timeout"),
		NextUpstreamTries:   r.optInt("proxy-next-upstream-tries"),
		NextUpstreamTimeout: r.optInt("proxy-next-upstream-timeout"),
	}
	if v, ok := r.str("proxy-next-upstream"); ok {
		t.NextUpstream = strings.Fields(v)
	}
	if v, ok := r.str("proxy-body-size"); ok {
		n, _ := parseNginxSize(v)
		t.BodySizeBytes = &n
	}
	if t.Send != nil {
		r.note("proxy-send-timeout", Approximate, "Envoy has one idle timeout per stream: the larger of the read and send timeouts is used for both")
	}
	t.CookieDomain = parseRewritePair(r, "proxy-cookie-domain")
	t.CookiePath = parseRewritePair(r, "proxy-cookie-path")
	t.Redirect = parseProxyRedirect(r)
	return t
}

// RewritePair is a "FROM TO" of proxy_cookie_domain, proxy_cookie_path or proxy_redirect.
type RewritePair struct{ From, To string }

// rewriteWord is one word of a proxy_redirect / proxy_cookie_* value: printable, no
// blank, quote or nginx syntax character.
var rewriteWord = regexp.MustCompile(`^[^\s;{}'"\\]+$`)

func validateRewriteWord(v string) error {
	if !rewriteWord.MatchString(v) {
		return errorf("is not one word without blanks, quotes or ; { }")
	}
	return nil
}

func validateRewritePair(v string) error {
	f := strings.Fields(v)
	if len(f) == 1 && f[0] == "off" {
		return nil
	}
	if len(f) != 2 {
		return errorf("is neither off nor two words FROM TO")
	}
	for _, w := range f {
		if err := validateRewriteWord(w); err != nil {
			return err
		}
	}
	return nil
}

// literalRewrite says why a rewrite word cannot be applied literally ("" = it can): nginx
// would evaluate variables and regular expressions, which the data plane does not.
func literalRewrite(words ...string) string {
	for _, w := range words {
		switch {
		case strings.Contains(w, "$"):
			return "nginx variables (" + w + ") are not evaluated by gatebridge"
		case strings.HasPrefix(w, "~"):
			return "regular expressions (" + w + ") are not applied by gatebridge"
		}
	}
	return ""
}

func parseRewritePair(r *reader, name string) *RewritePair {
	v, ok := r.str(name)
	if !ok || v == "off" {
		return nil
	}
	f := strings.Fields(v)
	if why := literalRewrite(f...); why != "" {
		r.refuse(name, why+"; write the literal value, or set the header in the backend")
		return nil
	}
	return &RewritePair{From: f[0], To: f[1]}
}

// parseProxyRedirect follows ingress-nginx's template: from "off" or "default" writes
// proxy_redirect off/default (default names http://upstream_balancer/, which no backend
// sends back), and to "off" (the default) writes nothing.
func parseProxyRedirect(r *reader) *RewritePair {
	from, okFrom := r.str("proxy-redirect-from")
	to, okTo := r.str("proxy-redirect-to")
	if !okTo {
		to = "off"
	}
	if !okFrom || from == "off" || from == "default" {
		if okTo && to != "off" {
			r.note("proxy-redirect-to", Exact, "has no effect while proxy-redirect-from is off or default (as in ingress-nginx)")
		}
		return nil
	}
	if to == "off" {
		r.note("proxy-redirect-from", Exact, "has no effect without proxy-redirect-to (as in ingress-nginx)")
		return nil
	}
	if why := literalRewrite(from, to); why != "" {
		r.refuse("proxy-redirect-from", why+"; write the literal URL prefix, or make the backend send the right Location")
		return nil
	}
	return &RewritePair{From: from, To: to}
}
