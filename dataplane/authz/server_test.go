package authz

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/go-logr/logr/funcr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// ---- helpers ----

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *logSink) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func newServer(t *testing.T, opts Options, policies map[string]Policy) (*Server, *logSink) {
	t.Helper()
	sink := &logSink{}
	log := funcr.New(func(prefix, args string) {
		sink.mu.Lock()
		sink.lines = append(sink.lines, prefix+" "+args)
		sink.mu.Unlock()
		t.Log(prefix, args)
	}, funcr.Options{Verbosity: 2})
	s := NewServer(log, opts)
	s.SetPolicies(policies)
	return s, sink
}

type req struct {
	policy  string
	method  string
	scheme  string
	host    string
	path    string
	headers map[string]string
}

func (r req) build() *authv3.CheckRequest {
	if r.method == "" {
		r.method = http.MethodGet
	}
	if r.scheme == "" {
		r.scheme = "http"
	}
	if r.host == "" {
		r.host = "app.example.com"
	}
	if r.path == "" {
		r.path = "/"
	}
	h := map[string]string{
		":authority":   r.host,
		":method":      r.method,
		":path":        r.path,
		":scheme":      r.scheme,
		"x-request-id": "req-123",
	}
	for k, v := range r.headers {
		h[k] = v
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: "203.0.113.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 51234}},
		}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Id: "4711", Method: r.method, Scheme: r.scheme, Host: r.host, Path: r.path, Headers: h, Protocol: "HTTP/1.1",
		}},
		ContextExtensions: map[string]string{ContextExtensionKey: r.policy},
	}}
}

func check(t *testing.T, s *Server, r req) *authv3.CheckResponse {
	t.Helper()
	resp, err := s.Check(context.Background(), r.build())
	if err != nil {
		t.Fatalf("Check returned a gRPC error: %v", err)
	}
	return resp
}

// httpStatus is the status Envoy would answer: 200 for OK (the request goes upstream).
func httpStatus(resp *authv3.CheckResponse) int {
	if resp.GetStatus().GetCode() == int32(codes.OK) {
		if resp.GetOkResponse() == nil {
			return -1
		}
		return http.StatusOK
	}
	return int(resp.GetDeniedResponse().GetStatus().GetCode())
}

func wantStatus(t *testing.T, resp *authv3.CheckResponse, want int) {
	t.Helper()
	if got := httpStatus(resp); got != want {
		t.Fatalf("status %d, want %d (response %v)", got, want, resp)
	}
}

// headerValues returns the values for key in opts, checking that each has the append action.
func headerValues(t *testing.T, opts []*corev3.HeaderValueOption, key string, action corev3.HeaderValueOption_HeaderAppendAction) []string {
	t.Helper()
	var vals []string
	for _, o := range opts {
		if o.GetHeader().GetKey() != key {
			continue
		}
		if o.GetAppendAction() != action {
			t.Errorf("header %s: append action %v, want %v", key, o.GetAppendAction(), action)
		}
		vals = append(vals, o.GetHeader().GetValue())
	}
	return vals
}

const (
	set          = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	appendAction = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
)

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

type seen struct {
	method, requestURI, host string
	header                   http.Header
	body                     []byte
	contentLength            int64
	transferEncoding         []string
}

type authStub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newAuthStub(t *testing.T, h http.HandlerFunc) *authStub {
	a := &authStub{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, seen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body, r.ContentLength, r.TransferEncoding})
		a.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authStub) last(t *testing.T) seen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		t.Fatal("the auth service received no request")
	}
	return a.reqs[len(a.reqs)-1]
}

func (a *authStub) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reqs)
}

// port returns the stub's port, for auth-urls written with a variable host.
func (a *authStub) port() string {
	_, p, _ := net.SplitHostPort(a.srv.Listener.Addr().String())
	return p
}

// ---- basic auth ----

