package authz

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestParseServiceHost(t *testing.T) {
	for host, want := range map[string]string{
		"auth.team":                    "team/auth",
		"auth.team.svc":                "team/auth",
		"auth.team.svc.cluster.local":  "team/auth",
		"auth.team.svc.cluster.local.": "team/auth",
		"Auth.TEAM.Svc.Cluster.Local":  "team/auth",
		"oauth2-proxy.kube-system":     "kube-system/oauth2-proxy",
		"auth.0team":                   "0team/auth",
		// A public two-label name has the Service form: it is only used as one when the
		// input has that Service (see TestServiceDialerTarget).
		"example.com": "com/example",

		"auth":                            "",
		"localhost":                       "",
		"127.0.0.1":                       "",
		"10.0":                            "",
		"::1":                             "",
		"auth.example.com":                "",
		"auth.team.svc.cluster":           "",
		"auth.team.cluster.local":         "",
		"auth.team.svc.example.local":     "",
		"auth.team.svc.cluster.local.x":   "",
		"0auth.team":                      "",
		"-auth.team":                      "",
		"auth.team-":                      "",
		"au_th.team":                      "",
		"auth..svc":                       "",
		strings.Repeat("a", 64) + ".team": "",
	} {
		name, ok := ParseServiceHost(host)
		got := ""
		if ok {
			got = name.String()
		}
		if got != want {
			t.Errorf("ParseServiceHost(%q) = %q, want %q", host, got, want)
		}
	}
}

// fakeServices is a ServiceResolver over a fixed table "namespace/name/port" → addresses;
// a key mapped to nil is a Service port without ready endpoints.
type fakeServices struct {
	mu    sync.Mutex
	table map[string][]string
	asked []string
}

func (f *fakeServices) ResolveService(ns, name string, port int32) ([]string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fmt.Sprintf("%s/%s/%d", ns, name, port)
	f.asked = append(f.asked, key)
	if ns == "team" && name == "noport" {
		return nil, true, fmt.Errorf("no port %d in Service team/noport", port)
	}
	addrs, ok := f.table[key]
	return addrs, ok, nil
}

