package clientca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
)

// RFC2253 prints a DER-encoded X.509 name as OpenSSL's X509_NAME_print_ex with
// XN_FLAG_RFC2253 does, which is how nginx's $ssl_client_i_dn and Envoy's
// issuerPeerCertificate() print it: the last attribute first, "," between RDNs, "+" inside one,
// OpenSSL's short attribute names, and the value escaped (`,+"\<>;`, a leading "#" or space,
// a trailing space, control characters and every byte above 0x7f as \XX). A name that does
// not parse prints as "".
func RFC2253(der []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if i != len(seq)-1 {
			b.WriteByte(',')
		}
		// OpenSSL keeps a name as one list of attributes and prints it reversed, so the
		// attributes of a multi-valued RDN come out reversed too.
		for j := len(seq[i]) - 1; j >= 0; j-- {
			atv := seq[i][j]
			if j != len(seq[i])-1 {
				b.WriteByte('+')
			}
			name, known := dnShortNames[atv.Type.String()]
			if !known {
				name = atv.Type.String()
			}
			b.WriteString(name)
			b.WriteByte('=')
			s, ok := atv.Value.(string)
			if !known || !ok {
				// OpenSSL dumps unknown attributes (and non-string values) as # and the hex DER.
				raw, _ := asn1.Marshal(atv.Value)
				b.WriteString("#" + strings.ToUpper(hex.EncodeToString(raw)))
				continue
			}
			b.WriteString(escapeDNValue(s))
		}
	}
	return b.String()
}

// escapeDNValue escapes one attribute value as OpenSSL's ASN1_STRFLGS_RFC2253.
func escapeDNValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// dnShortNames are OpenSSL's short names of the attributes found in certificate names.
var dnShortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L",
	"2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title",
	"2.5.4.17": "postalCode", "2.5.4.42": "GN", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
	"2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1": "UID", "1.2.840.113549.1.9.1": "emailAddress",
	"2.5.4.97": "organizationIdentifier", "2.5.4.15": "businessCategory",
}
