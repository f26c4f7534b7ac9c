package annotations

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

func init() {
	// Client certificates are asked for on the host's own SNI filter chain and checked per
	// request on the host's virtual host (docs/dataplane.md, "Client certificates"): the
	// host's first Ingress with a usable CA Secret wins, as ingress-nginx's server level.
	const policy = "TrafficPolicy.frontendTLS.clientCertificate (targeting the host's HTTPS listeners)"
	register(
		Spec{Name: "auth-tls-secret", Family: "tls", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "[namespace/]name of a Secret with ca.crt (and optionally ca.crl)", validate: validateObjectRef,
			Note:   "Client certificates for the whole host (first Ingress of the host wins), checked against ca.crt and ca.crl on the host's own SNI filter chain; failures answer 400 over HTTP as nginx, and ssl-client-verify/-subject-dn/-issuer-dn reach the backend (the client's copies removed). A missing or unusable Secret denies the Ingress's paths (503), as ingress-nginx.",
			Target: policy + ".caCertificateRef"},
		Spec{Name: "auth-tls-verify-client", Family: "tls", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "on",
			Accepts: "on, off, optional, optional_no_ca", validate: validateEnum("on", "off", "optional", "optional_no_ca"),
			Note:   "on: no or a bad certificate → 400; optional: none admitted (NONE); optional_no_ca: a certificate of another CA admitted (FAILED:<reason>), expired or revoked → 400; off: none asked for (NONE). A TLS connection negotiated for another host name answers 421, as nginx.",
			Target: policy + ".mode"},
		Spec{Name: "auth-tls-verify-depth", Family: "tls", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "1",
			Accepts: "integer", validate: validateNonNegativeInt,
			Note:   "Envoy's max_verify_depth is the value + 1 (it counts the trusted CA, OpenSSL 3's ssl_verify_depth does not).",
			Target: policy + ".verifyDepth"},
		Spec{Name: "auth-tls-error-page", Family: "tls", Level: Exact, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "an http(s) URL or a path", validate: validateRegexp(tlsErrorPage, "an http(s) URL or a path of letters, digits, - and ."),
			Note:   "A URL: failed verifications are redirected there (302); a path: served from that path of the host as a GET (nginx's internal redirect).",
			Target: policy + ".errorPageURL"},
		Spec{Name: "auth-tls-pass-certificate-to-upstream", Family: "tls", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note:   "ssl-client-cert: the client certificate as URL-escaped PEM, as nginx's $ssl_client_escaped_cert.",
			Target: policy + ".forwardCertificate"},
		Spec{Name: "auth-tls-match-cn", Family: "tls", Level: Approximate, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "CN=<regex>", validate: validateMatchCN,
			Note:   "Searched (unanchored, RE2) in the full RFC 2253 subject DN; no match → 403, whose body is Envoy's (\"RBAC: access denied\") where nginx says \"client certificate unauthorized\".",
			Target: policy + ".subjectMatch"},
		Spec{Name: "ssl-ciphers", Family: "tls", Level: Approximate, Risk: RiskLow, Scope: ScopeIngress, Default: "ConfigMap",
			Accepts: "an OpenSSL cipher list", validate: validateRegexp(cipherListChars, "an OpenSSL cipher list"),
			Note:   "TLS 1.2 ciphers of the host's own SNI filter chain (first Ingress of the host wins), named ciphers kept in order; ciphers BoringSSL lacks (DHE, CBC with SHA-2, CCM, Camellia, ARIA…) are left out, and a list using OpenSSL rules (HIGH, DEFAULT, A+B, @STRENGTH) is not translated: the Gateway's default ciphers apply.",
			Target: "TrafficPolicy.frontendTLS.cipherSuites (targeting the host's HTTPS listeners)"},
		Spec{Name: "ssl-prefer-server-ciphers", Family: "tls", Level: Ignored, Risk: RiskLow, Scope: ScopeIngress, Default: "ConfigMap",
			Accepts: "boolean", validate: validateBool,
			Note: "BoringSSL in Envoy always prefers the server's cipher order."},
		Spec{Name: "http2-push-preload", Family: "tls", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "HTTP/2 server push was removed from browsers and nginx; nothing to keep."},
	)
}

var (
	// tlsErrorPage is ingress-nginx's auth-tls-error-page validator (authtls redirectRegex):
	// an optional http(s)://host[:port] followed by a path of letters, digits, - and ".".
	tlsErrorPage = regexp.MustCompile(`^((https?://)?[A-Za-z0-9\-.]*(:\d+)?/[A-Za-z0-9\-.]*)?$`)
	// matchCNChars is what auth-tls-match-cn may hold: "CN=" and a regular expression
	// without quotes, backslashes, braces or semicolons (the characters that broke out of
	// nginx's quoted regex in CVE-2025-1097); the regex is only ever compiled as RE2.
	matchCNChars = regexp.MustCompile(`^CN=[-/._~a-zA-Z0-9, =|()*^$?+\[\]@]*$`)
)

