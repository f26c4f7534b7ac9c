package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/internal/testnginx"
)

// TestTLS: on run's HTTPS port, a migrated TLS host is terminated by Envoy with its
// Ingress Secret's certificate and served natively; a not-migrated TLS host (whose Ingress
// names a Secret run also reads) passes through by SNI to nginx's TLS port, and the client
// sees nginx's certificate; a migrating TLS host at weight 0 is terminated by Envoy (its
// certificate) and its requests go on to nginx re-encrypted, with SNI = Host; a handshake
// without SNI is passed through to nginx.
func TestTLS(t *testing.T) {
	const ns = "bridge"
	r := startRun(t, map[string]string{
		"secure.yaml": service(ns, "secure") + tlsSecret(t, ns, "secure-tls", "secure.example.com") +
			ingress(ns, "secure", "secure.example.com", "/", "secure", migrate, "secure-tls"),
		"secure-weighted.yaml": service(ns, "secure-weighted") + tlsSecret(t, ns, "secure-weighted-tls", "secure-weighted.example.com") +
			ingress(ns, "secure-weighted", "secure-weighted.example.com", "/", "secure-weighted", migrateWeight(0), "secure-weighted-tls"),
		"legacy-tls.yaml": service(ns, "legacy-tls") + tlsSecret(t, ns, "legacy-tls", "legacy-tls.example.com") +
			ingress(ns, "legacy-tls", "legacy-tls.example.com", "/", "legacy-tls", "", "legacy-tls"),
	})
	c := r.client()
	envoyCert := func(t *testing.T, cert *x509.Certificate, host string) {
		t.Helper()
		if cert == nil {
			t.Fatal("no server certificate")
		}
		if cert.Equal(env.nginx.Certificate) {
			t.Fatalf("%s: the client saw nginx's certificate, want Envoy's (the Ingress Secret's)", host)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: env.ca.Pool(), DNSName: host}); err != nil || !slices.Contains(cert.DNSNames, host) {
			t.Errorf("%s: the certificate (%v) is not the Ingress Secret's: %v", host, cert.DNSNames, err)
		}
	}

	t.Run("migrated host terminated by Envoy", func(t *testing.T) {
		res := get(t, c, "https://secure.example.com/account?x=1")
		envoyCert(t, res.cert, "secure.example.com")
		if res.status != http.StatusOK || res.backend == nil || res.backend.Server != "secure" {
			t.Fatalf("GET https://secure.example.com/account: %s, want 200 from backend secure", res)
		}
		if res.fallback() {
			t.Errorf("served through nginx, want natively")
		}
	})

	t.Run("not-migrated host passed through by SNI to nginx", func(t *testing.T) {
		query := "y=" + uniqueID("legacy-tls")
		res := get(t, c, "https://legacy-tls.example.com/login?"+query)
		if res.cert == nil || !res.cert.Equal(env.nginx.Certificate) {
			var names []string
			if res.cert != nil {
				names = res.cert.DNSNames
			}
			t.Fatalf("the client saw a certificate for %v, want nginx's own", names)
		}
		if res.status != http.StatusOK || res.backend == nil || res.backend.Server != "legacy-tls" || !res.fallback() {
			t.Fatalf("GET https://legacy-tls.example.com/login: %s, want 200 from backend legacy-tls through nginx", res)
		}
		e, err := env.nginx.WaitFor(10*time.Second, func(e testnginx.Entry) bool { return e.Query == query })
		if err != nil {
			t.Fatal(err)
		}
		if e.Scheme != "https" || e.SNI != "legacy-tls.example.com" || e.Host != "legacy-tls.example.com" || e.RequestURI != "/login?"+query {
			t.Errorf("nginx logged scheme %q, SNI %q, Host %q, URI %q; want https, legacy-tls.example.com twice, /login?%s", e.Scheme, e.SNI, e.Host, e.RequestURI, query)
		}
		// Passed through (TCP), not proxied by Envoy: the forwarded headers are nginx's
		// business, none from Envoy.
		if e.XForwardedFor != "" {
			t.Errorf("nginx received X-Forwarded-For %q on a passed-through connection, want none", e.XForwardedFor)
		}
	})

	t.Run("migrating host at weight 0 terminated by Envoy, re-encrypted to nginx", func(t *testing.T) {
		query := "z=" + uniqueID("secure-weighted")
		res := get(t, c, "https://secure-weighted.example.com/page?"+query)
		envoyCert(t, res.cert, "secure-weighted.example.com")
		if res.status != http.StatusOK || res.backend == nil || res.backend.Server != "secure-weighted" || !res.fallback() {
			t.Fatalf("GET https://secure-weighted.example.com/page: %s, want 200 from backend secure-weighted through nginx", res)
		}
		e, err := env.nginx.WaitFor(10*time.Second, func(e testnginx.Entry) bool { return e.Query == query })
		if err != nil {
			t.Fatal(err)
		}
		if e.Scheme != "https" || e.SNI != "secure-weighted.example.com" || e.Host != "secure-weighted.example.com" || e.XForwardedProto != "https" {
			t.Errorf("nginx logged scheme %q, SNI %q, Host %q, X-Forwarded-Proto %q; want https, the host twice, https", e.Scheme, e.SNI, e.Host, e.XForwardedProto)
		}
	})

	t.Run("no SNI reaches nginx's TLS port", func(t *testing.T) {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.httpsPort), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("TLS handshake without SNI: %v", err)
		}
		defer conn.Close()
		if certs := conn.ConnectionState().PeerCertificates; len(certs) == 0 || !certs[0].Equal(env.nginx.Certificate) {
			t.Errorf("a handshake without SNI got a certificate other than nginx's")
		}
	})
}
