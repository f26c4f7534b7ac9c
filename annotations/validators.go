package annotations

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Validators mirror ingress-nginx's parser/validators.go character classes (the minimum
// bar) and add stricter checks where a value ends up in a URL, a
// header or a regex.

var (
	// rewriteTargetChars is ingress-nginx's RegexPathWithCapture.
	rewriteTargetChars = regexp.MustCompile(`^/?[-._~a-zA-Z0-9/:$]*$`)
	// redirectURLChars is the character set ingress-nginx accepts in permanent/temporal
	// redirects since the CVE-2023-5044 fix: no "$" (no nginx variables).
	redirectURLChars = regexp.MustCompile(`^[-._~a-zA-Z0-9/:,?&=%#+@]*$`)
	// headerNameChars is the set accepted for canary-by-header and header lists.
	headerNameChars = regexp.MustCompile(`^[-._~a-zA-Z0-9/:]+$`)
	// httpTokenChars is an RFC 9110 token: what a header name may be on the wire.
	httpTokenChars = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// nginxSize is client_max_body_size syntax: digits with an optional unit.
	nginxSize = regexp.MustCompile(`^([0-9]+)([bBkKmMgG]?)$`)
	// cookieNameChars is an RFC 6265 cookie-name.
	cookieNameChars = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	// dnsNameWithWildcard is a hostname, optionally starting with "*.".
	dnsNameWithWildcard = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`)
	// authHeaderChars is what ingress-nginx accepts as a header name in the auth-* lists
	// (and what gatebridge's auth service accepts).
	authHeaderChars = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	// authMethods is ingress-nginx's auth-method validator (anchored since CVE-2026-1580).
	authMethods = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|CONNECT|OPTIONS|TRACE)$`)
	// uriScheme is the scheme of an absolute URI ("file:", "javascript:", "http:").
	uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	// hstsMaxAge is a max-age directive value: digits only (RFC 6797).
	hstsMaxAge = regexp.MustCompile(`^[0-9]{1,10}$`)
	// nginxVariable finds $name and ${name} references.
	nginxVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// rejectControlChars refuses CR, LF and NUL in any value (ingress-nginx MaliciousRegex;
// CVE-2024-7646 was a bypass using a carriage return).
func rejectControlChars(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("contains a line break or NUL byte, which is never accepted")
	}
	return nil
}

func validateBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("is not a boolean (accepted: true, false, 1, 0, t, f)")
	}
	return nil
}

// parseInt32 reads an integer that fits the int32 fields it ends up in (the Gateway API's
// and gatebridge's CRDs hold 32-bit integers); a larger one is "too large", never cut.
func parseInt32(v string) (int, error) {
	n, err := strconv.Atoi(v)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && (n > math.MaxInt32 || n < math.MinInt32):
		return 0, fmt.Errorf("is too large (at most %d)", math.MaxInt32)
	case err != nil:
		return 0, fmt.Errorf("is not an integer (no units: write 60, not 60s)")
	}
	return n, nil
}

func validateInt(v string) error {
	_, err := parseInt32(v)
	return err
}

func validateNonNegativeInt(v string) error {
	n, err := parseInt32(v)
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("is negative")
	}
	return nil
}

// validateIntAtMost is validateNonNegativeInt with a smaller upper bound: what the field
// the value becomes can hold, said as why.
func validateIntAtMost(limit int, why string) func(string) error {
	return func(v string) error {
		if err := validateNonNegativeInt(v); err != nil {
			return err
		}
		if n, _ := strconv.Atoi(v); n > limit {
			return fmt.Errorf("is too large (at most %d: %s)", limit, why)
		}
		return nil
	}
}

// Limits of the Gateway API fields (and gatebridge CRD fields) that annotation values are
// copied into. A longer value would be rejected by the API server, so it is invalid here:
// it never reaches an emitted object, and never silently cut.
const (
	// maxPath is HTTPPathModifier.replaceFullPath and HTTPPathMatch.value.
	maxPath = 1024
	// maxHeaderValue is HTTPHeader.value and HTTPHeaderMatch.value.
	maxHeaderValue = 4096
	// maxHeaderName is HTTPHeaderName.
	maxHeaderName = 256
	// maxHostname is Hostname and PreciseHostname.
	maxHostname = 253
	// maxRedirectURL is RouteFilter spec.redirect.url.
	maxRedirectURL = 4096
	// maxObjectName and maxNamespace are a Secret reference's name and namespace.
	maxObjectName = 253
	maxNamespace  = 63
)

// maxLength wraps a validator with the length limit of the field the value becomes.
func maxLength(limit int, field string, next func(string) error) func(string) error {
	return func(v string) error {
		if err := checkLength(v, limit, field); err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		return next(v)
	}
}

func checkLength(v string, limit int, field string) error {
	if len(v) > limit {
		return fmt.Errorf("is %d characters long; the %s it becomes holds at most %d", len(v), field, limit)
	}
	return nil
}

func validateEnum(values ...string) func(string) error {
	return func(v string) error {
		for _, x := range values {
			if strings.EqualFold(v, x) {
				return nil
			}
		}
		return fmt.Errorf("is not one of %s", strings.Join(values, ", "))
	}
}

func validateRegexp(re *regexp.Regexp, what string) func(string) error {
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("is not %s", what)
		}
		return nil
	}
}

// parseNginxSize parses an nginx size ("1m", "512k", "100", "0") into bytes.
func parseNginxSize(v string) (int64, error) {
	m := nginxSize.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, fmt.Errorf("is not an nginx size (digits with an optional unit k, m or g, e.g. 8m)")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("is too large")
	}
	mult := int64(1)
	switch strings.ToLower(m[2]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("is too large")
	}
	return n * mult, nil
}

