package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplitDocumentsByContent: a file that is one JSON value is one JSON document; a YAML
// stream is split into its documents even when the first is flow-style or JSON.
func TestSplitDocumentsByContent(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		docs     int
		json     bool
	}{
		{"JSON object", `{"apiVersion": "v1", "kind": "Service"}`, 1, true},
		{"JSON array", "\n  [{\"kind\": \"Service\"}, {\"kind\": \"Secret\"}]\n", 1, true},
		{"flow-style YAML, then more documents", "{apiVersion: v1, kind: Service, metadata: {name: a}}\n---\nkind: Secret\n", 2, false},
		{"one flow-style YAML document", "{apiVersion: v1, kind: Service}\n", 1, false},
		{"JSON documents in a YAML stream", "{\"kind\": \"Service\"}\n---\n{\"kind\": \"Secret\"}\n", 2, false},
		{"JSON list, then more", "[{\"kind\": \"Service\"}]\n---\nkind: Secret\n", 2, false},
		{"comments and empty documents", "# c\n---\n\n--- # x\nkind: Secret\n---\n", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := splitDocuments("f", []byte(tc.in))
			if len(docs) != tc.docs {
				t.Fatalf("%d documents, want %d: %+v", len(docs), tc.docs, docs)
			}
			if docs[0].json != tc.json {
				t.Errorf("json = %v, want %v", docs[0].json, tc.json)
			}
		})
	}
	// Line numbers of the file, for YAML errors.
	docs := splitDocuments("f", []byte("kind: A\n---\n# two\nkind: B\n---\nkind: C\n"))
	if got := []int{docs[0].line, docs[1].line, docs[2].line}; got[0] != 1 || got[1] != 3 || got[2] != 6 {
		t.Errorf("document lines %v, want [1 3 6]", got)
	}
}

