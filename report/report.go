package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// Formats accepted by Render.
var Formats = []string{"table", "json", "markdown", "html"}

// CatalogFormats accepted by RenderCatalog.
var CatalogFormats = []string{"table", "json", "markdown"}

// Problem is an input document that could not be read.
type Problem struct {
	// Source names the origin: a file, "file#N" (N = 1-based document) or a flag.
	Source string `json:"source"`
	// Kind of the object, when it could be read that far.
	Kind string `json:"kind,omitempty"`
	// Name of the object ("namespace/name" or "name"), when known.
	Name string `json:"name,omitempty"`
	// Message says what was wrong.
	Message string `json:"message"`
}

// Extra is what the report does not hold but a reader needs: how the input was read.
type Extra struct {
	// Problems are documents that could not be read; they are not in the report.
	Problems []Problem
	// Ignored counts documents of kinds gatebridge does not read, by kind.
	Ignored map[string]int
}

// Render writes r in format: "table", "json", "markdown" or "html". Nothing is written
// when an error is returned.
func Render(w io.Writer, r *converters.Report, format string, extra Extra) error {
	if r == nil {
		return errors.New("no report to render")
	}
	n := normalize(r)
	extra = normalizeExtra(extra)
	if format == "json" {
		// json.Encoder writes the document in one Write, or nothing when it fails: no copy
		// of it is needed to write all or nothing (50,000 Ingresses: ~40 MB).
		if err := renderJSON(w, &n, extra); err != nil {
			return fmt.Errorf("rendering %s: %w", format, err)
		}
		return nil
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "table":
		err = renderTable(&buf, &n, extra)
	case "markdown":
		err = renderMarkdown(&buf, &n, extra)
	case "html":
		err = renderHTML(&buf, &n, extra)
	default:
		return unknownFormat(format, Formats)
	}
	if err != nil {
		return fmt.Errorf("rendering %s: %w", format, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func unknownFormat(format string, accepted []string) error {
	return fmt.Errorf("unknown output format %q (accepted: %s)", format, strings.Join(accepted, ", "))
}

// jsonReport is the JSON document: the report's fields at top level, then the input's.
type jsonReport struct {
	*converters.Report
	InputProblems []Problem      `json:"inputProblems"`
	IgnoredKinds  map[string]int `json:"ignoredKinds"`
}

func renderJSON(w io.Writer, r *converters.Report, extra Extra) error {
	enc := json.NewEncoder(w) // Encode ends with a newline
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Report: r, InputProblems: extra.Problems, IgnoredKinds: extra.Ignored})
}

// normalize returns a shallow copy of r in which every list and map is non-nil (so JSON
// never says null) and the schema version is set. r itself is not modified.
func normalize(r *converters.Report) converters.Report {
	n := *r
	if n.SchemaVersion == "" {
		n.SchemaVersion = converters.ReportSchemaVersion
	}
	if n.Global == nil {
		n.Global = []converters.Finding{}
	}
	n.Ingresses = make([]converters.IngressReport, len(r.Ingresses))
	copy(n.Ingresses, r.Ingresses)
	for i := range n.Ingresses {
		if n.Ingresses[i].Findings == nil {
			n.Ingresses[i].Findings = []converters.Finding{}
		}
		if n.Ingresses[i].Objects == nil {
			n.Ingresses[i].Objects = []converters.ObjectRef{}
		}
	}
	if n.Totals.Annotations == nil {
		n.Totals.Annotations = map[string]int{}
	}
	if n.Totals.Objects == nil {
		n.Totals.Objects = map[string]int{}
	}
	return n
}

func normalizeExtra(e Extra) Extra {
	if e.Problems == nil {
		e.Problems = []Problem{}
	}
	if e.Ignored == nil {
		e.Ignored = map[string]int{}
	}
	return e
}

// count is one named number.
type count struct {
	Name  string
	Count int
}

// byName returns m's entries sorted by name.
func byName(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, v := range m {
		out = append(out, count{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// byCount returns m's entries sorted by count (highest first), then name.
func byCount(m map[string]int) []count {
	out := byName(m)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// verdictCounts lists the totals per verdict, best first.
func verdictCounts(t converters.Totals) []count {
	return []count{
		{string(converters.VerdictExact), t.Exact},
		{string(converters.VerdictApproximate), t.Approximate},
		{string(converters.VerdictAttention), t.Attention},
		{string(converters.VerdictRefused), t.Refused},
		{string(converters.VerdictSkipped), t.Skipped},
	}
}

// hasMigration: the report comes from a conversion behind the bridge (some Ingress has a
// migration state); only then do the renderings show the states.
func hasMigration(r *converters.Report) bool {
	for _, i := range r.Ingresses {
		if i.Migration != nil {
			return true
		}
	}
	return false
}

// migrationText is an Ingress's migration state as the renderings show it: "migrating 25%
// (sticky)", "native", …; "-" for none (an Ingress of another class).
func migrationText(m *converters.Migration) string {
	if m == nil {
		return "-"
	}
	s := m.String()
	if m.Sticky && (m.State == converters.MigrationMigrating) {
		s += " (sticky)"
	}
	return s
}

// migrationCounts lists the Ingresses per migration state, in cutover order.
func migrationCounts(r *converters.Report) []count {
	n := map[converters.MigrationState]int{}
	for _, i := range r.Ingresses {
		if i.Migration != nil {
			n[i.Migration.State]++
		}
	}
	var out []count
	for _, s := range []converters.MigrationState{converters.MigrationObserved, converters.MigrationMigrating, converters.MigrationNative, converters.MigrationRefused} {
		out = append(out, count{string(s), n[s]})
	}
	return out
}

// qualified joins a namespace and a name.
func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// subject is what a finding is about: its annotation, its field, or both.
func subject(f converters.Finding) string {
	switch {
	case f.Annotation != "" && f.Field != "":
		return f.Annotation + " (" + f.Field + ")"
	case f.Annotation != "":
		return f.Annotation
	}
	return f.Field
}

func problemSubject(p Problem) string {
	s := p.Source
	if what := strings.TrimSpace(p.Kind + " " + p.Name); what != "" {
		s += " (" + what + ")"
	}
	return s
}

// clean makes untrusted text safe to show: control characters (including ESC, so no
// terminal escape sequences) and bidirectional formatting characters (which can reorder
// what a reader sees) become visible \u escapes; invalid UTF-8 becomes U+FFFD. Line
// breaks and tabs become spaces unless keepNewlines.
func clean(s string, keepNewlines bool) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' && keepNewlines:
			b.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r) // RuneError is written as U+FFFD
		}
	}
	return b.String()
}

// truncate shortens s to at most n runes, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