func TestServiceDialerTarget(t *testing.T) {
	d := &serviceDialer{dialer: &net.Dialer{}}
	if got, err := d.target("auth.team:80"); err != nil || got != "auth.team:80" {
		t.Errorf("without a resolver: %q, %v; want the name for the system resolver", got, err)
	}
	f := &fakeServices{table: map[string][]string{
		"team/auth/80":   {"10.0.0.1:9000"},
		"team/auth/8080": {"10.0.0.1:9001", "10.0.0.2:9001", "[fd00::3]:9001"},
		"team/empty/80":  nil,
	}}
	d.set(f)
	for _, c := range []struct{ addr, want, err string }{
		{addr: "auth.team:80", want: "10.0.0.1:9000"},
		{addr: "auth.team.svc:80", want: "10.0.0.1:9000"},
		{addr: "auth.team.svc.cluster.local:80", want: "10.0.0.1:9000"},
		{addr: "AUTH.team.svc.cluster.local.:80", want: "10.0.0.1:9000"},
		// Not a Service of the input, not a Service name, an IP: the system resolver.
		{addr: "other.team:80", want: "other.team:80"},
		{addr: "example.com:443", want: "example.com:443"},
		{addr: "auth.example.com:443", want: "auth.example.com:443"},
		{addr: "127.0.0.1:8080", want: "127.0.0.1:8080"},
		{addr: "[::1]:8080", want: "[::1]:8080"},
		{addr: "localhost:8080", want: "localhost:8080"},
		// A Service of the input that cannot be used: the call fails (no DNS fallback).
		{addr: "empty.team:80", err: "Service team/empty port 80 has no ready endpoints"},
		{addr: "noport.team:80", err: "no port 80 in Service team/noport"},
	} {
		got, err := d.target(c.addr)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("target(%q) = %q, %v; want error %q", c.addr, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("target(%q) = %q, %v; want %q", c.addr, got, err, c.want)
		}
	}
	// Round robin over the ready endpoints, per Service port, whatever name form is used.
	var got []string
	for _, addr := range []string{"auth.team:8080", "auth.team.svc:8080", "auth.team.svc.cluster.local:8080", "auth.team:8080"} {
		a, err := d.target(addr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if want := []string{"10.0.0.1:9001", "10.0.0.2:9001", "[fd00::3]:9001", "10.0.0.1:9001"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("round robin: %v, want %v", got, want)
	}
	d.set(nil)
	if got, _ := d.target("auth.team:80"); got != "auth.team:80" {
		t.Errorf("resolver removed: %q, want the name for the system resolver", got)
	}
}

// TestExternalServiceNames sends auth subrequests to in-cluster names through Check: every
// name form, with and without a port, http and https, reaches the Service's endpoint with
// "Host: <name>"; a name the input does not have goes to the system resolver; a Service
// without a ready endpoint makes the call fail and the request is answered 500 (fail
// closed), as when the auth service is unreachable.
func TestExternalServiceNames(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host+" "+r.URL.Path)
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)
	addr := func(s *httptest.Server) string { return s.Listener.Addr().String() }
	_, plainPort, _ := net.SplitHostPort(addr(plain))

	f := &fakeServices{table: map[string][]string{
		"team/auth/80":   {addr(plain)},
		"team/auth/8080": {addr(plain)},
		"team/auth/443":  {addr(secure)},
		"team/auth/8443": {addr(secure)},
		"team/down/80":   nil,
	}}
	policies := map[string]Policy{}
	urls := map[string]string{
		"short":         "http://auth.team/verify",
		"svc-port":      "http://auth.team.svc:8080/verify",
		"fqdn-port":     "http://auth.team.svc.cluster.local:8080/verify",
		"https":         "https://auth.team.svc.cluster.local/verify",
		"https-port":    "https://auth.team.svc:8443/verify",
		"system":        "http://localhost:" + plainPort + "/verify",
		"no-endpoints":  "http://down.team.svc.cluster.local/verify",
		"not-a-service": "http://auth.nowhere.svc/verify",
	}
	for k, u := range urls {
		policies[k] = Policy{External: &External{URL: u}}
	}
	s, _ := newServer(t, Options{}, policies)
	s.SetServiceResolver(f)
	good := map[string]string{"authorization": "Bearer good"}

	for _, c := range []struct {
		policy, host string
	}{
		{"short", "auth.team"},
		{"svc-port", "auth.team.svc"},
		{"fqdn-port", "auth.team.svc.cluster.local"},
		{"https", "auth.team.svc.cluster.local"},
		{"https-port", "auth.team.svc"},
		{"system", "localhost"},
	} {
		t.Run(c.policy, func(t *testing.T) {
			mu.Lock()
			hosts = nil
			mu.Unlock()
			wantStatus(t, check(t, s, req{policy: c.policy, headers: good}), http.StatusOK)
			wantStatus(t, check(t, s, req{policy: c.policy}), http.StatusUnauthorized)
			mu.Lock()
			defer mu.Unlock()
			if len(hosts) != 2 || hosts[0] != c.host+" /verify" {
				t.Errorf("auth service saw %q, want Host %s and /verify", hosts, c.host)
			}
		})
	}
	t.Run("no-ready-endpoint-fails-closed", func(t *testing.T) {
		wantStatus(t, check(t, s, req{policy: "no-endpoints", headers: good}), http.StatusInternalServerError)
	})
	t.Run("unknown-name-goes-to-the-system-resolver", func(t *testing.T) {
		f.mu.Lock()
		f.asked = nil
		f.mu.Unlock()
		// nowhere/auth is not in the input: the system resolver is asked and does not know
		// the name either, so the call fails like any unresolvable host.
		wantStatus(t, check(t, s, req{policy: "not-a-service", headers: good}), http.StatusInternalServerError)
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.asked) != 1 || f.asked[0] != "nowhere/auth/80" {
			t.Errorf("resolver asked %v, want nowhere/auth/80 once", f.asked)
		}
	})
	t.Run("without-a-resolver-names-use-the-system-resolver", func(t *testing.T) {
		s.SetServiceResolver(nil)
		defer s.SetServiceResolver(f)
		f.mu.Lock()
		f.asked = nil
		f.mu.Unlock()
		// As in a cluster: the name goes to the system resolver (which does not know it).
		wantStatus(t, check(t, s, req{policy: "not-a-service", headers: good}), http.StatusInternalServerError)
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.asked) != 0 {
			t.Errorf("resolver asked %v without being set", f.asked)
		}
	})
	t.Run("caller-client-is-left-alone", func(t *testing.T) {
		c, _ := newServer(t, Options{HTTPClient: &http.Client{}}, policies)
		c.SetServiceResolver(f) // no effect: the caller's client dials as it likes
		wantStatus(t, check(t, c, req{policy: "system", headers: good}), http.StatusOK)
	})
}
