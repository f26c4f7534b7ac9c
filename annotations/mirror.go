package annotations

import (
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

func init() {
	register(
		Spec{Name: "mirror-target", Family: "raw", Level: Approximate, Risk: RiskHigh, Scope: ScopeIngress,
			Accepts:  "an absolute http:// or https:// URL, optionally ending in $request_uri",
			validate: validateMirrorTarget,
			Note:     "Every request of the Ingress is copied to the URL's host and port, responses ignored; the copy carries the request's own path and query ($request_uri), so a target with a path of its own or another variable is not reproduced; Envoy does not make the client wait for the mirror as nginx does.",
			Target:   "TrafficPolicy.mirror"},
		Spec{Name: "mirror-host", Family: "raw", Level: Exact, Risk: RiskHigh, Scope: ScopeIngress, Default: "the host of mirror-target",
			Accepts: "a hostname", validate: maxLength(maxHostname, "TrafficPolicy mirror.hostHeader", validateRegexp(dnsNameWithWildcard, "a hostname")),
			Note: "Host header of the mirrored requests.", Target: "TrafficPolicy.mirror.hostHeader"},
		Spec{Name: "mirror-request-body", Family: "raw", Level: Approximate, Risk: RiskLow, Scope: ScopeIngress, Default: "on",
			Accepts: "on, off", validate: validateEnum("on", "off"),
			Note: "off is not reproduced: Envoy's mirror always carries the request body."},
	)
}

// Mirror is mirror-target and its options, as the data plane sends copies.
type Mirror struct {
	// Scheme is http or https; Host the target's host name or IP, Port its port.
	Scheme, Host string
	Port         int
	// HostHeader is mirror-host, or the target's host.
	HostHeader string
}

// requestURIVar is the one nginx variable a mirror target may use (at its end): the copy
// then carries the request's own path and query, which is what Envoy's mirror sends.
const requestURIVar = "$request_uri"

// mirrorHostChars are the characters of a DNS name or IP address (no brackets: Hostname
// drops them).
var mirrorHostChars = regexp.MustCompile(`^[A-Za-z0-9.:-]+$`)

func validateMirrorTarget(v string) error {
	if strings.ContainsAny(v, " \t\"'`{};\\") {
		return errorf("contains a space, quote, brace, semicolon or backslash")
	}
	// Other variables are refused by parseMirror with their own reason.
	u, err := url.Parse(nginxVariable.ReplaceAllString(strings.TrimSuffix(v, requestURIVar), "x"))
	switch {
	case err != nil:
		return errorf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return errorf("must be an absolute http:// or https:// URL")
	case !mirrorHostChars.MatchString(u.Hostname()) || strings.Contains(u.Host, ".."):
		return errorf("has no valid host")
	case len(u.Hostname()) > maxHostname:
		return errorf("has a host of %d characters; the TrafficPolicy mirror.host it becomes holds at most %d", len(u.Hostname()), maxHostname)
	case u.User != nil:
		return errorf("carries user information")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errorf("has an invalid port %q", p)
		}
	}
	return nil
}

func parseMirror(r *reader) *Mirror {
	target, ok := r.str("mirror-target")
	if !ok {
		for _, n := range []string{"mirror-host", "mirror-request-body"} {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without mirror-target (as in ingress-nginx)")
			}
		}
		return nil
	}
	base, hasURI := strings.CutSuffix(target, requestURIVar)
	if strings.Contains(base, "$") {
		r.refuse("mirror-target", "nginx variables other than a final $request_uri are not evaluated by gatebridge; write the mirror's URL as scheme://host[:port]$request_uri")
		return nil
	}
	u, _ := url.Parse(base)
	m := &Mirror{Scheme: u.Scheme, Host: strings.ToLower(u.Hostname()), HostHeader: u.Hostname()}
	m.Port = 80
	if u.Scheme == "https" {
		m.Port = 443
	}
	if p := u.Port(); p != "" {
		m.Port, _ = strconv.Atoi(p)
	}
	if a, err := netip.ParseAddr(m.Host); err == nil {
		m.Host = a.Unmap().String()
	}
	switch {
	case hasURI && u.Path == "" && u.RawQuery == "":
		// The copy carries the request's path and query, as Envoy's mirror does.
	case !hasURI:
		r.note("mirror-target", Approximate, "the mirror receives the request's own path and query, where nginx sends "+mirrorPathOf(u)+" (append $request_uri to the target to say so)")
	default:
		r.note("mirror-target", Approximate, "the mirror receives the request's own path and query without the prefix "+u.Path+" of the target")
	}
	if h, ok := r.str("mirror-host"); ok {
		m.HostHeader = h
	}
	if v, ok := r.str("mirror-request-body"); ok && v == "off" {
		r.note("mirror-request-body", Approximate, "off is not reproduced: Envoy's mirror always carries the request body")
	}
	if why := sensitiveAuthHost(base); why != "" {
		r.warn("mirror-target", strings.Replace(why, "every auth request", "a copy of every request", 1))
	}
	return m
}

// mirrorPathOf is the path nginx's mirror location sends for a target without
// $request_uri: the target's path, or, without one, the internal /_mirror-<uid> location
// with the query.
func mirrorPathOf(u *url.URL) string {
	if u.Path == "" {
		return "/_mirror-<ingress uid> with the query"
	}
	return u.Path + " for every request"
}