func TestBasicHashFormatsThroughCheck(t *testing.T) {
	var file strings.Builder
	file.WriteString("# generated by htpasswd / openssl passwd\n")
	for i, v := range hashVectors {
		file.WriteString("user" + string(rune('a'+i)) + ":" + v.hash + "\n")
	}
	s, _ := newServer(t, Options{}, map[string]Policy{
		"p": {Basic: &Basic{Realm: "Protected Area", Htpasswd: []byte(file.String())}},
	})
	for i, v := range hashVectors {
		user := "user" + string(rune('a'+i))
		t.Run(v.name, func(t *testing.T) {
			resp := check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader(user, v.password)}})
			wantStatus(t, resp, http.StatusOK)
			if rm := resp.GetOkResponse().GetHeadersToRemove(); !slices.Equal(rm, []string{"authorization"}) {
				t.Errorf("headers_to_remove = %v, want [authorization]", rm)
			}
			resp = check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader(user, v.password+"!")}})
			wantStatus(t, resp, http.StatusUnauthorized)
			if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "www-authenticate", set); !slices.Equal(got, []string{`Basic realm="Protected Area"`}) {
				t.Errorf("WWW-Authenticate = %v", got)
			}
		})
	}
}

func TestBasicMissingOrInvalidCredentials(t *testing.T) {
	s, _ := newServer(t, Options{}, map[string]Policy{
		"p": {Basic: &Basic{Realm: "r", Htpasswd: []byte("alice:{SHA}KkPcK3XYeA35EhWhKYmaCyAgadY=\n")}},
	})
	for name, h := range map[string]map[string]string{
		"no header":    nil,
		"bearer":       {"authorization": "Bearer abc"},
		"garbage":      {"authorization": "Basic %%%"},
		"no colon":     {"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))},
		"unknown user": {"authorization": basicHeader("bob", "sha-secret")},
		"wrong case":   {"authorization": basicHeader("Alice", "sha-secret")},
	} {
		t.Run(name, func(t *testing.T) {
			resp := check(t, s, req{policy: "p", headers: h})
			wantStatus(t, resp, http.StatusUnauthorized)
			d := resp.GetDeniedResponse()
			if got := headerValues(t, d.GetHeaders(), "www-authenticate", set); !slices.Equal(got, []string{`Basic realm="r"`}) {
				t.Errorf("WWW-Authenticate = %v", got)
			}
			if !strings.Contains(d.GetBody(), "401 Authorization Required") {
				t.Errorf("body %q", d.GetBody())
			}
		})
	}
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("alice", "sha-secret")}}), http.StatusOK)
}

func TestBasicAuthMap(t *testing.T) {
	s, _ := newServer(t, Options{}, map[string]Policy{
		"p": {Basic: &Basic{Realm: "map", Users: map[string]string{
			"alice": "$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/",
			"bob":   "{SHA}KkPcK3XYeA35EhWhKYmaCyAgadY=",
		}}},
	})
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("alice", "apr-secret")}}), http.StatusOK)
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bob", "sha-secret")}}), http.StatusOK)
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bob", "apr-secret")}}), http.StatusUnauthorized)
}

func TestBasicFailClosed(t *testing.T) {
	s, logs := newServer(t, Options{}, map[string]Policy{
		"p": {Basic: &Basic{Realm: "r", FailClosed: "secret default/htpasswd not found"}},
	})
	resp := check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("alice", "x")}})
	wantStatus(t, resp, http.StatusServiceUnavailable)
	if !strings.Contains(logs.all(), "secret default/htpasswd not found") {
		t.Error("fail-closed reason not logged")
	}
}

func TestBasicRealmOff(t *testing.T) {
	s, _ := newServer(t, Options{}, map[string]Policy{"p": {Basic: &Basic{Realm: "off"}}})
	resp := check(t, s, req{policy: "p"})
	wantStatus(t, resp, http.StatusOK)
	if rm := resp.GetOkResponse().GetHeadersToRemove(); !slices.Equal(rm, []string{"authorization"}) {
		t.Errorf("headers_to_remove = %v", rm)
	}
}

func TestBasicRealmVariables(t *testing.T) {
	s, _ := newServer(t, Options{}, map[string]Policy{"p": {Basic: &Basic{Realm: "login to $host"}}})
	resp := check(t, s, req{policy: "p", host: "Shop.Example:8080"})
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "www-authenticate", set); !slices.Equal(got, []string{`Basic realm="login to shop.example"`}) {
		t.Errorf("WWW-Authenticate = %v", got)
	}
}

