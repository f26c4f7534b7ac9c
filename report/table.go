package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gatebridge-dev/gatebridge/converters"
)

const (
	tableMaxHosts = 3  // hosts shown per Ingress; the rest are counted
	tableMaxValue = 60 // runes of a finding's value
)

// renderTable writes the terminal form: one aligned line per Ingress, the findings of
// each non-exact Ingress indented under it, then global findings, input problems and
// totals.
func renderTable(w io.Writer, r *converters.Report, extra Extra) error {
	ew := &errWriter{w: w}
	if len(r.Ingresses) == 0 {
		ew.printf("No Ingresses in the input.\n")
	} else {
		rows, err := ingressRows(r.Ingresses, hasMigration(r))
		if err != nil {
			return err
		}
		ew.printf("%s\n", rows[0])
		for i, ing := range r.Ingresses {
			ew.printf("%s\n", rows[i+1])
			if ing.Verdict != converters.VerdictExact {
				for _, f := range ing.Findings {
					ew.printf("  %s\n", findingLine(f))
				}
			}
			if len(ing.NotPortable) > 0 {
				ew.printf("  %s %s\n", notPortableLabel(r), clean(strings.Join(ing.NotPortable, "; "), false))
			}
		}
	}
	if len(r.Global) > 0 {
		ew.printf("\nGlobal findings:\n")
		for _, f := range r.Global {
			ew.printf("  %s\n", findingLine(f))
		}
	}
	if len(extra.Problems) > 0 {
		ew.printf("\nInput problems (these documents were not read, or not used):\n")
		for _, p := range extra.Problems {
			ew.printf("  %s: %s\n", clean(problemSubject(p), false), clean(p.Message, false))
		}
	}
	if len(extra.Ignored) > 0 {
		ew.printf("\nIgnored kinds: %s\n", joinCounts(byName(extra.Ignored), "="))
	}
	t := r.Totals
	ew.printf("\nTotals: %d Ingresses: ", t.Ingresses)
	for i, c := range verdictCounts(t) {
		if i > 0 {
			ew.printf(", ")
		}
		ew.printf("%d %s", c.Count, c.Name)
	}
	if hasMigration(r) {
		ew.printf("\nMigration (behind the bridge): ")
		for i, c := range migrationCounts(r) {
			if i > 0 {
				ew.printf(", ")
			}
			ew.printf("%d %s", c.Count, c.Name)
		}
	}
	ew.printf("\nPortable (the standard Gateway API says every behaviour): %d of %d\n", t.Portable, t.Ingresses)
	if len(t.Objects) > 0 {
		ew.printf("Objects: %s\n", joinCounts(byName(t.Objects), " "))
	}
	return ew.err
}

// ingressRows aligns the header and one row per Ingress with a tabwriter; findings are
// interleaved afterwards so they do not break the alignment.
// With migration, a MIGRATION column follows the verdict.
func ingressRows(ings []converters.IngressReport, migration bool) ([]string, error) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	if migration {
		fmt.Fprintln(tw, "INGRESS\tVERDICT\tMIGRATION\tPORTABLE\tOBJECTS\tHOSTS")
	} else {
		fmt.Fprintln(tw, "INGRESS\tVERDICT\tPORTABLE\tOBJECTS\tHOSTS")
	}
	for _, ing := range ings {
		name := clean(qualified(ing.Namespace, ing.Name), false)
		if ing.Canary {
			name += " (canary)"
		}
		verdict := clean(string(ing.Verdict), false)
		if migration {
			verdict += "\t" + clean(migrationText(ing.Migration), false)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", name, verdict, yesNo(ing.Portable), len(ing.Objects), hostList(ing.Hosts))
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines, nil
}

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return "-"
	}
	shown := hosts
	if len(shown) > tableMaxHosts {
		shown = shown[:tableMaxHosts]
	}
	s := clean(strings.Join(shown, ","), false)
	if more := len(hosts) - len(shown); more > 0 {
		s += fmt.Sprintf(" (+%d more)", more)
	}
	return s
}

// findingLine is "[severity] subject: message (value "v")".
func findingLine(f converters.Finding) string {
	var b strings.Builder
	b.WriteString("[" + clean(string(f.Severity), false) + "] ")
	if s := subject(f); s != "" {
		b.WriteString(clean(s, false) + ": ")
	}
	b.WriteString(clean(f.Message, false))
	if f.Value != "" {
		// strconv.Quote escapes control characters; clean also catches bidi controls.
		b.WriteString(" (value " + clean(strconv.Quote(truncate(f.Value, tableMaxValue)), false) + ")")
	}
	return b.String()
}

func joinCounts(cs []count, sep string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = clean(c.Name, false) + sep + strconv.Itoa(c.Count)
	}
	return strings.Join(parts, ", ")
}

// notPortableLabel introduces an Ingress's notPortable list: what needs gatebridge's kinds,
// or, with --portable, what the output lost.
func notPortableLabel(r *converters.Report) string {
	if r.Settings.Portable {
		return "lost by --portable:"
	}
	return "needs gatebridge for:"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
