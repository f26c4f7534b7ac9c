package controllers

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
)

// Event reasons on Ingresses.
const (
	ReasonAssessed         = "Assessed"
	ReasonMigrated         = "Migrated"
	ReasonMigrationRefused = "MigrationRefused"
	ReasonMigrationFailed  = "MigrationFailed"
	ReasonMigrationRemoved = "MigrationRemoved"
	// ReasonMigrating: served natively at a gatebridge.dev/weight below 100, the rest by
	// ingress-nginx through the bridge.
	ReasonMigrating = "Migrating"
	// ReasonInvalidWeight: the gatebridge.dev/weight annotation is not 0…100; the last
	// valid weight is kept.
	ReasonInvalidWeight = "InvalidWeight"
)

// maxEventNote is the length of an Event's note the API server accepts (events.k8s.io/v1).
const maxEventNote = 1024

// reportHash is the value of the report-hash annotation for the Ingress's current
// assessment: its migration state, then a hash of its verdict, findings, notes and state.
// An Event is recorded when it changes, so a resync or a restart records nothing new.
func reportHash(ip *IngressPlan) string {
	h, err := hashOf(struct {
		Verdict  converters.Verdict   `json:"verdict"`
		Portable bool                 `json:"portable"`
		Findings []converters.Finding `json:"findings"`
		Notes    []string             `json:"notes"`
		State    MigrationState       `json:"state"`
		// Migration (bridge mode only: omitted, the hashes are those of before the bridge)
		// makes a new weight a new assessment, with its Event.
		Migration *converters.Migration `json:"migration,omitempty"`
	}{ip.Report.Verdict, ip.Report.Portable, ip.Report.Findings, append(slices.Clip(ip.Notes), ip.Conflicts...), ip.State, ip.Report.Migration})
	if err != nil {
		// A struct of strings always encodes; keep a value that still changes with the state.
		h = "unhashable"
	}
	return string(ip.State) + "/" + h
}

// stateOf reads the migration state back from a report-hash annotation value.
func stateOf(reportHash string) MigrationState {
	state, _, _ := strings.Cut(reportHash, "/")
	return MigrationState(state)
}

// ingressEvent is one Event on an Ingress.
type ingressEvent struct {
	Type, Reason, Action, Note string
}

// eventsFor are the Events of an Ingress whose assessment changed: what changed (eventFor,
// saying the state it had when gatebridge.dev/state changed), and a Warning when its
// gatebridge.dev/weight is invalid — that Warning alone when the state stayed the same.
func eventsFor(ip *IngressPlan, prev MigrationState, prevState, state string) []ingressEvent {
	e := eventFor(ip, prev)
	if prevState != "" && prevState != state {
		e.Note = truncate(fmt.Sprintf("State %s (was %s). %s", state, prevState, e.Note), maxEventNote)
	}
	v, bad := invalidWeight(ip)
	if !bad {
		return []ingressEvent{e}
	}
	w := invalidWeightEvent(v, migrationOf(ip))
	if prevState == state {
		// Nothing but the weight's validity changed: one Warning, with the rest of the
		// assessment after it.
		w.Note = truncate(w.Note+" "+e.Note, maxEventNote)
		return []ingressEvent{w}
	}
	return []ingressEvent{e, w}
}

// invalidWeightEvent names the annotation, its value and the weight kept.
func invalidWeightEvent(value string, m converters.Migration) ingressEvent {
	kept := fmt.Sprintf("the weight stays %d%% (its last valid one, or 0 — all to ingress-nginx — when there is none)", m.Weight)
	return ingressEvent{corev1.EventTypeWarning, ReasonInvalidWeight, "Migrate", truncate(fmt.Sprintf(
		"annotation %s is %q: want a whole number from 0 to 100 (the percentage of requests served natively, without %%); %s; state %s.",
		gbv1.WeightAnnotation, value, kept, m.String()), maxEventNote)}
}

