package annotations

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// operationNameAnnotation is ingress-nginx's validator of opentelemetry-operation-name
// (opentelemetry/main.go): a plain name, no variables, no spaces.
var operationNameAnnotation = regexp.MustCompile(`^[A-Za-z0-9_\-]*$`)

func init() {
	register(
		Spec{Name: "enable-access-log", Family: "observability", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool,
			Note: "gatebridge's Envoy writes no per-request access log (its own log, statistics and the controller's events only), so false holds for these paths and true has no log line to keep; keep request logs in the backends or a mesh meanwhile."},
		Spec{Name: "enable-rewrite-log", Family: "observability", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool, Note: "nginx debug logging of rewrites."},
		Spec{Name: "enable-opentelemetry", Family: "observability", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "ConfigMap",
			Accepts: "boolean", validate: validateBool,
			Note:   "Per-location OpenTelemetry on/off through Envoy's OpenTelemetry tracer, exporting OTLP/gRPC to the ConfigMap's otlp-collector-host/port; the span's attributes are Envoy's (http.url, http.status_code, upstream_cluster…), not the nginx module's, and while any route of the Gateway traces, a route with tracing off still passes Envoy's trace context (not sampled) to its backend and records a request whose client sent a sampled traceparent.",
			Target: "TrafficPolicy.tracing.enabled"},
		Spec{Name: "opentelemetry-trust-incoming-span", Family: "observability", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "true (ConfigMap)",
			Accepts: "boolean", validate: validateBool,
			Note:   "Envoy reads the client's trace context before it picks a route, so trust is set per Gateway from the ConfigMap's opentelemetry-trust-incoming-span (false removes traceparent/tracestate first); an Ingress asking otherwise keeps the Gateway's setting, with a finding. Read only with enable-opentelemetry: \"true\", as in ingress-nginx.",
			Target: "TrafficPolicy.tracing.trustIncomingSpan (Gateway level)"},
		Spec{Name: "opentelemetry-operation-name", Family: "observability", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "letters, digits, _ and - (ingress-nginx's validator)", validate: validateRegexp(operationNameAnnotation, "a name of letters, digits, _ and -"),
			Note:   "Span name of the location (Envoy route tracing operation). Read only with enable-opentelemetry: \"true\", as in ingress-nginx; an invalid value then rejects the Ingress, as there.",
			Target: "TrafficPolicy.tracing.operationName"},
	)
}

// Tracing is an Ingress's OpenTelemetry annotations as ingress-nginx reads them: the
// trust and operation-name annotations count only when enable-opentelemetry is "true".
type Tracing struct {
	// Enabled is enable-opentelemetry.
	Enabled bool
	// TrustIncomingSpan is opentelemetry-trust-incoming-span (nil: the ConfigMap's).
	TrustIncomingSpan *bool
	// OperationName is opentelemetry-operation-name ("" = the ConfigMap's).
	OperationName string
}

func parseObservability(r *reader, d Defaults) *Tracing {
	if v := r.optBool("enable-access-log"); v != nil && !*v {
		r.note("enable-access-log", Exact, "these requests are not logged, as no request is: gatebridge's Envoy writes no access log")
	}
	enabled := r.optBool("enable-opentelemetry")
	if enabled == nil || !*enabled {
		for _, n := range []string{"opentelemetry-trust-incoming-span", "opentelemetry-operation-name"} {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, `has no effect: ingress-nginx reads it only when enable-opentelemetry is "true" on the same Ingress, and so does gatebridge`)
			}
		}
		if enabled == nil {
			return nil
		}
		return &Tracing{}
	}
	t := &Tracing{Enabled: true, TrustIncomingSpan: r.optBool("opentelemetry-trust-incoming-span")}
	if v, ok := r.values["opentelemetry-operation-name"]; ok && normalize(v) == "" {
		// ingress-nginx's "invalid content" error is not a validation error: ignored.
		r.seen["opentelemetry-operation-name"] = true
		r.note("opentelemetry-operation-name", Exact, "is empty; ingress-nginx ignores it, so the ConfigMap's span name applies")
	} else if name, ok := r.str("opentelemetry-operation-name"); ok {
		t.OperationName = name
	}
	if d.OtlpCollectorHost == "" {
		r.warn("enable-opentelemetry", "no otlp-collector-host in the controller ConfigMap (give it with --configmap, or the one the controller watches): ingress-nginx's exporter then has no collector and no span is sent, and gatebridge sends none either")
	}
	if tr := t.TrustIncomingSpan; tr != nil && *tr == d.OtelTrustIncomingSpan {
		r.note("opentelemetry-trust-incoming-span", Exact, fmt.Sprintf("applied: the Gateway's setting is the same (ConfigMap opentelemetry-trust-incoming-span: %t), and Envoy applies it to every route of the Gateway", *tr))
	} else if tr != nil {
		r.note("opentelemetry-trust-incoming-span", Approximate, fmt.Sprintf(
			"is not applied to these paths alone: Envoy reads the trace context before it picks a route, so the Gateway's setting (ConfigMap opentelemetry-trust-incoming-span: %t) applies — %s",
			d.OtelTrustIncomingSpan, map[bool]string{true: "the client's trace is continued here too", false: "the client's traceparent is dropped here too, so each request starts a new trace"}[d.OtelTrustIncomingSpan]))
	}
	return t
}

