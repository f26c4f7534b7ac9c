package report

import (
	"io"
	"strings"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// renderMarkdown writes GitHub-flavoured Markdown: totals, a table of Ingresses, then the
// findings of each Ingress that has any, global findings and input problems.
func renderMarkdown(w io.Writer, r *converters.Report, extra Extra) error {
	ew := &errWriter{w: w}
	t := r.Totals
	s := r.Settings
	ew.printf("# gatebridge report\n\n")
	ew.printf("Schema %s · IngressClass %s", mdCode(r.SchemaVersion), mdCode(s.IngressClass))
	if s.IncludeUnclassed {
		ew.printf(" (and Ingresses without a class)")
	}
	ew.printf(" · annotations prefix %s · Gateway %s of class %s", mdCode(s.AnnotationsPrefix), mdCode(s.Gateway), mdCode(s.GatewayClass))
	if s.ConfigMap != "" {
		ew.printf(" · ConfigMap %s", mdCode(s.ConfigMap))
	}
	ew.printf("\n\n## Totals\n\n| Verdict | Ingresses |\n|---|---:|\n")
	for _, c := range verdictCounts(t) {
		ew.printf("| %s | %d |\n", c.Name, c.Count)
	}
	ew.printf("| **total** | **%d** |\n\n", t.Ingresses)
	migration := hasMigration(r)
	if migration {
		ew.printf("| Migration (behind the bridge) | Ingresses |\n|---|---:|\n")
		for _, c := range migrationCounts(r) {
			ew.printf("| %s | %d |\n", c.Name, c.Count)
		}
		ew.printf("\n")
	}
	ew.printf("%d of %d Ingresses are portable (the standard Gateway API says every behaviour).\n", t.Portable, t.Ingresses)
	if len(t.Objects) > 0 {
		ew.printf("\n| Generated kind | Objects |\n|---|---:|\n")
		for _, c := range byName(t.Objects) {
			ew.printf("| %s | %d |\n", mdText(c.Name), c.Count)
		}
	}

	ew.printf("\n## Ingresses\n\n")
	if len(r.Ingresses) == 0 {
		ew.printf("No Ingresses in the input.\n")
	} else {
		if migration {
			ew.printf("| Ingress | Verdict | Migration | Portable | Objects | Findings |\n|---|---|---|---|---:|---:|\n")
		} else {
			ew.printf("| Ingress | Verdict | Portable | Objects | Findings |\n|---|---|---|---:|---:|\n")
		}
		for _, ing := range r.Ingresses {
			name := mdCodeCell(qualified(ing.Namespace, ing.Name))
			if ing.Canary {
				name += " (canary)"
			}
			verdict := mdText(string(ing.Verdict))
			if migration {
				verdict += " | " + mdText(migrationText(ing.Migration))
			}
			ew.printf("| %s | %s | %s | %d | %d |\n", name, verdict, yesNo(ing.Portable), len(ing.Objects), len(ing.Findings))
		}
	}

	for _, ing := range r.Ingresses {
		if len(ing.Findings) == 0 && len(ing.NotPortable) == 0 {
			continue
		}
		if migration && ing.Migration != nil {
			ew.printf("\n### %s — %s · %s\n\n", mdText(qualified(ing.Namespace, ing.Name)), mdText(string(ing.Verdict)), mdText(migrationText(ing.Migration)))
		} else {
			ew.printf("\n### %s — %s\n\n", mdText(qualified(ing.Namespace, ing.Name)), mdText(string(ing.Verdict)))
		}
		for _, f := range ing.Findings {
			ew.printf("%s\n", mdFinding(f))
		}
		if len(ing.NotPortable) > 0 {
			ew.printf("\n%s %s\n", mdText(strings.ToUpper(notPortableLabel(r)[:1])+notPortableLabel(r)[1:]), mdText(strings.Join(ing.NotPortable, "; ")))
		}
	}
	if len(r.Global) > 0 {
		ew.printf("\n## Global findings\n\n")
		for _, f := range r.Global {
			ew.printf("%s\n", mdFinding(f))
		}
	}
	if len(extra.Problems) > 0 {
		ew.printf("\n## Input problems\n\nThese documents were not read (or, defined twice, not used) and are not in the report.\n\n")
		for _, p := range extra.Problems {
			ew.printf("- %s: %s\n", mdCode(problemSubject(p)), mdText(p.Message))
		}
	}
	if len(extra.Ignored) > 0 {
		ew.printf("\n## Ignored kinds\n\nDocuments of kinds gatebridge does not read.\n\n| Kind | Documents |\n|---|---:|\n")
		for _, c := range byName(extra.Ignored) {
			ew.printf("| %s | %d |\n", mdText(c.Name), c.Count)
		}
	}
	return ew.err
}

// mdFinding is a bullet: "- **severity** `annotation`: message (value `v`)".
func mdFinding(f converters.Finding) string {
	var b strings.Builder
	b.WriteString("- **" + mdText(string(f.Severity)) + "**")
	switch {
	case f.Annotation != "" && f.Field != "":
		b.WriteString(" " + mdCode(f.Annotation) + " (" + mdCode(f.Field) + "):")
	case f.Annotation != "":
		b.WriteString(" " + mdCode(f.Annotation) + ":")
	case f.Field != "":
		b.WriteString(" " + mdCode(f.Field) + ":")
	}
	b.WriteString(" " + mdText(f.Message))
	if f.Value != "" {
		b.WriteString(" (value " + mdCode(truncate(f.Value, 200)) + ")")
	}
	return b.String()
}

// mdSpecial are the characters mdText escapes with a backslash (CommonMark allows a
// backslash before any ASCII punctuation).
const mdSpecial = "\\`*_[]<>|#~!&"

// mdText escapes s as inline Markdown text on one line, so it renders literally: no
// emphasis, links, raw HTML or table breaks.
func mdText(s string) string {
	s = clean(s, false)
	var b strings.Builder
	for _, r := range s {
		if r < 128 && strings.ContainsRune(mdSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode is s as a code span on one line (for text outside tables).
func mdCode(s string) string {
	s = clean(s, false)
	if s == "" {
		return "` `"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdCodeCell is a code span inside a table cell: GFM splits cells on "|" before reading
// code spans, so "|" is escaped there too.
func mdCodeCell(s string) string {
	return strings.ReplaceAll(mdCode(s), "|", `\|`)
}