func TestBasicUnsupportedWarningsAndBcrypt(t *testing.T) {
	file := "des:KhrY50t6Smz8U\n" + // htpasswd -nbd des desecret
		"des2:abcdefghijklm\n" +
		"bc:$2y$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq\n" + // htpasswd -nbB -C 5 bc bcrypt-secret
		"ok:{SHA}KkPcK3XYeA35EhWhKYmaCyAgadY=\n"
	policies := map[string]Policy{"p": {Basic: &Basic{Realm: "r", Htpasswd: []byte(file)}}}
	s, logs := newServer(t, Options{}, policies)
	if n := logs.count("des-crypt"); n != 1 {
		t.Errorf("des-crypt warned %d times on one SetPolicies, want 1", n)
	}
	if !strings.Contains(logs.all(), `"users"=["des" "des2"]`) {
		t.Errorf("warning does not list the DES users: %s", logs.all())
	}
	if n := logs.count("bcrypt"); n != 0 {
		t.Errorf("bcrypt users reported as unsupported")
	}
	s.SetPolicies(policies)
	if n := logs.count("des-crypt"); n != 2 {
		t.Errorf("after a second SetPolicies: %d warnings, want 2", n)
	}
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("des", "desecret")}}), http.StatusUnauthorized)
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bc", "bcrypt-secret")}}), http.StatusOK)
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bc", "bcrypt-wrong")}}), http.StatusUnauthorized)
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"authorization": basicHeader("ok", "sha-secret")}}), http.StatusOK)

	// Options.BcryptCompare replaces golang.org/x/crypto/bcrypt.
	var calls int
	fake := func(hash, pw []byte) error {
		calls++
		if string(hash) == "$2y$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq" && string(pw) == "other" {
			return nil
		}
		return errors.New("mismatch")
	}
	s2, _ := newServer(t, Options{BcryptCompare: fake}, policies)
	wantStatus(t, check(t, s2, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bc", "other")}}), http.StatusOK)
	wantStatus(t, check(t, s2, req{policy: "p", headers: map[string]string{"authorization": basicHeader("bc", "bcrypt-secret")}}), http.StatusUnauthorized)
	if calls != 2 {
		t.Errorf("custom comparer called %d times, want 2", calls)
	}
}

// ---- policy selection ----

func TestUnknownOrMissingPolicy(t *testing.T) {
	s, logs := newServer(t, Options{}, map[string]Policy{"known": {Basic: &Basic{Realm: "off"}}})
	wantStatus(t, check(t, s, req{policy: "nope"}), http.StatusInternalServerError)
	r := req{}.build()
	r.Attributes.ContextExtensions = nil
	resp, err := s.Check(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusInternalServerError)
	resp, err = s.Check(context.Background(), &authv3.CheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusInternalServerError)
	if logs.count("fail closed") != 3 {
		t.Errorf("expected 3 fail-closed logs: %s", logs.all())
	}
	// SetPolicies replaces the table.
	s.SetPolicies(map[string]Policy{"nope": {Basic: &Basic{Realm: "off"}}})
	wantStatus(t, check(t, s, req{policy: "nope"}), http.StatusOK)
	wantStatus(t, check(t, s, req{policy: "known"}), http.StatusInternalServerError)
}

// ---- external auth ----

func TestExternalAllowCopiesResponseHeadersAndCookies(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("X-Auth-User", "alice")
		w.Header().Add("X-Groups", "a")
		w.Header().Add("X-Groups", "b")
		w.Header().Add("X-Not-Listed", "leak")
		w.Header().Add("Set-Cookie", "s1=v1; Path=/")
		w.Header().Add("Set-Cookie", "s2=v2; HttpOnly")
		w.WriteHeader(http.StatusAccepted)
	})
	s, _ := newServer(t, Options{}, map[string]Policy{"p": {External: &External{
		URL:             a.srv.URL + "/auth",
		ResponseHeaders: []string{"X-Auth-User", " x-groups ", "X-Missing"},
	}}})
	resp := check(t, s, req{policy: "p", headers: map[string]string{"x-auth-user": "spoofed", "x-missing": "spoofed"}})
	wantStatus(t, resp, http.StatusOK)
	ok := resp.GetOkResponse()
	if got := headerValues(t, ok.GetHeaders(), "x-auth-user", set); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("x-auth-user = %v", got)
	}
	if got := headerValues(t, ok.GetHeaders(), "x-groups", set); !slices.Equal(got, []string{"a, b"}) {
		t.Errorf("x-groups = %v", got)
	}
	if got := headerValues(t, ok.GetHeaders(), "x-not-listed", set); got != nil {
		t.Errorf("unlisted header copied: %v", got)
	}
	if rm := ok.GetHeadersToRemove(); !slices.Equal(rm, []string{"x-missing"}) {
		t.Errorf("headers_to_remove = %v, want [x-missing] (absent auth header must not let the client value through)", rm)
	}
	if got := headerValues(t, ok.GetResponseHeadersToAdd(), "set-cookie", appendAction); !slices.Equal(got, []string{"s1=v1; Path=/", "s2=v2; HttpOnly"}) {
		t.Errorf("set-cookie = %v", got)
	}
}