// otelSamplers are the otel-sampler values of the ingress-nginx ConfigMap.
var otelSamplers = []string{"AlwaysOn", "AlwaysOff", "TraceIdRatioBased"}

// otelCollectorHost is what the collector host may be: a DNS name or an IP address.
var otelCollectorHost = regexp.MustCompile(`^[A-Za-z0-9.:-]+$`)

// readOpenTelemetry reads the ConfigMap's OpenTelemetry keys into d; bad reports a key
// whose value is invalid (the default is kept).
func readOpenTelemetry(data map[string]string, d *Defaults, bad func(k, why string)) {
	if v, ok := data["enable-opentelemetry"]; ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			d.OpenTelemetry = b
		} else {
			bad("enable-opentelemetry", "is not a boolean")
		}
	}
	if v, ok := data["opentelemetry-trust-incoming-span"]; ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			d.OtelTrustIncomingSpan = b
		} else {
			bad("opentelemetry-trust-incoming-span", "is not a boolean")
		}
	}
	if v, ok := data["otel-sampler-parent-based"]; ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			d.OtelSamplerParentBased = b
		} else {
			bad("otel-sampler-parent-based", "is not a boolean")
		}
	}
	if v, ok := data["opentelemetry-operation-name"]; ok {
		if n := strings.TrimSpace(v); rejectControlChars(n) == nil && len(n) <= 1024 {
			d.OtelOperationName = n
		} else {
			bad("opentelemetry-operation-name", "has a line break or control character, or is longer than 1024 characters")
		}
	}
	if v, ok := data["otlp-collector-host"]; ok {
		if h := strings.TrimSpace(v); h == "" || (otelCollectorHost.MatchString(h) && len(h) <= 253) {
			d.OtlpCollectorHost = h
		} else {
			bad("otlp-collector-host", "is not a host name or IP address")
		}
	}
	if v, ok := data["otlp-collector-port"]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 && n <= 65535 {
			d.OtlpCollectorPort = n
		} else {
			bad("otlp-collector-port", "is not a port number (1-65535)")
		}
	}
	if v, ok := data["otel-service-name"]; ok {
		if n := strings.TrimSpace(v); n != "" && rejectControlChars(n) == nil && len(n) <= 256 {
			d.OtelServiceName = n
		} else {
			bad("otel-service-name", "is empty, longer than 256 characters or has a control character")
		}
	}
	if v, ok := data["otel-sampler"]; ok {
		s := strings.TrimSpace(v)
		valid := false
		for _, x := range otelSamplers {
			valid = valid || s == x
		}
		if valid {
			d.OtelSampler = s
		} else {
			bad("otel-sampler", "is not AlwaysOn, AlwaysOff or TraceIdRatioBased")
		}
	}
	if v, ok := data["otel-sampler-ratio"]; ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 32); err == nil && f >= 0 && f <= 1 {
			d.OtelSamplerRatio = f
		} else {
			bad("otel-sampler-ratio", "is not a number from 0 to 1")
		}
	}
}

// OtelSampledPerMillion is how many of a million new traces the ConfigMap's sampler
// records: AlwaysOn all, AlwaysOff none, TraceIdRatioBased the ratio.
func (d Defaults) OtelSampledPerMillion() int32 {
	switch d.OtelSampler {
	case "AlwaysOff":
		return 0
	case "TraceIdRatioBased":
		return int32(d.OtelSamplerRatio*1e6 + 0.5)
	}
	return 1000000
}
