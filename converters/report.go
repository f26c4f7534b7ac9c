package converters

import (
	"fmt"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// ReportSchemaVersion versions the JSON form of Report. Additive changes keep the version;
// anything else bumps it. The schema is documented in docs/report-schema.md.
const ReportSchemaVersion = "gatebridge.dev/report/v1"

// Verdict is the overall result for one Ingress, from best to worst.
type Verdict string

// Verdicts.
const (
	VerdictExact       Verdict = "exact"
	VerdictApproximate Verdict = "approximate"
	// VerdictAttention: converted, but something needs a person (invalid value ignored,
	// unsupported annotation, lost conflict, unresolved reference).
	VerdictAttention Verdict = "needs-attention"
	// VerdictRefused: not converted (raw configuration, security control that fails closed).
	VerdictRefused Verdict = "refused"
	// VerdictSkipped: not for this converter (another IngressClass).
	VerdictSkipped Verdict = "skipped"
)

func verdictRank(v Verdict) int {
	switch v {
	case VerdictExact:
		return 0
	case VerdictApproximate:
		return 1
	case VerdictAttention:
		return 2
	case VerdictRefused:
		return 3
	}
	return 4
}

// Severity of a finding.
type Severity string

// Severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Finding is one observation about an Ingress.
type Finding struct {
	// Annotation is the annotation name without prefix, if the finding is about one.
	Annotation string `json:"annotation,omitempty"`
	// Field is the Ingress field path, if the finding is about one (e.g. spec.rules[0].http.paths[1]).
	Field string `json:"field,omitempty"`
	// Value is the offending or noted value.
	Value string `json:"value,omitempty"`
	// Level is the support level of the annotation ("" for non-annotation findings).
	Level annotations.Level `json:"level,omitempty"`
	// Severity says whether a person must act.
	Severity Severity `json:"severity"`
	// Message says what happens and what to do.
	Message string `json:"message"`
	// Snippet is set on the findings of a translated snippet: the line, the idiom it
	// matched and the construct it became.
	Snippet *SnippetTrace `json:"snippet,omitempty"`
}

// ObjectRef names a generated object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// IngressReport is the result for one Ingress.
type IngressReport struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Class is the effective IngressClass ("" = none).
	Class   string  `json:"class,omitempty"`
	Verdict Verdict `json:"verdict"`
	// Portable is true when the result uses standard Gateway API kinds only and, with
	// --portable, nothing was lost.
	Portable bool `json:"portable"`
	// NotPortable are the behaviours the standard Gateway API cannot say: served through
	// gatebridge's kinds (default), or lost (--portable). Empty when Portable.
	NotPortable []string `json:"notPortable,omitempty"`
	// Canary is true for canary Ingresses (their rules live in the primary's routes).
	Canary   bool        `json:"canary,omitempty"`
	Hosts    []string    `json:"hosts,omitempty"`
	Findings []Finding   `json:"findings"`
	Objects  []ObjectRef `json:"objects"`
	// Migration is where the Ingress stands in its cutover; set in bridge mode only.
	Migration *Migration `json:"migration,omitempty"`
}

// MigrationState is an Ingress's place in its cutover from ingress-nginx.
type MigrationState string

// Migration states, as the report, the gatebridge.dev/state annotation and Events say them.
const (
	// MigrationObserved: not opted in; ingress-nginx serves all of it (through the bridge).
	MigrationObserved MigrationState = "observed"
	// MigrationMigrating: opted in with a weight below 100: that share is served natively.
	MigrationMigrating MigrationState = "migrating"
	// MigrationNative: opted in at weight 100 (or of the gatebridge IngressClass).
	MigrationNative MigrationState = "native"
	// MigrationRefused: opted in, but the conversion refused it; ingress-nginx keeps it.
	MigrationRefused MigrationState = "refused"
)

// Migration is an Ingress's migration state and the weight it is served natively with.
type Migration struct {
	State MigrationState `json:"state"`
	// Weight is the native share in percent (0 unless migrating or native).
	Weight int `json:"weight"`
	// Sticky: clients keep their side by a cookie (gatebridge.dev/sticky: "true").
	Sticky bool `json:"sticky,omitempty"`
}

// String is the state as gatebridge.dev/state shows it: "migrating 25%", "native", …
func (m Migration) String() string {
	if m.State == MigrationMigrating {
		return fmt.Sprintf("migrating %d%%", m.Weight)
	}
	return string(m.State)
}

// Totals counts Ingresses per verdict.
type Totals struct {
	Ingresses   int `json:"ingresses"`
	Exact       int `json:"exact"`
	Approximate int `json:"approximate"`
	Attention   int `json:"needsAttention"`
	Refused     int `json:"refused"`
	Skipped     int `json:"skipped"`
	Portable    int `json:"portable"`
	// Annotations counts, per annotation name, the Ingresses that use it.
	Annotations map[string]int `json:"annotations"`
	Objects     map[string]int `json:"objects"`
}

// Report is the dry-run report of one conversion.
type Report struct {
	SchemaVersion string `json:"schemaVersion"`
	// Settings echoes the options that shaped the result.
	Settings ReportSettings `json:"settings"`
	// Global holds findings not tied to one Ingress (ConfigMap, Gateway size).
	Global    []Finding       `json:"global"`
	Ingresses []IngressReport `json:"ingresses"`
	Totals    Totals          `json:"totals"`
}

// ReportSettings are the options in the report.
type ReportSettings struct {
	IngressClass      string `json:"ingressClass"`
	IncludeUnclassed  bool   `json:"includeUnclassed"`
	AnnotationsPrefix string `json:"annotationsPrefix"`
	Gateway           string `json:"gateway"`
	GatewayClass      string `json:"gatewayClass"`
	ConfigMap         string `json:"configMap,omitempty"`
	// Portable: converted with --portable (standard kinds only; notPortable is what is lost).
	Portable bool `json:"portable,omitempty"`
}

// Worst returns the worst verdict of the report's Ingresses (exact when empty).
func (r *Report) Worst() Verdict {
	w := VerdictExact
	for _, i := range r.Ingresses {
		if i.Verdict != VerdictSkipped && verdictRank(i.Verdict) > verdictRank(w) {
			w = i.Verdict
		}
	}
	return w
}

// AtLeast reports whether v is as bad as or worse than threshold.
func AtLeast(v, threshold Verdict) bool { return verdictRank(v) >= verdictRank(threshold) }