func TestExternalSubrequest(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s, _ := newServer(t, Options{}, map[string]Policy{
		"plain": {External: &External{URL: a.srv.URL + "/oauth2/auth?x=1"}},
		"method": {External: &External{
			URL: a.srv.URL + "/verify", Method: "POST", RequestRedirect: "https://$host/after",
			ProxySetHeaders: map[string]string{"X-Tenant": "t-$host", "X-Drop": ""},
		}},
	})
	clientHeaders := map[string]string{
		"cookie":            "sess=abc",
		"authorization":     "Bearer tok",
		"user-agent":        "curl/8",
		"x-custom":          "c",
		"x-forwarded-for":   "10.9.9.9",
		"x-real-ip":         "10.9.9.9",
		"x-forwarded-proto": "https",
		"x-envoy-internal":  "true",
		"connection":        "keep-alive",
		"upgrade":           "websocket",
		"content-length":    "12",
		"x-original-url":    "http://spoofed/",
		"x-drop":            "client",
		"host":              "app.example.com",
	}

	wantStatus(t, check(t, s, req{policy: "plain", method: "DELETE", host: "app.example.com:8080", path: "/a/b?c=d&e=f", headers: clientHeaders}), http.StatusOK)
	got := a.last(t)
	_, port, _ := net.SplitHostPort(a.srv.Listener.Addr().String())
	if got.method != "DELETE" || got.requestURI != "/oauth2/auth?x=1" || got.host != "127.0.0.1" {
		t.Errorf("request line: %s %s Host %s (port %s)", got.method, got.requestURI, got.host, port)
	}
	if len(got.body) != 0 || got.contentLength != 0 || len(got.transferEncoding) != 0 || got.header.Get("Content-Length") != "" {
		t.Errorf("auth request has a body: %q, content-length %d, te %v", got.body, got.contentLength, got.transferEncoding)
	}
	want := map[string]string{
		"X-Original-Url":          "http://app.example.com:8080/a/b?c=d&e=f",
		"X-Original-Method":       "DELETE",
		"X-Sent-From":             "nginx-ingress-controller",
		"X-Real-Ip":               "203.0.113.7",
		"X-Forwarded-For":         "203.0.113.7",
		"X-Auth-Request-Redirect": "/a/b?c=d&e=f",
		"X-Request-Id":            "req-123",
		"Cookie":                  "sess=abc",
		"Authorization":           "Bearer tok",
		"User-Agent":              "curl/8",
		"X-Custom":                "c",
		"X-Drop":                  "client",
	}
	for k, v := range want {
		if vals := got.header.Values(k); len(vals) != 1 || vals[0] != v {
			t.Errorf("auth request header %s = %q, want %q", k, vals, v)
		}
	}
	for _, k := range []string{"X-Forwarded-Proto", "X-Envoy-Internal", "Upgrade", "X-Original-Uri", "X-Scheme", ":path", ":authority", "Accept-Encoding"} {
		if v, present := got.header[k]; present {
			t.Errorf("auth request carries %s: %q", k, v)
		}
	}
	if c := got.header.Get("Connection"); c != "" && !strings.EqualFold(c, "keep-alive") {
		t.Errorf("Connection = %q", c)
	}

	// auth-method: the method is replaced, X-Original-URI and X-Scheme are added.
	wantStatus(t, check(t, s, req{policy: "method", method: "GET", scheme: "https", host: "shop.example", path: "/p?q=1", headers: map[string]string{"x-drop": "client"}}), http.StatusOK)
	got = a.last(t)
	if got.method != "POST" || got.requestURI != "/verify" || len(got.body) != 0 {
		t.Errorf("auth-method request: %s %s body %q", got.method, got.requestURI, got.body)
	}
	for k, v := range map[string]string{
		"X-Original-Uri":          "/p?q=1",
		"X-Scheme":                "https",
		"X-Original-Method":       "GET",
		"X-Original-Url":          "https://shop.example/p?q=1",
		"X-Auth-Request-Redirect": "https://shop.example/after",
		"X-Tenant":                "t-shop.example",
	} {
		if g := got.header.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if v, present := got.header["X-Drop"]; present {
		t.Errorf("auth-proxy-set-headers with an empty value must remove the header, got %q", v)
	}
	if v, present := got.header["User-Agent"]; present {
		t.Errorf("User-Agent %q sent although the client sent none", v)
	}
}

func TestExternalURLVariables(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s, _ := newServer(t, Options{}, map[string]Policy{"p": {External: &External{
		URL: "http://127.0.0.1:" + a.port() + "/check/$host?u=$escaped_request_uri&s=$scheme&h=$http_host&arg=$arg_id",
	}}})
	wantStatus(t, check(t, s, req{policy: "p", scheme: "https", host: "Auth.Example:443", path: "/x/y?id=7&z=1"}), http.StatusOK)
	got := a.last(t)
	if want := "/check/auth.example?u=%2Fx%2Fy%3Fid%3D7%26z%3D1&s=https&h=Auth.Example:443&arg=7"; got.requestURI != want {
		t.Errorf("request URI %q, want %q", got.requestURI, want)
	}
	if got.host != "127.0.0.1" {
		t.Errorf("Host %q", got.host)
	}

	// A variable host: "Host" is the expanded hostname.
	s.SetPolicies(map[string]Policy{"p": {External: &External{URL: "http://$http_x_auth_host:" + a.port() + "/v"}}})
	wantStatus(t, check(t, s, req{policy: "p", headers: map[string]string{"x-auth-host": "localhost"}}), http.StatusOK)
	if got := a.last(t); got.host != "localhost" || got.requestURI != "/v" {
		t.Errorf("variable host: Host %q URI %q", got.host, got.requestURI)
	}
}

func TestExternal401(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("WWW-Authenticate", `Bearer realm="api"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="fallback"`)
		w.Header().Add("Set-Cookie", "c=1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"login"}`)
	})
	s, _ := newServer(t, Options{}, map[string]Policy{
		"p":      {External: &External{URL: a.srv.URL + "/auth"}},
		"always": {External: &External{URL: a.srv.URL + "/auth", AlwaysSetCookie: true}},
	})
	resp := check(t, s, req{policy: "p"})
	wantStatus(t, resp, http.StatusUnauthorized)
	d := resp.GetDeniedResponse()
	if got := headerValues(t, d.GetHeaders(), "www-authenticate", appendAction); !slices.Equal(got, []string{`Bearer realm="api"`, `Basic realm="fallback"`}) {
		t.Errorf("WWW-Authenticate = %v", got)
	}
	if got := headerValues(t, d.GetHeaders(), "set-cookie", appendAction); got != nil {
		t.Errorf("Set-Cookie on a 401 without auth-always-set-cookie: %v", got)
	}
	if d.GetBody() != `{"error":"login"}` {
		t.Errorf("body %q", d.GetBody())
	}
	if got := headerValues(t, d.GetHeaders(), "content-type", set); !slices.Equal(got, []string{"application/json"}) {
		t.Errorf("content-type %v", got)
	}
	resp = check(t, s, req{policy: "always"})
	wantStatus(t, resp, http.StatusUnauthorized)
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "set-cookie", appendAction); !slices.Equal(got, []string{"c=1"}) {
		t.Errorf("Set-Cookie with auth-always-set-cookie: %v", got)
	}
}

