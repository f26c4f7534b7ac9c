package echo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, h http.Handler, r *http.Request) (*http.Response, Response) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	got, err := Decode(body)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.RequestURI, err)
	}
	return res, got
}

func TestHandlerDescribesRequest(t *testing.T) {
	h := NewHandler("web")
	r := httptest.NewRequest("POST", "/a%2Fb/c?x=1&y=%20z&x=2", strings.NewReader("hello world"))
	r.Host = "shop.example.com"
	r.Header.Add("X-Forwarded-For", "10.0.0.1")
	r.Header.Add("x-custom", "one")
	r.Header.Add("X-Custom", "two")
	res, got := do(t, h, r)

	if res.StatusCode != 200 {
		t.Errorf("status = %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if s := res.Header.Get("X-Echo-Server"); s != "web" {
		t.Errorf("X-Echo-Server = %q", s)
	}
	want := Response{
		Server: "web", Method: "POST", URI: "/a%2Fb/c?x=1&y=%20z&x=2", Path: "/a/b/c",
		Query: "x=1&y=%20z&x=2", Host: "shop.example.com", Proto: "HTTP/1.1", BodyBytes: 11,
	}
	if got.Server != want.Server || got.Method != want.Method || got.URI != want.URI || got.Path != want.Path ||
		got.Query != want.Query || got.Host != want.Host || got.Proto != want.Proto || got.BodyBytes != want.BodyBytes ||
		got.TLS || got.SNI != "" || got.Error != "" {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if v := got.Headers.Values("X-Custom"); len(v) != 2 || v[0] != "one" || v[1] != "two" {
		t.Errorf("X-Custom = %q, want [one two]", v)
	}
	if v := got.Headers.Get("X-Forwarded-For"); v != "10.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", v)
	}
	if q := got.QueryValues(); len(q["x"]) != 2 || q.Get("y") != " z" {
		t.Errorf("QueryValues = %v", q)
	}
}

func TestHandlerControls(t *testing.T) {
	h := NewHandler("api")

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Echo-Status", "503")
	r.Header.Add("X-Echo-Response-Header", "X-One: 1")
	r.Header.Add("X-Echo-Response-Header", "x-two:  two words ")
	r.Header.Add("X-Echo-Response-Header", "X-One: again")
	r.Header.Add("X-Echo-Set-Cookie", "a=b; Path=/")
	r.Header.Add("X-Echo-Set-Cookie", "c=d")
	res, got := do(t, h, r)
	if res.StatusCode != 503 {
		t.Errorf("status = %d, want 503", res.StatusCode)
	}
	if v := res.Header.Values("X-One"); len(v) != 2 || v[0] != "1" || v[1] != "again" {
		t.Errorf("X-One = %q", v)
	}
	if v := res.Header.Get("X-Two"); v != "two words" {
		t.Errorf("X-Two = %q", v)
	}
	if v := res.Header.Values("Set-Cookie"); len(v) != 2 || v[0] != "a=b; Path=/" || v[1] != "c=d" {
		t.Errorf("Set-Cookie = %q", v)
	}
	if got.Server != "api" {
		t.Errorf("server = %q", got.Server)
	}

	// Query parameters steer when headers are absent; headers win over them.
	start := time.Now()
	res, _ = do(t, h, httptest.NewRequest("GET", "/?echo_status=418&echo_delay=150ms", nil))
	if res.StatusCode != 418 {
		t.Errorf("echo_status: status = %d, want 418", res.StatusCode)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("echo_delay=150ms answered after %v", d)
	}
	r = httptest.NewRequest("GET", "/?echo_status=418", nil)
	r.Header.Set("X-Echo-Status", "202")
	r.Header.Set("X-Echo-Delay", "50") // bare number: milliseconds
	start = time.Now()
	if res, _ = do(t, h, r); res.StatusCode != 202 {
		t.Errorf("header over query: status = %d, want 202", res.StatusCode)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("X-Echo-Delay: 50 answered after %v", d)
	}

	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Echo-Status", "202")
	r.Header.Add("X-Echo-Status-Of", "other=500")
	r.Header.Add("X-Echo-Status-Of", "x=500, api=404")
	if res, _ = do(t, h, r); res.StatusCode != 404 {
		t.Errorf("X-Echo-Status-Of naming this server: status = %d, want 404", res.StatusCode)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Echo-Status-Of", "other=500")
	if res, _ = do(t, h, r); res.StatusCode != 200 {
		t.Errorf("X-Echo-Status-Of naming another server: status = %d, want 200", res.StatusCode)
	}

	for _, bad := range []struct{ header, value string }{
		{"X-Echo-Status-Of", "api"},
		{"X-Echo-Status-Of", "api=1000"},
		{"X-Echo-Status", "abc"},
		{"X-Echo-Status", "99"},
		{"X-Echo-Status", "600"},
		{"X-Echo-Delay", "soon"},
		{"X-Echo-Delay", "-1s"},
		{"X-Echo-Response-Header", "no colon"},
		{"X-Echo-Response-Header", "bad name: x"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(bad.header, bad.value)
		res, got := do(t, h, r)
		if res.StatusCode != 400 || !strings.Contains(got.Error, bad.header) {
			t.Errorf("%s: %s: status %d, error %q; want 400 naming the header", bad.header, bad.value, res.StatusCode, got.Error)
		}
	}
}

func TestDelayCapAndCancel(t *testing.T) {
	if d, err := parseDelay("1h"); err != nil || d != MaxDelay {
		t.Errorf("parseDelay(1h) = %v, %v; want %v", d, err, MaxDelay)
	}
	if d, err := parseDelay("99999999"); err != nil || d != MaxDelay {
		t.Errorf("parseDelay(99999999) = %v, %v; want %v", d, err, MaxDelay)
	}
	// A client that goes away ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	r.Header.Set("X-Echo-Delay", "20s")
	start := time.Now()
	NewHandler("x").ServeHTTP(httptest.NewRecorder(), r)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled request waited %v", d)
	}
}

func TestDecodeRejectsForeignBodies(t *testing.T) {
	for _, body := range []string{"no healthy upstream", `{"a":1}`, ""} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%q) succeeded", body)
		}
	}
}

