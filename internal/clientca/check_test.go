package clientca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRFC2253AsOpenSSL: subjects printed as `openssl x509 -noout -subject -nameopt RFC2253`
// printed them (testdata/*.subject, recorded with OpenSSL 3): escaping of special, leading
// and trailing characters and of UTF-8 bytes, multi-valued RDNs, short names.
func TestRFC2253AsOpenSSL(t *testing.T) {
	for i := 1; i <= 4; i++ {
		pemBytes, err := os.ReadFile(fmt.Sprintf("testdata/name%d.pem", i))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(fmt.Sprintf("testdata/name%d.subject", i))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(pemBytes)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if got := RFC2253(c.RawSubject); got != strings.TrimSpace(string(want)) {
			t.Errorf("name%d: got %q, want %q", i, got, strings.TrimSpace(string(want)))
		}
	}
}

// TestCheck: what makes a CA Secret usable, and the words of what does not.
func TestCheck(t *testing.T) {
	ca, err := os.ReadFile("testdata/name4.pem")
	if err != nil {
		t.Fatal(err)
	}
	crl := testCRL(t)
	for _, c := range []struct {
		name     string
		ca, crl  []byte
		subjects []string
		err      string
	}{
		{"CA only", ca, nil, []string{`CN=Test Client CA,O=Acme\, Inc.`}, ""},
		{"CA and CRL", ca, crl, []string{`CN=Test Client CA,O=Acme\, Inc.`}, ""},
		{"empty ca.crt", nil, nil, nil, "ca.crt holds no PEM certificate"},
		{"not PEM", []byte("not a certificate"), nil, nil, "ca.crt holds no PEM certificate"},
		{"broken certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}), nil, nil, "does not parse"},
		{"CRL not PEM", ca, []byte("garbage"), nil, "ca.crl is set but holds no PEM revocation list"},
		{"broken CRL", ca, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1}}), nil, "ca.crl holds a revocation list that does not parse"},
	} {
		got, err := Check(c.ca, c.crl)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.err)
		case c.err == "" && strings.Join(got, "|") != strings.Join(c.subjects, "|"):
			t.Errorf("%s: subjects %q, want %q", c.name, got, c.subjects)
		}
	}
}

func testCRL(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CRL CA"}, NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
}

// FuzzRFC2253: any bytes as a name never panic.
func FuzzRFC2253(f *testing.F) {
	for i := 1; i <= 4; i++ {
		if b, err := os.ReadFile(fmt.Sprintf("testdata/name%d.pem", i)); err == nil {
			if p, _ := pem.Decode(b); p != nil {
				if c, err := x509.ParseCertificate(p.Bytes); err == nil {
					f.Add(c.RawSubject)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		_ = RFC2253(der)
		_, _ = Check(der, der)
	})
}
