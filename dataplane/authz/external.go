package authz

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/go-logr/logr"
	"google.golang.org/grpc/codes"
)

// skippedRequestHeaders are client request headers not passed to the auth service: the
// ones nginx's proxy module always replaces or drops (Host, Connection, Content-Length,
// Transfer-Encoding, TE, Keep-Alive, Expect, Upgrade), the remaining hop-by-hop ones,
// X-Forwarded-Proto, which ingress-nginx's auth location clears, and the header gatebridge's
// data plane uses to choose a route table (dataplane/scopes.go), which is its own.
var skippedRequestHeaders = map[string]bool{
	"host":              true,
	"connection":        true,
	"content-length":    true,
	"transfer-encoding": true,
	"te":                true,
	"keep-alive":        true,
	"expect":            true,
	"upgrade":           true,
	"proxy-connection":  true,
	"trailer":           true,
	"x-forwarded-proto": true,
	ScopeHeader:         true,
}

// ScopeHeader is the data plane's own routing header (it selects a request's route table);
// it is never a client's and never passed to an auth service.
const ScopeHeader = "x-gatebridge-scope"

// envoyInternalHeaderPrefix marks headers Envoy adds itself (x-envoy-internal,
// x-envoy-external-address, ...); nginx never sees them, so they are not passed on.
const envoyInternalHeaderPrefix = "x-envoy-"

// maxDrainBytes is how much of an unused auth response body is read so the connection can
// be reused; beyond that the connection is closed.
const maxDrainBytes = 64 << 10

// authResponse is the part of the auth service's answer that Check uses.
type authResponse struct {
	status int
	header http.Header
	body   []byte // only for 401 and 403, at most maxDenyBody+1 bytes
}

// checkExternal is nginx's auth_request plus ingress-nginx's handling of its result.
func (s *Server) checkExternal(ctx context.Context, log logr.Logger, e *compiledExternal, r *request, ok *authv3.OkHttpResponse) *authv3.CheckResponse {
	ar, err := s.subrequest(ctx, e, r)
	if err != nil {
		log.Error(err, "external auth subrequest failed, answering 500")
		return localReply(http.StatusInternalServerError, codes.Unavailable)
	}
	cookies := ar.header.Values("Set-Cookie")
	deniedCookies := func(headers []*corev3.HeaderValueOption) []*corev3.HeaderValueOption {
		if !e.alwaysSetCookie {
			return headers
		}
		for _, c := range cookies {
			headers = append(headers, addHeader("set-cookie", c))
		}
		return headers
	}

	switch {
	case ar.status >= 200 && ar.status < 300:
		for _, name := range e.responseHeaders {
			lower := strings.ToLower(name)
			v := strings.Join(ar.header.Values(name), ", ")
			if v == "" {
				// proxy_set_header 'Name' $authHeaderN with an empty value: not sent at all,
				// so a client-supplied value cannot leak through either.
				ok.HeadersToRemove = append(ok.HeadersToRemove, lower)
				continue
			}
			ok.HeadersToRemove = slices.DeleteFunc(ok.HeadersToRemove, func(h string) bool { return h == lower })
			ok.Headers = append(ok.Headers, setHeader(lower, v))
		}
		for _, c := range cookies {
			ok.ResponseHeadersToAdd = append(ok.ResponseHeadersToAdd, addHeader("set-cookie", c))
		}
		return allow(ok)

	case ar.status == http.StatusUnauthorized:
		challenges := ar.header.Values("WWW-Authenticate")
		if e.signIn != nil {
			log.V(1).Info("external auth: 401, redirecting to sign-in")
			return signInRedirect(e, r, challenges, cookies)
		}
		log.V(1).Info("external auth: 401")
		headers, body := s.deniedBody(http.StatusUnauthorized, ar)
		for _, c := range challenges {
			headers = append(headers, addHeader("www-authenticate", c))
		}
		return deny(http.StatusUnauthorized, codes.Unauthenticated, deniedCookies(headers), body)

	case ar.status == http.StatusForbidden:
		log.V(1).Info("external auth: 403")
		headers, body := s.deniedBody(http.StatusForbidden, ar)
		return deny(http.StatusForbidden, codes.PermissionDenied, deniedCookies(headers), body)

	default:
		log.Info("external auth: unexpected status from the auth service, answering 500", "status", ar.status)
		headers := []*corev3.HeaderValueOption{setHeader("content-type", "text/html")}
		return deny(http.StatusInternalServerError, codes.Internal, deniedCookies(headers),
			nginxErrorPage(http.StatusInternalServerError))
	}
}

// signInRedirect answers 302 to the sign-in URL (ingress-nginx's @<sha1> named location:
// "add_header Set-Cookie $auth_cookie; return 302 <signin>"). 302 is one of the statuses
// add_header applies to, so the auth response's cookies are always added.
func signInRedirect(e *compiledExternal, r *request, challenges, cookies []string) *authv3.CheckResponse {
	headers := []*corev3.HeaderValueOption{
		setHeader("location", e.signIn.expand(r)),
		setHeader("content-type", "text/html"),
	}
	for _, c := range challenges {
		headers = append(headers, addHeader("www-authenticate", c))
	}
	for _, c := range cookies {
		headers = append(headers, addHeader("set-cookie", c))
	}
	return deny(http.StatusFound, codes.Unauthenticated, headers, nginxErrorPage(http.StatusFound))
}

