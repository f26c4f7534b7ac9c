package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// expect is what one request must produce. Zero fields are not checked.
type expect struct {
	status int
	// location is the exact Location header; noLocation says there must be none.
	location   string
	noLocation bool
	// backend is the echo server that must have answered; local says the proxy itself
	// answered (no backend reached).
	backend string
	local   bool
	// uri is the path and query the backend received; host its Host header; method its
	// method.
	uri, host, method string
	// headers are response headers the client must see ("" = must be absent); upstream
	// are request headers the backend must have received ("" = must be absent).
	headers, upstream map[string]string
	// cert is the first DNS name of the certificate the client must have been served.
	cert string
	// also runs further checks on the result.
	also func(t *testing.T, res result)
}

// check sends r and compares the outcome with want, as one named subtest (one case).
func check(t *testing.T, name string, r request, want expect) result {
	t.Helper()
	var res result
	t.Run(name, func(t *testing.T) {
		t.Helper()
		res = do(t, r)
		verify(t, r, res, want)
	})
	return res
}

func verify(t *testing.T, r request, res result, want expect) {
	t.Helper()
	what := strings.TrimSpace(r.method + " " + r.url)
	if want.status != 0 && res.status != want.status {
		t.Errorf("%s: status %d, want %d (body %.200q)", what, res.status, want.status, res.body)
	}
	if want.location != "" && res.header.Get("Location") != want.location {
		t.Errorf("%s: Location %q, want %q", what, res.header.Get("Location"), want.location)
	}
	if want.noLocation && res.header.Get("Location") != "" {
		t.Errorf("%s: Location %q, want none", what, res.header.Get("Location"))
	}
	for k, v := range want.headers {
		got, present := res.header.Get(k), len(res.header.Values(k)) > 0
		switch {
		case v == "" && present:
			t.Errorf("%s: response header %s = %q, want absent", what, k, got)
		case v != "" && got != v:
			t.Errorf("%s: response header %s = %q, want %q", what, k, got, v)
		}
	}
	if want.local && res.backend != nil {
		t.Errorf("%s: reached backend %s, want a proxy answer", what, res.backend.Server)
	}
	if want.cert != "" && res.cert != want.cert {
		t.Errorf("%s: served certificate for %q, want %q", what, res.cert, want.cert)
	}
	if want.also != nil {
		want.also(t, res)
	}
	if want.backend == "" && want.uri == "" && want.host == "" && want.upstream == nil && want.method == "" {
		return
	}
	b := res.backend
	if b == nil {
		t.Errorf("%s: no backend answered (status %d), want backend %q", what, res.status, want.backend)
		return
	}
	if want.backend != "" && b.Server != want.backend {
		t.Errorf("%s: answered by backend %s, want %s", what, b.Server, want.backend)
	}
	if want.uri != "" && b.URI != want.uri {
		t.Errorf("%s: backend received %q, want %q", what, b.URI, want.uri)
	}
	if want.host != "" && b.Host != want.host {
		t.Errorf("%s: backend received Host %q, want %q", what, b.Host, want.host)
	}
	if want.method != "" && b.Method != want.method {
		t.Errorf("%s: backend received method %s, want %s", what, b.Method, want.method)
	}
	for k, v := range want.upstream {
		got, present := http.Header(b.Headers).Get(k), len(http.Header(b.Headers).Values(k)) > 0
		switch {
		case v == "" && present:
			t.Errorf("%s: backend received %s = %q, want absent", what, k, got)
		case v != "" && got != v:
			t.Errorf("%s: backend received %s = %q, want %q", what, k, got, v)
		}
	}
}
