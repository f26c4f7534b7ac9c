package sources

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// fastAgrees converts doc with the fast path and the full decoder. It fails t when the
// fast path converts a document the full decoder rejects or reads differently, and
// reports whether the fast path converted it.
func fastAgrees(t *testing.T, doc []byte) bool {
	t.Helper()
	fast, h, ok := fastYAMLToJSON(nil, doc)
	if !ok {
		return false
	}
	if h != nil {
		// The header read while converting is json.Unmarshal's reading of the JSON.
		var want typeHeader
		if err := json.Unmarshal(fast, &want); err != nil || !reflect.DeepEqual(*h, want) {
			t.Fatalf("the fast path read the header %+v, json.Unmarshal %+v (%v), of:\n%s", *h, want, err, doc)
		}
	}
	full, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("the fast path converted a document the full decoder rejects (%v):\n%s\nfast: %s", err, doc, fast)
	}
	if !sameJSON(t, fast, full) {
		t.Fatalf("the fast path reads a document differently:\n%s\nfast: %s\nfull: %s", doc, fast, full)
	}
	return true
}

// sameJSON: a and b decode to the same value (numbers as written).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	for _, x := range []struct {
		js []byte
		v  *any
	}{{a, &va}, {b, &vb}} {
		d := json.NewDecoder(bytes.NewReader(x.js))
		d.UseNumber()
		if err := d.Decode(x.v); err != nil {
			t.Fatalf("not JSON (%v): %s", err, x.js)
		}
	}
	return reflect.DeepEqual(va, vb)
}

// TestFastYAMLToJSON: what manifests are made of takes the fast path and reads as the full
// decoder reads it; everything else is left to the full decoder.
func TestFastYAMLToJSON(t *testing.T) {
	fast := []string{
		"a: b\n",
		"a: 1\nb: -2\nc: 0\nd: true\ne: false\nf: null\ng: ~\nh:\ni: yes\nj: Off\n",
		"a: 8m\nb: \"120\"\nc: '1.5'\nd: 1.2.3\ne: 10.0.0.0/8\nf: 0.5m\ng: -x\nh: http://x:80/p?q=1#frag\n",
		"a: 'it''s'\nb: \"q\\\"\\\\\\n\\t\\u00e9\"\nc: \"\"\nd: ''\n",
		"a: b # comment\nc: \"d\" # comment\n# line\ne: |\n  x\n   y\n\n  z\nf: |-\n  one\n  two\n\ng: 1\n",
		"metadata:\n  name: x\n  annotations:\n    nginx.ingress.kubernetes.io/configuration-snippet: |\n      more_set_headers \"X: y\";\n      # a comment inside\n    k: v\n",
		"spec:\n  rules:\n  - host: a\n    http:\n      paths:\n      - path: /\n        backend:\n          service:\n            name: s\n            port:\n              number: 80\n  - host: b\n",
		"a:\n- 1\n- x\n-\n- - ignored\n",
		"a:\n  - b: 1\n    c: 2\n  -\n    d: 3\n  - e\n",
		"a: {}\nb: []\nc: [] # c\n",
		"a: {k" + strings.Repeat(" ", 900) + ": v}\n",
		"a: [1, 2]\nb: {c: d}\ne: {f: {g: [h, 'i', \"j\"]}, k: []}   # c\nl: [ x ,y,z ]\n",
		"spec:\n  rules:\n  - http:\n      paths:\n      - {path: /a, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n      - {path: /b, pathType: Exact}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b, labels: {name: c}}\nspec: {ports: [{port: 80, targetPort: 8080}], selector: {app: x}}\n",
		"a: {b: yes, c: ~, d: null, e: -1, f: 'x, y', g: \"}\", h: a\"b, i: a b}\n",
		"key : value\n\"quoted key\": 1\n'single': 2\n",
		"a: héllo wörld ✓\n",
		"a: b\"c\nd: e'f\ng: h,i [j] {k}\n",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: b\n  labels:\n    name: c\nspec:\n  metadata:\n    name: d\n",
		"Kind: Service\nmetadata:\n  Name: a\n", "kind: 1\nmetadata: x\n", "kind: List\nitems:\n- a: b\n", "metadata:\n- name: a\n",
		"\"kind\": \"S\\u0065rvice\"\nmetadata: {}\n", "\"ki\\u006ed\": Service\n", "apiVersion: ~\nkind:\nmetadata:\n",
	}
	for _, doc := range fast {
		if !fastAgrees(t, []byte(doc)) && !strings.Contains(doc, "- - ") {
			t.Errorf("the fast path left this to the full decoder:\n%s", doc)
		}
	}
	full := []string{
		"a: &x b\nc: *x\n", "a: !!str 1\n", "a: >\n  folded\n",
		"a: {b: c\n", "a: [b,\n  c]\n", "a: {b:c}\n", "a: [b: c]\n", "a: {b: c,}\n", "a: [1, 2,]\n", "a: [1, , 2]\n",
		"a: {b: }\n", "a: {b: c, b: d}\n", "a: {b: c, B: d}\n", "a: [b, {c: 1.5}]\n", "a: {b: c}#x\n", "a: {? b: c}\n",
		"a: [*x]\n", "a: [&x b]\n", "a: [!!str 1]\n", "a: {b: c} d\n", "a: [b#c]\n", "a: {1: b}\n", "a: [b]]\n",
		"a: {k" + strings.Repeat(" ", 1024) + ": v}\n", "a: " + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "\n",
		"a: " + strings.Repeat("[", 33) + strings.Repeat("]", 33) + "\n",
		"a: {b: [c}]\n", "- {a: b}\n", "a:\n- {b: c}: d\n", "a: [\"b\" c]\n", "a: [b {c}]\n", "a: {<<: {b: c}}\n",
		"a: |+\n  kept\n\n", "a: |2\n  x\n", "a: \"multi\n  line\"\n", "a: plain\n  continued\n",
		"a: 1.5\n", "a: 1e3\n", "a: 0x1F\n", "a: 017\n", "a: 1_000\n", "a: +1\n", "a: .inf\n",
		"a: 2024-01-01\n", "a: 2024-01-01T00:00:00Z\n", "a: 99999999999999999999\n", "a: -0\n",
		"a: b\na: c\n", "name: a\nName: b\n", "<<: {a: b}\n", "? a\n: b\n", "1: a\n", "true: a\n",
		"a:\tb\n", "a: b\r\n", "\ufeffa: b\n", "a: \"\\x41\"\n", "a: \"\\/\"\n", "a: b\u2028c\n",
		"- a\n", "a\n", "a: b: c\n", "a: b:\n", "%YAML 1.1\n---\na: b\n", "a: |\n  x", "a: |\n",
		"a: 'x' y\n", "a: \"x\"#c\n", "a: \"\\u\"\n", "a:\n  b: c\n d: e\n", "a: b\n  - c\n",
	}
	for _, doc := range full {
		if fastAgrees(t, []byte(doc)) {
			t.Errorf("the fast path took this, which it should leave to the full decoder:\n%q", doc)
		}
	}
}

