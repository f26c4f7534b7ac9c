package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPathsMixedInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", `# comment only
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: good}
spec: {rules: [{host: a.example}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad, namespace: x}
spec: {rules: "not a list"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
`)
	write("sub/b.json", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"y"}}]}`)
	write("sub/ignored.txt", "kind: Ingress")
	l, err := ReadPaths([]string{dir, "-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\ndata: {ssl-redirect: \"false\"}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Input.Ingresses) != 1 || l.Input.Ingresses[0].Namespace != "default" {
		t.Errorf("ingresses %+v", l.Input.Ingresses)
	}
	if len(l.Input.Services) != 1 || l.Input.ControllerConfigMap == nil {
		t.Errorf("services %d, configmap %v", len(l.Input.Services), l.Input.ControllerConfigMap)
	}
	if len(l.Problems) != 1 || l.Problems[0].Name != "x/bad" || !strings.Contains(l.Problems[0].Source, "a.yaml#3") {
		t.Errorf("problems %+v", l.Problems)
	}
	if l.Ignored["Deployment"] != 1 {
		t.Errorf("ignored %v", l.Ignored)
	}
}
