package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/validation"
)

func route(ns, name, host string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(host)}},
	}
}

// syntheticResult: Ingress shop/a owns route-a (valid) and route-a2; shop/b owns route-b and
// shares route-a2 (as a canary shares its primary's route); shop/c owns route-c; the Gateway
// is shared.
func syntheticResult() converters.Result {
	gw := &gwv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "gatebridge-system", Name: "gatebridge"},
	}
	objs := []client.Object{gw, route("shop", "route-a", "a.example.com"), route("shop", "route-a2", "a.example.com"),
		route("shop", "route-b", "b.example.com"), route("shop", "route-c", "c.example.com")}
	ref := func(name string) converters.ObjectRef {
		return converters.ObjectRef{Kind: "HTTPRoute", Namespace: "shop", Name: name}
	}
	return converters.Result{
		Objects: objs,
		Report: converters.Report{
			Ingresses: []converters.IngressReport{
				{Namespace: "shop", Name: "a", Verdict: converters.VerdictExact, Portable: true, Objects: []converters.ObjectRef{ref("route-a"), ref("route-a2")}},
				{Namespace: "shop", Name: "b", Verdict: converters.VerdictApproximate, Portable: true, Objects: []converters.ObjectRef{ref("route-b"), ref("route-a2")}},
				{Namespace: "shop", Name: "c", Verdict: converters.VerdictExact, Portable: true, Objects: []converters.ObjectRef{ref("route-c")}},
			},
			Totals: converters.Totals{Ingresses: 3, Exact: 2, Approximate: 1, Portable: 3, Objects: map[string]int{"Gateway": 1, "HTTPRoute": 4}},
		},
	}
}

// TestRefuseInvalidObjects: an invalid object refuses the Ingresses it belongs to — with
// every object of theirs, and any Ingress sharing one — and an invalid shared object is a
// global finding; the totals follow.
func TestRefuseInvalidObjects(t *testing.T) {
	res := syntheticResult()
	refuseInvalidObjects(&res, []validation.Problem{
		{Kind: "HTTPRoute", Namespace: "shop", Name: "route-a", Field: "spec.hostnames[0]", Message: `Invalid value: "A": should match`},
		{Kind: "Gateway", Namespace: "gatebridge-system", Name: "gatebridge", Field: "spec.listeners", Message: "Required value"},
	})
	var kept []string
	for _, o := range res.Objects {
		kept = append(kept, o.GetName())
	}
	if got := strings.Join(kept, ","); got != "route-c" {
		t.Errorf("kept %s, want route-c", got)
	}
	for i, want := range []converters.Verdict{converters.VerdictRefused, converters.VerdictRefused, converters.VerdictExact} {
		ir := res.Report.Ingresses[i]
		if ir.Verdict != want {
			t.Errorf("%s: verdict %s, want %s", ir.Name, ir.Verdict, want)
		}
		if want == converters.VerdictRefused && (len(ir.Objects) != 0 || ir.Portable || len(ir.Findings) == 0) {
			t.Errorf("%s: refused with objects %v, portable %v, findings %v", ir.Name, ir.Objects, ir.Portable, ir.Findings)
		}
	}
	a := res.Report.Ingresses[0].Findings
	if len(a) != 1 || a[0].Severity != converters.SeverityError || !strings.Contains(a[0].Message, `HTTPRoute shop/route-a, made from this Ingress: spec.hostnames[0]: Invalid value: "A"`) {
		t.Errorf("findings of a: %+v", a)
	}
	if b := res.Report.Ingresses[1].Findings; len(b) != 1 || !strings.Contains(b[0].Message, "HTTPRoute shop/route-a2 is shared with Ingress shop/a") {
		t.Errorf("findings of b: %+v", b)
	}
	if g := res.Report.Global; len(g) != 1 || g[0].Field != "Gateway gatebridge-system/gatebridge spec.listeners" || g[0].Severity != converters.SeverityError {
		t.Errorf("global findings: %+v", g)
	}
	want := converters.Totals{Ingresses: 3, Exact: 1, Refused: 2, Portable: 1, Objects: map[string]int{"HTTPRoute": 1}}
	if got, _ := json.Marshal(res.Report.Totals); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("totals %s, want %s", got, must(json.Marshal(want)))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestValidateFlag: report and convert validate only with --validate (it costs several
// times the conversion); both accept the examples as they are.
func TestValidateFlag(t *testing.T) {
	for _, isReport := range []bool{true, false} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		var v bool
		registerValidateFlag(fs, &v, isReport)
		if v || fs.Lookup("validate").DefValue != "false" {
			t.Errorf("report %v: --validate is on by default", isReport)
		}
	}
	examples := filepath.Join("..", "..", "manifests", "examples")
	for _, tc := range []struct {
		args []string
	}{
		{[]string{"report", "-f", examples, "-o", "json"}},
		{[]string{"report", "--validate", "-f", examples, "-o", "json"}},
		{[]string{"convert", "--validate", "-f", examples}},
		{[]string{"convert", "-f", examples}},
	} {
		var out, errb bytes.Buffer
		if code := Run(tc.args, nil, &out, &errb); code != exitOK {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, errb.String())
		}
		if strings.Contains(out.String()+errb.String(), "the API server would refuse") {
			t.Errorf("%v: the examples are reported as refused by the API server", tc.args)
		}
	}
	// With --validate the conversion keeps its objects, for the validator to read them.
	for _, isReport := range []bool{true, false} {
		if enc, err := streamingEncoder(isReport, true, "yaml"); enc != nil || err != nil {
			t.Errorf("report %v --validate: a streaming conversion (%v), whose objects validation cannot read", isReport, err)
		}
		if enc, err := streamingEncoder(isReport, false, "yaml"); enc == nil || err != nil {
			t.Errorf("report %v: not streamed (%v)", isReport, err)
		}
	}
	if _, err := streamingEncoder(false, false, "xml"); err == nil {
		t.Error("an unknown output format was accepted")
	}
	if res := syntheticResult(); validateOutput(&res, false) != nil || len(res.Objects) != 5 {
		t.Error("validateOutput ran while disabled")
	}
	// Enabled: the synthetic Gateway has no listeners, which the schema requires.
	res := syntheticResult()
	problems := validateOutput(&res, true)
	if len(problems) == 0 || len(res.Report.Global) == 0 {
		t.Errorf("the Gateway without listeners was not refused: %v", problems)
	}
}

