package dataplane

import (
	"fmt"
	"strconv"
	"strings"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	earlymutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// Tracing (TrafficPolicy.tracing, from ingress-nginx's OpenTelemetry settings):
//
//   - The Gateway-level block names the collector. With one, and tracing on for the Gateway
//     or for some route, every HTTP connection manager of the Gateway gets Envoy's
//     OpenTelemetry tracer exporting to it over gRPC, sampling new traces as the block says.
//   - Every route of that Gateway says whether it traces: on, with its span name; off, with
//     all sampling at 0 so that no span of it is recorded. A route's result depends only on
//     the Gateway's block and its own policy (see memo.go).
//   - TrustIncomingSpan false removes traceparent and tracestate before the connection
//     manager reads them (an early header mutation): Envoy extracts the trace context
//     before it picks a route, so this is per Gateway, not per route.

// otlpClusterPrefix names the clusters of OTLP collectors: otlp/<host>/<port>.
const otlpClusterPrefix = "otlp/"

// gatewayTracing is the oldest Gateway-level tracing block of gw that names a collector
// (nil: none), and whether that collector is usable; the caller reports it when not.
func (t *translator) gatewayTracing(gw *gwv1.Gateway) (*v1alpha1.TracingPolicy, *v1alpha1.TrafficPolicy) {
	for _, p := range t.ix.gatewayPolicies[qualified(gw.Namespace, gw.Name)] {
		if tr := p.Spec.Tracing; tr != nil && tr.Collector != nil {
			if c := tr.Collector; !mirrorHost.MatchString(c.Host) || strings.Contains(c.Host, "*") || c.Port < 1 || c.Port > 65535 {
				return nil, p
			}
			return tr, nil
		}
	}
	return nil, nil
}

// routeTracingBlock is the oldest route-level tracing block of route (nil: none).
func (t *translator) routeTracingBlock(route *gwv1.HTTPRoute) *v1alpha1.TracingPolicy {
	for _, p := range t.ix.routePolicies[qualified(route.Namespace, route.Name)] {
		if p.Spec.Tracing != nil {
			return p.Spec.Tracing
		}
	}
	return nil
}

// tracingActive is gw's usable tracing block when its connection managers trace: it has a
// collector and the Gateway or some route turns tracing on (any route-level block of the
// model: with the converter's single Gateway that is the Gateway's; with several Gateways
// naming collectors, one route tracing starts every such Gateway's tracer, whose other
// routes still record nothing). Without a route that traces Envoy's tracer stays off, so
// requests reach the backends without a trace context of Envoy's, as ingress-nginx
// without the module.
func (t *translator) tracingActive(gw *gwv1.Gateway) *v1alpha1.TracingPolicy {
	tr, bad := t.gatewayTracing(gw)
	if bad != nil {
		c := bad.Spec.Tracing.Collector
		t.problem("TrafficPolicy", bad.Namespace, bad.Name, "spec.tracing.collector", fmt.Sprintf("collector %s:%d is not a host name and port; no span is sent", c.Host, c.Port))
	}
	if tr == nil || tr.Enabled {
		return tr
	}
	for _, ps := range t.ix.routePolicies {
		for _, p := range ps {
			if p.Spec.Tracing != nil {
				if p.Spec.Tracing.Enabled {
					return tr
				}
				break // the oldest block of the route decides
			}
		}
	}
	return nil
}

// applyTracing adds g's Gateway tracing to its connection manager, with the collector's
// cluster.
func (t *translator) applyTracing(g *portGroup, hcm *hcmv3.HttpConnectionManager) {
	tr := t.tracingActive(g.gw)
	if tr == nil {
		return
	}
	cluster := otlpClusterPrefix + tr.Collector.Host + "/" + strconv.Itoa(int(tr.Collector.Port))
	if _, ok := t.clusters[cluster]; !ok {
		c := baseCluster(cluster, defaultConnectTimeout)
		setAddress(c, tr.Collector.Host, uint32(tr.Collector.Port))
		c.TypedExtensionProtocolOptions = map[string]*anyType{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": http2Options()}
		t.clusters[cluster] = xds.EncodeCluster(c)
	}
	perMillion := int32(1000000)
	if tr.SampledPerMillion != nil && *tr.SampledPerMillion >= 0 && *tr.SampledPerMillion <= 1000000 {
		perMillion = *tr.SampledPerMillion
	}
	hcm.Tracing = &hcmv3.HttpConnectionManager_Tracing{
		// Clients cannot force a trace with x-client-trace-id: nginx has no such header.
		ClientSampling: &typev3.Percent{Value: 0},
		RandomSampling: &typev3.Percent{Value: float64(perMillion) / 10000},
		Provider: &tracev3.Tracing_Http{Name: "envoy.tracers.opentelemetry", ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: mustAny(&tracev3.OpenTelemetryConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}}},
			ServiceName: tr.ServiceName,
		})}},
	}
	if tr.TrustIncomingSpan != nil && !*tr.TrustIncomingSpan {
		hcm.EarlyHeaderMutationExtensions = []*corev3.TypedExtensionConfig{untrustedTraceContext()}
	}
}