// deniedBody returns the body (and its Content-Type) for a 401/403: the auth service's own
// when it is small, uncompressed UTF-8 text, else nginx's error page.
func (s *Server) deniedBody(status int, ar *authResponse) ([]*corev3.HeaderValueOption, string) {
	enc := ar.header.Get("Content-Encoding")
	if n := len(ar.body); n > 0 && n <= s.maxDenyBody && (enc == "" || strings.EqualFold(enc, "identity")) && utf8.Valid(ar.body) {
		var headers []*corev3.HeaderValueOption
		if ct := ar.header.Get("Content-Type"); ct != "" {
			headers = append(headers, setHeader("content-type", ct))
		}
		return headers, string(ar.body)
	}
	return []*corev3.HeaderValueOption{setHeader("content-type", "text/html")}, nginxErrorPage(status)
}

// subrequest sends the auth request the way ingress-nginx's internal auth location does and
// returns the auth service's status and headers.
func (s *Server) subrequest(ctx context.Context, e *compiledExternal, r *request) (*authResponse, error) {
	target := e.url.expand(r)
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("auth-url after variable expansion is not a valid URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth-url after variable expansion is not an http(s) URL: %s", redactURL(u))
	}
	if u.Path == "" {
		u.Path = "/"
	}
	// Variables may expand to bytes a request line cannot carry (a space from a header, say).
	// nginx would send them raw and typically get a 400 back; send them percent-encoded.
	// (The path is re-encoded by net/url the same way.)
	u.RawQuery = escapeInvalidQueryBytes(u.RawQuery)
	method := e.method
	if method == "" {
		method = r.method
	}

	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building auth request to %s: %w", redactURL(u), err)
	}
	req.Header = s.subrequestHeaders(e, r)
	if host := e.hostHeader.expand(r); host != "" {
		// ingress-nginx sends "Host: <auth-url hostname>", without the port.
		req.Host = host
	}

	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the whole URL, query included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("auth request %s %s: %w", method, redactURL(u), err)
	}
	defer resp.Body.Close()
	ar := &authResponse{status: resp.StatusCode, header: resp.Header}
	if ar.status == http.StatusUnauthorized || ar.status == http.StatusForbidden {
		// A body that cannot be read completely only costs the pass-through.
		ar.body, _ = io.ReadAll(io.LimitReader(resp.Body, int64(s.maxDenyBody)+1))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	return ar, nil
}

// subrequestHeaders builds the auth request's headers: every client header except the
// skipped ones, then the headers ingress-nginx's auth location sets (replacing client
// values; an empty value removes the header, like nginx's proxy_set_header).
func (s *Server) subrequestHeaders(e *compiledExternal, r *request) http.Header {
	h := make(http.Header, len(r.headers)+10)
	for _, f := range r.headers {
		if f.name == "" || f.name[0] == ':' || skippedRequestHeaders[f.name] || strings.HasPrefix(f.name, envoyInternalHeaderPrefix) {
			continue
		}
		h.Add(f.name, f.value)
	}
	set := func(name, value string) {
		if value == "" {
			h.Del(name)
			return
		}
		h.Set(name, value)
	}
	set("X-Request-ID", r.requestID)
	if e.method != "" {
		set("X-Original-URI", r.uri)
		set("X-Scheme", r.scheme)
	}
	set("X-Original-URL", r.scheme+"://"+r.authority+r.uri)
	set("X-Original-Method", r.method)
	set("X-Sent-From", "nginx-ingress-controller")
	set("X-Real-IP", r.clientIP)
	set("X-Forwarded-For", r.clientIP)
	redirect := r.uri
	if e.requestRedirect != nil {
		redirect = e.requestRedirect.expand(r)
	}
	set("X-Auth-Request-Redirect", redirect)
	for _, ph := range e.proxySetHeaders {
		set(ph.name, ph.value.expand(r))
	}
	if len(h.Values("User-Agent")) == 0 {
		// An explicitly empty User-Agent stops net/http from sending its own.
		h["User-Agent"] = []string{""}
	}
	return h
}

// redactURL drops the query and user info, which may carry secrets, for logs and errors.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// escapeInvalidQueryBytes percent-encodes the bytes RFC 3986 does not allow in a query,
// leaving everything else (including existing %XX escapes) untouched.
func escapeInvalidQueryBytes(q string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(q) {
		c := q[i]
		if isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@/?%", c) >= 0 {
			if b.Len() > 0 {
				b.WriteByte(c)
			}
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(q) + 8)
			b.WriteString(q[:i])
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	if b.Len() == 0 {
		return q
	}
	return b.String()
}
