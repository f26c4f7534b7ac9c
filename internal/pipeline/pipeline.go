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
	// Generated counts the objects the converter generated.
	Generated int
}

// Build converts the Ingresses of loaded and returns the model the data plane serves: the
// generated objects first, then the objects of the input (Gateway API objects written by
// hand, EndpointSlices, Endpoints), then the Services and Secrets of the input.
func Build(loaded *sources.Loaded, opts converters.Options) Result {
	return assemble(loaded, converters.Convert(loaded.Input, opts))
}

// assemble is Build with the conversion of loaded.Input already done.
func assemble(loaded *sources.Loaded, conv converters.Result) Result {
	m := &dataplane.Model{}
	for _, o := range conv.Objects {
		m.Add(o)
	}
	for _, o := range loaded.Objects {
		m.Add(o)
	}
	m.Services = loaded.Services
	m.Secrets = loaded.Secrets
	m.RefusedLocations = refusedLocations(conv)
	return Result{Model: m, Report: conv.Report, Generated: len(conv.Objects)}
}

// refusedLocations hands the locations of refused Ingresses to the data plane, on the
// conversion's Gateway: no object serves them, and they must answer 503 rather than fall
// through to another Ingress (docs/dataplane.md, "Refused Ingresses").
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