func TestExternalSignInRedirect(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Set-Cookie", "csrf=1")
		w.WriteHeader(http.StatusUnauthorized)
	})
	s, _ := newServer(t, Options{}, map[string]Policy{
		"e2e":      {External: &External{URL: a.srv.URL + "/auth", SignIn: "http://$host/auth/start"}},
		"query":    {External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso.example/start?client=web"}},
		"fixed":    {External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso.example/start?rd=https://home"}},
		"param":    {External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso.example/start", RedirectParam: "return_to"}},
		"httpsreq": {External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso.example/oauth2/start"}},
	})
	cases := []struct {
		r    req
		want string
	}{
		// ingress-nginx e2e: GET /?a=b&c=d on host "auth".
		{req{policy: "e2e", host: "auth", path: "/?a=b&c=d"}, "http://auth/auth/start?rd=http://auth%2F%3Fa%3Db%26c%3Dd"},
		{req{policy: "query", host: "app:8080", path: "/x"}, "https://sso.example/start?client=web&rd=http://app:8080%2Fx"},
		{req{policy: "fixed", path: "/x"}, "https://sso.example/start?rd=https://home"},
		{req{policy: "param", path: "/x y"}, "https://sso.example/start?return_to=http://app.example.com%2Fx%20y"},
		{req{policy: "httpsreq", scheme: "https", path: "/"}, "https://sso.example/oauth2/start?rd=https://app.example.com%2F"},
	}
	for _, c := range cases {
		resp := check(t, s, c.r)
		wantStatus(t, resp, http.StatusFound)
		hs := resp.GetDeniedResponse().GetHeaders()
		if got := headerValues(t, hs, "location", set); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s: Location %v, want %q", c.r.policy, got, c.want)
		}
		// 302 is one of add_header's statuses: the cookie is set even without auth-always-set-cookie.
		if got := headerValues(t, hs, "set-cookie", appendAction); !slices.Equal(got, []string{"csrf=1"}) {
			t.Errorf("%s: Set-Cookie %v", c.r.policy, got)
		}
	}
}

func TestExternal403AndOtherStatuses(t *testing.T) {
	status := http.StatusForbidden
	var mu sync.Mutex
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		st := status
		mu.Unlock()
		w.Header().Set("Location", "https://elsewhere/")
		w.Header().Add("Set-Cookie", "c=1")
		w.WriteHeader(st)
		_, _ = io.WriteString(w, "nope")
	})
	s, _ := newServer(t, Options{}, map[string]Policy{
		"p":      {External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso/start"}},
		"always": {External: &External{URL: a.srv.URL + "/auth", AlwaysSetCookie: true}},
	})
	resp := check(t, s, req{policy: "p"})
	wantStatus(t, resp, http.StatusForbidden)
	if b := resp.GetDeniedResponse().GetBody(); b != "nope" {
		t.Errorf("403 body %q", b)
	}
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "set-cookie", appendAction); got != nil {
		t.Errorf("Set-Cookie on 403: %v", got)
	}
	resp = check(t, s, req{policy: "always"})
	wantStatus(t, resp, http.StatusForbidden)
	if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "set-cookie", appendAction); !slices.Equal(got, []string{"c=1"}) {
		t.Errorf("Set-Cookie on 403 with always: %v", got)
	}

	for _, st := range []int{http.StatusFound, http.StatusNotFound, http.StatusBadRequest, http.StatusServiceUnavailable, http.StatusInternalServerError} {
		mu.Lock()
		status = st
		mu.Unlock()
		before := a.count()
		resp := check(t, s, req{policy: "p"})
		wantStatus(t, resp, http.StatusInternalServerError)
		if a.count() != before+1 {
			t.Errorf("status %d: redirect followed or request not sent (%d requests)", st, a.count()-before)
		}
		if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "location", set); got != nil {
			t.Errorf("status %d: Location leaked: %v", st, got)
		}
		resp = check(t, s, req{policy: "always"})
		wantStatus(t, resp, http.StatusInternalServerError)
		if got := headerValues(t, resp.GetDeniedResponse().GetHeaders(), "set-cookie", appendAction); !slices.Equal(got, []string{"c=1"}) {
			t.Errorf("status %d with always: Set-Cookie %v", st, got)
		}
	}
}

