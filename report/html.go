package report

import (
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// htmlPage is what the page template reads. Every string is passed through clean and is
// escaped by html/template.
type htmlPage struct {
	SchemaVersion string
	Totals        converters.Totals
	Verdicts      []htmlBadge
	Settings      []htmlSetting
	Problems      []Problem
	Ignored       []count
	Global        []htmlFinding
	Ingresses     []htmlIngress
	Annotations   []count
	Objects       []count
	// Migration: the report has migration states (behind the bridge); Migrations counts them.
	Migration  bool
	Migrations []count
}

type htmlBadge struct {
	Name  string
	Count int
	Class string
}

type htmlSetting struct{ Name, Value string }

type htmlIngress struct {
	ID       string // anchor, from the position: names may hold anything
	Name     string
	Class    string
	Verdict  string
	VClass   string
	Portable bool
	// NotPortable lists what needs gatebridge (or, with --portable, what is lost), with
	// its label.
	NotPortable      string
	NotPortableLabel string
	Canary           bool
	Hosts            string
	Open             bool
	Findings         []htmlFinding
	Objects          []converters.ObjectRef
	// Migration is the migration state ("" without one); MClass its CSS class.
	Migration string
	MClass    string
}

type htmlFinding struct {
	Severity   string
	SClass     string
	Annotation string
	Field      string
	Level      string
	Value      string
	Message    string
}

func renderHTML(w io.Writer, r *converters.Report, extra Extra) error {
	s := r.Settings
	p := htmlPage{
		SchemaVersion: clean(r.SchemaVersion, false),
		Totals:        r.Totals,
		Settings: []htmlSetting{
			{"IngressClass", s.IngressClass},
			{"Include Ingresses without a class", yesNo(s.IncludeUnclassed)},
			{"Annotations prefix", s.AnnotationsPrefix},
			{"Gateway", s.Gateway},
			{"GatewayClass", s.GatewayClass},
		},
		Ignored:     cleanCounts(byName(extra.Ignored)),
		Global:      htmlFindings(r.Global),
		Annotations: cleanCounts(byCount(r.Totals.Annotations)),
		Objects:     cleanCounts(byName(r.Totals.Objects)),
		Migration:   hasMigration(r),
	}
	if p.Migration {
		p.Migrations = migrationCounts(r)
	}
	if s.ConfigMap != "" {
		p.Settings = append(p.Settings, htmlSetting{"ConfigMap", s.ConfigMap})
	}
	for i := range p.Settings {
		p.Settings[i].Value = clean(p.Settings[i].Value, false)
	}
	for _, c := range verdictCounts(r.Totals) {
		p.Verdicts = append(p.Verdicts, htmlBadge{Name: c.Name, Count: c.Count, Class: verdictClass(converters.Verdict(c.Name))})
	}
	for _, pr := range extra.Problems {
		p.Problems = append(p.Problems, Problem{Source: clean(pr.Source, false), Kind: clean(pr.Kind, false),
			Name: clean(pr.Name, false), Message: clean(pr.Message, true)})
	}
	for i, ing := range r.Ingresses {
		objs := make([]converters.ObjectRef, len(ing.Objects))
		for j, o := range ing.Objects {
			objs[j] = converters.ObjectRef{Kind: clean(o.Kind, false), Namespace: clean(o.Namespace, false), Name: clean(o.Name, false)}
		}
		var mig, mclass string
		if ing.Migration != nil {
			mig, mclass = clean(migrationText(ing.Migration), false), migrationClass(ing.Migration.State)
		}
		p.Ingresses = append(p.Ingresses, htmlIngress{
			Migration:   mig,
			MClass:      mclass,
			ID:          "ingress-" + strconv.Itoa(i+1),
			Name:        clean(qualified(ing.Namespace, ing.Name), false),
			Class:       clean(ing.Class, false),
			Verdict:     clean(string(ing.Verdict), false),
			VClass:      verdictClass(ing.Verdict),
			Portable:    ing.Portable,
			NotPortable: clean(strings.Join(ing.NotPortable, "; "), false), NotPortableLabel: notPortableLabel(r),
			Canary:   ing.Canary,
			Hosts:    clean(strings.Join(ing.Hosts, ", "), false),
			Open:     ing.Verdict == converters.VerdictAttention || ing.Verdict == converters.VerdictRefused,
			Findings: htmlFindings(ing.Findings),
			Objects:  objs,
		})
	}
	return pageTemplate.Execute(w, p)
}

func htmlFindings(fs []converters.Finding) []htmlFinding {
	out := make([]htmlFinding, len(fs))
	for i, f := range fs {
		out[i] = htmlFinding{
			Severity:   clean(string(f.Severity), false),
			SClass:     severityClass(f.Severity),
			Annotation: clean(f.Annotation, false),
			Field:      clean(f.Field, false),
			Level:      clean(string(f.Level), false),
			Value:      clean(f.Value, true),
			Message:    clean(f.Message, true),
		}
	}
	return out
}

func cleanCounts(cs []count) []count {
	for i := range cs {
		cs[i].Name = clean(cs[i].Name, false)
	}
	return cs
}

// verdictClass is the CSS class of a verdict; unknown values get a neutral class.
func verdictClass(v converters.Verdict) string {
	switch v {
	case converters.VerdictExact, converters.VerdictApproximate, converters.VerdictAttention,
		converters.VerdictRefused, converters.VerdictSkipped:
		return "v-" + string(v)
	}
	return "v-other"
}

// migrationClass is the CSS class of a migration state; unknown values get a neutral class.
func migrationClass(s converters.MigrationState) string {
	switch s {
	case converters.MigrationObserved, converters.MigrationMigrating, converters.MigrationNative, converters.MigrationRefused:
		return "m-" + string(s)
	}
	return "m-other"
}

func severityClass(s converters.Severity) string {
	switch s {
	case converters.SeverityInfo, converters.SeverityWarning, converters.SeverityError:
		return "s-" + string(s)
	}
	return "s-other"
}

// pageTemplate is the whole page. The Content-Security-Policy forbids loading anything
// and running any script, as a second line of defence behind html/template's escaping.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatebridge report</title>
<style>
:root { color-scheme: light; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid #d0d7de; padding: 16px 24px; }
main { padding: 8px 24px 24px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 10px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; background: #fff; border: 1px solid #d0d7de; margin: 4px 0 8px; }
th, td { text-align: left; vertical-align: top; padding: 5px 10px; border-bottom: 1px solid #eaeef2; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 16em; }
code, .value { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
.value { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 28em; display: inline-block; }
.msg { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 60em; }
.badges { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; border: 1px solid; font-weight: 600; white-space: nowrap; }
.badge.zero { opacity: .45; }
.total, .portable { background: #fff; color: #1f2328; border-color: #d0d7de; }
.v-exact { background: #dafbe1; color: #116329; border-color: #4ac26b; }
.v-approximate { background: #ddf4ff; color: #0550ae; border-color: #54aeff; }
.v-needs-attention { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
.v-refused { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.v-skipped, .v-other { background: #eaeef2; color: #57606a; border-color: #afb8c1; }
.m-native { background: #dafbe1; color: #116329; border-color: #4ac26b; }
.m-migrating { background: #ddf4ff; color: #0550ae; border-color: #54aeff; }
.m-refused { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.m-observed, .m-other { background: #eaeef2; color: #57606a; border-color: #afb8c1; }
.s-error { color: #a40e26; font-weight: 600; }
.s-warning { color: #7d4e00; font-weight: 600; }
.s-info, .s-other { color: #57606a; }
.tag { font-size: 11.5px; color: #57606a; border: 1px solid #d0d7de; border-radius: 4px; padding: 0 4px; white-space: nowrap; }
.muted { color: #57606a; }
details { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 8px 0; padding: 0 14px; }
details[open] { padding-bottom: 10px; }
summary { cursor: pointer; padding: 10px 0; }
summary .badge { margin-right: 6px; }
footer { color: #57606a; padding: 0 24px 24px; font-size: 12px; }
@media print { body { background: #fff; } details { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>gatebridge report</h1>
<p class="badges">
<span class="badge total">{{.Totals.Ingresses}} Ingresses</span>
{{range .Verdicts}}<span class="badge {{.Class}}{{if not .Count}} zero{{end}}">{{.Count}} {{.Name}}</span>
{{end}}<span class="badge portable">{{.Totals.Portable}} portable</span>
</p>
{{- if .Migration}}
<p class="badges">Migration (behind the bridge):
{{range .Migrations}}<span class="badge m-{{.Name}}{{if not .Count}} zero{{end}}">{{.Count}} {{.Name}}</span>
{{end}}</p>
{{- end}}
</header>
<main>
<h2>Settings</h2>
<table class="kv">
{{range .Settings}}<tr><th>{{.Name}}</th><td><code>{{.Value}}</code></td></tr>
{{end}}</table>
{{if .Problems}}
<h2>Input problems</h2>
<p>These documents were not read (or, defined twice, not used) and are not in the report.</p>
<table>
<thead><tr><th>Source</th><th>Kind</th><th>Name</th><th>Message</th></tr></thead>
<tbody>
{{range .Problems}}<tr><td><code>{{.Source}}</code></td><td>{{.Kind}}</td><td><code>{{.Name}}</code></td><td class="msg">{{.Message}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
{{- if .Ignored}}
<h2>Ignored kinds</h2>
<p>Documents of kinds gatebridge does not read.</p>
<table>
<thead><tr><th>Kind</th><th class="num">Documents</th></tr></thead>
<tbody>
{{range .Ignored}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
<h2>Ingresses</h2>
{{if .Ingresses}}<table>
<thead><tr><th>Ingress</th><th>Class</th><th>Verdict</th>{{if $.Migration}}<th>Migration</th>{{end}}<th>Portable</th><th class="num">Findings</th><th class="num">Objects</th><th>Hosts</th></tr></thead>
<tbody>
{{range .Ingresses}}<tr><td><a href="#{{.ID}}">{{.Name}}</a>{{if .Canary}} <span class="tag">canary</span>{{end}}</td><td>{{.Class}}</td><td><span class="badge {{.VClass}}">{{.Verdict}}</span></td>{{if $.Migration}}<td>{{if .Migration}}<span class="badge {{.MClass}}">{{.Migration}}</span>{{else}}-{{end}}</td>{{end}}<td>{{if .Portable}}yes{{else}}no{{end}}</td><td class="num">{{len .Findings}}</td><td class="num">{{len .Objects}}</td><td>{{.Hosts}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted">No Ingresses in the input.</p>
{{end}}
{{- if .Global}}
<h2>Global findings</h2>
{{template "findings" .Global}}
{{end}}
{{- if .Ingresses}}
<h2>Details</h2>
{{range .Ingresses}}<details id="{{.ID}}"{{if .Open}} open{{end}}>
<summary><span class="badge {{.VClass}}">{{.Verdict}}</span>{{if .Migration}}<span class="badge {{.MClass}}">{{.Migration}}</span>{{end}}<strong>{{.Name}}</strong>{{if .Canary}} <span class="tag">canary</span>{{end}} <span class="muted">— findings: {{len .Findings}} · objects: {{len .Objects}}</span></summary>
<h3>Findings</h3>
{{if .Findings}}{{template "findings" .Findings}}{{else}}<p class="muted">None.</p>
{{end}}{{if .NotPortable}}<p><strong>{{.NotPortableLabel}}</strong> {{.NotPortable}}</p>
{{end}}<h3>Generated objects</h3>
{{if .Objects}}<table>
<thead><tr><th>Kind</th><th>Namespace</th><th>Name</th></tr></thead>
<tbody>
{{range .Objects}}<tr><td>{{.Kind}}</td><td>{{.Namespace}}</td><td><code>{{.Name}}</code></td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted">{{if eq .VClass "v-refused"}}None: this Ingress is not converted and its traffic stays on ingress-nginx.{{else}}None.{{end}}</p>
{{end}}</details>
{{end}}
{{- end}}
<h2>Annotations used</h2>
{{if .Annotations}}<table>
<thead><tr><th>Annotation</th><th class="num">Ingresses</th></tr></thead>
<tbody>
{{range .Annotations}}<tr><td><code>{{.Name}}</code></td><td class="num">{{.Count}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted">None.</p>
{{end}}
<h2>Generated objects by kind</h2>
{{if .Objects}}<table>
<thead><tr><th>Kind</th><th class="num">Objects</th></tr></thead>
<tbody>
{{range .Objects}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted">None.</p>
{{end}}
</main>
<footer>Report schema {{.SchemaVersion}} · generated by gatebridge</footer>
</body>
</html>
{{define "findings"}}<table>
<thead><tr><th>Severity</th><th>Annotation / field</th><th>Value</th><th>Message</th></tr></thead>
<tbody>
{{range .}}<tr><td class="{{.SClass}}">{{.Severity}}</td><td>{{if .Annotation}}<code>{{.Annotation}}</code>{{if .Level}} <span class="tag">{{.Level}}</span>{{end}}{{end}}{{if and .Annotation .Field}}<br>{{end}}{{if .Field}}<code>{{.Field}}</code>{{end}}</td><td>{{if .Value}}<span class="value">{{.Value}}</span>{{end}}</td><td class="msg">{{.Message}}</td></tr>
{{end}}</tbody>
</table>
{{end}}`))
