package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// clientPKI is what the client-certificate tests generate: a client CA with a CRL, the
// client certificates of every case, and a CA the host does not trust.
type clientPKI struct {
	caPEM, crlPEM []byte
	// alice is valid; expired is alice's certificate past its notAfter; revoked is listed
	// in the CRL; mallory is valid with another CN; stranger is issued by the other CA;
	// selfSigned is its own issuer.
	alice, expired, revoked, mallory, stranger, selfSigned tls.Certificate
	alicePEM                                               []byte
}

// newClientPKI generates the certificates. The CA's subject has a comma in O, to see the
// RFC 2253 escaping nginx and Envoy print.
func newClientPKI(t *testing.T) *clientPKI {
	t.Helper()
	now := time.Now()
	ca, caKey := selfSignedCA(t, pkix.Name{Organization: []string{"Acme, Inc."}, CommonName: "Client CA"}, now)
	other, otherKey := selfSignedCA(t, pkix.Name{CommonName: "Other CA"}, now)
	p := &clientPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})}
	issue := func(cn string, serial int64, from, to time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (tls.Certificate, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{Organization: []string{"Acme, Inc."}, CommonName: cn},
			NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if parent == nil {
			parent, parentKey = tpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	valid := func(cn string, serial int64) tls.Certificate {
		c, _ := issue(cn, serial, now.Add(-time.Hour), now.Add(24*time.Hour), ca, caKey)
		return c
	}
	p.alice, p.alicePEM = issue("alice", 10, now.Add(-time.Hour), now.Add(24*time.Hour), ca, caKey)
	p.expired, _ = issue("alice", 11, now.Add(-48*time.Hour), now.Add(-24*time.Hour), ca, caKey)
	p.revoked = valid("carol", 12)
	p.mallory = valid("mallory", 13)
	p.stranger, _ = issue("alice", 14, now.Add(-time.Hour), now.Add(24*time.Hour), other, otherKey)
	p.selfSigned, _ = issue("selfie", 15, now.Add(-time.Hour), now.Add(24*time.Hour), nil, nil)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(12), RevocationTime: now.Add(-time.Minute)}},
	}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.crlPEM = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
	return p
}

func selfSignedCA(t *testing.T, subject pkix.Name, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// mtlsResult is one answer: the status, Location, body, and the ssl-client-* headers the
// backend received ("-" when absent).
type mtlsResult struct {
	status                           int
	location, body                   string
	verify, subject, issuer, escaped string
}

// mtlsGet sends GET https://host/path to Envoy's HTTPS port with SNI sni and cert (none when
// nil), the client's own ssl-client-* headers set to forged values.
func mtlsGet(t *testing.T, sni, host, path string, cert *tls.Certificate) mtlsResult {
	t.Helper()
	cfg := &tls.Config{ServerName: sni, RootCAs: env.ca.Pool()}
	if cert != nil {
		c := *cert
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", env.httpsPort))
		},
		TLSClientConfig: cfg, DisableKeepAlives: true,
	}
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn", "ssl-client-cert"} {
		req.Header.Set(h, "forged")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET https://%s%s (SNI %s): %v", host, path, sni, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := mtlsResult{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b), verify: "-", subject: "-", issuer: "-", escaped: "-"}
	if resp.Header.Get("X-Echo-Server") != "" {
		er, err := echo.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		get := func(n string) string {
			if v, ok := er.Headers[http.CanonicalHeaderKey(n)]; ok {
				return strings.Join(v, ",")
			}
			return "-"
		}
		r.verify, r.subject, r.issuer, r.escaped = get("ssl-client-verify"), get("ssl-client-subject-dn"), get("ssl-client-issuer-dn"), get("ssl-client-cert")
		r.body = er.Path
	}
	return r
}

