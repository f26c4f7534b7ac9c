package dataplane_test

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// connectionManagers are the HTTP connection managers of every listener.
func connectionManagers(t *testing.T, out *dataplane.Output) []*hcmv3.HttpConnectionManager {
	t.Helper()
	var hcms []*hcmv3.HttpConnectionManager
	for _, l := range out.Resources.Listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				if f.Name != "envoy.filters.network.http_connection_manager" {
					continue
				}
				h := &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					t.Fatal(err)
				}
				hcms = append(hcms, h)
			}
		}
	}
	return hcms
}

// routeTracings are the tracing settings of every route, by path prefix.
func routeTracings(out *dataplane.Output) map[string]*routev3.Tracing {
	got := map[string]*routev3.Tracing{}
	for _, rc := range out.Resources.Routes {
		for _, vh := range dataplane.Expanded(rc).VirtualHosts {
			for _, r := range vh.Routes {
				if p := r.GetMatch().GetPathSeparatedPrefix(); p != "" {
					got[p] = r.Tracing
				}
			}
		}
	}
	return got
}

func tracingModel(t *testing.T) *dataplane.Model {
	t.Helper()
	loaded, err := sources.ReadPaths([]string{"testdata/ingress-opentelemetry.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Build(loaded, converters.Options{}).Model
}

// TestTracingToCollector: the ConfigMap's collector becomes the OpenTelemetry tracer of the
// connection manager (gRPC cluster, service name, sampling, untrusted context removed
// first); each route traces with its span name, or not at all.
func TestTracingToCollector(t *testing.T) {
	out := dataplane.Translate(tracingModel(t), dataplane.Options{})
	if len(out.Problems) > 0 {
		t.Fatalf("problems: %v", out.Problems)
	}
	hcms := connectionManagers(t, out)
	if len(hcms) == 0 {
		t.Fatal("no connection manager")
	}
	for _, h := range hcms {
		tr := h.GetTracing()
		otel := &tracev3.OpenTelemetryConfig{}
		if err := tr.GetProvider().GetTypedConfig().UnmarshalTo(otel); err != nil || tr.GetProvider().GetName() != "envoy.tracers.opentelemetry" {
			t.Fatalf("provider %v: %v", tr.GetProvider(), err)
		}
		if c := otel.GetGrpcService().GetEnvoyGrpc().GetClusterName(); c != "otlp/127.0.0.1/4317" || otel.ServiceName != "edge" {
			t.Errorf("exporter cluster %q service %q", c, otel.ServiceName)
		}
		if tr.GetRandomSampling().GetValue() != 25 || tr.GetClientSampling().GetValue() != 0 {
			t.Errorf("sampling random %v client %v, want 25 and 0", tr.GetRandomSampling(), tr.GetClientSampling())
		}
		if m := h.GetEarlyHeaderMutationExtensions(); len(m) != 1 || !strings.Contains(m[0].String(), "traceparent") || !strings.Contains(m[0].String(), "tracestate") {
			t.Errorf("early header mutation %v, want traceparent and tracestate removed", m)
		}
	}
	found := false
	for _, c := range decodedClusters(t, out.Resources) {
		found = found || (c.Name == "otlp/127.0.0.1/4317" && c.GetTypedExtensionProtocolOptions() != nil)
	}
	if !found {
		t.Error("no HTTP/2 cluster otlp/127.0.0.1/4317")
	}
	routes := routeTracings(out)
	if got := routes["/checkout"].GetOperation(); got != "checkout-span" {
		t.Errorf("checkout operation %q", got)
	}
	if got := routes["/catalog"].GetOperation(); got != "HTTP %REQ(:METHOD)% catalog %PATH(NQ)% 100%%" {
		t.Errorf("catalog operation %q", got)
	}
	if s := routes["/static"]; s == nil || s.GetOverallSampling().GetNumerator() != 0 || s.GetOverallSampling() == nil || s.GetRandomSampling() == nil {
		t.Errorf("static tracing %v, want all sampling 0", s)
	}
}

// TestTracingOffWithoutTracedRoute: a collector alone turns nothing on (no trace context
// of Envoy's reaches the backends); a trust setting is not applied without tracing; a
// collector the CRD would refuse is a problem, not a crash.
func TestTracingOffWithoutTracedRoute(t *testing.T) {
	m := tracingModel(t)
	mm := *m
	mm.TrafficPolicies = nil
	for _, p := range m.TrafficPolicies {
		if p.Spec.Tracing != nil && p.Spec.Tracing.Collector == nil {
			continue // the Ingresses' own tracing blocks
		}
		mm.TrafficPolicies = append(mm.TrafficPolicies, p)
	}
	for _, h := range connectionManagers(t, dataplane.Translate(&mm, dataplane.Options{})) {
		if h.Tracing != nil || len(h.EarlyHeaderMutationExtensions) > 0 {
			t.Errorf("tracing %v, early mutation %v without a traced route", h.Tracing, h.EarlyHeaderMutationExtensions)
		}
	}

	bad := *m
	bad.TrafficPolicies = nil
	for _, p := range m.TrafficPolicies {
		if p.Spec.Tracing != nil && p.Spec.Tracing.Collector != nil {
			p = p.DeepCopy()
			p.Spec.Tracing.Collector = &v1alpha1.OTLPCollector{Host: "bad host", Port: 4317}
		}
		bad.TrafficPolicies = append(bad.TrafficPolicies, p)
	}
	out := dataplane.Translate(&bad, dataplane.Options{})
	for _, h := range connectionManagers(t, out) {
		if h.Tracing != nil {
			t.Errorf("tracing %v with a bad collector", h.Tracing)
		}
	}
	found := false
	for _, p := range out.Problems {
		found = found || (p.Kind == "TrafficPolicy" && strings.Contains(p.Message, "no span is sent"))
	}
	if !found {
		t.Errorf("no problem about the collector: %v", out.Problems)
	}
}

// TestOverlongSNIFailsItsBackendOnly: a TrafficPolicy written by hand (its CRD sets no
// length) may name a backend server longer than Envoy accepts in a TLS context; that
// backend fails with a problem that says so, and the rest of the configuration is valid —
// Envoy would otherwise refuse all of it.
func TestOverlongSNIFailsItsBackendOnly(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/ingress-policies.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := pipeline.Build(loaded, converters.Options{}).Model
	changed := 0
	for i, p := range m.TrafficPolicies {
		if p.Spec.Backend == nil || p.Spec.Backend.Protocol != v1alpha1.BackendProtocolHTTPS {
			continue
		}
		p = p.DeepCopy()
		p.Spec.Backend.TLS = &v1alpha1.BackendTLS{ServerName: strings.Repeat("a", 300), SendSNI: true}
		m.TrafficPolicies[i] = p
		changed++
	}
	if changed == 0 {
		t.Fatal("no TrafficPolicy with an HTTPS backend in the case")
	}
	out := dataplane.Translate(m, dataplane.Options{})
	if err := dataplane.Validate(out.Resources); err != nil {
		t.Fatalf("the configuration does not validate: %v", err)
	}
	found := false
	for _, p := range out.Problems {
		found = found || strings.Contains(p.Message, "serverName is 300 characters long")
	}
	if !found {
		t.Errorf("no problem says the server name is too long: %v", out.Problems)
	}
}
