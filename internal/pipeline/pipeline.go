package pipeline

import (
	"strings"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// Result is what one pass of the pipeline produced.
type Result struct {
	Model *dataplane.Model
	// Report is the converter's report on the Ingresses of the input.
	Report converters.Report
	// Generated counts the objects the converter generated; Native those served natively
	// (behind a bridge, those of the migrating and native Ingresses and the shared objects
	// they use; else all of them).
	Generated, Native int
}

// Build converts the Ingresses of loaded and returns the model the data plane serves: the
// generated objects first, then the objects of the input (Gateway API objects written by
// hand, EndpointSlices, Endpoints), then the Services and Secrets of the input.
func Build(loaded *sources.Loaded, opts converters.Options) Result {
	return BuildBridged(loaded, opts, nil)
}

// BuildBridged is Build with the shared Gateway in front of ingress-nginx when bridge is
// not nil (docs/bridge.md): the conversion runs in bridge mode, only the objects of the
// Ingresses opted in (gatebridge.dev/migrate: "true", or of a gatebridge IngressClass) are
// served natively (converters.NativeObjects), the locations of the others go to the
// fallback (RefusedLocations), and the model carries the bridge.
func BuildBridged(loaded *sources.Loaded, opts converters.Options, bridge *dataplane.Bridge) Result {
	opts.Bridge = opts.Bridge || bridge != nil
	return assemble(loaded, converters.Convert(converterInput(loaded, opts), opts), opts, bridge)
}

// converterInput is what the converter reads of loaded: in bridge mode, as the controller
// reads a cluster, Ingresses of a gatebridge IngressClass are converted as drop-ins
// (converters.DropIn) and served natively, whole.
func converterInput(loaded *sources.Loaded, opts converters.Options) converters.Input {
	if !opts.Bridge {
		return loaded.Input
	}
	return converters.DropIn(loaded.Input, opts.IngressClass)
}

// assemble is Build with the conversion of loaded.Input already done (with opts).
func assemble(loaded *sources.Loaded, conv converters.Result, opts converters.Options, bridge *dataplane.Bridge) Result {
	served := conv.Objects
	if opts.Bridge {
		served = converters.NativeObjects(conv, opts)
	}
	m := &dataplane.Model{}
	for _, o := range served {
		m.Add(o)
	}
	for _, o := range loaded.Objects {
		m.Add(o)
	}
	m.Services = loaded.Services
	m.Secrets = loaded.Secrets
	// The ConfigMaps of the input: the CA certificates BackendTLSPolicies name.
	for i := range loaded.Input.ConfigMaps {
		m.ConfigMaps = append(m.ConfigMaps, &loaded.Input.ConfigMaps[i])
	}
	m.RefusedLocations = refusedLocations(conv)
	if bridge != nil {
		b := *bridge
		if b.GatewayNamespace == "" && b.GatewayName == "" {
			b.GatewayNamespace, b.GatewayName, _ = strings.Cut(conv.Report.Settings.Gateway, "/")
		}
		m.Bridge = &b
	}
	return Result{Model: m, Report: conv.Report, Generated: len(conv.Objects), Native: len(served)}
}

// refusedLocations hands the locations of refused Ingresses to the data plane, on the
// conversion's Gateway: no object serves them, and they must answer 503 rather than fall
// through to another Ingress (docs/dataplane.md, "Refused Ingresses"). In bridge mode they
// include the locations of the Ingresses not migrated, which go to the fallback.
func refusedLocations(conv converters.Result) []dataplane.RefusedLocation {
	if len(conv.RefusedLocations) == 0 {
		return nil
	}
	gwNamespace, gwName, _ := strings.Cut(conv.Report.Settings.Gateway, "/")
	out := make([]dataplane.RefusedLocation, len(conv.RefusedLocations))
	for i, l := range conv.RefusedLocations {
		out[i] = dataplane.RefusedLocation{GatewayNamespace: gwNamespace, GatewayName: gwName, Host: l.Host, Path: l.Path,
			Source: l.Namespace + "/" + l.Ingress, Reason: l.Reason}
	}
	return out
}
