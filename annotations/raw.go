package annotations

func init() {
	const snippet = "Raw nginx configuration cannot be converted safely (CVE-2021-25742, CVE-2023-5043); the Ingress is not served natively until it is replaced by annotations or Gateway API filters."
	register(
		Spec{Name: "configuration-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeLocation, Note: snippet},
		Spec{Name: "server-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress, Note: snippet},
		Spec{Name: "stream-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress, Note: snippet},
		Spec{Name: "auth-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeLocation, Note: snippet},
		Spec{Name: "modsecurity-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress, Note: "Raw ModSecurity rules cannot be converted; the Ingress is not served natively."},
		Spec{Name: "enable-modsecurity", Family: "raw", Level: Refused, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "The ModSecurity WAF has no equivalent in gatebridge; serving without it would drop a security control, so the Ingress is not served natively."},
		Spec{Name: "enable-owasp-core-rules", Family: "raw", Level: Refused, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "The OWASP Core Rule Set (ModSecurity) has no equivalent in gatebridge; the Ingress is not served natively."},
		Spec{Name: "modsecurity-transaction-id", Family: "raw", Level: Refused, Risk: RiskHigh, Scope: ScopeIngress,
			Note: "ModSecurity transaction id; ModSecurity is not available in gatebridge."},
		Spec{Name: "fastcgi-index", Family: "raw", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation,
			Note: "FastCGI backends cannot be served: Envoy has no FastCGI client."},
		Spec{Name: "fastcgi-params-configmap", Family: "raw", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation,
			Note: "FastCGI backends cannot be served: Envoy has no FastCGI client."},
		Spec{Name: "mirror-target", Family: "raw", Level: Unsupported, Risk: RiskHigh, Scope: ScopeIngress,
			Note: "Mirrors every request to a URL (responses ignored); not converted yet, no mirror traffic is sent."},
		Spec{Name: "mirror-host", Family: "raw", Level: Unsupported, Risk: RiskHigh, Scope: ScopeIngress,
			Note: "Host header of mirrored requests; not converted yet."},
		Spec{Name: "mirror-request-body", Family: "raw", Level: Unsupported, Risk: RiskLow, Scope: ScopeIngress, Default: "on",
			Note: "Whether mirrored requests carry the body; not converted yet."},
	)
}

// parseRaw refuses the raw-configuration annotations. A boolean switch that is "false"
// is harmless and only noted.
func parseRaw(r *reader, snippetsAllowed bool) {
	for _, n := range []string{"configuration-snippet", "server-snippet", "stream-snippet", "auth-snippet", "modsecurity-snippet",
		"modsecurity-transaction-id", "fastcgi-index", "fastcgi-params-configmap"} {
		if !r.has(n) {
			continue
		}
		r.seen[n] = true
		spec, _ := Lookup(n)
		msg := spec.Note
		if !snippetsAllowed && spec.Risk == RiskCritical {
			msg += " (ingress-nginx itself ignored it: the ConfigMap does not set allow-snippet-annotations: \"true\")"
		}
		r.refuse(n, msg)
	}
	for _, n := range []string{"enable-modsecurity", "enable-owasp-core-rules"} {
		if r.has(n) {
			if r.boolean(n, false) {
				spec, _ := Lookup(n)
				r.refuse(n, spec.Note)
			}
		}
	}
	for _, n := range []string{"mirror-target", "mirror-host", "mirror-request-body"} {
		if _, ok := r.str(n); ok {
			r.unsupported(n)
		}
	}
}
