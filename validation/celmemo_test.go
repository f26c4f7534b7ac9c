package validation_test

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/test/ingressgen"
	"github.com/gatebridge-dev/gatebridge/validation"
)

// TestSchemaMemoisationIsInstalled: the library still has the activation factory field that
// memoiseSchemas replaces. When an upgrade of k8s.io/apiextensions-apiserver removes or
// retypes it, validation stays correct but several times slower: look at celmemo.go again.
func TestSchemaMemoisationIsInstalled(t *testing.T) {
	if !validation.SchemaMemoisationInstalls() {
		t.Fatal("cel.Validator has no celActivationFactory field of the expected type: schema lookups are not memoised (see validation/celmemo.go)")
	}
}

// TestMemoisedSchemasGiveTheSameAnswers: the validator as used (schema lookups memoised)
// and the CEL validators exactly as the library builds them report the same problems, in
// the API server's words, on: the hand-made invalid objects; convert's output for random
// Ingress sets, as emitted and with one field of a third of the objects mutated (as the
// envtest agreement test does); and the benchmark input's Gateway, ListenerSets and
// HTTPRoutes edited to break CEL rules (duplicate listener names, duplicate
// port/protocol/hostname, TLS on HTTP, redirect with rewrite, `//` in a path, a Service
// backendRef without port).
func TestMemoisedSchemasGiveTheSameAnswers(t *testing.T) {
	library, err := validation.NewLibraryCEL()
	if err != nil {
		t.Fatal(err)
	}
	memoised := validation.Default()
	var docs []map[string]any
	var what []string
	add := func(d map[string]any, w string) {
		docs = append(docs, d)
		what = append(what, w)
	}
	for _, ic := range ingressgen.InvalidObjects() {
		add(ic.Object, "hand-made: "+ic.Name)
	}
	n := 150
	if testing.Short() {
		n = 30
	}
	r := rand.New(rand.NewSource(7))
	for i := range n {
		s := ingressgen.SetFor(3, i)
		for j, d := range emittedDocs(t, converters.Convert(s.Input, s.Options).Objects) {
			add(d, fmt.Sprintf("%s object %d", s.Name(), j))
			if r.Intn(3) == 0 {
				m := deepCopy(d)
				did := ingressgen.Mutate(r, m)
				add(m, fmt.Sprintf("%s object %d mutated: %s", s.Name(), j, did))
			}
		}
	}
	for j, d := range emittedDocs(t, benchObjects(150)) {
		kind, _ := d["kind"].(string)
		if kind != "ListenerSet" && kind != "HTTPRoute" && kind != "Gateway" {
			continue
		}
		add(d, fmt.Sprintf("bench object %d", j))
		for _, breakIt := range celBreakers(kind) {
			m := deepCopy(d)
			if did := breakIt(m); did != "" {
				add(m, fmt.Sprintf("bench object %d: %s", j, did))
			}
		}
	}
	rejected := 0
	for i, d := range docs {
		want := sorted(library.ValidateUnstructured(d))
		got := sorted(memoised.ValidateUnstructured(d))
		if len(want) > 0 {
			rejected++
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: memoised gives\n%s\nthe library gives\n%s", what[i], strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	t.Logf("%d objects, %d with problems: same answers", len(docs), rejected)
	if rejected < len(docs)/10 {
		t.Errorf("only %d of %d objects have problems: the comparison says little about rejections", rejected, len(docs))
	}
}

// celBreakers are edits of an emitted object of kind that break CEL rules (the object may
// not have the field to break; the edit then says "").
func celBreakers(kind string) []func(map[string]any) string {
	listeners := func(m map[string]any) []any {
		spec, _ := m["spec"].(map[string]any)
		l, _ := spec["listeners"].([]any)
		if len(l) < 2 {
			return nil
		}
		return l
	}
	switch kind {
	case "ListenerSet", "Gateway":
		return []func(map[string]any) string{
			func(m map[string]any) string {
				l := listeners(m)
				if l == nil {
					return ""
				}
				l[len(l)-1].(map[string]any)["name"] = l[0].(map[string]any)["name"]
				return "last listener renamed as the first"
			},
			func(m map[string]any) string {
				l := listeners(m)
				if l == nil {
					return ""
				}
				last := l[len(l)-1].(map[string]any)
				for _, k := range []string{"port", "protocol", "hostname"} {
					last[k] = l[0].(map[string]any)[k]
				}
				return "last listener with the first's port, protocol and hostname"
			},
			func(m map[string]any) string {
				l := listeners(m)
				if l == nil {
					return ""
				}
				l[0].(map[string]any)["protocol"] = "HTTP"
				return "first listener HTTP with tls"
			},
		}
	case "HTTPRoute":
		return []func(map[string]any) string{
			func(m map[string]any) string {
				rule := firstRule(m)
				if rule == nil {
					return ""
				}
				rule["filters"] = []any{
					map[string]any{"type": "RequestRedirect", "requestRedirect": map[string]any{"scheme": "https"}},
					map[string]any{"type": "URLRewrite", "urlRewrite": map[string]any{"hostname": "x.example.com"}},
				}
				return "redirect and rewrite in one rule"
			},
			func(m map[string]any) string {
				rule := firstRule(m)
				matches, _ := rule["matches"].([]any)
				if len(matches) == 0 {
					return ""
				}
				matches[0].(map[string]any)["path"] = map[string]any{"type": "PathPrefix", "value": "/a//b"}
				return "path prefix with //"
			},
			func(m map[string]any) string {
				refs, _ := firstRule(m)["backendRefs"].([]any)
				if len(refs) == 0 {
					return ""
				}
				delete(refs[0].(map[string]any), "port")
				return "Service backendRef without port"
			},
		}
	}
	return nil
}

func firstRule(m map[string]any) map[string]any {
	spec, _ := m["spec"].(map[string]any)
	rules, _ := spec["rules"].([]any)
	if len(rules) == 0 {
		return nil
	}
	return rules[0].(map[string]any)
}

func deepCopy(v map[string]any) map[string]any {
	return deepCopyValue(v).(map[string]any)
}

func deepCopyValue(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = deepCopyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}

// sorted: the library walks an object's properties in map order, so the order of one
// object's problems is not fixed (on the API server either); the problems are.
func sorted(ps []validation.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	slices.Sort(out)
	return out
}
