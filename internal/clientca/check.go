package clientca

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
)

// Check reads ca.crt (PEM certificates, at least one) and the optional ca.crl (PEM
// revocation lists) and returns the certificates' subjects in RFC 2253, sorted. An error
// says what is wrong in words for a finding: Envoy would refuse the listener for it, and
// ingress-nginx denies the Ingress.
func Check(ca, crl []byte) ([]string, error) {
	var subjects []string
	err := eachBlock(ca, "CERTIFICATE", func(der []byte) error {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("ca.crt holds a certificate that does not parse: %w", err)
		}
		subjects = append(subjects, RFC2253(c.RawSubject))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(subjects) == 0 {
		return nil, errors.New("ca.crt holds no PEM certificate")
	}
	if len(crl) > 0 {
		n := 0
		err := eachBlock(crl, "X509 CRL", func(der []byte) error {
			n++
			if _, err := x509.ParseRevocationList(der); err != nil {
				return fmt.Errorf("ca.crl holds a revocation list that does not parse: %w", err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errors.New("ca.crl is set but holds no PEM revocation list (X509 CRL)")
		}
	}
	sort.Strings(subjects)
	return subjects, nil
}

// eachBlock calls f with the DER of every PEM block of type typ in data.
func eachBlock(data []byte, typ string, f func(der []byte) error) error {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil
		}
		if b.Type != typ {
			continue
		}
		if err := f(b.Bytes); err != nil {
			return err
		}
	}
}