func TestServerHTTP1AndH2C(t *testing.T) {
	s, err := Start("plain", "127.0.0.1:0", NewHandler("plain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.Port() == 0 || s.TLS {
		t.Fatalf("URL %q, port %d, TLS %v", s.URL, s.Port(), s.TLS)
	}

	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	for _, c := range []struct {
		proto  string
		client *http.Client
	}{
		{"HTTP/1.1", &http.Client{Transport: &http.Transport{}}},
		{"HTTP/2.0", &http.Client{Transport: &http.Transport{Protocols: &h2c}}},
	} {
		res, err := c.client.Post(s.URL+"/p?q=1", "text/plain", strings.NewReader("12345"))
		if err != nil {
			t.Fatalf("%s: %v", c.proto, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got, err := Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.Proto != c.proto || got.URI != "/p?q=1" || got.BodyBytes != 5 || got.Host != s.Addr {
			t.Errorf("%s: got %+v", c.proto, got)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestServerTLSWithCA(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueTLS("echo.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start("secure", "127.0.0.1:0", NewHandler("secure"), &cert)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "https://") || !s.TLS {
		t.Fatalf("URL = %q", s.URL)
	}

	// A client that trusts the CA (from its PEM) reaches the server by name, over HTTP/2.
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM()) {
		t.Fatal("CertPEM does not parse")
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "echo.test"},
		ForceAttemptHTTP2: true,
	}}
	res, err := client.Get(s.URL + "/secure")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got, err := Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TLS || got.SNI != "echo.test" || got.Proto != "HTTP/2.0" {
		t.Errorf("got TLS %v SNI %q proto %s; want true echo.test HTTP/2.0", got.TLS, got.SNI, got.Proto)
	}

	// By IP address (no SNI is sent for IPs).
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	res, err = client.Get(s.URL)
	if err != nil {
		t.Fatalf("by IP: %v", err)
	}
	res.Body.Close()

	// A name the certificate does not cover, and a client without the CA, both fail.
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "other.test"}}}
	if _, err := client.Get(s.URL); err == nil {
		t.Error("wrong server name accepted")
	}
	other, _ := NewCA()
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other.Pool(), ServerName: "echo.test"}}}
	if _, err := client.Get(s.URL); err == nil {
		t.Error("certificate accepted by a client trusting another CA")
	}

	// Issue returns PEM usable as a key pair, e.g. a client certificate for mTLS.
	certPEM, keyPEM, err := ca.Issue("client")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("Issue PEM: %v", err)
	}
	if _, err := ca.IssueTLS(); err == nil {
		t.Error("IssueTLS without hosts succeeded")
	}
}

