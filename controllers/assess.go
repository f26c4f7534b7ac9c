package controllers

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// Event reasons on Ingresses.
const (
	ReasonAssessed         = "Assessed"
	ReasonMigrated         = "Migrated"
	ReasonMigrationRefused = "MigrationRefused"
	ReasonMigrationFailed  = "MigrationFailed"
	ReasonMigrationRemoved = "MigrationRemoved"
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
	}{ip.Report.Verdict, ip.Report.Portable, ip.Report.Findings, append(slices.Clip(ip.Notes), ip.Conflicts...), ip.State})
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

// eventFor says what changed for the Ingress, knowing its previous migration state.
func eventFor(ip *IngressPlan, prev MigrationState) ingressEvent {
	verdict := verdictPhrase(ip.Report)
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
	case StateRefused:
		e = ingressEvent{corev1.EventTypeWarning, ReasonMigrationRefused, "Migrate", fmt.Sprintf("Not migrated (%s): it gets no Gateway API objects and stays on ingress-nginx.", verdict)}
	case StateFailed:
		e = ingressEvent{corev1.EventTypeWarning, ReasonMigrationFailed, "Migrate", fmt.Sprintf("Not migrated (%s): its objects could not be written.", verdict)}
	default:
		switch prev {
		case StateMigrated, StateFailed:
			e = ingressEvent{corev1.EventTypeNormal, ReasonMigrationRemoved, "Migrate",
				fmt.Sprintf("No longer migrated (%s is not \"true\"): its Gateway API objects were deleted; it stays on ingress-nginx (%s).", MigrateAnnotation, verdict)}
		default:
			e = ingressEvent{corev1.EventTypeNormal, ReasonAssessed, "Assess", fmt.Sprintf("Assessed: %s.", verdict)}
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
