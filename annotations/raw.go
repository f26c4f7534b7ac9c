package annotations

import "strings"

// snippetContexts are the snippets gatebridge translates, and where each is written.
var snippetContexts = map[string]SnippetContext{
	"configuration-snippet": InLocation,
	"server-snippet":        InServer,
	"auth-snippet":          InAuth,
}

// snippetPolicy says why ingress-nginx v1.15.1 refuses snippet annotations with the
// ConfigMap defaults d ("" = it runs them): allow-snippet-annotations must be "true" and
// annotations-risk-level Critical (the snippets are Critical).
func snippetPolicy(d Defaults) string {
	var why []string
	if !d.AllowSnippetAnnotations {
		why = append(why, "allow-snippet-annotations is not \"true\"")
	}
	if d.RiskLevel != RiskCritical {
		level := d.RiskLevel
		if level == "" {
			level = RiskHigh
		}
		why = append(why, "annotations-risk-level is "+string(level)+", below Critical")
	}
	return strings.Join(why, " and ")
}

func init() {
	const snippet = "Raw nginx configuration. Refused as ingress-nginx refuses it unless its ConfigMap sets allow-snippet-annotations: \"true\" and annotations-risk-level: Critical (CVE-2021-25742, CVE-2023-5043); with that ConfigMap, translated when every directive is in gatebridge's snippet grammar (docs/snippets.md), else refused naming the directive and line."
	const fastCGI = "FastCGI backends cannot be served: Envoy has no FastCGI client; run an HTTP server next to the FastCGI process (e.g. nginx or Caddy in front of php-fpm) and point the Ingress at it with backend-protocol HTTP."
	register(
		Spec{Name: "configuration-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeLocation, Note: snippet},
		Spec{Name: "server-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress, Note: snippet},
		Spec{Name: "stream-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress,
			Note: "Raw nginx stream{} configuration (TCP/UDP servers); gatebridge serves HTTP only, so it is refused whatever the ConfigMap."},
		Spec{Name: "auth-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeLocation, Note: snippet},
		Spec{Name: "modsecurity-snippet", Family: "raw", Level: Refused, Risk: RiskCritical, Scope: ScopeIngress, Note: "Raw ModSecurity rules cannot be converted: gatebridge has no WAF, and serving without the rules would drop a security control; put a WAF in front of the Gateway (the cloud provider's, or Coraza with the OWASP Core Rule Set through an Envoy ext_proc or Wasm filter) or keep this Ingress on ingress-nginx."},
		Spec{Name: "enable-modsecurity", Family: "raw", Level: Refused, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "The ModSecurity WAF has no equivalent in gatebridge, and serving without it would drop a security control, so the Ingress is not served natively; put a WAF in front of the Gateway (the cloud provider's, or Coraza with the OWASP Core Rule Set through an Envoy ext_proc or Wasm filter) or keep this Ingress on ingress-nginx."},
		Spec{Name: "enable-owasp-core-rules", Family: "raw", Level: Refused, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "The OWASP Core Rule Set (ModSecurity) has no equivalent in gatebridge, so the Ingress is not served natively; put a WAF in front of the Gateway (the cloud provider's, or Coraza with the OWASP Core Rule Set through an Envoy ext_proc or Wasm filter) or keep this Ingress on ingress-nginx."},
		Spec{Name: "modsecurity-transaction-id", Family: "raw", Level: Refused, Risk: RiskHigh, Scope: ScopeIngress,
			Note: "ModSecurity transaction id; ModSecurity is not available in gatebridge: put a WAF in front of the Gateway (the cloud provider's, or Coraza with the OWASP Core Rule Set through an Envoy ext_proc or Wasm filter) or keep this Ingress on ingress-nginx. Envoy's x-request-id identifies each request in access logs."},
		Spec{Name: "fastcgi-index", Family: "raw", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation,
			Note: fastCGI},
		Spec{Name: "fastcgi-params-configmap", Family: "raw", Level: Refused, Risk: RiskMedium, Scope: ScopeLocation,
			Note: fastCGI},
	)
}

// parseRaw refuses the raw-configuration annotations, except the snippets the source
// cluster ran (snippetPolicy) whose every directive is in the grammar (snippet.go). A
// boolean switch that is "false" is harmless and only noted.
func parseRaw(r *reader, d Defaults, out *Ingress) {
	refusal := snippetPolicy(d)
	for _, n := range []string{"configuration-snippet", "server-snippet", "stream-snippet", "auth-snippet", "modsecurity-snippet",
		"modsecurity-transaction-id", "fastcgi-index", "fastcgi-params-configmap"} {
		if !r.has(n) {
			continue
		}
		r.seen[n] = true
		spec, _ := Lookup(n)
		if spec.Risk == RiskCritical && refusal != "" {
			r.refuse(n, "ingress-nginx refuses it with this ConfigMap ("+refusal+"), so the source cluster never ran it; gatebridge refuses the Ingress as ingress-nginx does")
			continue
		}
		ctx, translatable := snippetContexts[n]
		if !translatable {
			r.refuse(n, spec.Note)
			continue
		}
		s, err := TranslateSnippet(r.values[n], ctx)
		if err != nil {
			r.refuse(n, "cannot be translated: "+err.Error()+"; the Ingress is not served natively until the snippet is replaced by annotations or Gateway API filters (docs/snippets.md)")
			out.ServerSnippetFailed = out.ServerSnippetFailed || n == "server-snippet"
			continue
		}
		switch n {
		case "configuration-snippet":
			out.ConfigurationSnippet = s
		case "server-snippet":
			out.ServerSnippet = s
		case "auth-snippet":
			out.AuthSnippet = s
		}
	}
	for _, n := range []string{"enable-modsecurity", "enable-owasp-core-rules"} {
		if r.has(n) {
			if r.boolean(n, false) {
				spec, _ := Lookup(n)
				r.refuse(n, spec.Note)
			}
		}
	}
}
