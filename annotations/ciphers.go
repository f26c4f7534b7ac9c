package annotations

import (
	"fmt"
	"strings"
)

// boringSSLCiphers are the TLS 1.2 cipher suites Envoy (BoringSSL) accepts in
// DownstreamTlsContext cipher_suites for a certificate-based server, by their OpenSSL
// names (BoringSSL uses the same names). Envoy refuses a listener that names any other.
var boringSSLCiphers = map[string]bool{
	"ECDHE-ECDSA-AES128-GCM-SHA256": true, "ECDHE-RSA-AES128-GCM-SHA256": true,
	"ECDHE-ECDSA-AES256-GCM-SHA384": true, "ECDHE-RSA-AES256-GCM-SHA384": true,
	"ECDHE-ECDSA-CHACHA20-POLY1305": true, "ECDHE-RSA-CHACHA20-POLY1305": true,
	"ECDHE-ECDSA-AES128-SHA": true, "ECDHE-RSA-AES128-SHA": true,
	"ECDHE-ECDSA-AES256-SHA": true, "ECDHE-RSA-AES256-SHA": true,
	"AES128-GCM-SHA256": true, "AES256-GCM-SHA384": true, "AES128-SHA": true, "AES256-SHA": true,
}

// opensslOnlyCipherParts mark OpenSSL cipher names BoringSSL does not implement (DHE key
// exchange, CBC with SHA-2 MACs, CCM, Camellia, ARIA, SEED, IDEA, RC4, 3DES, PSK/SRP).
// A client that could only use them would not connect to nginx with the other ciphers of
// the list either, unless it supports one of those; they are left out with a finding.
var opensslOnlyCipherParts = []string{"DHE-", "EDH-", "ADH-", "AECDH-", "SHA256", "SHA384", "CCM", "CAMELLIA", "ARIA", "SEED",
	"IDEA", "RC4", "DES-CBC3", "PSK-", "SRP-", "NULL"}

// harmlessExclusions are OpenSSL exclusions ("!X", "-X") that remove none of the ciphers
// BoringSSL offers: with the list's ciphers named one by one, they change nothing.
var harmlessExclusions = map[string]bool{
	"aNULL": true, "eNULL": true, "NULL": true, "MD5": true, "RC4": true, "DES": true, "3DES": true, "EXP": true,
	"EXPORT": true, "LOW": true, "PSK": true, "SRP": true, "DSS": true, "aDSS": true, "CAMELLIA": true, "ARIA": true,
	"SEED": true, "IDEA": true, "DH": true, "DHE": true, "EDH": true, "kDHE": true, "kEDH": true, "ADH": true, "CCM": true,
	"SHA256": true, "SHA384": true, "kRSAPSK": true, "kDHEPSK": true, "kECDHEPSK": true, "aPSK": true,
}

// EnvoyCipherSuites translates an OpenSSL cipher list (ssl-ciphers) to the cipher_suites
// of an Envoy DownstreamTlsContext. Ciphers named one by one are kept in order (those
// BoringSSL lacks are returned as dropped); exclusions that remove none of BoringSSL's
// ciphers are ignored. Rules OpenSSL evaluates against its own cipher table (keywords
// such as HIGH or DEFAULT, "A+B" combinations, "+X" moves, @STRENGTH, unknown names) have
// no exact translation and give an error naming the element. Like nginx's ssl_ciphers,
// the list governs TLS 1.2 and older only.
func EnvoyCipherSuites(list string) (suites, dropped []string, err error) {
	seen := map[string]bool{}
	excluded := map[string]bool{}
	for _, el := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		switch {
		case strings.HasPrefix(el, "!") || strings.HasPrefix(el, "-"):
			name := el[1:]
			switch {
			case boringSSLCiphers[name]:
				excluded[name] = true
			case harmlessExclusions[name] || opensslOnly(name):
			default:
				return nil, nil, fmt.Errorf("exclusion %q selects ciphers by an OpenSSL rule gatebridge cannot evaluate exactly; list the ciphers to offer by name", el)
			}
		case strings.HasPrefix(el, "+") || strings.HasPrefix(el, "@") || strings.Contains(el, "+"):
			return nil, nil, fmt.Errorf("%q is an OpenSSL ordering or combination rule gatebridge cannot evaluate exactly; list the ciphers to offer by name", el)
		case boringSSLCiphers[el]:
			if !seen[el] {
				seen[el] = true
				suites = append(suites, el)
			}
		case opensslOnly(el):
			dropped = append(dropped, el)
		default:
			return nil, nil, fmt.Errorf("%q is not a cipher name Envoy knows (OpenSSL keywords such as HIGH or DEFAULT select ciphers by rule); list the ciphers to offer by name", el)
		}
	}
	kept := suites[:0]
	for _, s := range suites {
		if !excluded[s] {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return nil, dropped, fmt.Errorf("leaves no cipher Envoy can offer")
	}
	return kept, dropped, nil
}

// opensslOnly reports whether name is an OpenSSL cipher name BoringSSL lacks.
func opensslOnly(name string) bool {
	if name == "" || strings.ToUpper(name) != name || !strings.Contains(name, "-") {
		return false
	}
	for _, p := range opensslOnlyCipherParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}