func TestSelfSignedCertHandshake(t *testing.T) {
	cert, certPEM, keyPEM, err := SelfSignedCert("localhost", "127.0.0.1", "*.wild.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	s, err := Start("self", "127.0.0.1:0", NewHandler("self"), &cert)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	for _, name := range []string{"localhost", "a.wild.test", ""} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: name}}}
		res, err := client.Get(s.URL)
		if err != nil {
			t.Errorf("ServerName %q: %v", name, err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got, err := Decode(body); err != nil || got.SNI != name {
			t.Errorf("ServerName %q: SNI %q, %v", name, got.SNI, err)
		}
	}
	if cert, _, _, err := SelfSignedCert(); err != nil || cert.Leaf == nil || len(cert.Leaf.IPAddresses) != 2 || cert.Leaf.DNSNames[0] != "localhost" {
		t.Errorf("SelfSignedCert() defaults: %v", err)
	}
}

func TestAuthHandler(t *testing.T) {
	h := NewAuthHandler("auth")
	if _, ok := h.Last(); ok {
		t.Fatal("Last before any request reported one")
	}
	cases := []struct {
		authorization string
		status        int
	}{
		{"Bearer good", 200},
		{"bearer  good ", 200},
		{"Bearer forbidden", 403},
		{"Bearer broken", 500},
		{"Bearer other", 401},
		{"Basic Z29vZA==", 401},
		{"", 401},
	}
	for i, c := range cases {
		r := httptest.NewRequest("GET", "/oauth2/auth?rd=%2Fx", nil)
		r.Host = "shop.example.com"
		if c.authorization != "" {
			r.Header.Set("Authorization", c.authorization)
		}
		r.Header.Set("X-Original-URL", "https://shop.example.com/x")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		res := w.Result()
		if res.StatusCode != c.status {
			t.Errorf("%q: status %d, want %d", c.authorization, res.StatusCode, c.status)
		}
		if res.Header.Get("X-Echo-Server") != "auth" {
			t.Errorf("%q: X-Echo-Server = %q", c.authorization, res.Header.Get("X-Echo-Server"))
		}
		switch c.status {
		case 200:
			if res.Header.Get("X-Auth-Request-User") != "alice" || res.Header.Get("X-Auth-Request-Email") != "alice@example.com" ||
				res.Header.Get("Set-Cookie") != "authsession=1" {
				t.Errorf("%q: headers %v", c.authorization, res.Header)
			}
		case 401:
			if v := res.Header.Get("WWW-Authenticate"); v != `Bearer realm="test"` {
				t.Errorf("%q: WWW-Authenticate = %q", c.authorization, v)
			}
		}
		if c.status != 200 && res.Header.Get("X-Auth-Request-User") != "" {
			t.Errorf("%q: X-Auth-Request-User set on a denial", c.authorization)
		}
		last, ok := h.Last()
		if !ok || last.Method != "GET" || last.URI != "/oauth2/auth?rd=%2Fx" || last.Host != "shop.example.com" ||
			last.Headers.Get("X-Original-URL") != "https://shop.example.com/x" || last.Headers.Get("Authorization") != c.authorization {
			t.Errorf("%q: Last = %+v, %v", c.authorization, last, ok)
		}
		if h.Count() != i+1 {
			t.Errorf("Count = %d, want %d", h.Count(), i+1)
		}
	}
	// Last returns a copy.
	last, _ := h.Last()
	last.Headers.Set("X-Original-URL", "changed")
	if again, _ := h.Last(); again.Headers.Get("X-Original-URL") == "changed" {
		t.Error("Last shares its headers with the caller")
	}
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	s, err := Start("a", "127.0.0.1:0", NewHandler("a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Start("b", s.Addr, NewHandler("b"), nil); err == nil || !strings.Contains(err.Error(), "echo b") {
		t.Errorf("second Start on %s: %v", s.Addr, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestCloseLetsRequestsInFlightFinish(t *testing.T) {
	s, err := Start("slow", "127.0.0.1:0", NewHandler("slow"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		res, err := http.Get(s.URL + "/?echo_delay=300ms")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("request in flight during Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}
