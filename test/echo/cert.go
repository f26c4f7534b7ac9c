package echo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Certificates are valid from an hour ago (clock skew) for this long.
const certValidity = 365 * 24 * time.Hour

// DefaultHosts are the names SelfSignedCert covers when given none.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// SelfSignedCert makes an ECDSA P-256 certificate for hosts (DNS names, "*.example.com"
// wildcards, or IP addresses; DefaultHosts when none) that is its own issuer, for server
// (listener) and client use. Like httptest's certificate it is marked as a CA with
// certificate-signing key usage, so that it serves as its own trust anchor (checked with Go
// clients and with Envoy 1.40's upstream validation_context.trusted_ca). It returns the certificate ready for tls.Config and the PEM blocks of the
// certificate and of its PKCS#8 private key.
func SelfSignedCert(hosts ...string) (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl, err := leafTemplate(hosts)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl.IsCA = true
	tmpl.KeyUsage |= x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	return encodePair(der, key)
}

// CA is a throwaway certificate authority for tests: it issues server and client
// certificates, and a client that trusts CertPEM (or Pool) accepts them.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// NewCA makes a CA with a fresh ECDSA P-256 key.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gatebridge test CA", Organization: []string{"gatebridge tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}, nil
}

// CertPEM returns the CA certificate in PEM, for a client's (or Envoy's) trusted CAs.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// Pool returns a certificate pool holding only the CA certificate, for tls.Config.RootCAs
// or ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue makes an ECDSA P-256 certificate signed by the CA, valid for hosts (DNS names,
// wildcards or IP addresses; at least one) for server and client authentication, and returns
// the PEM blocks of the certificate and of its PKCS#8 private key.
func (ca *CA) Issue(hosts ...string) (certPEM, keyPEM []byte, err error) {
	_, certPEM, keyPEM, err = ca.issue(hosts)
	return certPEM, keyPEM, err
}

// IssueTLS is Issue returning the certificate ready for tls.Config.Certificates.
func (ca *CA) IssueTLS(hosts ...string) (tls.Certificate, error) {
	cert, _, _, err := ca.issue(hosts)
	return cert, err
}

func (ca *CA) issue(hosts []string) (tls.Certificate, []byte, []byte, error) {
	if len(hosts) == 0 {
		return tls.Certificate{}, nil, nil, errors.New("issue: no hosts")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl, err := leafTemplate(hosts)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, nil, nil, fmt.Errorf("issue certificate: %w", err)
	}
	return encodePair(der, key)
}

func leafTemplate(hosts []string) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"gatebridge tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if h == "" {
			return nil, errors.New("certificate: empty host name")
		}
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return t, nil
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (tls.Certificate, []byte, []byte, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	return cert, certPEM, keyPEM, nil
}
