package converters

import (
	"fmt"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// The bridge (docs/bridge.md): the Gateway stands in front of the running ingress-nginx,
// and each Ingress moves over on its own. In bridge mode (Options.Bridge) the conversion
// stays complete — every Ingress is converted and reported as without the bridge, so the
// dry run says what each becomes — and in addition:
//
//   - each Ingress of the converted class gets its migration state (IngressReport.Migration):
//     observed (not opted in), migrating N% (opted in, gatebridge.dev/weight below 100),
//     native (opted in at 100, or of the gatebridge IngressClass: Input.DropIn) or refused
//     (opted in, but the conversion refused it);
//   - the locations of observed Ingresses join the refused ones in Result.RefusedLocations:
//     no native route serves them, and they go to the fallback with the precedence their
//     path has inside the host — a migrated "/" must not swallow a not-migrated "/api";
//   - the HTTPRoutes of a migrating Ingress carry gatebridge.dev/weight (below 100) and
//     gatebridge.dev/sticky, which the data plane reads to split its requests.
//
// What is then served natively is cut from the Result by NativeObjects (native.go).

// NotMigratedReason is the Reason of the RefusedLocations of observed Ingresses.
const NotMigratedReason = `not migrated (` + gbv1.MigrateAnnotation + ` is not "true")`

// bridgeIntent is what an Ingress's annotations ask of the bridge (bridge mode only).
type bridgeIntent struct {
	// optedIn: gatebridge.dev/migrate is "true", or the Ingress is of the gatebridge
	// IngressClass (dropIn).
	optedIn, dropIn bool
	// weight is the native share in percent when opted in (0 otherwise).
	weight int
	sticky bool
}

// ParseWeight reads a gatebridge.dev/weight value: an integer 0…100 (surrounding spaces
// allowed), nothing else — no sign, no "%", no decimals.
func ParseWeight(v string) (int, bool) {
	s := strings.TrimSpace(v)
	if s == "" || len(s) > 8 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 100 {
		return 0, false
	}
	return n, true
}

// readBridge reads the bridge annotations of a selected Ingress into src.bridge, with a
// finding for each value that is invalid or has no effect.
func (c *conversion) readBridge(src *source) {
	ing := src.ing
	weightValue, hasWeight := ing.Annotations[gbv1.WeightAnnotation]
	stickyValue, hasSticky := ing.Annotations[gbv1.StickyAnnotation]
	note := func(name, value, msg string) {
		src.add(Finding{Annotation: name, Value: displayValue(value), Severity: SeverityInfo, Message: msg})
	}
	if !c.opts.Bridge {
		const noFallback = "has no effect without a fallback: every request of a served Ingress is served natively (gatebridge run --fallback, or the controller's --fallback, puts gatebridge in front of ingress-nginx and splits the requests)"
		if hasWeight {
			note(gbv1.WeightAnnotation, weightValue, noFallback)
		}
		if hasSticky {
			note(gbv1.StickyAnnotation, stickyValue, noFallback)
		}
		return
	}
	b := &src.bridge
	_, b.dropIn = c.dropIn[src.key()]
	b.optedIn = b.dropIn || ing.Annotations[gbv1.MigrateAnnotation] == "true"
	if !b.optedIn {
		for _, a := range []struct {
			name, value string
			set         bool
		}{{gbv1.WeightAnnotation, weightValue, hasWeight}, {gbv1.StickyAnnotation, stickyValue, hasSticky}} {
			if a.set {
				note(a.name, a.value, "has no effect while the Ingress is not migrated: ingress-nginx serves all of it; set "+gbv1.MigrateAnnotation+`: "true" to move it over`)
			}
		}
		return
	}
	b.weight = 100
	switch {
	case b.dropIn:
		if hasWeight {
			note(gbv1.WeightAnnotation, weightValue, "is ignored: an Ingress of the gatebridge IngressClass is always served natively, whole; to move it over gradually, give it ingress-nginx's class with "+gbv1.MigrateAnnotation+` "true"`)
		}
		if hasSticky {
			note(gbv1.StickyAnnotation, stickyValue, "is ignored: an Ingress of the gatebridge IngressClass is always served natively, whole")
		}
		return
	case src.ann.Canary.Enabled:
		if hasWeight {
			note(gbv1.WeightAnnotation, weightValue, "is ignored on a canary Ingress: its rules live in the routes of the Ingress it joins (same host, path and pathType), whose "+gbv1.WeightAnnotation+" applies; set it there")
		}
		if hasSticky {
			note(gbv1.StickyAnnotation, stickyValue, "is ignored on a canary Ingress: the "+gbv1.StickyAnnotation+" of the Ingress it joins applies; set it there")
		}
		return
	case hasWeight:
		if n, ok := ParseWeight(weightValue); ok {
			b.weight = n
			break
		}
		prev, had := c.opts.PreviousWeights[src.key()]
		used := "0 (every request goes to ingress-nginx)"
		b.weight = 0
		if had {
			b.weight = prev
			used = fmt.Sprintf("%d, the last valid value", prev)
		}
		src.add(Finding{Annotation: gbv1.WeightAnnotation, Value: displayValue(weightValue), Severity: SeverityWarning,
			Message: "is not a whole number from 0 to 100 (no sign, no %, no decimals); the weight stays at " + used + "; write e.g. \"25\" to serve 25% of the requests natively"})
	}
	switch {
	case !hasSticky || stickyValue == "false":
	case stickyValue == "true":
		b.sticky = true
	default:
		src.add(Finding{Annotation: gbv1.StickyAnnotation, Value: displayValue(stickyValue), Severity: SeverityWarning,
			Message: `is neither "true" nor "false"; clients are not pinned to their side; write "true" to pin each client with a cookie while the weight does not change`})
	}
}

// migrationOf is the migration state of a selected Ingress once its verdict is known.
func migrationOf(b bridgeIntent, v Verdict) *Migration {
	switch {
	case !b.optedIn:
		return &Migration{State: MigrationObserved}
	case v == VerdictRefused:
		return &Migration{State: MigrationRefused, Sticky: b.sticky}
	case b.weight >= 100:
		return &Migration{State: MigrationNative, Weight: 100, Sticky: b.sticky}
	}
	return &Migration{State: MigrationMigrating, Weight: b.weight, Sticky: b.sticky}
}

// rejectedMigration is the migration state of an Ingress the API server rejects (it
// has no source: it never exists in a cluster, so it is refused when opted in).
func (c *conversion) rejectedMigration(key string, ann map[string]string) *Migration {
	if _, dropIn := c.dropIn[key]; dropIn || ann[gbv1.MigrateAnnotation] == "true" {
		return &Migration{State: MigrationRefused}
	}
	return &Migration{State: MigrationObserved}
}

// applyBridge marks the part's objects for the data plane's split (bridge mode): the
// HTTPRoutes of a migrating Ingress carry its weight and stickiness; a TLSRoute of one
// gets a finding, since a TLS stream cannot be split per request.
//
// A canary's requests are served by the routes of the Ingress it joins, so it takes that
// Ingress's state (observed when that one is refused: its requests go to ingress-nginx).
func (c *converter) applyBridge(sources []*source) {
	joined := map[*source]bool{}
	for _, h := range c.model.sortedHosts() {
		for _, l := range h.locations {
			if l.canary == nil || joined[l.canary.src] {
				continue
			}
			joined[l.canary.src] = true
			l.canary.src.bridge = l.src.bridge
			if l.src.refused() {
				l.canary.src.bridge = bridgeIntent{}
			}
		}
	}
	noted := map[*source]bool{}
	for i, obj := range c.out.objs {
		m := c.out.members[i]
		if m < 0 || m >= len(sources) || sources[m] == nil {
			continue
		}
		s := sources[m]
		if !s.bridge.optedIn || s.refused() || s.bridge.weight >= 100 {
			continue
		}
		switch x := obj.(type) {
		case *gwv1.HTTPRoute:
			ann := map[string]string{gbv1.WeightAnnotation: strconv.Itoa(s.bridge.weight)}
			if s.bridge.sticky {
				ann[gbv1.StickyAnnotation] = "true"
			}
			x.Annotations = ann
		case *gwv1.TLSRoute:
			if !noted[s] {
				noted[s] = true
				s.add(Finding{Annotation: gbv1.WeightAnnotation, Value: strconv.Itoa(s.bridge.weight), Severity: SeverityInfo,
					Message: "a TLS passthrough connection cannot be split per request: below 100 its TLSRoute " + x.Namespace + "/" + x.Name + " is not served natively and its SNI keeps passing through to ingress-nginx; at 100 it is served natively"})
			}
		}
	}
}

// RememberWeights returns the PreviousWeights for the conversion after the one that
// reported r (bridge mode): the weight each opted-in Ingress is served with — its valid
// gatebridge.dev/weight, or, when that is invalid, the one it kept. A refused Ingress keeps
// its entry of prev; an Ingress no longer opted in, or gone, has none (opted in again with
// an invalid weight, it starts at 0: towards ingress-nginx). prev is not modified.
func RememberWeights(prev map[string]int, r *Report) map[string]int {
	out := map[string]int{}
	for _, ing := range r.Ingresses {
		m := ing.Migration
		if m == nil {
			continue
		}
		k := ing.Namespace + "/" + ing.Name
		switch m.State {
		case MigrationMigrating, MigrationNative:
			out[k] = m.Weight
		case MigrationRefused:
			if w, ok := prev[k]; ok {
				out[k] = w
			}
		}
	}
	return out
}
