package controllers

import (
	"fmt"
	"strings"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// Names the controller reads and writes: the gatebridge.dev annotations and the labels on
// every generated object (README).
const (
	// FieldManager is the server-side apply field manager of every write.
	FieldManager = "gatebridge"
	// MigrateAnnotation on an Ingress opts it in: "true" migrates, anything else does not.
	MigrateAnnotation = "gatebridge.dev/migrate"
	// ReportHashAnnotation on an Ingress remembers the last assessment an Event was
	// recorded for: "<migration state>/<hash of verdict, findings and notes>".
	ReportHashAnnotation = "gatebridge.dev/report-hash"
	// AppliedHashAnnotation on an owned object is the hash of what gatebridge last applied;
	// with the managed-by label it marks the objects the controller owns.
	AppliedHashAnnotation = "gatebridge.dev/applied-hash"
	// RequiresAnnotation on an HTTPRoute the controller applies lists the objects of its
	// namespace it must never be served without ("RouteFilter/a,TrafficPolicy/b"): the
	// feed serves such a route only once it holds them all (requires.go).
	RequiresAnnotation = "gatebridge.dev/requires"
	// IngressControllerName is the spec.controller of the gatebridge IngressClass: its
	// Ingresses are migrated without the annotation (drop-in).
	IngressControllerName = converters.DropInController
	// EventReporter names the controller in the Events it records.
	EventReporter = "gatebridge-controller"
)

// Options configure the writer.
type Options struct {
	// Converter are the conversion settings; the Gateway names and the class default as in
	// converters (gatebridge-system/gatebridge, class gatebridge, Ingress class nginx).
	Converter converters.Options
	// ConfigMap is the ingress-nginx controller ConfigMap ("namespace/name"); empty: none.
	ConfigMap string
	// EnvoyService is the Envoy fleet's Service ("namespace/name", default
	// DefaultEnvoyService): its address is the shared Gateway's status.addresses and the
	// status.loadBalancer of drop-in Ingresses (address.go).
	EnvoyService string
	// GatewayAddress, when set, is that address instead of the Service's (an IP address or
	// a hostname; for runs outside a cluster).
	GatewayAddress string
	// GatewayAddressPool, when set (a CIDR, --gateway-address-pool), gives each Gateway of
	// our classes its own address from it: Envoy binds that address for the Gateway's
	// listener ports, and it is the Gateway's status.addresses (addresspool.go). The
	// drop-in Ingresses then show the shared Gateway's.
	GatewayAddressPool string
	// Fallback, when set, puts the shared Gateway in front of the running ingress-nginx
	// (docs/bridge.md): "namespace/name[:port]" of its controller Service (port a number
	// or a name; default the port numbered 80, else the one named "http") or "host:port".
	// Only Ingresses opted in are then served natively, each at its gatebridge.dev/weight;
	// everything else goes there untouched.
	Fallback string
	// FallbackTLS receives by SNI the TLS connections for hosts Envoy holds no certificate
	// for: like Fallback (default port 443, else "https"); "" with a Service Fallback: that
	// Service's 443 ("https") port when it has one.
	FallbackTLS string

	// The rest is for tests, and for the next slices.

	// WrapClient wraps the client the writer writes with (tests count writes with it).
	WrapClient func(client.Client) client.Client
	// WrapRecorder wraps the event recorder (tests count Events with it).
	WrapRecorder func(events.EventRecorder) events.EventRecorder
	// Observe is called after every pass with its outcome.
	Observe func(PassResult)
}

func (o Options) withDefaults() Options {
	c := &o.Converter
	// The controller reads Secrets for the data plane only, which checks client CAs itself.
	c.SecretsNotInInput = true
	if c.IngressClass == "" {
		c.IngressClass = "nginx"
	}
	if c.GatewayName == "" {
		c.GatewayName = "gatebridge"
	}
	if c.GatewayNamespace == "" {
		c.GatewayNamespace = "gatebridge-system"
	}
	if c.GatewayClassName == "" {
		c.GatewayClassName = "gatebridge"
	}
	if o.EnvoyService == "" {
		o.EnvoyService = DefaultEnvoyService
	}
	// With a fallback, the conversion is the bridge's: migration states, weights, and
	// the locations of the Ingresses not served natively.
	c.Bridge = c.Bridge || o.Fallback != ""
	return o
}

// configMapKey splits Options.ConfigMap ("namespace/name").
func (o Options) configMapKey() (client.ObjectKey, bool, error) {
	if o.ConfigMap == "" {
		return client.ObjectKey{}, false, nil
	}
	ns, name, ok := strings.Cut(o.ConfigMap, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return client.ObjectKey{}, false, fmt.Errorf("--configmap %q: want namespace/name", o.ConfigMap)
	}
	return client.ObjectKey{Namespace: ns, Name: name}, true, nil
}
