package authz

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/go-logr/logr"
	"golang.org/x/crypto/bcrypt"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Options configures a Server.
type Options struct {
	// HTTPClient sends the auth subrequests. nil builds the default: 5s connect timeout,
	// keep-alive, HTTP/1.1, no proxy from the environment, no transparent compression, and
	// TLS without certificate verification but with SNI (nginx's proxy_ssl_verify off,
	// proxy_ssl_server_name on). Redirects are never followed, whatever the client says
	// (nginx does not follow them: a 3xx from the auth service is a 500). Only the default
	// client resolves in-cluster Service names through SetServiceResolver.
	HTTPClient *http.Client
	// BcryptCompare verifies bcrypt hashes ("$2a$", "$2b$", "$2y$"); nil means
	// golang.org/x/crypto/bcrypt.CompareHashAndPassword.
	BcryptCompare BcryptCompareFunc
	// MaxDeniedBodyBytes is the largest auth-service body passed to the client with a 401 or
	// 403; larger (or compressed, or non-UTF-8) bodies are replaced by nginx's error page.
	// 0 means 4096.
	MaxDeniedBodyBytes int
}

const defaultMaxDeniedBodyBytes = 4096

// Server is gatebridge's envoy.service.auth.v3.Authorization service: it answers Envoy's
// ext_authz filter with nginx auth_basic / auth_request semantics. It is safe for concurrent
// use; SetPolicies may be called at any time.
type Server struct {
	authv3.UnimplementedAuthorizationServer

	log         logr.Logger
	client      *http.Client
	bcrypt      BcryptCompareFunc
	maxDenyBody int
	policies    atomic.Pointer[map[string]*compiledPolicy]
	// dialer resolves in-cluster Service names once SetServiceResolver was called; nil
	// with a caller's HTTPClient.
	dialer *serviceDialer
}

var _ authv3.AuthorizationServer = (*Server)(nil)

// NewServer returns a Server with an empty policy table (every check fails closed with 500
// until SetPolicies is called).
func NewServer(log logr.Logger, opts Options) *Server {
	s := &Server{
		log:         log,
		bcrypt:      opts.BcryptCompare,
		maxDenyBody: opts.MaxDeniedBodyBytes,
	}
	if s.bcrypt == nil {
		s.bcrypt = bcrypt.CompareHashAndPassword
	}
	if s.maxDenyBody <= 0 {
		s.maxDenyBody = defaultMaxDeniedBodyBytes
	}
	var c http.Client
	if opts.HTTPClient != nil {
		c = *opts.HTTPClient
	} else {
		s.dialer = &serviceDialer{dialer: &net.Dialer{Timeout: defaultDialTimeout, KeepAlive: 30 * time.Second}}
		c.Transport = defaultTransport(s.dialer.DialContext)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	empty := map[string]*compiledPolicy{}
	s.policies.Store(&empty)
	return s
}

func defaultTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		Proxy:       nil,
		DialContext: dial,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // nginx's proxy_ssl_verify defaults to off for auth-url.
			MinVersion:         tls.VersionTLS12,
		},
		TLSHandshakeTimeout:   defaultDialTimeout,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       60 * time.Second,
		ResponseHeaderTimeout: 0, // bounded by the per-request context
	}
}

// Register registers the Authorization service on g (gatebridge's xDS gRPC server).
func (s *Server) Register(g grpc.ServiceRegistrar) {
	authv3.RegisterAuthorizationServer(g, s)
}

// SetPolicies atomically replaces the policy table. Everything that can be worked out
// without a request is done here (htpasswd parsing, hash classification, variable parsing,
// validation), and problems are logged once per call.
func (s *Server) SetPolicies(p map[string]Policy) {
	keys := slices.Sorted(maps.Keys(p))
	table := make(map[string]*compiledPolicy, len(p))
	for _, k := range keys {
		table[k] = s.compile(k, p[k])
	}
	s.policies.Store(&table)
}

// Check implements envoy.service.auth.v3.Authorization/Check. It always answers with a
// CheckResponse (never a gRPC error), so the HTTP status is the one nginx would have sent.
func (s *Server) Check(ctx context.Context, in *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	attrs := in.GetAttributes()
	key, hasKey := attrs.GetContextExtensions()[ContextExtensionKey]
	p := (*s.policies.Load())[key]
	if p == nil {
		err := errors.New("no authorization policy for this route")
		if !hasKey {
			err = fmt.Errorf("check request has no %q context extension", ContextExtensionKey)
		}
		s.log.Error(err, "denying request (fail closed)", "policy", key,
			"host", attrs.GetRequest().GetHttp().GetHost())
		return localReply(http.StatusInternalServerError, codes.Internal), nil
	}
	r := requestFromAttributes(attrs)
	log := s.log.WithValues("policy", key, "host", r.authority, "method", r.method)

	if e := p.external; e != nil && e.invalid != "" {
		// ingress-nginx denies the whole location ("return 503") before any auth runs.
		return localReply(http.StatusServiceUnavailable, codes.Unavailable), nil
	}

	if a := p.access; a != nil && a.invalid != "" {
		return localReply(http.StatusServiceUnavailable, codes.Unavailable), nil
	}
	if p.satisfyAny {
		return s.checkAny(ctx, log, p, r), nil
	}

	ok := &authv3.OkHttpResponse{}
	if b := p.basic; b != nil {
		switch res, www := s.checkBasic(log, b, r); res {
		case basicFailClosed:
			return localReply(http.StatusServiceUnavailable, codes.Unavailable), nil
		case basicDenied:
			if e := p.external; e != nil && e.signIn != nil {
				// error_page 401 = @signin also catches auth_basic's 401; nginx keeps the
				// WWW-Authenticate it had set across that redirect.
				return signInRedirect(e, r, []string{www}, nil), nil
			}
			resp := localReply(http.StatusUnauthorized, codes.Unauthenticated)
			resp.GetDeniedResponse().Headers = append(resp.GetDeniedResponse().Headers, setHeader("www-authenticate", www))
			return resp, nil
		case basicAllowed:
			// proxy_set_header Authorization "": the upstream never sees the credentials.
			ok.HeadersToRemove = append(ok.HeadersToRemove, "authorization")
		}
	}

	if e := p.external; e != nil {
		return s.checkExternal(ctx, log, e, r, ok), nil
	}
	return allow(ok), nil
}