// TestReadFlowStyleStreamDecodesEveryDocument: the whole stream is read (it used to be
// taken for one JSON document and dropped).
func TestReadFlowStyleStreamDecodesEveryDocument(t *testing.T) {
	in := "{apiVersion: v1, kind: Service, metadata: {name: a}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
	l, err := ReadPaths([]string{"-"}, Options{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Input.Services) != 2 || len(l.Problems) != 0 {
		t.Errorf("services %d, problems %+v", len(l.Input.Services), l.Problems)
	}
}

// TestReadLimits: a file over the file limit and a document over the document limit are
// Problems, never errors, and every other file and document is read.
func TestReadLimits(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	svc := func(name string) string { return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\n" }
	write("a.yaml", svc("a")+"---\n"+svc("big")+"  # "+strings.Repeat("x", 300)+"\n---\n"+svc("c"))
	write("b.yaml", svc("b")+"# "+strings.Repeat("y", 2000)+"\n")
	l, err := ReadPaths([]string{dir, "-"}, Options{MaxDocumentSize: 256, MaxFileSize: 1024, Stdin: strings.NewReader(svc("stdin") + "# " + strings.Repeat("z", 2000))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range l.Input.Services {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "a,c" {
		t.Errorf("services %v, want a,c", names)
	}
	want := []string{
		filepath.Join(dir, "a.yaml") + "#2: is 356 bytes, over the limit of 256 bytes per document",
		filepath.Join(dir, "b.yaml") + ": is 2 KiB, over the limit of 1 KiB per file",
		"<stdin>: is larger than the limit of 1 KiB per file, and is not read; to read it, raise the limit with --max-file-size 1Mi",
	}
	if len(l.Problems) != len(want) {
		t.Fatalf("problems %+v", l.Problems)
	}
	for i, w := range want {
		if got := l.Problems[i].Source + ": " + l.Problems[i].Message; !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n%s\nwant it to begin with\n%s", i, got, w)
		}
	}
	if l.Problems[0].Kind != "Service" || l.Problems[0].Name != "big" {
		t.Errorf("the document too large is not named: %+v", l.Problems[0])
	}
}

// TestReaderResolvesDuplicates: through a Reader, an object defined in two files is kept
// once (the later file's) with a Problem naming both — also when a reload reuses the
// objects of a kind no changed file holds — and the Problem goes when the duplicate does.
func TestReaderResolvesDuplicates(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	ingress := func(host string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\nspec: {rules: [{host: " + host + "}]}\n"
	}
	write("a.yaml", ingress("a.example.com"))
	write("b.yaml", ingress("b.example.com"))
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	r := NewReader([]string{dir}, Options{})
	check := func(step, host string, problems int) {
		t.Helper()
		l, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Input.Ingresses) != 1 || l.Input.Ingresses[0].Spec.Rules[0].Host != host {
			t.Errorf("%s: ingresses %+v, want one for %s", step, l.Input.Ingresses, host)
		}
		if len(l.Problems) != problems {
			t.Errorf("%s: problems %+v, want %d", step, l.Problems, problems)
		}
		for _, p := range l.Problems {
			if p.Source != filepath.Join(dir, "a.yaml")+"#1" || !strings.Contains(p.Message, "defined again in "+filepath.Join(dir, "b.yaml")+"#1") {
				t.Errorf("%s: problem %+v", step, p)
			}
		}
	}
	check("first read", "b.example.com", 1)
	// Only a Service changes: the Ingresses are reused, and so is their duplicate.
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web2}\n")
	check("after a Service edit", "b.example.com", 1)
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	check("after the later file is removed", "a.example.com", 0)
}

// TestMisspelledKind: the nearness rule, case by case.
func TestMisspelledKind(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind string
		named            bool
		suggest          string // "" = another kind, ignored
	}{
		{"networking.k8s/v1", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"networking/v1", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"v1", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"networking.k8s.io", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"networking.k8s.io/v1", "ingress", true, "networking.k8s.io/v1 Ingress"},
		{"networking.k8s.io/v1", "Ingres", true, "networking.k8s.io/v1 Ingress"},
		{"networking.k8s.io/v1", "IngressClas", true, "networking.k8s.io/v1 IngressClass"},
		{"networking.k8s.io/v2", "Ingress", true, "networking.k8s.io/v1 Ingress"},
		{"apps/v1", "ingress", true, "networking.k8s.io/v1 Ingress"},
		{"v1", "Secrets", true, "v1 Secret"},
		{"v1", "Endpoint", true, "v1 Endpoints"},
		{"gateway.networking.k8s.io/v1beta1", "Gateway", true, "gateway.networking.k8s.io/v1 Gateway"},
		{"gateway.networking.k8s.io/v1", "HTTPRoutes", true, "gateway.networking.k8s.io/v1 HTTPRoute"},
		{"gateway.networking.k8s.io/v1", "BackendTlsPolicy", true, "gateway.networking.k8s.io/v1 BackendTLSPolicy"},
		{"discovery.k8s.io/v1beta1", "EndpointSlice", true, "discovery.k8s.io/v1 EndpointSlice"},
		// Other kinds.
		{"apps/v1", "Deployment", true, ""},
		{"v1", "Namespace", true, ""},
		{"v1", "Pod", true, ""},
		{"v1", "ServiceAccount", true, ""},
		{"networking.k8s.io/v1", "NetworkPolicy", true, ""},
		{"networking.istio.io/v1", "Gateway", true, ""},
		{"serving.knative.dev/v1", "Service", true, ""},
		{"gateway.networking.k8s.io/v1alpha2", "TCPRoute", true, ""},
		{"gateway.networking.k8s.io/v1alpha2", "UDPRoute", true, ""},
		{"gateway.networking.k8s.io/v1", "GrpcRoute", true, "gateway.networking.k8s.io/v1 GRPCRoute"},
		{"gateway.networking.x-k8s.io/v1alpha1", "XListenerSet", true, ""},
		{"traefik.io/v1alpha1", "IngressRoute", true, ""},
		{"v2", "", false, ""},            // a Helm Chart.yaml
		{"", "", false, ""},              // a values file
		{"apps/v1", "", true, ""},        // not a group gatebridge reads
		{"v1", "", true, "set the kind"}, // named, a group gatebridge reads
		{"", "", true, "cannot tell what it is"},
		{"", "Ingress", false, ""}, // a kind alone, in a file that is not a manifest
	} {
		msg, ok := misspelledKind(tc.apiVersion, tc.kind, tc.named)
		switch {
		case tc.suggest == "" && ok:
			t.Errorf("%q %q: taken for a typo: %s", tc.apiVersion, tc.kind, msg)
		case tc.suggest != "" && !ok:
			t.Errorf("%q %q: not taken for a typo, want %s", tc.apiVersion, tc.kind, tc.suggest)
		case tc.suggest != "" && !strings.Contains(msg, tc.suggest):
			t.Errorf("%q %q: %s\nwant it to suggest %s", tc.apiVersion, tc.kind, msg, tc.suggest)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"Ingress", "Ingress", 0}, {"Ingres", "Ingress", 1}, {"Ingresses", "Ingress", 2}, {"TCPRoute", "TLSRoute", 2},
		{"GRPCRoute", "HTTPRoute", 4}, {"", "abc", 3}, {"Service", "Secret", 4}, {"IngressClass", "Ingress", 3}} {
		if got := min(editDistance(tc.a, tc.b), 3); got != min(tc.want, 3) {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPeekIdentity: the kind and name of a document too large to decode are found in its
// first lines.
func TestPeekIdentity(t *testing.T) {
	for _, tc := range []struct {
		in     string
		json   bool
		want   string
		reason string
	}{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    name: not-this\n  name: big\n  namespace: shop\ndata: {}\n", false, "ConfigMap shop/big", "block style"},
		{"kind: 'Secret' # c\nmetadata: {name: s, namespace: ns}\n", false, "Secret ns/s", "flow metadata"},
		{"metadata:\n    namespace: \"x\"\n    name: y\nkind: Service\n", false, "Service x/y", "four-space indent, kind last"},
		{`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"name": "no"}, "name": "big", "namespace": "shop"}, "data": {"kind": "no"}}`, true, "ConfigMap shop/big", "JSON"},
		{`{"data": {"a": [1, {"kind": "no"}]}, "kind": "Secret", "metadata": {"name": "late"}}`, true, "Secret late", "JSON, metadata last"},
		{"- just a list\n", false, " ", "nothing to find"},
	} {
		kind, ns, name := peekIdentity([]byte(tc.in), tc.json)
		if got := kind + " " + qualified(ns, name); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.reason, got, tc.want)
		}
	}
}
