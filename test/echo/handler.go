package echo

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Request headers and query parameters that steer the echo handler. Headers win over query
// parameters; the query form exists for tests whose headers a proxy strips or rewrites.
const (
	// HeaderStatus (or query parameter QueryStatus) sets the status code to answer, 200–599.
	HeaderStatus = "X-Echo-Status"
	// HeaderStatusOf sets the status code of named servers only, written "name=code";
	// repeatable or comma-separated, and it wins over HeaderStatus. A proxy that passes the request on to a
	// second echo server (an error page, a mirror) can so get an error from the first and
	// an answer from the second.
	HeaderStatusOf = "X-Echo-Status-Of"
	// HeaderResponseHeader adds one response header, written "Name: value". Repeatable.
	HeaderResponseHeader = "X-Echo-Response-Header"
	// HeaderDelay (or query parameter QueryDelay) makes the handler wait before answering:
	// a Go duration ("200ms", "1.5s") or a bare number of milliseconds; capped at MaxDelay.
	HeaderDelay = "X-Echo-Delay"
	// HeaderSetCookie adds its value as a Set-Cookie response header. Repeatable.
	HeaderSetCookie = "X-Echo-Set-Cookie"
	// HeaderServer is set on every response to the name of the handler that answered.
	HeaderServer = "X-Echo-Server"

	QueryStatus = "echo_status"
	QueryDelay  = "echo_delay"

	// MaxDelay caps the requested delay.
	MaxDelay = 30 * time.Second
)

// Response is the JSON body the echo handler answers with: what the backend received.
type Response struct {
	// Server is the name the handler was created with.
	Server string `json:"server"`
	Method string `json:"method"`
	// URI is the request target exactly as received: path and query, not decoded.
	URI string `json:"uri"`
	// Path is the decoded path.
	Path string `json:"path"`
	// Query is the raw query string, without "?"; see QueryValues.
	Query string `json:"query"`
	// Host is the Host header (HTTP/1) or :authority (HTTP/2).
	Host string `json:"host"`
	// Proto is "HTTP/1.1" or "HTTP/2.0".
	Proto string `json:"proto"`
	// Headers are the request headers with canonical keys (Host is in Host instead).
	Headers http.Header `json:"headers"`
	// BodyBytes is the length of the request body, read to the end.
	BodyBytes int64 `json:"bodyBytes"`
	// TLS tells whether the connection was TLS; SNI is the server name the client sent.
	TLS bool   `json:"tls"`
	SNI string `json:"sni,omitempty"`
	// TLSVersion ("TLS 1.3") and Cipher ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384") are the
	// connection's, as crypto/tls names them.
	TLSVersion string `json:"tlsVersion,omitempty"`
	Cipher     string `json:"cipher,omitempty"`
	// RemoteAddr is the peer address of the connection (the proxy, behind Envoy).
	RemoteAddr string `json:"remoteAddr"`
	// Error is set when a steering header or parameter was invalid; the status is then 400.
	Error string `json:"error,omitempty"`
}

// QueryValues parses Query (what parses of a malformed one).
func (r Response) QueryValues() url.Values {
	v, _ := parseQuery(r.Query)
	return v
}

// Decode parses an echo response body. It fails when the body is not an echo response (for
// example a proxy's own error page), quoting the start of the body.
func Decode(body []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return Response{}, fmt.Errorf("not an echo response (%v): %q", err, snippet(body))
	}
	if r.Server == "" {
		return Response{}, fmt.Errorf("not an echo response (no \"server\" field): %q", snippet(body))
	}
	return r, nil
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// NewHandler returns the echo handler: every request is answered with a JSON Response
// describing it, Content-Type application/json and X-Echo-Server: name. The request body is
// read and counted. See HeaderStatus, HeaderResponseHeader, HeaderDelay and HeaderSetCookie
// for how a request steers the answer.
func NewHandler(name string) http.Handler {
	return &handler{name: name}
}

