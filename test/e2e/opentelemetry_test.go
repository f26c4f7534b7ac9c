package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// receivedSpan is one span an OTLP receiver got.
type receivedSpan struct {
	name, traceID, parentID, service string
	// url is the span's http.url attribute.
	url string
}

// otlpReceiver is a tiny OTLP/gRPC trace collector that keeps every span it receives.
type otlpReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []receivedSpan
}

func (r *otlpReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				url := ""
				for _, a := range s.GetAttributes() {
					if a.GetKey() == "http.url" {
						url = a.GetValue().GetStringValue()
					}
				}
				r.spans = append(r.spans, receivedSpan{name: s.GetName(), traceID: hex.EncodeToString(s.GetTraceId()),
					parentID: hex.EncodeToString(s.GetParentSpanId()), service: service, url: url})
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// startOTLPReceiver serves an OTLP receiver on a loopback port until the test ends.
func startOTLPReceiver(t *testing.T) (*otlpReceiver, int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r, lis.Addr().(*net.TCPAddr).Port
}

// waitSpan waits (Envoy exports every 5 s) for a span named name, and returns it with
// every span received so far.
func (r *otlpReceiver) waitSpan(t *testing.T, name string) (receivedSpan, []receivedSpan) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		all := append([]receivedSpan(nil), r.spans...)
		r.mu.Unlock()
		for _, s := range all {
			if s.name == name {
				return s, all
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q reached the collector in 20 s; spans: %+v", name, all)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// otelScene is a ConfigMap pointing at the receiver, with the given extra keys, and
// Ingresses on otel.example.com: /traced (enable-opentelemetry, its own span name),
// /named (enable-opentelemetry, the ConfigMap's span name) and /untraced.
func otelScene(port int, configMap string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  otlp-collector-host: 127.0.0.1
  otlp-collector-port: "%d"
  otel-service-name: e2e-edge
  opentelemetry-operation-name: "HTTP $request_method $service_name $uri"
%s
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: traced
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-opentelemetry: "true"
    nginx.ingress.kubernetes.io/opentelemetry-operation-name: traced-span
spec:
  ingressClassName: nginx
  rules:
  - host: otel.example.com
    http:
      paths:
      - {path: /traced, pathType: Prefix, backend: {service: {name: otel-web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: named
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/enable-opentelemetry: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: otel.example.com
    http:
      paths:
      - {path: /named, pathType: Prefix, backend: {service: {name: otel-web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: untraced, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: otel.example.com
    http:
      paths:
      - {path: /untraced, pathType: Prefix, backend: {service: {name: otel-web, port: {number: 80}}}}
{{.Service "e2e" "otel-web" "web"}}
`, port, configMap)
}

// TestOpenTelemetry: spans reach an OTLP/gRPC collector with the span name of the
// annotation or of the ConfigMap (variables evaluated), none for a route with tracing
// off, and the client's trace is continued (trust-incoming-span true) or not (false).
func TestOpenTelemetry(t *testing.T) {
	recv, port := startOTLPReceiver(t)
	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	traceparent := "00-" + clientTrace + "-" + clientSpan + "-01"

	t.Run("trusted", func(t *testing.T) {
		apply(t, otelScene(port, ""))
		// Untraced first: Envoy exports in order, so once the traced span is in, any span
		// of this request would be too.
		if res := do(t, request{url: "http://otel.example.com/untraced/a"}); res.status != 200 {
			t.Fatalf("untraced: status %d", res.status)
		}
		// The stated difference: Envoy's tracer runs for the whole Gateway, so a route with
		// tracing off still passes a trace context of Envoy's, not sampled.
		if res := do(t, request{url: "http://otel.example.com/untraced/plain"}); res.backend == nil || !strings.HasSuffix(res.backend.Headers.Get("Traceparent"), "-00") {
			t.Errorf("untraced: backend got traceparent %q, want none sampled", res.backend.Headers.Get("Traceparent"))
		}
		// The other stated difference: Envoy keeps a client's sampled flag even where the
		// route samples nothing, so this request is recorded (under Envoy's name "ingress").
		if res := do(t, request{url: "http://otel.example.com/untraced/parent", headers: map[string]string{"traceparent": traceparent}}); res.backend == nil {
			t.Fatalf("untraced with parent: status %d", res.status)
		}
		named := do(t, request{url: "http://otel.example.com/named/x?q=1"})
		if named.status != 200 {
			t.Fatalf("named: status %d", named.status)
		}
		res := do(t, request{url: "http://otel.example.com/traced/b", headers: map[string]string{"traceparent": traceparent}})
		if res.backend == nil {
			t.Fatalf("traced: status %d", res.status)
		}
		if got := res.backend.Headers.Get("Traceparent"); !strings.HasPrefix(got, "00-"+clientTrace+"-") || strings.Contains(got, clientSpan) {
			t.Errorf("backend traceparent %q, want the client's trace with Envoy's span as parent", got)
		}
		span, all := recv.waitSpan(t, "traced-span")
		if span.traceID != clientTrace || span.parentID != clientSpan {
			t.Errorf("span trace %s parent %s, want the client's %s / %s", span.traceID, span.parentID, clientTrace, clientSpan)
		}
		if span.service != "e2e-edge" {
			t.Errorf("service.name %q, want otel-service-name e2e-edge", span.service)
		}
		recv.waitSpan(t, "HTTP GET otel-web /named/x")
		for _, s := range all {
			if s.url == "http://otel.example.com/untraced/a" || s.url == "http://otel.example.com/untraced/plain" {
				t.Errorf("a route with tracing off sent span %+v", s)
			}
		}
	})

	t.Run("untrusted", func(t *testing.T) {
		apply(t, otelScene(port, `  enable-opentelemetry: "true"
  opentelemetry-trust-incoming-span: "false"`))
		res := do(t, request{url: "http://otel.example.com/traced/c", headers: map[string]string{"traceparent": traceparent, "tracestate": "vendor=x"}})
		if res.backend == nil {
			t.Fatalf("traced: status %d", res.status)
		}
		got := res.backend.Headers.Get("Traceparent")
		if got == "" || strings.Contains(got, clientTrace) {
			t.Errorf("backend traceparent %q, want a new trace of Envoy's", got)
		}
		if ts := res.backend.Headers.Get("Tracestate"); ts != "" {
			t.Errorf("backend tracestate %q, want the client's dropped", ts)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, all := recv.waitSpan(t, "traced-span")
			var fresh *receivedSpan
			for i, s := range all {
				if s.name == "traced-span" && s.url == "http://otel.example.com/traced/c" {
					fresh = &all[i]
				}
			}
			if fresh != nil {
				if fresh.traceID == clientTrace || fresh.parentID != "" {
					t.Errorf("span trace %s parent %q, want a new trace with no parent", fresh.traceID, fresh.parentID)
				}
				if !strings.Contains(got, fresh.traceID) {
					t.Errorf("backend traceparent %q is not of the span's trace %s", got, fresh.traceID)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no span of /traced/c; spans: %+v", all)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
