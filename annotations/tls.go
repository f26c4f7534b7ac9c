package annotations

func init() {
	const mtls = "Client-certificate (mTLS) authentication is not converted yet; gatebridge does not serve this host without it (fails closed) — keep the Ingress on ingress-nginx for now."
	register(
		Spec{Name: "auth-tls-secret", Family: "tls", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "[namespace/]name of a Secret with ca.crt", validate: validateObjectRef, Note: mtls},
		Spec{Name: "auth-tls-verify-client", Family: "tls", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation, Default: "on",
			Accepts: "on, off, optional, optional_no_ca", validate: validateEnum("on", "off", "optional", "optional_no_ca"), Note: mtls},
		Spec{Name: "auth-tls-verify-depth", Family: "tls", Level: Refused, Risk: RiskLow, Scope: ScopeLocation, Default: "1",
			Accepts: "integer", validate: validateNonNegativeInt, Note: mtls},
		Spec{Name: "auth-tls-error-page", Family: "tls", Level: Refused, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "a URL", Note: mtls},
		Spec{Name: "auth-tls-pass-certificate-to-upstream", Family: "tls", Level: Refused, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool, Note: mtls},
		Spec{Name: "auth-tls-match-cn", Family: "tls", Level: Refused, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "CN=<regex>", Note: mtls},
		Spec{Name: "ssl-ciphers", Family: "tls", Level: Unsupported, Risk: RiskLow, Scope: ScopeIngress, Default: "ConfigMap",
			Accepts: "an OpenSSL cipher list", validate: validateRegexp(cipherListChars, "an OpenSSL cipher list"),
			Note: "Ciphers offered to clients for this host; not converted yet, the Gateway's defaults apply."},
		Spec{Name: "ssl-prefer-server-ciphers", Family: "tls", Level: Ignored, Risk: RiskLow, Scope: ScopeIngress, Default: "ConfigMap",
			Accepts: "boolean", validate: validateBool,
			Note: "BoringSSL in Envoy always prefers the server's cipher order."},
		Spec{Name: "http2-push-preload", Family: "tls", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "HTTP/2 server push was removed from browsers and nginx; nothing to keep."},
	)
}

var mtlsNames = []string{"auth-tls-secret", "auth-tls-verify-client", "auth-tls-verify-depth", "auth-tls-error-page",
	"auth-tls-pass-certificate-to-upstream", "auth-tls-match-cn"}

// parseTLS refuses client-certificate auth (security control we cannot enforce yet) and
// notes the rest.
// parseTLS returns whether client-certificate auth is requested (a host-wide control).
func parseTLS(r *reader) (clientCert bool) {
	for _, n := range mtlsNames {
		if !r.has(n) {
			continue
		}
		r.seen[n] = true
		if n == "auth-tls-verify-client" && normalize(r.values[n]) == "off" {
			r.note(n, Exact, "off: no client certificate is requested")
			continue
		}
		spec, _ := Lookup(n)
		r.refuse(n, spec.Note)
		clientCert = true
	}
	if _, ok := r.str("ssl-ciphers"); ok {
		r.unsupported("ssl-ciphers")
	}
	return clientCert
}