func TestExternalLargeOrBinaryDeniedBody(t *testing.T) {
	body := strings.Repeat("x", 5000)
	a := newAuthStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		if r.URL.Path == "/bin" {
			_, _ = w.Write([]byte{0xff, 0xfe, 0x00})
			return
		}
		_, _ = io.WriteString(w, body)
	})
	s, _ := newServer(t, Options{}, map[string]Policy{
		"big": {External: &External{URL: a.srv.URL + "/big"}},
		"bin": {External: &External{URL: a.srv.URL + "/bin"}},
	})
	for _, p := range []string{"big", "bin"} {
		resp := check(t, s, req{policy: p})
		wantStatus(t, resp, http.StatusForbidden)
		if b := resp.GetDeniedResponse().GetBody(); !strings.Contains(b, "403 Forbidden") {
			t.Errorf("%s: body %q, want nginx's error page", p, b)
		}
	}
}

func TestExternalUnreachableAndTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()

	release := make(chan struct{})
	slow := newAuthStub(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	})
	defer close(release)

	s, logs := newServer(t, Options{}, map[string]Policy{
		"dead":    {External: &External{URL: "http://" + dead + "/auth?token=s3cr3t"}},
		"slow":    {External: &External{URL: slow.srv.URL + "/auth", Timeout: 200 * time.Millisecond}},
		"badhost": {External: &External{URL: "http://$http_x_host/auth"}},
	})
	wantStatus(t, check(t, s, req{policy: "dead"}), http.StatusInternalServerError)
	if strings.Contains(logs.all(), "s3cr3t") {
		t.Error("the auth-url query was logged")
	}
	start := time.Now()
	wantStatus(t, check(t, s, req{policy: "slow"}), http.StatusInternalServerError)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	// The variable host expands to nothing: not an http URL after expansion → 500.
	wantStatus(t, check(t, s, req{policy: "badhost"}), http.StatusInternalServerError)
}