// untrustedTraceContext removes the client's W3C trace context before the connection
// manager extracts it, so every span starts a new trace (opentelemetry-trust-incoming-span
// false). Envoy then sends its own traceparent to the backend, as nginx's module does.
func untrustedTraceContext() *corev3.TypedExtensionConfig {
	return &corev3.TypedExtensionConfig{Name: "gatebridge.tracing.untrusted_context", TypedConfig: mustAny(&earlymutationv3.HeaderMutation{
		Mutations: []*mutationv3.HeaderMutation{
			{Action: &mutationv3.HeaderMutation_Remove{Remove: "traceparent"}},
			{Action: &mutationv3.HeaderMutation_Remove{Remove: "tracestate"}},
		},
	})}
}

// routeTracing is the tracing of rule ri of route r on g's Gateway: nil when the Gateway
// has no collector. A route-level block decides on/off and may name the span; else the
// Gateway's block does.
func (t *translator) routeTracing(g *portGroup, r *gwv1.HTTPRoute, ri int) *routev3.Tracing {
	gwt, _ := t.gatewayTracing(g.gw)
	if gwt == nil {
		return nil
	}
	enabled, name := gwt.Enabled, gwt.OperationName
	if rt := t.routeTracingBlock(r); rt != nil {
		enabled = rt.Enabled
		if rt.OperationName != "" {
			name = rt.OperationName
		}
	}
	if !enabled {
		zero := &typev3.FractionalPercent{}
		return &routev3.Tracing{ClientSampling: zero, RandomSampling: zero, OverallSampling: zero}
	}
	if name == "" {
		return nil
	}
	op, err := operationFormat(name, r, ri)
	if err != nil {
		t.problem("HTTPRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[%d]", ri), "tracing operation name: "+err.Error()+"; the span keeps Envoy's default name")
		return nil
	}
	return &routev3.Tracing{Operation: op}
}

// operationFormat translates a span name with nginx variables into an Envoy format
// string: per-request variables become command operators, the rule's backend and the
// route's namespace are written in.
func operationFormat(name string, r *gwv1.HTTPRoute, ri int) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range v1alpha1.OperationNameVariable.FindAllStringSubmatchIndex(name, -1) {
		b.WriteString(escapeFormatter(name[last:m[0]]))
		last = m[1]
		v := name[m[2]:m[3]]
		switch v {
		case "uri":
			b.WriteString("%PATH(NQ)%")
		case "request_id":
			b.WriteString("%REQ(x-request-id)%")
		case "namespace":
			b.WriteString(escapeFormatter(r.Namespace))
		case "service_name", "service_port":
			svc, port := firstBackend(r, ri)
			b.WriteString(escapeFormatter(map[bool]string{true: svc, false: port}[v == "service_name"]))
		default:
			f := envoyFormatter(v)
			if f == "" || v == "req_id" {
				return "", fmt.Errorf("variable $%s is not one the data plane evaluates", v)
			}
			b.WriteString(f)
		}
	}
	b.WriteString(escapeFormatter(name[last:]))
	return b.String(), nil
}

// firstBackend is the Service name and port of rule ri's first backend ("" when none), as
// ingress-nginx's $service_name and $service_port of the location.
func firstBackend(r *gwv1.HTTPRoute, ri int) (string, string) {
	refs := r.Spec.Rules[ri].BackendRefs
	if len(refs) == 0 {
		return "", ""
	}
	port := ""
	if p := refs[0].Port; p != nil {
		port = strconv.Itoa(int(*p))
	}
	return string(refs[0].Name), port
}