// TestFastYAMLToJSONOnManifests: every document of the golden inputs either takes the fast
// path and reads as the full decoder reads it, or is left to the full decoder; the
// generated benchmark manifests all take the fast path.
func TestFastYAMLToJSONOnManifests(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.in.yaml")
	more, _ := filepath.Glob("../converters/testdata/*.in.yaml")
	taken := 0
	for _, path := range append(inputs, more...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range splitDocuments(path, b) {
			if fastAgrees(t, d.data) {
				taken++
			}
		}
	}
	if taken == 0 {
		t.Fatal("no golden document took the fast path")
	}
	var gen bytes.Buffer
	for i := range 50 {
		gen.WriteString(benchLike(i))
	}
	for _, d := range splitDocuments("gen", gen.Bytes()) {
		if !fastAgrees(t, d.data) {
			t.Errorf("a generated manifest was left to the full decoder:\n%s", d.data)
		}
	}
}

// benchLike is a Service and an Ingress as test/bench generates them (that package imports
// this one).
func benchLike(i int) string {
	n := string(rune('a' + i%26))
	return "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-" + n + "\n  namespace: ns-" + n + "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\nspec:\n  type: ClusterIP\n  selector:\n    app: app-" + n + "\n  ports:\n  - name: http\n    protocol: TCP\n    port: 80\n    targetPort: 8080\n---\n" +
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: app-" + n + "\n  namespace: ns-" + n + "\n  annotations:\n    nginx.ingress.kubernetes.io/proxy-body-size: 8m\n    nginx.ingress.kubernetes.io/proxy-read-timeout: \"120\"\nspec:\n  ingressClassName: nginx\n  tls:\n  - hosts:\n    - app.example.com\n    secretName: app-tls\n  rules:\n  - host: app.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: app\n            port:\n              name: http\n---\n"
}

// FuzzFastYAMLToJSON: whatever the fast path converts, the full decoder converts to the
// same value.
func FuzzFastYAMLToJSON(f *testing.F) {
	f.Add([]byte("a: b\nc:\n- d: 1\n  e: |\n    x\n"))
	f.Add([]byte("metadata:\n  annotations:\n    k: \"v\\n\"\n    l: 'w'\nspec:\n  ports:\n  - port: 80\n"))
	f.Add([]byte("a:\n- 1\n-\n  b: yes\n"))
	f.Add([]byte(benchLike(1)))
	f.Add([]byte("a: {b: [c, 'd', \"e\"], f: {g: 1}}\nh:\n- {i: j, k: [l]}\n"))
	f.Add([]byte("metadata: {name: a, namespace: b}\nkind: K\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		fastAgrees(t, doc)
	})
}

// decodedByFullDecoder decodes a YAML document as decodeDocument did before the fast path:
// sigs.k8s.io/yaml's YAMLToJSON, then the JSON.
func decodedByFullDecoder(t *testing.T, d document) decoded {
	t.Helper()
	js, err := yaml.YAMLToJSON(d.data)
	if err != nil {
		t.Fatalf("the full decoder rejects %s: %v", d.data, err)
	}
	var out decoded
	decodeObject(d.source, js, &out)
	return out
}

// TestDecodeFastEqualsFull: a document decodes to the same objects through the fast path
// as through the full decoder, also where the Go types keep raw JSON (managedFields'
// fieldsV1, which the full decoder's JSON has with its keys sorted).
func TestDecodeFastEqualsFull(t *testing.T) {
	for _, doc := range []string{
		benchLike(3)[:strings.Index(benchLike(3), "---")],
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n  namespace: n\nspec:\n  hostnames:\n  - a.example.com\n",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n  managedFields:\n  - manager: m\n    operation: Apply\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:spec:\n        f:hostnames: {}\n      f:metadata:\n        f:labels: {}\n",
	} {
		d := document{source: "doc", data: []byte(doc), line: 1}
		if !fastAgrees(t, d.data) {
			t.Fatalf("not taken by the fast path:\n%s", doc)
		}
		if got, want := decodeDocument(d), decodedByFullDecoder(t, d); !reflect.DeepEqual(got, want) {
			t.Errorf("the fast path decodes differently:\n%s\nfast: %+v\nfull: %+v", doc, got, want)
		}
	}
}