// TestCollectLessRestores: the garbage collector's settings come back after validation, also
// when validations overlap and finish in any order.
func TestCollectLessRestores(t *testing.T) {
	// collectLess leaves the settings alone when the environment sets them; this test is
	// about the case where it does not, whatever the environment running it says.
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	first := collectLess()
	second := collectLess()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent %d during validation, want -1 (off, with a memory limit)", p)
	}
	if l := debug.SetMemoryLimit(-1); l == limit {
		t.Error("no memory limit during validation")
	}
	first()
	first() // a second call changes nothing
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent %d while a validation still runs, want -1", p)
	}
	second()
	if p := debug.SetGCPercent(-1); p != percent {
		t.Errorf("GC percent %d after validation, want %d", p, percent)
	}
	debug.SetGCPercent(percent)
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Errorf("memory limit %d after validation, want %d", l, limit)
	}
}

// TestLimitConversionMemory: a large streamed conversion runs under a memory limit above the
// decoded input, which is put back afterwards; GOMEMLIMIT in the environment wins.
func TestLimitConversionMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	restore := limitConversionMemory()
	during := debug.SetMemoryLimit(-1)
	restore()
	if during == before || during < conversionMemorySlack {
		t.Errorf("memory limit %d during conversion (before: %d), want one above the live heap", during, before)
	}
	if l := debug.SetMemoryLimit(-1); l != before {
		t.Errorf("memory limit %d after conversion, want %d", l, before)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	limitConversionMemory()()
	if l := debug.SetMemoryLimit(-1); l != before {
		t.Errorf("GOMEMLIMIT set: memory limit %d, want it left alone (%d)", l, before)
	}
}
