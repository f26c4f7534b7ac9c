package annotations

import (
	"reflect"
	"testing"
)

// TestTracingReadAsIngressNginx: trust and operation name count only with
// enable-opentelemetry "true"; an operation name its validator refuses then rejects the
// Ingress; an invalid boolean is ignored.
func TestTracingReadAsIngressNginx(t *testing.T) {
	tru, fls := true, false
	for _, c := range []struct {
		name     string
		kv       []string
		want     *Tracing
		rejected bool
	}{
		{"absent", nil, nil, false},
		{"on", []string{"enable-opentelemetry", "true"}, &Tracing{Enabled: true}, false},
		{"off", []string{"enable-opentelemetry", "false", "opentelemetry-operation-name", "x y"}, &Tracing{}, false},
		{"options without enable", []string{"opentelemetry-operation-name", "GET $uri", "opentelemetry-trust-incoming-span", "false"}, nil, false},
		{"all", []string{"enable-opentelemetry", "1", "opentelemetry-operation-name", "my_span-1", "opentelemetry-trust-incoming-span", "false"},
			&Tracing{Enabled: true, OperationName: "my_span-1", TrustIncomingSpan: &fls}, false},
		{"trust only", []string{"enable-opentelemetry", "true", "opentelemetry-trust-incoming-span", "True"}, &Tracing{Enabled: true, TrustIncomingSpan: &tru}, false},
		{"name with variable", []string{"enable-opentelemetry", "true", "opentelemetry-operation-name", "$uri"}, &Tracing{Enabled: true}, true},
		{"empty name", []string{"enable-opentelemetry", "true", "opentelemetry-operation-name", " "}, &Tracing{Enabled: true}, false},
		{"invalid boolean", []string{"enable-opentelemetry", "yes"}, nil, false},
	} {
		in := parse(c.kv...)
		if !reflect.DeepEqual(in.Tracing, c.want) {
			t.Errorf("%s: tracing %+v, want %+v", c.name, in.Tracing, c.want)
		}
		if in.Rejected != c.rejected {
			t.Errorf("%s: rejected %v, want %v (%+v)", c.name, in.Rejected, c.rejected, in.Findings)
		}
	}
}

// TestOpenTelemetryConfigMap: the ConfigMap keys with ingress-nginx's defaults; invalid
// values keep the default with a finding.
func TestOpenTelemetryConfigMap(t *testing.T) {
	d, f := DefaultsFromConfigMap(nil)
	if d.OtlpCollectorPort != 4317 || d.OtelServiceName != "nginx" || !d.OtelTrustIncomingSpan || d.OpenTelemetry || d.OtelSampledPerMillion() != 1000000 || len(f) != 0 {
		t.Errorf("defaults %+v %v", d, f)
	}
	d, f = DefaultsFromConfigMap(map[string]string{"enable-opentelemetry": "true", "otlp-collector-host": " otel.monitoring ", "otlp-collector-port": "55680",
		"otel-service-name": "edge", "otel-sampler": "TraceIdRatioBased", "otel-sampler-ratio": "0.01", "opentelemetry-trust-incoming-span": "false"})
	if !d.OpenTelemetry || d.OtlpCollectorHost != "otel.monitoring" || d.OtlpCollectorPort != 55680 || d.OtelServiceName != "edge" || d.OtelTrustIncomingSpan || d.OtelSampledPerMillion() != 10000 || len(f) != 0 {
		t.Errorf("read %+v %v", d, f)
	}
	if d, _ := DefaultsFromConfigMap(map[string]string{"otel-sampler": "AlwaysOff"}); d.OtelSampledPerMillion() != 0 {
		t.Errorf("AlwaysOff samples %d per million", d.OtelSampledPerMillion())
	}
	d, f = DefaultsFromConfigMap(map[string]string{"otlp-collector-host": "a b", "otlp-collector-port": "0", "otel-sampler": "Never", "otel-sampler-ratio": "-1", "enable-opentelemetry": "maybe"})
	if len(f) != 5 || d.OtlpCollectorHost != "" || d.OtlpCollectorPort != 4317 || d.OtelSampler != "AlwaysOn" || d.OpenTelemetry {
		t.Errorf("invalid values: %+v %v", d, f)
	}
}
