package echo

import (
	"io"
	"net/http"
	"strings"
	"sync"
)

// Tokens the fake auth service knows, sent as "Authorization: Bearer <token>".
const (
	// TokenGood is allowed: 200 with the X-Auth-Request-* headers and an authsession cookie.
	TokenGood = "good"
	// TokenForbidden is denied with 403.
	TokenForbidden = "forbidden"
	// TokenBroken makes the auth service fail with 500.
	TokenBroken = "broken"
)

// What the auth service answers for TokenGood.
const (
	AuthUser   = "alice"
	AuthEmail  = "alice@example.com"
	AuthCookie = "authsession=1"
)

// Request is what the auth service saw of one (sub)request.
type Request struct {
	Method string
	// URI is the request target as received: path and query, not decoded.
	URI     string
	Host    string
	Headers http.Header
}

// AuthHandler is a fake external-auth service in the style of oauth2-proxy, as the
// ingress-nginx e2e tests use it behind auth-url:
//
//	Authorization: Bearer good       200, X-Auth-Request-User: alice,
//	                                 X-Auth-Request-Email: alice@example.com,
//	                                 Set-Cookie: authsession=1
//	Authorization: Bearer forbidden  403
//	Authorization: Bearer broken     500
//	anything else                    401, WWW-Authenticate: Bearer realm="test"
//
// Every response carries X-Echo-Server: <name>. It records the last request for Last.
type AuthHandler struct {
	name string

	mu    sync.Mutex
	last  Request
	count int
}

// NewAuthHandler returns a fake auth service answering as name.
func NewAuthHandler(name string) *AuthHandler {
	return &AuthHandler{name: name}
}

// Last returns the last request the service saw; false when it has seen none.
func (h *AuthHandler) Last() (Request, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count == 0 {
		return Request{}, false
	}
	r := h.last
	r.Headers = r.Headers.Clone()
	return r, true
}

// Count returns how many requests the service has seen.
func (h *AuthHandler) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

func (h *AuthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	h.last = Request{Method: r.Method, URI: r.RequestURI, Host: r.Host, Headers: r.Header.Clone()}
	h.count++
	h.mu.Unlock()

	w.Header().Set(HeaderServer, h.name)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var token string
	if scheme, rest, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	switch token {
	case TokenGood:
		w.Header().Set("X-Auth-Request-User", AuthUser)
		w.Header().Set("X-Auth-Request-Email", AuthEmail)
		w.Header().Add("Set-Cookie", AuthCookie)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "authenticated as "+AuthUser+"\n")
	case TokenForbidden:
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "forbidden\n")
	case TokenBroken:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "auth service failure\n")
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "unauthorized\n")
	}
}
