package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/go-logr/logr"
	"google.golang.org/grpc/codes"
)

// compiledAccess is an Access with its addresses parsed.
type compiledAccess struct {
	allow, deny []netip.Prefix
	// invalid, when non-empty, is why a list is unusable: the location answers 503, as
	// ingress-nginx denies a location whose list fails its validator.
	invalid string
}

func compileAccess(a *Access) *compiledAccess {
	ca := &compiledAccess{}
	parse := func(list []string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range list {
			p, err := parsePrefix(strings.TrimSpace(s))
			if err != nil {
				ca.invalid = err.Error()
				return nil
			}
			out = append(out, p)
		}
		return out
	}
	ca.deny = parse(a.Deny)
	if ca.invalid == "" {
		ca.allow = parse(a.Allow)
	}
	return ca
}

func parsePrefix(s string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), nil
}

// accessResult is what nginx's access module returns: a rule allowed the address (NGX_OK),
// a rule denied it (403), or no rule matched (NGX_DECLINED: neither a pass nor a failure).
type accessResult int

const (
	accessDeclined accessResult = iota
	accessAllowed
	accessDenied
)

// check walks the rules in the template's order: every "deny <denylist>", then every
// "allow <allowlist>" followed by "deny all" when the allowlist is not empty.
func (a *compiledAccess) check(clientIP string) accessResult {
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		// An address nginx could not have matched: only "deny all" applies.
		if len(a.allow) > 0 {
			return accessDenied
		}
		return accessDeclined
	}
	addr = addr.Unmap()
	for _, p := range a.deny {
		if p.Contains(addr) {
			return accessDenied
		}
	}
	if len(a.allow) == 0 {
		return accessDeclined
	}
	for _, p := range a.allow {
		if p.Contains(addr) {
			return accessAllowed
		}
	}
	return accessDenied
}

// checkAny is nginx's "satisfy any" over the access-phase handlers, in the order nginx runs
// them: allow/deny, then auth_basic, then auth_request. The first handler that passes admits
// the request and the later ones do not run (no auth subrequest once the address passed). A
// handler's 401 or 403 is remembered, a 401 never replaced by a 403, and answered when no
// handler passed; a handler with no opinion (no matching rule, auth_basic off) is skipped;
// any other answer (the auth service unreachable or answering 500…) ends the request at
// once. When nothing passed and nothing failed, the request is admitted, as nginx does.
func (s *Server) checkAny(ctx context.Context, log logr.Logger, p *compiledPolicy, r *request) *authv3.CheckResponse {
	if b := p.basic; b != nil && b.failClosed != "" {
		// A denied location answers 503 in nginx's rewrite phase, before any access check.
		log.Error(errors.New(b.failClosed), "basic auth secret unusable, answering 503")
		return localReply(http.StatusServiceUnavailable, codes.Unavailable)
	}
	ok := &authv3.OkHttpResponse{}
	if p.basic != nil {
		// proxy_set_header Authorization "" is a location directive: whichever check admitted
		// the request, the upstream does not see the credentials.
		ok.HeadersToRemove = append(ok.HeadersToRemove, "authorization")
	}
	if e := p.external; e != nil {
		// The auth_request_set variables stay empty when the subrequest did not run, so the
		// headers they feed are not sent upstream.
		for _, name := range e.responseHeaders {
			ok.HeadersToRemove = append(ok.HeadersToRemove, strings.ToLower(name))
		}
	}

	var denied *authv3.CheckResponse // the remembered 401/403
	var challenges []string          // WWW-Authenticate values set so far (auth_basic's)
	remember := func(resp *authv3.CheckResponse) {
		if denied == nil || (statusOf(denied) != http.StatusUnauthorized && statusOf(resp) == http.StatusUnauthorized) {
			denied = resp
		}
	}

	if a := p.access; a != nil {
		switch a.check(r.clientIP) {
		case accessAllowed:
			return allow(ok)
		case accessDenied:
			log.V(1).Info("satisfy any: address denied", "client", r.clientIP)
			remember(localReply(http.StatusForbidden, codes.PermissionDenied))
		}
	}

	if b := p.basic; b != nil && !b.realmOff {
		switch res, www := s.checkBasic(log, b, r); res {
		case basicFailClosed:
			return localReply(http.StatusServiceUnavailable, codes.Unavailable)
		case basicAllowed:
			return allow(ok)
		case basicDenied:
			challenges = append(challenges, www)
			resp := localReply(http.StatusUnauthorized, codes.Unauthenticated)
			resp.GetDeniedResponse().Headers = append(resp.GetDeniedResponse().Headers, setHeader("www-authenticate", www))
			remember(resp)
		}
	}

	if e := p.external; e != nil {
		resp := s.checkExternal(ctx, log, e, r, &authv3.OkHttpResponse{})
		switch code := statusOf(resp); {
		case resp.GetOkResponse() != nil:
			ext := resp.GetOkResponse()
			for _, h := range removedExcept(ok.HeadersToRemove, ext.Headers) {
				if !slices.Contains(ext.HeadersToRemove, h) {
					ext.HeadersToRemove = append(ext.HeadersToRemove, h)
				}
			}
			return resp
		case code == http.StatusUnauthorized || code == http.StatusFound:
			// The service's 401 (or its sign-in redirect, error_page 401) is the final
			// answer; auth_request adds its WWW-Authenticate after auth_basic's.
			withChallengesFirst(resp, challenges)
			return resp
		case code == http.StatusForbidden:
			remember(resp)
		default:
			return resp
		}
	}

	if denied == nil {
		return allow(ok)
	}
	if e := p.external; e != nil && e.signIn != nil && statusOf(denied) == http.StatusUnauthorized {
		// error_page 401 = @signin also catches auth_basic's 401.
		return signInRedirect(e, r, challenges, nil)
	}
	return denied
}

func statusOf(resp *authv3.CheckResponse) int {
	return int(resp.GetDeniedResponse().GetStatus().GetCode())
}

// withChallengesFirst puts earlier WWW-Authenticate values before a denial's own headers.
func withChallengesFirst(resp *authv3.CheckResponse, challenges []string) {
	if len(challenges) == 0 {
		return
	}
	d := resp.GetDeniedResponse()
	hs := make([]*corev3.HeaderValueOption, 0, len(d.Headers)+len(challenges))
	for _, c := range challenges {
		hs = append(hs, addHeader("www-authenticate", c))
	}
	d.Headers = append(hs, d.Headers...)
}

// removedExcept is the headers to remove that the auth response did not set.
func removedExcept(remove []string, set []*corev3.HeaderValueOption) []string {
	var out []string
	for _, h := range remove {
		kept := false
		for _, s := range set {
			if strings.EqualFold(s.GetHeader().GetKey(), h) {
				kept = true
			}
		}
		if !kept {
			out = append(out, h)
		}
	}
	return out
}
