package converters

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// tracingConfigFindings reports the ConfigMap's OpenTelemetry settings gatebridge cannot
// keep, and clears a span name whose variables the data plane does not evaluate (the span
// then has Envoy's default name rather than a wrong one).
func tracingConfigFindings(cm *corev1.ConfigMap, d *annotations.Defaults) []Finding {
	field := func(k string) string { return "ConfigMap " + cm.Namespace + "/" + cm.Name + " data." + k }
	var out []Finding
	if unknown := gbv1.OperationNameUnknownVariables(d.OtelOperationName); len(unknown) > 0 {
		out = append(out, Finding{Field: field("opentelemetry-operation-name"), Value: d.OtelOperationName, Severity: SeverityWarning,
			Message: fmt.Sprintf("uses %s, which the data plane cannot evaluate (it can: $request_method, $request_uri, $uri, $scheme, $http_host, $http_<name>, $remote_addr, $request_id, $service_name, $service_port, $namespace); spans keep Envoy's default name (the route's host and path) until the name uses only those", strings.Join(unknown, ", "))})
		d.OtelOperationName = ""
	}
	if d.OtlpCollectorHost == "" {
		if d.OpenTelemetry {
			out = append(out, Finding{Field: field("enable-opentelemetry"), Value: "true", Severity: SeverityWarning,
				Message: "tracing is on but otlp-collector-host is empty: ingress-nginx's exporter has no collector, so no span is sent, and gatebridge sends none either; set otlp-collector-host"})
		}
		return out
	}
	if !d.OtelSamplerParentBased && d.OtelSampler != "AlwaysOn" {
		out = append(out, Finding{Field: field("otel-sampler-parent-based"), Value: "false", Severity: SeverityInfo,
			Message: "Envoy keeps the sampled flag of a client's trace context (parent-based sampling); ingress-nginx with otel-sampler-parent-based false samples continued traces by otel-sampler alone"})
	}
	return out
}

// gatewayTracing is the Gateway-level tracing of the ConfigMap: the collector and its
// settings, and whether routes trace by default; nil without a collector.
func gatewayTracing(d annotations.Defaults) *gbv1.TracingPolicy {
	if d.OtlpCollectorHost == "" {
		return nil
	}
	return &gbv1.TracingPolicy{
		Enabled:           d.OpenTelemetry,
		OperationName:     d.OtelOperationName,
		Collector:         &gbv1.OTLPCollector{Host: d.OtlpCollectorHost, Port: int32(d.OtlpCollectorPort)},
		ServiceName:       d.OtelServiceName,
		SampledPerMillion: ptr(d.OtelSampledPerMillion()),
		TrustIncomingSpan: ptr(d.OtelTrustIncomingSpan),
	}
}

// routeTracing is an Ingress's tracing where it differs from the Gateway's: on or off,
// and its span name. nil when it says what the Gateway says, or when there is no
// collector (the annotation finding says nothing is sent).
func routeTracing(t *annotations.Tracing, d annotations.Defaults) *gbv1.TracingPolicy {
	if t == nil || d.OtlpCollectorHost == "" || (t.Enabled == d.OpenTelemetry && t.OperationName == "") {
		return nil
	}
	return &gbv1.TracingPolicy{Enabled: t.Enabled, OperationName: t.OperationName}
}