type basicResult int

const (
	basicAllowed basicResult = iota
	basicDenied
	basicFailClosed
)

// checkBasic is nginx's auth_basic. On denial it also returns the WWW-Authenticate value.
func (s *Server) checkBasic(log logr.Logger, b *compiledBasic, r *request) (basicResult, string) {
	if b.failClosed != "" {
		log.Error(errors.New(b.failClosed), "basic auth secret unusable, answering 503")
		return basicFailClosed, ""
	}
	if b.realmOff {
		return basicAllowed, ""
	}
	www := `Basic realm="` + b.realm.expand(r) + `"`
	authz, _ := r.header("authorization")
	user, password, valid := parseBasicCredentials(authz)
	if !valid {
		log.V(1).Info("basic auth: no valid credentials")
		return basicDenied, www
	}
	c, found := b.users[user]
	if !found {
		log.V(1).Info("basic auth: user not found", "user", user)
		return basicDenied, www
	}
	match, err := c.verify([]byte(password), s.bcrypt)
	if err != nil {
		log.V(1).Info("basic auth: cannot verify password", "user", user, "format", c.scheme.String(), "reason", err.Error())
		return basicDenied, www
	}
	if !match {
		log.V(1).Info("basic auth: password mismatch", "user", user)
		return basicDenied, www
	}
	return basicAllowed, ""
}

// requestFromAttributes collects the request attributes Envoy sent. Headers come from
// header_map (encode_raw_headers: true) or from the headers map (sorted, for determinism).
func requestFromAttributes(attrs *authv3.AttributeContext) *request {
	h := attrs.GetRequest().GetHttp()
	r := &request{
		method:    h.GetMethod(),
		scheme:    h.GetScheme(),
		authority: h.GetHost(),
		uri:       h.GetPath(),
	}
	if hm := h.GetHeaderMap().GetHeaders(); len(hm) > 0 {
		for _, hv := range hm {
			v := hv.GetValue()
			if raw := hv.GetRawValue(); len(raw) > 0 {
				v = string(raw)
			}
			r.headers = append(r.headers, headerField{name: strings.ToLower(hv.GetKey()), value: v})
		}
	} else {
		names := make([]string, 0, len(h.GetHeaders()))
		for k := range h.GetHeaders() {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			r.headers = append(r.headers, headerField{name: strings.ToLower(k), value: h.GetHeaders()[k]})
		}
	}
	fallback := func(dst *string, names ...string) {
		for _, n := range names {
			if *dst != "" {
				return
			}
			*dst, _ = r.header(n)
		}
	}
	fallback(&r.method, ":method")
	fallback(&r.authority, ":authority", "host")
	fallback(&r.uri, ":path")
	fallback(&r.scheme, ":scheme")
	r.scheme = strings.ToLower(r.scheme)
	if r.scheme == "" {
		r.scheme = "http"
	}
	if r.uri == "" {
		r.uri = "/"
	}
	r.clientIP = clientAddress(attrs.GetSource().GetAddress().GetSocketAddress().GetAddress())
	// nginx's $req_id: the client's X-Request-ID (Envoy generates one when absent), else a
	// fresh 32-hex-digit id like nginx's $request_id.
	if id, _ := r.header("x-request-id"); id != "" {
		r.requestID = id
	} else {
		var b [16]byte
		_, _ = rand.Read(b[:])
		r.requestID = hex.EncodeToString(b[:])
	}
	return r
}

// Response builders.

func allow(ok *authv3.OkHttpResponse) *authv3.CheckResponse {
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
}

func deny(status int, code codes.Code, headers []*corev3.HeaderValueOption, body string) *authv3.CheckResponse {
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(code), Message: http.StatusText(status)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(status)},
			Headers: headers,
			Body:    body,
		}},
	}
}

// localReply denies with nginx's own error page for status.
func localReply(status int, code codes.Code) *authv3.CheckResponse {
	return deny(status, code, []*corev3.HeaderValueOption{setHeader("content-type", "text/html")}, nginxErrorPage(status))
}

// nginxErrorPage mimics the small HTML page nginx sends for an error status.
func nginxErrorPage(status int) string {
	title := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		title = "Authorization Required"
	case http.StatusServiceUnavailable:
		title = "Service Temporarily Unavailable"
	}
	line := fmt.Sprintf("%d %s", status, title)
	return "<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n<center><h1>" + line +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
}

func headerValue(key, value string) *corev3.HeaderValue {
	if utf8.ValidString(value) {
		return &corev3.HeaderValue{Key: key, Value: value}
	}
	return &corev3.HeaderValue{Key: key, RawValue: []byte(value)}
}

// setHeader replaces any existing header of that name.
func setHeader(key, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       headerValue(strings.ToLower(key), value),
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// addHeader adds one more header line (used for Set-Cookie).
func addHeader(key, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       headerValue(strings.ToLower(key), value),
		AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
	}
}
