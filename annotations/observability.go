package annotations

func init() {
	register(
		Spec{Name: "enable-access-log", Family: "observability", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool,
			Note: "gatebridge's Envoy writes no per-request access log (its own log, statistics and the controller's events only), so false holds for these paths and true has no log line to keep; keep request logs in the backends or a mesh meanwhile."},
		Spec{Name: "enable-rewrite-log", Family: "observability", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool, Note: "nginx debug logging of rewrites."},
		Spec{Name: "enable-opentelemetry", Family: "observability", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "ConfigMap",
			Accepts: "boolean", validate: validateBool, Note: "Per-location OpenTelemetry tracing; not converted yet: gatebridge's Envoy sends no spans, so traces start at the backends (instrument them, or a mesh, meanwhile)."},
		Spec{Name: "opentelemetry-trust-incoming-span", Family: "observability", Level: Unsupported, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool, Note: "Continue incoming trace context; not converted yet: Envoy passes the traceparent header on untouched, so backends continue the client's trace."},
		Spec{Name: "opentelemetry-operation-name", Family: "observability", Level: Unsupported, Risk: RiskMedium, Scope: ScopeLocation,
			Note: "Span name for the location; not converted yet: no span is emitted by gatebridge."},
	)
}

func parseObservability(r *reader) {
	if v := r.optBool("enable-access-log"); v != nil && !*v {
		r.note("enable-access-log", Exact, "these requests are not logged, as no request is: gatebridge's Envoy writes no access log")
	}
	for _, n := range []string{"enable-opentelemetry", "opentelemetry-trust-incoming-span", "opentelemetry-operation-name"} {
		if _, ok := r.str(n); ok {
			r.unsupported(n)
		}
	}
}
