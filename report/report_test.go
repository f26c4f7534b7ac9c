package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/converters"
)

const (
	scriptMsg  = `value <script>alert(1)</script> is not allowed`
	pipeMsg    = `choose a|b, not both`
	unicodeMsg = `hôte café → 日本語 ✓`
)

func sampleReport() *converters.Report {
	return &converters.Report{
		SchemaVersion: converters.ReportSchemaVersion,
		Settings: converters.ReportSettings{IngressClass: "nginx", AnnotationsPrefix: annotations.DefaultPrefix,
			Gateway: "gatebridge-system/gatebridge", GatewayClass: "gatebridge"},
		Global: []converters.Finding{{Field: "ConfigMap ingress-nginx/ingress-nginx-controller data.proxy-body-size",
			Value: "lots", Severity: converters.SeverityWarning, Message: "is not a size; the ingress-nginx default is used"}},
		Ingresses: []converters.IngressReport{
			{Namespace: "default", Name: "api", Class: "nginx", Verdict: converters.VerdictExact, Portable: true,
				Hosts: []string{"api.example.com"}, Findings: []converters.Finding{},
				Objects: []converters.ObjectRef{{Kind: "HTTPRoute", Namespace: "default", Name: "api-example-com"}}},
			{Namespace: "shop", Name: "web|front", Class: "nginx", Verdict: converters.VerdictAttention,
				Hosts: []string{"shop.example.com", "www.shop.example.com"},
				Findings: []converters.Finding{
					{Annotation: "rewrite-target", Value: "/<script>", Level: annotations.Approximate, Severity: converters.SeverityError, Message: scriptMsg},
					{Annotation: "use-regex", Value: "a|b", Level: annotations.Exact, Severity: converters.SeverityWarning, Message: pipeMsg},
					{Field: "spec.rules[0].host", Value: "café\x1b[31m", Severity: converters.SeverityInfo, Message: unicodeMsg},
				},
				Objects: []converters.ObjectRef{{Kind: "HTTPRoute", Namespace: "shop", Name: "web-shop-example-com"},
					{Kind: "TrafficPolicy", Namespace: "shop", Name: "web"}}},
			{Namespace: "legacy", Name: "snippets", Class: "nginx", Verdict: converters.VerdictRefused,
				Findings: []converters.Finding{{Annotation: "configuration-snippet", Value: "more_set_headers \"X: y\";",
					Level: annotations.Refused, Severity: converters.SeverityError, Message: "raw nginx configuration is refused"}}},
		},
		Totals: converters.Totals{Ingresses: 3, Exact: 1, Attention: 1, Refused: 1, Portable: 1,
			Annotations: map[string]int{"rewrite-target": 1, "use-regex": 1, "configuration-snippet": 1, "ssl-redirect": 2},
			Objects:     map[string]int{"HTTPRoute": 2, "TrafficPolicy": 1, "Gateway": 1}},
	}
}

func sampleExtra() Extra {
	return Extra{
		Problems: []Problem{{Source: "broken.yaml#2", Kind: "Ingress", Name: "x/y", Message: "is not valid YAML: <oops> | bad"}},
		Ignored:  map[string]int{"Deployment": 2, "ConfigMap": 1},
	}
}

func render(t *testing.T, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, sampleReport(), format, sampleExtra()); err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	if b.Len() == 0 {
		t.Fatalf("Render(%s): empty output", format)
	}
	return b.String()
}

