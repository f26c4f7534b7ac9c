package validation_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/test/ingressgen"
	"github.com/gatebridge-dev/gatebridge/validation"
)

// TestInvalidObjectsAreReported: each hand-made object breaking one CRD rule (a pattern, a
// length limit, a CEL rule, a list key, an ObjectMeta name rule, an unknown field) gets the
// problem the API server reports, with its field path. test/apiserver checks the same
// objects against a real API server.
func TestInvalidObjectsAreReported(t *testing.T) {
	v := validation.Default()
	for _, ic := range ingressgen.InvalidObjects() {
		t.Run(ic.Name, func(t *testing.T) {
			before := fmt.Sprint(ic.Object)
			problems := v.ValidateUnstructured(ic.Object)
			if fmt.Sprint(ic.Object) != before {
				t.Error("ValidateUnstructured changed its argument")
			}
			for _, p := range problems {
				if p.Field == ic.Field && strings.Contains(p.Message, ic.Message) {
					return
				}
			}
			t.Errorf("want a problem at %q containing %q, got:\n%s", ic.Field, ic.Message, list(problems))
		})
	}
}

// TestUnknownFieldNamesThePath: an unknown field is refused as strict field validation does.
func TestUnknownFieldNamesThePath(t *testing.T) {
	obj := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "default", "bogusMeta": "x"},
		"spec":     map[string]any{"hostnames": []any{"a.example.com"}, "extra": map[string]any{"y": int64(1)}},
	}
	got := validation.Default().ValidateUnstructured(obj)
	want := []string{
		`HTTPRoute default/r: metadata.bogusMeta: strict decoding error: unknown field "metadata.bogusMeta"`,
		`HTTPRoute default/r: spec.extra: strict decoding error: unknown field "spec.extra"`,
	}
	if list(got) != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", list(got), strings.Join(want, "\n"))
	}
}

// TestDefaultsAreAppliedBeforeValidation: a field the schema defaults (backendRef kind
// Service, group "") is valid when left out, as on the API server.
func TestDefaultsAreAppliedBeforeValidation(t *testing.T) {
	route := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "default"},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gw"}},
			"rules":      []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(80)}}}},
		},
	}
	if got := validation.Default().ValidateUnstructured(route); len(got) > 0 {
		t.Errorf("valid route reported:\n%s", list(got))
	}
	// Without a port, the CEL rule "Must have port for Service reference" needs the
	// defaulted kind to fire.
	noPort := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "default"},
		"spec":     map[string]any{"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web"}}}}},
	}
	got := validation.Default().ValidateUnstructured(noPort)
	if !strings.Contains(list(got), "Must have port for Service reference") {
		t.Errorf("missing port not reported:\n%s", list(got))
	}
}

// TestTypedAndEmittedFormsAgree: validating the converter's objects gives exactly what
// validating the YAML convert prints gives, on random Ingress sets (so Validate sees what
// the user would apply), and generated output never makes Validate fail to run.
func TestTypedAndEmittedFormsAgree(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	v := validation.Default()
	for i := 0; i < n; i++ {
		s := ingressgen.SetFor(1, i)
		res := converters.Convert(s.Input, s.Options)
		typed := v.Validate(res.Objects)
		docs := emittedDocs(t, res.Objects)
		var fromYAML []validation.Problem
		for _, d := range docs {
			fromYAML = append(fromYAML, v.ValidateUnstructured(d)...)
		}
		if !reflect.DeepEqual(typed, fromYAML) {
			t.Fatalf("%s: typed objects give\n%s\nthe printed YAML gives\n%s", s.Name(), list(typed), list(fromYAML))
		}
	}
}

// TestUnknownKind: a kind no embedded CRD defines is reported as the RESTMapper says it.
func TestUnknownKind(t *testing.T) {
	got := validation.Default().ValidateUnstructured(map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1alpha9", "kind": "HTTPRoute", "metadata": map[string]any{"name": "x", "namespace": "d"},
	})
	if len(got) != 1 || got[0].Message != `no matches for kind "HTTPRoute" in version "gateway.networking.k8s.io/v1alpha9"` {
		t.Errorf("got %v", got)
	}
}

func emittedDocs(t *testing.T, objs []client.Object) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := converters.EncodeObjects(&buf, objs, "yaml"); err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(&buf))
	var out []map[string]any
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
}

func list(ps []validation.Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func BenchmarkValidate(b *testing.B) {
	var objs []client.Object
	for i := 0; i < 200; i++ {
		s := ingressgen.SetFor(2, i)
		objs = append(objs, converters.Convert(s.Input, s.Options).Objects...)
	}
	v := validation.Default()
	v.Validate(objs) // build the kinds' validators once
	b.ResetTimer()
	for b.Loop() {
		v.Validate(objs)
	}
	b.ReportMetric(float64(len(objs)), "objects/op")
}
