package testnginx

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestStart: nginx proxies a route to an echo backend with the forwarded headers and the
// marker, answers unknown hosts as ingress-nginx's default backend, serves its own
// certificate on the TLS port, and logs every request as JSON.
func TestStart(t *testing.T) {
	be, err := echo.Start("legacy", "127.0.0.1:0", echo.NewHandler("legacy"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	s := StartT(t, Options{Routes: []Route{{Host: "legacy.example.com", Path: "/app", Backend: be.Addr}}})

	req, _ := http.NewRequest("POST", "http://"+s.HTTPAddr+"/app/x?a=1&b=two%20words", strings.NewReader("hello"))
	req.Host = "legacy.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got, err := echo.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.Host != "legacy.example.com" || got.URI != "/app/x?a=1&b=two%20words" || got.BodyBytes != 5 {
		t.Errorf("backend saw %s %s %s (%d body bytes)", got.Method, got.Host, got.URI, got.BodyBytes)
	}
	if v := got.Headers.Get("X-Forwarded-For"); v != "203.0.113.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", v)
	}
	if v := got.Headers.Get(Header); v != "nginx" {
		t.Errorf("%s %q", Header, v)
	}
	if v := got.Headers.Get("X-Forwarded-Proto"); v != "http" {
		t.Errorf("X-Forwarded-Proto %q", v)
	}
	e, err := s.WaitFor(5*time.Second, func(e Entry) bool { return e.Query == "a=1&b=two%20words" })
	if err != nil {
		t.Fatal(err)
	}
	if e.Method != "POST" || e.Host != "legacy.example.com" || e.RequestURI != "/app/x?a=1&b=two%20words" ||
		e.XForwardedFor != "203.0.113.7" || e.Status != 200 || e.ContentLength != "5" || e.Upstream != be.Addr {
		t.Errorf("access log entry %+v", e)
	}

	// Unknown host: the default backend.
	req, _ = http.NewRequest("GET", "http://"+s.HTTPAddr+"/", nil)
	req.Host = "unknown.example.com"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || strings.TrimSpace(string(body)) != DefaultBackendBody {
		t.Errorf("unknown host: %d %q", resp.StatusCode, body)
	}

	// TLS: nginx's own certificate, by SNI.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.Pool(), ServerName: "legacy.example.com"}}}
	req, _ = http.NewRequest("GET", "https://"+s.TLSAddr+"/app", nil)
	req.Host = "legacy.example.com"
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, err := echo.Decode(body); err != nil || got.Headers.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("TLS: %v %+v", err, got.Headers)
	}
	if !resp.TLS.PeerCertificates[0].Equal(s.Certificate) {
		t.Errorf("TLS: not nginx's certificate")
	}
	if _, err := s.WaitFor(5*time.Second, func(e Entry) bool { return e.Scheme == "https" && e.SNI == "legacy.example.com" }); err != nil {
		t.Error(err)
	}
}
