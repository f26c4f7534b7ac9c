package annotations

func init() {
	register(
		Spec{Name: "enable-access-log", Family: "observability", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool,
			Note: "false turns off access logging for these paths; not converted yet, requests are logged."},
		Spec{Name: "enable-rewrite-log", Family: "observability", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool, Note: "nginx debug logging of rewrites."},
		Spec{Name: "enable-opentelemetry", Family: "observability", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "ConfigMap",
			Accepts: "boolean", validate: validateBool, Note: "Per-location OpenTelemetry tracing; not converted yet."},
		Spec{Name: "opentelemetry-trust-incoming-span", Family: "observability", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool, Note: "Continue incoming trace context; not converted yet."},
		Spec{Name: "opentelemetry-operation-name", Family: "observability", Level: Unsupported, Risk: RiskMedium, Scope: ScopeLocation,
			Note: "Span name for the location; not converted yet."},
	)
}

func parseObservability(r *reader) {
	if v := r.optBool("enable-access-log"); v != nil && !*v {
		r.unsupported("enable-access-log")
	}
	for _, n := range []string{"enable-opentelemetry", "opentelemetry-trust-incoming-span", "opentelemetry-operation-name"} {
		if _, ok := r.str(n); ok {
			r.unsupported(n)
		}
	}
}