func TestExternalInvalidConfiguration(t *testing.T) {
	s, logs := newServer(t, Options{}, map[string]Policy{
		"no-scheme": {External: &External{URL: "auth.example/check"}},
		"ftp":       {External: &External{URL: "ftp://auth.example/check"}},
		"dots":      {External: &External{URL: "http://auth..example/check"}},
		"method":    {External: &External{URL: "http://auth.example/check", Method: "FETCH"}},
		"header":    {External: &External{URL: "http://auth.example/check", ResponseHeaders: []string{"X-Ok", "Bad Header"}}},
		"signin":    {External: &External{URL: "http://auth.example/check", SignIn: "http://[::1"}},
	})
	for _, p := range []string{"no-scheme", "ftp", "dots", "method", "header", "signin"} {
		wantStatus(t, check(t, s, req{policy: p}), http.StatusServiceUnavailable)
	}
	// The denied location answers 503 before basic auth runs.
	s2, _ := newServer(t, Options{}, map[string]Policy{"p": {
		Basic:    &Basic{Realm: "r"},
		External: &External{URL: "not a url"},
	}})
	wantStatus(t, check(t, s2, req{policy: "p"}), http.StatusServiceUnavailable)
	if n := logs.count("external auth configuration invalid"); n != 6 {
		t.Errorf("%d invalid-configuration warnings, want 6", n)
	}
}

// ---- basic + external ----

func TestBasicThenExternal(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-User", "from-auth")
		w.WriteHeader(http.StatusOK)
	})
	htpasswd := []byte("alice:$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/\n")
	s, _ := newServer(t, Options{}, map[string]Policy{
		"both": {
			Basic:    &Basic{Realm: "r", Htpasswd: htpasswd},
			External: &External{URL: a.srv.URL + "/auth", ResponseHeaders: []string{"X-User"}},
		},
		"both-signin": {
			Basic:    &Basic{Realm: "r", Htpasswd: htpasswd},
			External: &External{URL: a.srv.URL + "/auth", SignIn: "https://sso/start"},
		},
	})
	resp := check(t, s, req{policy: "both", headers: map[string]string{"authorization": basicHeader("alice", "bad")}})
	wantStatus(t, resp, http.StatusUnauthorized)
	if a.count() != 0 {
		t.Fatal("auth service called although basic auth failed")
	}
	// nginx's error_page 401 also redirects auth_basic's 401 to the sign-in page.
	resp = check(t, s, req{policy: "both-signin", path: "/q"})
	wantStatus(t, resp, http.StatusFound)
	hs := resp.GetDeniedResponse().GetHeaders()
	if got := headerValues(t, hs, "location", set); !slices.Equal(got, []string{"https://sso/start?rd=http://app.example.com%2Fq"}) {
		t.Errorf("Location %v", got)
	}
	if got := headerValues(t, hs, "www-authenticate", appendAction); !slices.Equal(got, []string{`Basic realm="r"`}) {
		t.Errorf("WWW-Authenticate %v", got)
	}

	authz := basicHeader("alice", "apr-secret")
	resp = check(t, s, req{policy: "both", headers: map[string]string{"authorization": authz}})
	wantStatus(t, resp, http.StatusOK)
	if got := a.last(t).header.Get("Authorization"); got != authz {
		t.Errorf("auth service got Authorization %q, want the client's", got)
	}
	ok := resp.GetOkResponse()
	if !slices.Equal(ok.GetHeadersToRemove(), []string{"authorization"}) {
		t.Errorf("headers_to_remove %v", ok.GetHeadersToRemove())
	}
	if got := headerValues(t, ok.GetHeaders(), "x-user", set); !slices.Equal(got, []string{"from-auth"}) {
		t.Errorf("x-user %v", got)
	}
}