func validateNginxSize(v string) error {
	_, err := parseNginxSize(v)
	return err
}

// parseCIDRList parses a comma-separated list of CIDRs or addresses, as nginx allow/deny.
// Bare addresses become /32 or /128.
func parseCIDRList(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR", part)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lists no address")
	}
	return out, nil
}

func validateCIDRList(v string) error {
	_, err := parseCIDRList(v)
	return err
}

// validateAccessList is allowlist-source-range and denylist-source-range: ingress-nginx
// parses every comma-separated entry (net.ParseCIDRs), so an empty one ("10.0.0.0/8,",
// "a,,b") fails like a bad address, and the location is denied (503).
func validateAccessList(v string) error {
	for i, part := range strings.Split(v, ",") {
		if strings.TrimSpace(part) == "" {
			return fmt.Errorf("has an empty entry (entry %d of the comma-separated list); ingress-nginx refuses the list", i+1)
		}
	}
	return validateCIDRList(v)
}

// splitList splits a comma-separated list, trimming blanks and dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validateAuthHeaderList is auth-response-headers: ingress-nginx denies the location for a
// header name outside [a-zA-Z0-9_-].
func validateAuthHeaderList(v string) error {
	items := splitList(v)
	if len(items) == 0 {
		return fmt.Errorf("lists no header")
	}
	for _, h := range items {
		if !authHeaderChars.MatchString(h) {
			return fmt.Errorf("%q is not a header name ingress-nginx accepts here (letters, digits, - and _)", h)
		}
	}
	return nil
}

// validateHeaderName is canary-by-header: ingress-nginx's header-name characters that are
// also an RFC 9110 token (what a Gateway API header match holds: no "/" or ":"), at most
// 256 characters.
func validateHeaderName(v string) error {
	if !headerNameChars.MatchString(v) || !httpTokenChars.MatchString(v) {
		return fmt.Errorf("is not a header name (letters, digits, \"-\", \".\", \"_\" and \"~\")")
	}
	return checkLength(v, maxHeaderName, "Gateway API header name")
}

// allowedURLVariables are the nginx variables gatebridge can evaluate in auth URLs.
var allowedURLVariables = map[string]bool{
	"host": true, "http_host": true, "scheme": true, "request_uri": true,
	"escaped_request_uri": true, "pass_access_scheme": true,
}

// validateAuthURL accepts an absolute http(s) URL that may contain only the nginx variables
// gatebridge evaluates; anything else would be pasted as text or ignored.
func validateAuthURL(v string) error {
	for _, m := range nginxVariable.FindAllStringSubmatch(v, -1) {
		if !allowedURLVariables[m[1]] {
			return fmt.Errorf("uses the nginx variable $%s, which gatebridge cannot evaluate (allowed: $host, $http_host, $scheme, $request_uri, $escaped_request_uri)", m[1])
		}
	}
	if strings.ContainsAny(v, " \t\"'`{};\\") {
		return fmt.Errorf("contains a space, quote, brace, semicolon or backslash")
	}
	probe := nginxVariable.ReplaceAllString(v, "x")
	u, err := url.Parse(probe)
	if err != nil {
		return fmt.Errorf("is not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be an absolute http:// or https:// URL")
	}
	if u.Host == "" {
		return fmt.Errorf("has no host")
	}
	if strings.Contains(u.Host, "..") {
		return fmt.Errorf("has an invalid host %q", u.Host)
	}
	return nil
}

// validateSignIn is validateAuthURL, or for a path (ingress-nginx's error_page takes one)
// the same character and variable rules on a path starting with a single "/".
func validateSignIn(v string) error {
	if !strings.HasPrefix(v, "/") {
		return validateAuthURL(v)
	}
	if strings.HasPrefix(v, "//") {
		return fmt.Errorf("starts with // (a URL without scheme); write https://host/path or a path")
	}
	return validateAuthURL("http://signin.invalid" + v)
}

// redirectURL is the one validator of permanent-redirect and temporal-redirect, as strict
// as ingress-nginx for both: no nginx variables (the CVE-2023-5044 character set), and an
// absolute http:// or https:// URL with a host (ingress-nginx's isValidURL) — or, for
// permanent-redirect only, which ingress-nginx does not scheme-check, a path starting with
// a single "/" that nginx makes absolute on the request host. Anything
// else ("file:///…", "javascript:…", "-5", "//host/…", a URL without host) is invalid, and
// nothing longer than the RouteFilter field it may become passes.
func redirectURL(relativePath bool) func(string) error {
	return func(v string) error {
		if err := checkLength(v, maxRedirectURL, "redirect URL"); err != nil {
			return err
		}
		if strings.Contains(v, "$") {
			return fmt.Errorf("contains \"$\": nginx variables are not accepted in redirects since ingress-nginx v1.9 (CVE-2023-5044)")
		}
		if !redirectURLChars.MatchString(v) {
			return fmt.Errorf("contains characters outside -._~a-zA-Z0-9/:,?&=%%#+@")
		}
		u, err := url.Parse(v)
		if err != nil {
			return fmt.Errorf("is not a URL: %v", err)
		}
		if relativePath && strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
			return nil
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			if relativePath {
				return fmt.Errorf("must be an absolute http:// or https:// URL or a path starting with \"/\"")
			}
			return fmt.Errorf("must be an absolute http:// or https:// URL (ingress-nginx accepts no other scheme and no relative URL)")
		}
		if u.Hostname() == "" {
			return fmt.Errorf("has no host")
		}
		return nil
	}
}

func mustRegexp(s string) *regexp.Regexp { return regexp.MustCompile(s) }
