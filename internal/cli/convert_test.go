package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	// convertIngress is an Ingress with its Service: exact.
	convertIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80}]}
`
	// convertTypo is an Ingress with a misspelled apiVersion: an input problem.
	convertTypo = `apiVersion: networking.k8s/v1
kind: Ingress
metadata: {name: typo, namespace: demo}
`
	// convertRefused is an Ingress with raw nginx configuration: refused.
	convertRefused = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: lost
  namespace: demo
  annotations: {nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers 'X: y';"}
spec:
  ingressClassName: nginx
  rules:
  - host: lost.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
`
)

// TestConvertExitCodes: the exit codes a CI gate relies on. convert exits 4 when any input
// problem was found and still writes the objects of what it read; report exits 4 for them
// only with --fail-on; an unreadable path or a bad flag is 1.
func TestConvertExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := write("clean.yaml", convertIngress)
	typo := write("typo.yaml", convertIngress+"---\n"+convertTypo)
	twice := write("twice.yaml", convertIngress+"---\n"+convertIngress)
	refused := write("refused.yaml", convertRefused)
	// Flow-style YAML first, then more documents: a YAML stream, every document read.
	flow := write("flow.yaml", "{apiVersion: v1, kind: Service, metadata: {name: web, namespace: demo}, spec: {ports: [{port: 80}]}}\n---\n"+
		strings.SplitN(convertIngress, "---\n", 2)[0])
	large := write("large.yaml", convertIngress+"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: demo}\ndata: {a: \""+strings.Repeat("x", 2048)+"\"}\n")

	for _, tc := range []struct {
		name string
		args []string
		want int
		// stdout and stderr must contain these; lastLine is stderr's last line.
		stdout, stderr []string
		lastLine       string
	}{
		{name: "convert clean", args: []string{"convert", "-f", clean}, want: exitOK,
			stdout: []string{"kind: HTTPRoute", "shop.example.com"}},
		{name: "convert typo", args: []string{"convert", "-f", typo}, want: exitInputProblems,
			stdout:   []string{"kind: HTTPRoute", "shop.example.com"},
			stderr:   []string{typo + "#3 (Ingress demo/typo): apiVersion networking.k8s/v1, kind Ingress", "did you mean networking.k8s.io/v1 Ingress?"},
			lastLine: "gatebridge convert: 1 input problem (documents not read or not used); exit 4"},
		{name: "convert duplicates", args: []string{"convert", "-f", twice}, want: exitInputProblems,
			stdout:   []string{"kind: HTTPRoute"},
			stderr:   []string{twice + "#1 (Ingress demo/shop): is defined again in " + twice + "#3", twice + "#2 (Service demo/web)"},
			lastLine: "gatebridge convert: 2 input problems (documents not read or not used); exit 4"},
		{name: "convert flow-style stream", args: []string{"convert", "-f", flow}, want: exitOK,
			stdout: []string{"kind: HTTPRoute", "shop.example.com"},
			stderr: []string{"1 exact"}},
		{name: "convert stdin", args: []string{"convert", "-f", "-"}, want: exitOK,
			stdout: []string{"kind: HTTPRoute"}},
		{name: "convert document too large", args: []string{"convert", "--max-document-size", "1Ki", "-f", large}, want: exitInputProblems,
			stdout:   []string{"kind: HTTPRoute"},
			stderr:   []string{large + "#3 (ConfigMap demo/big): is 2.1 KiB, over the limit of 1 KiB per document", "--max-document-size 1Mi"},
			lastLine: "gatebridge convert: 1 input problem (documents not read or not used); exit 4"},
		{name: "convert document within a raised limit", args: []string{"convert", "--max-document-size", "4096", "-f", large}, want: exitOK},
		{name: "convert file too large", args: []string{"convert", "--max-file-size", "100", "-f", clean, "-f", flow}, want: exitInputProblems,
			stderr:   []string{clean + ": is ", "over the limit of 100 bytes per file", "--max-file-size"},
			lastLine: "gatebridge convert: 2 input problems (documents not read or not used); exit 4"},
		{name: "convert missing path", args: []string{"convert", "-f", filepath.Join(dir, "absent.yaml")}, want: exitUsage,
			stderr: []string{"absent.yaml"}},
		{name: "convert bad size", args: []string{"convert", "--max-document-size", "lots", "-f", clean}, want: exitUsage,
			stderr: []string{`"lots" is not a size`}},
		{name: "report lists problems, exit 0", args: []string{"report", "-f", typo}, want: exitOK,
			stdout: []string{"Input problems", "did you mean networking.k8s.io/v1 Ingress?"}},
		{name: "report --fail-on with problems", args: []string{"report", "--fail-on", "refused", "-f", typo}, want: exitInputProblems,
			stdout:   []string{"Input problems"},
			lastLine: "gatebridge report: 1 input problem (documents not read or not used); exit 4"},
		{name: "report --fail-on clean", args: []string{"report", "--fail-on", "approximate", "-f", clean}, want: exitOK},
		{name: "report --fail-on threshold", args: []string{"report", "--fail-on", "refused", "-f", refused}, want: exitFailOn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tc.args, strings.NewReader(convertIngress), &stdout, &stderr)
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.want, stderr.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout does not hold %q:\n%s", want, stdout.String())
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr does not hold %q:\n%s", want, stderr.String())
				}
			}
			if tc.lastLine != "" {
				lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
				if last := lines[len(lines)-1]; last != tc.lastLine {
					t.Errorf("last line of stderr:\n%s\nwant:\n%s", last, tc.lastLine)
				}
			}
		})
	}
}

// TestByteSizeFlag: sizes as bytes or quantities; anything else is refused.
func TestByteSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"3Mi": 3 << 20, "512Ki": 512 << 10, "1Gi": 1 << 30, "1000": 1000, "2M": 2000000, "1.5Mi": 3 << 19} {
		var n int64
		if err := (byteSize{&n}).Set(in); err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1", "0", "0.5", "1e100"} {
		var n int64
		if err := (byteSize{&n}).Set(in); err == nil {
			t.Errorf("%q accepted as %d", in, n)
		}
	}
	n := int64(3 << 20)
	if got := (byteSize{&n}).String(); got != "3Mi" {
		t.Errorf("String() = %q, want 3Mi", got)
	}
}
