package pipeline

import (
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// Reloader reads the same paths again and again and builds the model each time, for
// `gatebridge run` and its benchmark. Reading goes through a sources.Reader, so only files
// that changed are decoded again, and converting through a converters.Incremental, so only
// the Ingresses tied to changed ones are converted again.
type Reloader struct {
	reader *sources.Reader
	conv   *converters.Incremental
	// served: a model was served (Served); dirty: something besides endpoints changed since.
	served, dirty bool
	// last is the last conversion: the converter reads no EndpointSlices or Endpoints, so it
	// stands as long as only those changed.
	last *converters.Result
	opts converters.Options
	// bridge, when set, puts the Gateway in front of ingress-nginx (BuildBridged); weights
	// are then the last valid gatebridge.dev/weight of each migrating Ingress, which an
	// invalid value keeps (converters.RememberWeights).
	bridge  *dataplane.Bridge
	weights map[string]int
}

// Reload is one pass: what was read and what was built from it.
type Reload struct {
	Loaded *sources.Loaded
	Result Result
	// OnlyEndpoints: only files holding nothing but EndpointSlices and Endpoints changed
	// since the model last served, so only endpoints need re-resolving (no route rebuild).
	OnlyEndpoints bool
	// ChurnBytes is how many bytes of files this pass decoded or dropped
	// (sources.Reader.ChurnBytes).
	ChurnBytes int64
}

// NewReloader reads paths (files or directories) with read and converts with opts.
func NewReloader(paths []string, read sources.Options, opts converters.Options) *Reloader {
	return NewBridgedReloader(paths, read, opts, nil)
}

// NewBridgedReloader is NewReloader with the Gateway in front of ingress-nginx when bridge
// is not nil (BuildBridged). The last valid weight of each Ingress is remembered from one
// reload to the next.
func NewBridgedReloader(paths []string, read sources.Options, opts converters.Options, bridge *dataplane.Bridge) *Reloader {
	opts.Bridge = opts.Bridge || bridge != nil
	return &Reloader{reader: sources.NewReader(paths, read), conv: converters.NewIncremental(opts), opts: opts, bridge: bridge}
}

// Next reads the paths and builds the model.
func (r *Reloader) Next() (*Reload, error) {
	loaded, err := r.reader.Read()
	if err != nil {
		return nil, err
	}
	onlyEndpoints := r.reader.OnlyEndpointsChanged()
	if r.last == nil || !onlyEndpoints {
		// Only the parts of changed Ingresses are converted again (converters.Incremental),
		// unless something else the converter reads changed.
		changed, others := r.reader.ConverterChanges()
		if r.last == nil || others {
			changed = nil
		}
		if r.opts.Bridge {
			r.conv.SetPreviousWeights(r.weights)
		}
		conv := r.conv.Convert(converterInput(loaded, r.opts), changed)
		r.last = &conv
		if r.opts.Bridge {
			r.weights = converters.RememberWeights(r.weights, &conv.Report)
		}
	}
	// A reload that was not served leaves its changes pending for the next one.
	r.dirty = r.dirty || !onlyEndpoints
	return &Reload{Loaded: loaded, Result: assemble(loaded, *r.last, r.opts, r.bridge), OnlyEndpoints: r.served && !r.dirty, ChurnBytes: r.reader.ChurnBytes()}, nil
}

// Snapshot is the reload as the data-plane half's input.
func (rl *Reload) Snapshot() Snapshot {
	s := Snapshot{Model: rl.Result.Model, Change: ChangeAll}
	if rl.OnlyEndpoints {
		s.Change = ChangeEndpoints
	}
	return s
}

// Served records that the model of the last Next is being served.
func (r *Reloader) Served() { r.served, r.dirty = true, false }
