package pipeline

import (
	"context"
	"fmt"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// The seam between the two halves of the pipeline. Both front doors — the files of
// `gatebridge run` (Server) and the informers of `gatebridge controller` — turn what they
// read into a Snapshot, and both publish it through a Publisher: one policy for what is
// translated again, what is kept when publishing fails and when a version counts as served.

// Change says what changed since the source's previous Snapshot.
type Change int

const (
	// ChangeAll: anything may have changed; the model is translated again (an unchanged
	// HTTPRoute's translation is reused, see dataplane.Translator).
	ChangeAll Change = iota
	// ChangeEndpoints: only EndpointSlices (or Endpoints) changed, so only endpoints need
	// re-resolving: listeners, routes and clusters are neither rebuilt nor re-sent.
	ChangeEndpoints
)

func (c Change) String() string {
	if c == ChangeEndpoints {
		return "endpoints"
	}
	return "all"
}

// Snapshot is the input of the data-plane half of the pipeline, the same whatever the
// source: the objects to serve and what changed since the source's previous Snapshot.
type Snapshot struct {
	// Model holds the Gateway API objects (of any class: the translator serves those of
	// its controller's GatewayClasses), gatebridge's kinds, Services, EndpointSlices,
	// Endpoints and Secrets. Its objects are never modified, by the source or downstream.
	Model  *dataplane.Model
	Change Change
}

// Published is what one Publish did.
type Published struct {
	// Output is the translation published; nil when only endpoints were re-resolved.
	Output *dataplane.Output
	// Version is the data plane's version now served (the previous one when nothing
	// changed).
	Version string
	// Changed: something was sent to Envoy.
	Changed bool
}

// Publisher publishes Snapshots to a data plane:
//
//   - a ChangeEndpoints snapshot re-resolves endpoints only, provided the last publish
//     succeeded (otherwise what it did not publish is still pending) and no route depends
//     on which Services have ready endpoints (a default backend); anything else is a full
//     translation;
//   - a snapshot that fails to translate or publish changes nothing Envoy serves: the
//     last good configuration stays, and the next snapshot is translated in full;
//   - WaitApplied waits, bounded, for Envoy to acknowledge a version.
//
// A Publisher is not safe for concurrent use: each source publishes from one goroutine.
type Publisher struct {
	dp DataPlane
	// current: the last publish succeeded, so the data plane holds the translation of the
	// source's previous Snapshot.
	current bool
}

// NewPublisher publishes to dp.
func NewPublisher(dp DataPlane) *Publisher { return &Publisher{dp: dp} }

// Publish translates and publishes s (see Publisher).
func (p *Publisher) Publish(s Snapshot) (Published, error) {
	var out Published
	var err error
	if s.Change == ChangeEndpoints && p.current && !s.Model.RoutesDependOnReadiness() {
		out.Version, out.Changed, err = p.dp.ApplyEndpoints(s.Model)
	} else {
		out.Output, out.Version, out.Changed, err = p.dp.Apply(s.Model)
	}
	if err != nil {
		p.current = false
		return Published{}, fmt.Errorf("the new configuration was not published: %w", err)
	}
	p.current = true
	return out, nil
}

// WaitApplied waits until Envoy acknowledged version, for at most ackTimeout.
func (p *Publisher) WaitApplied(ctx context.Context, version string) error {
	waitCtx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	if err := p.dp.WaitApplied(waitCtx, version); err != nil {
		return fmt.Errorf("published, not confirmed: %w", err)
	}
	return nil
}