// ---- Envoy request encodings ----

func TestRawHeaderMap(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s, _ := newServer(t, Options{}, map[string]Policy{"p": {
		Basic:    &Basic{Realm: "r", Htpasswd: []byte("alice:{SHA}KkPcK3XYeA35EhWhKYmaCyAgadY=\n")},
		External: &External{URL: a.srv.URL + "/auth?u=$http_x_multi"},
	}})
	r := req{policy: "p"}.build()
	h := r.Attributes.Request.Http
	h.Headers = nil // encode_raw_headers: true sends header_map only
	h.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
		{Key: ":authority", RawValue: []byte("app.example.com")},
		{Key: ":path", RawValue: []byte("/")},
		{Key: "authorization", RawValue: []byte(basicHeader("alice", "sha-secret"))},
		{Key: "x-multi", RawValue: []byte("one")},
		{Key: "x-multi", RawValue: []byte("two")},
	}}
	resp, err := s.Check(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusOK)
	got := a.last(t)
	if vals := got.header.Values("X-Multi"); !slices.Equal(vals, []string{"one", "two"}) {
		t.Errorf("X-Multi lines %v", vals)
	}
	if got.requestURI != "/auth?u=one,%20two" {
		t.Errorf("request URI %q", got.requestURI)
	}
}

// ---- logging hygiene ----

func TestNoSecretsInLogs(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	s, logs := newServer(t, Options{}, map[string]Policy{
		"basic": {Basic: &Basic{Realm: "r", Htpasswd: []byte("alice:$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/\nbob:KhrY50t6Smz8U\n")}},
		"ext":   {External: &External{URL: a.srv.URL + "/auth"}},
	})
	for _, pw := range []string{"apr-secret", "Wr0ngPassw0rd"} {
		check(t, s, req{policy: "basic", headers: map[string]string{"authorization": basicHeader("alice", pw)}})
	}
	check(t, s, req{policy: "basic", headers: map[string]string{"authorization": basicHeader("bob", "desecret")}})
	check(t, s, req{policy: "ext", headers: map[string]string{"authorization": "Bearer TopSecretToken"}})
	all := logs.all()
	for _, secret := range []string{"apr-secret", "Wr0ngPassw0rd", "desecret", "TopSecretToken", "pK5oZ0vm", "KhrY50t6Smz8U",
		strings.TrimPrefix(basicHeader("alice", "Wr0ngPassw0rd"), "Basic ")} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

// ---- gRPC ----

func TestServeOverGRPC(t *testing.T) {
	a := newAuthStub(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-User", "grpc-user")
		w.WriteHeader(http.StatusOK)
	})
	s, _ := newServer(t, Options{}, map[string]Policy{
		"ext":   {External: &External{URL: a.srv.URL + "/auth", ResponseHeaders: []string{"X-User"}}},
		"basic": {Basic: &Basic{Realm: "grpc"}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	s.Register(g)
	go func() { _ = g.Serve(ln) }()
	t.Cleanup(g.Stop)

	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := authv3.NewAuthorizationClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	resp, err := client.Check(ctx, req{policy: "ext"}.build())
	if err != nil {
		t.Fatalf("Check over gRPC: %v", err)
	}
	wantStatus(t, resp, http.StatusOK)
	if got := headerValues(t, resp.GetOkResponse().GetHeaders(), "x-user", set); !slices.Equal(got, []string{"grpc-user"}) {
		t.Errorf("x-user %v", got)
	}
	resp, err = client.Check(ctx, req{policy: "basic"}.build())
	if err != nil {
		t.Fatalf("Check over gRPC: %v", err)
	}
	wantStatus(t, resp, http.StatusUnauthorized)
	if resp.GetStatus().GetCode() != int32(codes.Unauthenticated) {
		t.Errorf("gRPC status %d", resp.GetStatus().GetCode())
	}
	resp, err = client.Check(ctx, req{policy: "missing"}.build())
	if err != nil {
		t.Fatalf("Check over gRPC: %v", err)
	}
	wantStatus(t, resp, http.StatusInternalServerError)
}