// TestClientCertificates: auth-tls-* through real Envoy, every mode against generated
// certificates (valid, expired, other CA, self-signed, revoked via the CRL, another CN),
// with the answers and ssl-client-* values nginx gives (docs/dataplane.md, "Client
// certificates"); the host's newer Ingress is covered too (server level), a TLS connection
// for another name answers 421, and another host on 443 asks for nothing.
func TestClientCertificates(t *testing.T) {
	p := newClientPKI(t)
	host := func(name, ann string) string {
		return fmt.Sprintf(`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: e2e/client-ca
%[2]s
spec:
  ingressClassName: nginx
  tls: [{hosts: [%[1]s.example.com], secretName: %[1]s}]
  rules:
  - host: %[1]s.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "%[1]s" "%[1]s.example.com"}}
`, name, ann)
	}
	scene := host("mtls-on", `    nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream: "true"`) +
		host("mtls-optional", `    nginx.ingress.kubernetes.io/auth-tls-verify-client: optional`) +
		host("mtls-noca", `    nginx.ingress.kubernetes.io/auth-tls-verify-client: optional_no_ca`) +
		host("mtls-off", `    nginx.ingress.kubernetes.io/auth-tls-verify-client: "off"`) +
		host("mtls-cn", `    nginx.ingress.kubernetes.io/auth-tls-match-cn: "CN=(alice|bob)"`) +
		host("mtls-redirect", `    nginx.ingress.kubernetes.io/auth-tls-error-page: "https://errors.example.com/mtls"`) +
		host("mtls-page", `    nginx.ingress.kubernetes.io/auth-tls-error-page: "/cert-help"`) +
		fmt.Sprintf(`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: newer, namespace: e2e, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: mtls-on.example.com
    http:
      paths:
      - {path: /newer, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: open, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [open.example.com], secretName: open}]
  rules:
  - host: open.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "open" "open.example.com"}}
---
apiVersion: v1
kind: Secret
metadata: {name: client-ca, namespace: e2e}
data: {ca.crt: %s, ca.crl: %s}
{{.Service "e2e" "web" "web"}}
`, b64(p.caPEM), b64(p.crlPEM))
	apply(t, scene)

	const (
		caDN      = "CN=Client CA,O=Acme\\, Inc."
		aliceDN   = "CN=alice,O=Acme\\, Inc."
		noCert    = "No required SSL certificate was sent"
		certError = "The SSL certificate error"
	)
	type want struct {
		status                  int
		verify, subject, issuer string
		bodyHas                 string
	}
	ok := func(verify, subject, issuer string) want { return want{200, verify, subject, issuer, ""} }
	none := ok("NONE", "-", "-")
	success := ok("SUCCESS", aliceDN, caDN)
	bad := func(text string) want { return want{status: 400, bodyHas: text} }
	for _, c := range []struct {
		host string
		name string
		cert *tls.Certificate
		want want
	}{
		{"mtls-on", "none", nil, bad(noCert)},
		{"mtls-on", "valid", &p.alice, success},
		{"mtls-on", "expired", &p.expired, bad(certError)},
		{"mtls-on", "other CA", &p.stranger, bad(certError)},
		{"mtls-on", "revoked", &p.revoked, bad(certError)},
		{"mtls-optional", "none", nil, none},
		{"mtls-optional", "valid", &p.alice, success},
		{"mtls-optional", "expired", &p.expired, bad(certError)},
		{"mtls-optional", "other CA", &p.stranger, bad(certError)},
		{"mtls-optional", "revoked", &p.revoked, bad(certError)},
		{"mtls-noca", "none", nil, none},
		{"mtls-noca", "valid", &p.alice, success},
		{"mtls-noca", "other CA", &p.stranger, ok("FAILED:unable to verify the first certificate", aliceDN, "CN=Other CA")},
		{"mtls-noca", "self-signed", &p.selfSigned, ok("FAILED:self-signed certificate", "CN=selfie,O=Acme\\, Inc.", "CN=selfie,O=Acme\\, Inc.")},
		{"mtls-noca", "expired", &p.expired, bad(certError)},
		{"mtls-noca", "revoked", &p.revoked, bad(certError)},
		{"mtls-off", "none", nil, none},
		{"mtls-off", "valid (not asked for)", &p.alice, none},
		{"mtls-cn", "alice", &p.alice, success},
		{"mtls-cn", "mallory", &p.mallory, want{status: 403}},
		{"mtls-cn", "none", nil, bad(noCert)},
	} {
		got := mtlsGet(t, c.host+".example.com", c.host+".example.com", "/", c.cert)
		if got.status != c.want.status || (c.want.status == 200 && (got.verify != c.want.verify || got.subject != c.want.subject || got.issuer != c.want.issuer)) ||
			!strings.Contains(got.body, c.want.bodyHas) {
			t.Errorf("%s, %s: got %d verify=%q subject=%q issuer=%q body=%.80q; want %d verify=%q subject=%q issuer=%q body with %q",
				c.host, c.name, got.status, got.verify, got.subject, got.issuer, got.body, c.want.status, c.want.verify, c.want.subject, c.want.issuer, c.want.bodyHas)
		}
	}

	// pass-certificate-to-upstream: ssl-client-cert is the URL-escaped PEM.
	if got := mtlsGet(t, "mtls-on.example.com", "mtls-on.example.com", "/", &p.alice); got.escaped == "-" {
		t.Errorf("mtls-on: no ssl-client-cert")
	} else if pemText, err := url.QueryUnescape(got.escaped); err != nil || pemText != string(p.alicePEM) || strings.ContainsAny(got.escaped, "\n +/=") {
		t.Errorf("mtls-on: ssl-client-cert %q does not unescape to the client's PEM", got.escaped)
	}
	// Without pass-certificate-to-upstream the client's forged copy is removed too.
	if got := mtlsGet(t, "mtls-optional.example.com", "mtls-optional.example.com", "/", &p.alice); got.escaped != "-" {
		t.Errorf("mtls-optional: ssl-client-cert %q reached the backend", got.escaped)
	}
	// Server level: the host's newer Ingress is under client certificates too.
	if got := mtlsGet(t, "mtls-on.example.com", "mtls-on.example.com", "/newer", nil); got.status != 400 {
		t.Errorf("mtls-on /newer without certificate: %d, want 400", got.status)
	}
	if got := mtlsGet(t, "mtls-on.example.com", "mtls-on.example.com", "/newer", &p.alice); got.status != 200 || got.verify != "SUCCESS" {
		t.Errorf("mtls-on /newer with alice: %d %q", got.status, got.verify)
	}
	// A TLS connection negotiated for open.example.com asking for the client-auth host: 421.
	if got := mtlsGet(t, "open.example.com", "mtls-on.example.com", "/", &p.alice); got.status != 421 {
		t.Errorf("SNI open, Host mtls-on: %d, want 421", got.status)
	}
	// The other host of 443 asks for nothing and sends no ssl-client-* (nor the forged ones? nginx passes them).
	if got := mtlsGet(t, "open.example.com", "open.example.com", "/", nil); got.status != 200 {
		t.Errorf("open.example.com without certificate: %d, want 200", got.status)
	}
	// auth-tls-error-page: a URL is a 302 there, a path is served from that path.
	if got := mtlsGet(t, "mtls-redirect.example.com", "mtls-redirect.example.com", "/", &p.expired); got.status != 302 || got.location != "https://errors.example.com/mtls" {
		t.Errorf("mtls-redirect, expired: %d Location %q, want 302 to the error page", got.status, got.location)
	}
	if got := mtlsGet(t, "mtls-page.example.com", "mtls-page.example.com", "/anything", nil); got.status != 200 || got.body != "/cert-help" {
		t.Errorf("mtls-page, none: %d path %q, want 200 from /cert-help", got.status, got.body)
	}
	// Plain HTTP: nginx's server-level match-cn `if` runs before the location's HTTPS
	// redirect, and the DN is empty: 403.
	if res := do(t, request{url: "http://mtls-cn.example.com/"}); res.status != 403 {
		t.Errorf("plain HTTP to mtls-cn: %d, want 403", res.status)
	}
	// Plain HTTP: no certificate can be asked for; the forged headers are removed.
	res := do(t, request{url: "http://mtls-off.example.com/", headers: map[string]string{"ssl-client-verify": "SUCCESS"}})
	if res.status == 200 && res.backend != nil && res.backend.Headers.Get("ssl-client-verify") != "" {
		t.Errorf("plain HTTP: forged ssl-client-verify reached the backend")
	}
}
