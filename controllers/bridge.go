package controllers

import (
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// The bridge in the cluster (docs/bridge.md): with --fallback, the shared Gateway stands
// in front of the running ingress-nginx. The writer converts in bridge mode on every
// replica and hands the feed the locations of the Ingresses Envoy does not serve natively
// (observed and refused ones); the feed publishes them with the objects it reads, and the
// fallback target resolved against the Services it watches.

// StateAnnotation is the migration state the controller writes on every Ingress it
// converts ("observed", "migrating 25%", "native", "refused", "failed").
const StateAnnotation = gbv1.StateAnnotation

// MigrationFailed is the state of an Ingress asked to migrate whose objects could not be
// written (the writer's StateFailed): the converter does not know it.
const MigrationFailed = converters.MigrationFailed

// fallbackRef is a --fallback or --fallback-tls value: a Service port
// ("namespace/name[:port]", port a number or a name; "" the default) or "host:port".
type fallbackRef struct {
	Service types.NamespacedName
	Port    string
	Address string
}

func (r fallbackRef) isService() bool { return r.Service.Name != "" }

// parseFallback reads the value of the flag named flag.
func parseFallback(flag, v string) (fallbackRef, error) {
	if ns, rest, ok := strings.Cut(v, "/"); ok {
		name, port, hasPort := strings.Cut(rest, ":")
		if errs := validation.IsDNS1123Label(ns); ns == "" || len(errs) > 0 {
			return fallbackRef{}, fmt.Errorf("%s %q: %q is not a namespace name; want namespace/name[:port] of a Service or host:port", flag, v, ns)
		}
		if errs := validation.IsDNS1035Label(name); name == "" || len(errs) > 0 {
			return fallbackRef{}, fmt.Errorf("%s %q: %q is not a Service name; want namespace/name[:port] of a Service or host:port", flag, v, name)
		}
		if hasPort && !validServicePort(port) {
			return fallbackRef{}, fmt.Errorf("%s %q: port %q is neither a number 1-65535 nor a port name", flag, v, port)
		}
		return fallbackRef{Service: types.NamespacedName{Namespace: ns, Name: name}, Port: port}, nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return fallbackRef{}, fmt.Errorf("%s %q: want namespace/name[:port] of a Service (the ingress-nginx controller's) or host:port", flag, v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fallbackRef{}, fmt.Errorf("%s %q: port %q is not a number 1-65535", flag, v, port)
	}
	return fallbackRef{Address: v}, nil
}

func validServicePort(p string) bool {
	if n, err := strconv.Atoi(p); err == nil {
		return n >= 1 && n <= 65535
	}
	return len(validation.IsValidPortName(p)) == 0
}

// bridgeConfig is the parsed fallback of the Options: nil without --fallback.
type bridgeConfig struct {
	gatewayNamespace, gatewayName string
	http                          fallbackRef
	// tls is --fallback-tls; nil: the HTTP Service's 443 (or "https") port, if it has one.
	tls *fallbackRef
}

// bridge parses Options.Fallback and FallbackTLS (nil, nil without a fallback).
func (o Options) bridge() (*bridgeConfig, error) {
	if o.Fallback == "" {
		if o.FallbackTLS != "" {
			return nil, fmt.Errorf("--fallback-tls %q needs --fallback (the ingress-nginx controller's Service or host:port)", o.FallbackTLS)
		}
		return nil, nil
	}
	o = o.withDefaults()
	b := &bridgeConfig{gatewayNamespace: o.Converter.GatewayNamespace, gatewayName: o.Converter.GatewayName}
	var err error
	if b.http, err = parseFallback("--fallback", o.Fallback); err != nil {
		return nil, err
	}
	if o.FallbackTLS != "" {
		t, err := parseFallback("--fallback-tls", o.FallbackTLS)
		if err != nil {
			return nil, err
		}
		b.tls = &t
	}
	return b, nil
}

// serviceLookup finds a Service of the model by namespace and name (nil: absent).
type serviceLookup func(types.NamespacedName) *corev1.Service

// model is the data plane's Bridge: Service ports resolved to numbers through service.
func (b *bridgeConfig) model(service serviceLookup) *dataplane.Bridge {
	out := &dataplane.Bridge{GatewayNamespace: b.gatewayNamespace, GatewayName: b.gatewayName}
	out.HTTP, _ = resolveFallback(b.http, service, 80, "http")
	switch {
	case b.tls != nil:
		t, _ := resolveFallback(*b.tls, service, 443, "https")
		out.TLS = &t
	case b.http.isService():
		// The ingress-nginx controller's Service serves TLS on its 443 ("https") port:
		// without --fallback-tls, that port when the Service has it.
		if t, ok := resolveFallback(fallbackRef{Service: b.http.Service}, service, 443, "https"); ok {
			out.TLS = &t
		}
	}
	return out
}

// resolveFallback makes r a FallbackTarget. A Service port given by name, or not given
// (the port numbered defPort, else the one named defName), is looked up in the Service;
// found says whether the Service has it. A port not found stays defPort (or the number
// given): the data plane finds no endpoints for it, and the fallback answers 503.
func resolveFallback(r fallbackRef, service serviceLookup, defPort int32, defName string) (dataplane.FallbackTarget, bool) {
	if !r.isService() {
		return dataplane.FallbackTarget{Address: r.Address}, true
	}
	t := dataplane.FallbackTarget{ServiceNamespace: r.Service.Namespace, ServiceName: r.Service.Name, Port: defPort}
	if n, err := strconv.Atoi(r.Port); err == nil {
		t.Port = int32(n)
		return t, true
	}
	svc := service(r.Service)
	if svc == nil {
		return t, false
	}
	if r.Port != "" {
		for _, p := range svc.Spec.Ports {
			if p.Name == r.Port {
				t.Port = p.Port
				return t, true
			}
		}
		return t, false
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == defPort {
			return t, true
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == defName {
			t.Port = p.Port
			return t, true
		}
	}
	return t, false
}

// legacyLocations are the conversion's RefusedLocations on the shared Gateway: the
// locations of refused and (in bridge mode) not-migrated Ingresses, which go to the
// fallback with the precedence their paths have in their hosts.
func legacyLocations(res converters.Result, o converters.Options) []dataplane.RefusedLocation {
	if len(res.RefusedLocations) == 0 {
		return []dataplane.RefusedLocation{}
	}
	out := make([]dataplane.RefusedLocation, len(res.RefusedLocations))
	for i, l := range res.RefusedLocations {
		out[i] = dataplane.RefusedLocation{GatewayNamespace: o.GatewayNamespace, GatewayName: o.GatewayName, Host: l.Host, Path: l.Path,
			Source: l.Namespace + "/" + l.Ingress, Reason: l.Reason}
	}
	return out
}

// migrationOf is where the Ingress stands, as gatebridge.dev/state says it: the
// converter's Migration in bridge mode, corrected by what the writer decided (refused
// because of an invalid hostname, failed to write); without a bridge, from the writer's
// state alone (migrated Ingresses are served natively in full).
func migrationOf(ip *IngressPlan) converters.Migration {
	switch ip.State {
	case StateFailed:
		return converters.Migration{State: MigrationFailed}
	case StateRefused:
		return converters.Migration{State: converters.MigrationRefused}
	}
	if m := ip.Report.Migration; m != nil {
		return *m
	}
	if ip.State == StateMigrated {
		return converters.Migration{State: converters.MigrationNative, Weight: 100}
	}
	return converters.Migration{State: converters.MigrationObserved}
}

// stateValue is the gatebridge.dev/state of the Ingress ("" when it is not converted: it
// carries none).
func stateValue(ip *IngressPlan) string {
	if !ip.Assessed() {
		return ""
	}
	return migrationOf(ip).String()
}

// invalidWeight is the Ingress's gatebridge.dev/weight when it is set and invalid on an
// Ingress that asked to migrate ("" otherwise): the writer records a Warning Event.
func invalidWeight(ip *IngressPlan) (string, bool) {
	if !ip.Requested || ip.Report.Migration == nil {
		return "", false
	}
	v, ok := ip.Ingress.Annotations[gbv1.WeightAnnotation]
	if _, valid := converters.ParseWeight(v); !ok || valid {
		return "", false
	}
	return v, true
}

// rememberWeights makes weights (the map the incremental conversion reads as its
// PreviousWeights) what the plan's conversion served each opted-in Ingress with
// (converters.RememberWeights).
func rememberWeights(weights map[string]int, p *Plan) {
	r := converters.Report{Ingresses: make([]converters.IngressReport, len(p.Ingresses))}
	for i, ip := range p.Ingresses {
		r.Ingresses[i] = ip.Report
	}
	next := converters.RememberWeights(weights, &r)
	clear(weights)
	maps.Copy(weights, next)
}

// seedWeights fills weights, for the Ingresses the writer remembers nothing of (after a
// restart), from the gatebridge.dev/state it wrote on them.
func seedWeights(weights map[string]int, ings []networkingv1.Ingress) {
	for i := range ings {
		ing := &ings[i]
		k := ing.Namespace + "/" + ing.Name
		if _, ok := weights[k]; ok {
			continue
		}
		if n, ok := converters.WeightFromState(ing.Annotations[StateAnnotation]); ok {
			weights[k] = n
		}
	}
}

// CheckFallback reports a --fallback or --fallback-tls value that cannot be used, before
// anything starts.
func (o Options) CheckFallback() error {
	_, err := o.bridge()
	return err
}