// eventFor says what changed for the Ingress, knowing its previous migration state.
func eventFor(ip *IngressPlan, prev MigrationState) ingressEvent {
	verdict := verdictPhrase(ip.Report)
	m := ip.Report.Migration
	var e ingressEvent
	switch ip.State {
	case StateMigrated:
		objs := make([]string, len(ip.Objects))
		for i, k := range ip.Objects {
			objs[i] = k.String()
		}
		what := "no objects of its own"
		if len(objs) > 0 {
			what = strings.Join(objs, ", ")
		}
		e = ingressEvent{corev1.EventTypeNormal, ReasonMigrated, "Migrate", fmt.Sprintf("Migrated to the Gateway API (%s): %s.", verdict, what)}
		if m != nil && m.State == converters.MigrationMigrating {
			sticky := ""
			if m.Sticky {
				sticky = " A cookie keeps each client on its side while the weight stays."
			}
			e = ingressEvent{corev1.EventTypeNormal, ReasonMigrating, "Migrate", fmt.Sprintf(
				"Migrating (%s): %d%% of its requests are served natively by %s, the rest by ingress-nginx through the bridge (%s).%s",
				verdict, m.Weight, what, gbv1.WeightAnnotation, sticky)}
		}
	case StateRefused:
		e = ingressEvent{corev1.EventTypeWarning, ReasonMigrationRefused, "Migrate", fmt.Sprintf("Not migrated (%s): it gets no Gateway API objects and stays on ingress-nginx.", verdict)}
	case StateFailed:
		e = ingressEvent{corev1.EventTypeWarning, ReasonMigrationFailed, "Migrate", fmt.Sprintf("Not migrated (%s): its objects could not be written.", verdict)}
	default:
		bridged := m != nil
		switch prev {
		case StateMigrated, StateFailed:
			back := "it stays on ingress-nginx"
			if bridged {
				back = "all of its requests go to ingress-nginx through the bridge"
			}
			e = ingressEvent{corev1.EventTypeNormal, ReasonMigrationRemoved, "Migrate",
				fmt.Sprintf("No longer migrated (%s is not \"true\"): its Gateway API objects were deleted; %s (%s).", MigrateAnnotation, back, verdict)}
		default:
			e = ingressEvent{corev1.EventTypeNormal, ReasonAssessed, "Assess", fmt.Sprintf("Assessed: %s.", verdict)}
			if bridged {
				e.Note = fmt.Sprintf("Assessed: %s. Observed: ingress-nginx serves it through the bridge until %s is \"true\".", verdict, MigrateAnnotation)
			}
			if ip.Report.Verdict == converters.VerdictAttention || ip.Report.Verdict == converters.VerdictRefused {
				e.Type = corev1.EventTypeWarning
			}
		}
	}
	var details []string
	details = append(details, ip.Notes...)
	details = append(details, ip.Conflicts...)
	details = append(details, findingLines(ip.Report.Findings)...)
	if len(details) > 0 {
		e.Note += " " + strings.Join(details, " ")
	}
	e.Note = truncate(e.Note, maxEventNote)
	return e
}

func verdictPhrase(r converters.IngressReport) string {
	p := "verdict " + string(r.Verdict)
	if r.Verdict != converters.VerdictRefused {
		if r.Portable {
			p += ", portable"
		} else {
			p += ", needs gatebridge"
		}
	}
	return p
}

// findingLines are the findings worst first, each "where: message".
func findingLines(fs []converters.Finding) []string {
	sorted := append([]converters.Finding(nil), fs...)
	rank := map[converters.Severity]int{converters.SeverityError: 0, converters.SeverityWarning: 1, converters.SeverityInfo: 2}
	sort.SliceStable(sorted, func(i, j int) bool { return rank[sorted[i].Severity] < rank[sorted[j].Severity] })
	out := make([]string, 0, len(sorted))
	for _, f := range sorted {
		where := f.Field
		if f.Annotation != "" {
			where = "annotation " + f.Annotation
		}
		line := f.Message
		if where != "" {
			line = where + ": " + line
		}
		if !strings.HasSuffix(line, ".") {
			line += "."
		}
		out = append(out, line)
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " …"
	cut := n - len(mark)
	for cut > 0 && !validRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func validRuneStart(b byte) bool { return b&0xC0 != 0x80 }