func TestJSON(t *testing.T) {
	out := render(t, "json")
	if !strings.HasSuffix(out, "}\n") || !strings.HasPrefix(out, "{\n  \"schemaVersion\"") {
		t.Errorf("JSON is not indented with a trailing newline:\n%s", out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("JSON does not decode: %v", err)
	}
	want := []string{"schemaVersion", "settings", "global", "ingresses", "totals", "inputProblems", "ignoredKinds"}
	if len(m) != len(want) {
		t.Errorf("top-level keys = %d, want %v", len(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("missing top-level key %q", k)
		}
	}
	if m["schemaVersion"] != converters.ReportSchemaVersion {
		t.Errorf("schemaVersion = %v", m["schemaVersion"])
	}
	// Keys in struct order.
	last := -1
	for _, k := range want {
		i := strings.Index(out, "\n  \""+k+"\":")
		if i < last {
			t.Errorf("key %q out of order", k)
		}
		last = i
	}
	// The report part round-trips into the report type.
	var back converters.Report
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if back.Ingresses[1].Findings[0].Message != scriptMsg || back.Ingresses[1].Findings[2].Message != unicodeMsg {
		t.Errorf("messages did not round-trip: %+v", back.Ingresses[1].Findings)
	}
	if got := m["inputProblems"].([]any)[0].(map[string]any)["source"]; got != "broken.yaml#2" {
		t.Errorf("inputProblems[0].source = %v", got)
	}
	if got := m["ignoredKinds"].(map[string]any)["Deployment"]; got != 2.0 {
		t.Errorf("ignoredKinds.Deployment = %v", got)
	}
}

func TestJSONNeverNull(t *testing.T) {
	var b bytes.Buffer
	r := &converters.Report{Ingresses: []converters.IngressReport{{Namespace: "a", Name: "b", Verdict: converters.VerdictExact}}}
	if err := Render(&b, r, "json", Extra{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "null") {
		t.Errorf("JSON holds null:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `"schemaVersion": "`+converters.ReportSchemaVersion+`"`) {
		t.Errorf("missing schema version:\n%s", b.String())
	}
	if r.Ingresses[0].Findings != nil || r.Global != nil {
		t.Error("Render modified its input")
	}
}

func TestHTML(t *testing.T) {
	out := render(t, "html")
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.HasSuffix(out, "</html>\n") {
		t.Errorf("not a whole page")
	}
	for _, bad := range []string{"<script", "http://", "https://", "src=", `href="http`, "url(", "@import", "//"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("<script> from a message is not escaped")
	}
	if !strings.Contains(out, unicodeMsg) {
		t.Error("unicode message is not kept")
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `café\u001b[31m`) {
		t.Error("control character is not made visible")
	}
	// Every href is an anchor in the page.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(out, -1) {
		if id := strings.TrimPrefix(m[1], "#"); id == m[1] || !strings.Contains(out, `id="`+id+`"`) {
			t.Errorf("href %q is not a local anchor", m[1])
		}
	}
	// needs-attention and refused are open; exact is not.
	if n := strings.Count(out, " open>"); n != 2 {
		t.Errorf("%d open details, want 2", n)
	}
	for _, want := range []string{"v-exact", "v-needs-attention", "v-refused", "Input problems", "broken.yaml#2",
		"Annotations used", "gatebridge-system/gatebridge", "TrafficPolicy", "web|front"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// Annotations sorted by count desc, then name.
	order := []string{"ssl-redirect", "configuration-snippet", "rewrite-target", "use-regex"}
	sec := out[strings.Index(out, "Annotations used"):]
	last := -1
	for _, a := range order {
		i := strings.Index(sec, "<code>"+a+"</code>")
		if i < last {
			t.Errorf("annotation %s out of order", a)
		}
		last = i
	}
	// Tags balance roughly: the escaped text did not open elements.
	if strings.Count(out, "<details") != strings.Count(out, "</details>") || strings.Count(out, "<table") != strings.Count(out, "</table>") {
		t.Error("unbalanced elements")
	}
}

func TestMarkdown(t *testing.T) {
	out := render(t, "markdown")
	for _, want := range []string{"# gatebridge report", `a\|b`, "`rewrite-target`", "## Input problems", "## Global findings",
		unicodeMsg, `\<script\>`, "`shop/web\\|front`"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Outside code spans (where "<" is literal text) "<" is escaped.
	if strings.Contains(out, "<script>alert") || strings.Contains(out, "\x1b") {
		t.Error("markdown holds raw HTML or a control character")
	}
	// Every table row has as many unescaped cell separators as its header.
	lines := strings.Split(out, "\n")
	sep := regexp.MustCompile(`(^|[^\\])\|`)
	cols := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "|") {
			cols = 0
			continue
		}
		n := len(sep.FindAllString(l, -1))
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row has %d separators, header %d: %s", n, cols, l)
		}
	}
	if !strings.Contains(out, "| `legacy/snippets` | refused | no | 0 | 1 |") {
		t.Errorf("Ingress table row missing:\n%s", out)
	}
}

func TestTable(t *testing.T) {
	out := render(t, "table")
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "INGRESS") || !strings.Contains(lines[0], "VERDICT") {
		t.Errorf("header: %q", lines[0])
	}
	for _, want := range []string{"[error] rewrite-target: " + scriptMsg, "[warning] use-regex: " + pipeMsg,
		"[info] spec.rules[0].host: " + unicodeMsg, "Global findings:", "Input problems", "Ignored kinds: ConfigMap=1, Deployment=2",
		"Totals: 3 Ingresses: 1 exact, 0 approximate, 1 needs-attention, 1 refused, 0 skipped", "Objects: Gateway 1, HTTPRoute 2, TrafficPolicy 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("table passes an escape character to the terminal")
	}
	// Columns are aligned: VERDICT starts at the same offset on every Ingress line.
	col := strings.Index(lines[0], "VERDICT")
	for _, name := range []string{"default/api ", "shop/web|front ", "legacy/snippets "} {
		for _, l := range lines {
			if strings.HasPrefix(l, name) {
				if v := strings.TrimLeft(l[len(name):], " "); len(l)-len(v) != col {
					t.Errorf("misaligned: %q", l)
				}
			}
		}
	}
	// Findings of the exact Ingress are not listed; the exact Ingress has none anyway, so
	// check that its line is directly followed by the next Ingress.
	for i, l := range lines {
		if strings.HasPrefix(l, "default/api ") && !strings.HasPrefix(lines[i+1], "shop/") {
			t.Errorf("exact Ingress followed by %q", lines[i+1])
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, f := range Formats {
		a, b := render(t, f), render(t, f)
		if a != b {
			t.Errorf("%s output differs between runs", f)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	err := Render(&b, sampleReport(), "yaml", Extra{})
	if err == nil || !strings.Contains(err.Error(), "table, json, markdown, html") {
		t.Errorf("err = %v", err)
	}
	if b.Len() != 0 {
		t.Error("output written on error")
	}
	if err := Render(&b, nil, "json", Extra{}); err == nil {
		t.Error("nil report accepted")
	}
	if err := RenderCatalog(&b, annotations.Catalog(), "html"); err == nil || !strings.Contains(err.Error(), "table, json, markdown") {
		t.Errorf("catalog err = %v", err)
	}
}

func TestEmptyReport(t *testing.T) {
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, &converters.Report{}, f, Extra{}); err != nil || b.Len() == 0 {
			t.Errorf("%s: err %v, %d bytes", f, err, b.Len())
		}
	}
}

func TestCatalog(t *testing.T) {
	specs := annotations.Catalog()
	outs := map[string]string{}
	for _, f := range CatalogFormats {
		var b bytes.Buffer
		if err := RenderCatalog(&b, specs, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b.Len() == 0 {
			t.Fatalf("%s: empty", f)
		}
		var again bytes.Buffer
		_ = RenderCatalog(&again, specs, f)
		if !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Errorf("%s: not deterministic", f)
		}
		outs[f] = b.String()
	}
	var decoded []map[string]any
	if err := json.Unmarshal([]byte(outs["json"]), &decoded); err != nil {
		t.Fatal(err)
	}
	if len(decoded) != len(specs) {
		t.Errorf("json has %d entries, catalog %d", len(decoded), len(specs))
	}
	if len(specs) > 0 && decoded[0]["name"] != specs[0].Name {
		t.Errorf("json[0].name = %v", decoded[0]["name"])
	}
	table := strings.Split(strings.TrimSuffix(outs["table"], "\n"), "\n")
	if len(table) != len(specs)+1 || !strings.HasPrefix(table[0], "NAME") {
		t.Errorf("table has %d lines for %d specs", len(table), len(specs))
	}
	for _, s := range specs {
		if strings.Contains(outs["table"], annotations.DefaultPrefix+"/"+s.Name) {
			t.Errorf("table has prefixed name %s", s.Name)
		}
		if !strings.Contains(outs["markdown"], "| `"+s.Name+"`") {
			t.Errorf("markdown lacks %s", s.Name)
		}
	}
	for _, fam := range annotations.Families {
		if !strings.Contains(outs["markdown"], "\n## "+fam+"\n") {
			t.Errorf("markdown lacks family %s", fam)
		}
	}
	if !strings.Contains(outs["markdown"], "- exact: ") {
		t.Error("markdown lacks level counts")
	}
}