func validateMatchCN(v string) error {
	if !matchCNChars.MatchString(v) {
		return fmt.Errorf("is not CN= followed by a regular expression of letters, digits and - / . _ ~ , = | ( ) * ^ $ ? + [ ] @")
	}
	if err := envoyregex.Check(v); err != nil {
		return fmt.Errorf("is not a valid RE2 regular expression Envoy takes: %v", err)
	}
	return nil
}

// VerifyClient is auth-tls-verify-client: nginx's ssl_verify_client.
type VerifyClient string

// Modes of ssl_verify_client.
const (
	// VerifyOn requires a certificate signed by the CA: none or an invalid one → 400.
	VerifyOn VerifyClient = "on"
	// VerifyOff asks for no certificate; the ssl-client-* headers still go upstream (NONE).
	VerifyOff VerifyClient = "off"
	// VerifyOptional asks for a certificate: none is fine (NONE), an invalid one → 400.
	VerifyOptional VerifyClient = "optional"
	// VerifyOptionalNoCA asks for a certificate and admits one the CA did not sign
	// (ssl-client-verify FAILED:<reason>); other verification errors (expired, revoked)
	// still answer 400, as nginx's ngx_ssl_verify_error_optional.
	VerifyOptionalNoCA VerifyClient = "optional_no_ca"
)

// ClientCert is the auth-tls-* set of one Ingress: client-certificate authentication,
// which ingress-nginx applies to the Ingress's whole host (server level, first Ingress
// with auth-tls-secret wins). Secret is "" when the Ingress asks for none.
type ClientCert struct {
	// Secret is [namespace/]name of the Secret holding ca.crt (and optionally ca.crl).
	Secret string
	// Verify defaults to on; an invalid value falls back to on (authtls parser).
	Verify VerifyClient
	// Depth is ssl_verify_depth: how many CA certificates may sit between the client's
	// certificate and the trusted one (OpenSSL 3 counting); default 1, 0 means 1.
	Depth int
	// ErrorPage: failed verifications redirect (302) there instead of answering 400.
	ErrorPage string
	// PassCertificate sends ssl-client-cert (URL-escaped PEM) upstream.
	PassCertificate bool
	// MatchCN is an unanchored regex on the full subject DN (RFC 2253); no match → 403.
	MatchCN string
}

// Enabled reports whether client certificates are configured for the host (even with
// verify off, ingress-nginx then sets the ssl-client-* headers).
func (c ClientCert) Enabled() bool { return c.Secret != "" }

// mtlsNames are the auth-tls-* annotations; invalid values fail closed: they control
// authentication.
var mtlsNames = []string{"auth-tls-secret", "auth-tls-verify-client", "auth-tls-verify-depth", "auth-tls-error-page",
	"auth-tls-pass-certificate-to-upstream", "auth-tls-match-cn"}

// parseClientCert reads auth-tls-* as ingress-nginx's authtls parser does. Without
// auth-tls-secret the other names have no effect. Invalid verify-client and verify-depth
// values fall back to their defaults there (and here, with a finding); invalid
// error-page, pass-certificate and match-cn values make ingress-nginx reject the Ingress,
// which gatebridge turns into failing closed.
func parseClientCert(r *reader) ClientCert {
	secret, ok := r.strClosed("auth-tls-secret")
	if !ok {
		for _, n := range mtlsNames[1:] {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without auth-tls-secret (as in ingress-nginx)")
			}
		}
		return ClientCert{}
	}
	c := ClientCert{Secret: secret, Verify: VerifyOn, Depth: 1}
	if v, ok := r.str("auth-tls-verify-client"); ok {
		c.Verify = VerifyClient(v)
	}
	if d := r.integer("auth-tls-verify-depth", 1); d > 0 {
		c.Depth = d
	}
	c.ErrorPage, _ = r.strClosed("auth-tls-error-page")
	if v, ok := r.strClosed("auth-tls-pass-certificate-to-upstream"); ok {
		c.PassCertificate, _ = strconv.ParseBool(v) // validated by strClosed
	}
	c.MatchCN, _ = r.strClosed("auth-tls-match-cn")
	return c
}

// parseTLS reads the host-level TLS annotations: client certificates and ssl-ciphers.
func parseTLS(r *reader) (ClientCert, []string) {
	c := parseClientCert(r)
	var suites []string
	if v, ok := r.str("ssl-ciphers"); ok {
		var dropped []string
		var err error
		suites, dropped, err = EnvoyCipherSuites(v)
		switch {
		case err != nil:
			r.note("ssl-ciphers", Approximate, "is not translated: "+err.Error()+"; the Gateway's default ciphers apply to the host")
			return c, nil
		case len(dropped) > 0:
			r.note("ssl-ciphers", Approximate, fmt.Sprintf("%s cannot be offered by Envoy (BoringSSL has no such cipher) and is left out; the host offers %s", strings.Join(dropped, ", "), strings.Join(suites, ":")))
		}
	}
	return c, suites
}