type handler struct{ name string }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)

	resp := Response{
		Server:     h.name,
		Method:     r.Method,
		URI:        r.RequestURI,
		Path:       r.URL.Path,
		Query:      r.URL.RawQuery,
		Host:       r.Host,
		Proto:      r.Proto,
		Headers:    r.Header.Clone(),
		BodyBytes:  n,
		TLS:        r.TLS != nil,
		RemoteAddr: r.RemoteAddr,
	}
	if resp.Headers == nil {
		resp.Headers = http.Header{}
	}
	if r.TLS != nil {
		resp.SNI = r.TLS.ServerName
		resp.TLSVersion, resp.Cipher = tls.VersionName(r.TLS.Version), tls.CipherSuiteName(r.TLS.CipherSuite)
	}

	status := http.StatusOK
	c, err := parseControls(r, h.name)
	if err != nil {
		resp.Error = err.Error()
		status = http.StatusBadRequest
	} else {
		if c.delay > 0 {
			t := time.NewTimer(c.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if c.status != 0 {
			status = c.status
		}
		for _, kv := range c.headers {
			w.Header().Add(kv[0], kv[1])
		}
		for _, v := range c.cookies {
			w.Header().Add("Set-Cookie", v)
		}
	}

	body, err := json.MarshalIndent(resp, "", "  ")
	if err != nil { // cannot happen: only strings, numbers and string maps
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set(HeaderServer, h.name)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

type controls struct {
	status  int
	delay   time.Duration
	headers [][2]string
	cookies []string
}

func parseControls(r *http.Request, server string) (controls, error) {
	var c controls
	q, _ := parseQuery(r.URL.RawQuery)
	first := func(header, param string) (string, string) {
		if v := r.Header.Get(header); v != "" {
			return v, header
		}
		if vs := q[param]; len(vs) > 0 && vs[0] != "" {
			return vs[0], "query parameter " + param
		}
		return "", ""
	}

	if v, from := first(HeaderStatus, QueryStatus); v != "" {
		s, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || s < 200 || s > 599 {
			return c, fmt.Errorf("%s: %q is not a status code between 200 and 599", from, v)
		}
		c.status = s
	}
	for _, line := range r.Header.Values(HeaderStatusOf) {
		for _, v := range strings.Split(line, ",") {
			if err := statusOf(&c, v, server); err != nil {
				return c, err
			}
		}
	}
	if v, from := first(HeaderDelay, QueryDelay); v != "" {
		d, err := parseDelay(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", from, err)
		}
		c.delay = d
	}
	for _, v := range r.Header.Values(HeaderResponseHeader) {
		name, value, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderName(name) {
			return c, fmt.Errorf("%s: %q is not \"Name: value\"", HeaderResponseHeader, v)
		}
		c.headers = append(c.headers, [2]string{name, strings.TrimSpace(value)})
	}
	for _, v := range r.Header.Values(HeaderSetCookie) {
		if v = strings.TrimSpace(v); v != "" {
			c.cookies = append(c.cookies, v)
		}
	}
	return c, nil
}

// statusOf applies one "name=code" of HeaderStatusOf.
func statusOf(c *controls, v, server string) error {
	name, code, ok := strings.Cut(v, "=")
	s, err := strconv.Atoi(strings.TrimSpace(code))
	if !ok || err != nil || s < 200 || s > 599 {
		return fmt.Errorf("%s: %q is not \"name=code\" with a status code between 200 and 599", HeaderStatusOf, v)
	}
	if strings.TrimSpace(name) == server {
		c.status = s
	}
	return nil
}

// parseDelay reads a Go duration or a bare number of milliseconds, capped at MaxDelay.
func parseDelay(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, err2 := strconv.ParseInt(v, 10, 64)
		if err2 != nil {
			return 0, fmt.Errorf("%q is not a duration like 200ms", v)
		}
		if ms > int64(MaxDelay/time.Millisecond) {
			ms = int64(MaxDelay / time.Millisecond)
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", v)
	}
	return min(d, MaxDelay), nil
}

// validHeaderName reports whether s is a non-empty RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseQuery is url.ParseQuery keeping what it could parse of a malformed query.
func parseQuery(raw string) (url.Values, error) {
	return url.ParseQuery(raw)
}
