package converters_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/goldencase"
	"github.com/gatebridge-dev/gatebridge/sources"
)

var update = flag.Bool("update", false, "rewrite the golden .out.yaml and .report.json files")

// caseOptions reads the first-line directive of a case (internal/goldencase).
func caseOptions(t *testing.T, in []byte) (converters.Options, sources.Options) {
	t.Helper()
	o, so, err := goldencase.Options(in)
	if err != nil {
		t.Fatal(err)
	}
	return o, so
}

// goldenOutputs converts one case and returns the YAML objects and the JSON report.
func goldenOutputs(t *testing.T, path string, shuffle *rand.Rand) ([]byte, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts, sopts := caseOptions(t, raw)
	loaded, err := sources.ReadPaths([]string{path}, sopts)
	if err != nil {
		t.Fatal(err)
	}
	in := loaded.Input
	if shuffle != nil {
		shuffle.Shuffle(len(in.Ingresses), func(i, j int) { in.Ingresses[i], in.Ingresses[j] = in.Ingresses[j], in.Ingresses[i] })
		shuffle.Shuffle(len(in.Services), func(i, j int) { in.Services[i], in.Services[j] = in.Services[j], in.Services[i] })
	}
	res := converters.Convert(in, opts)
	var objs bytes.Buffer
	if err := converters.EncodeObjects(&objs, res.Objects, "yaml"); err != nil {
		t.Fatal(err)
	}
	rep, err := json.MarshalIndent(struct {
		converters.Report
		InputProblems []sources.Problem `json:"inputProblems,omitempty"`
		// RefusedLocations are not part of the report; the golden shows them next to it.
		RefusedLocations []converters.RefusedLocation `json:"refusedLocations,omitempty"`
	}{res.Report, loaded.Problems, res.RefusedLocations}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return objs.Bytes(), append(rep, '\n')
}

func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases in testdata/")
	}
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			objs, rep := goldenOutputs(t, in, nil)
			base := strings.TrimSuffix(in, ".in.yaml")
			compareGolden(t, base+".out.yaml", objs)
			compareGolden(t, base+".report.json", rep)
			if native := nativeOutput(t, in); native != nil {
				compareGolden(t, base+".native.yaml", native)
			}
			// Same input in another order: same bytes.
			objs2, rep2 := goldenOutputs(t, in, rand.New(rand.NewSource(int64(len(in)))))
			if !bytes.Equal(objs, objs2) || !bytes.Equal(rep, rep2) {
				t.Errorf("output depends on input order")
			}
		})
	}
}

// nativeOutput is, for a case in bridge mode, what the bridge serves natively
// (converters.NativeObjects); nil for the other cases.
func nativeOutput(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts, sopts := caseOptions(t, raw)
	if !opts.Bridge {
		return nil
	}
	loaded, err := sources.ReadPaths([]string{path}, sopts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := converters.EncodeObjects(&b, converters.NativeObjects(converters.Convert(loaded.Input, opts), opts), "yaml"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./converters -run TestGolden -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the conversion (run with -update and review the diff):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + x + "\n  got:  " + y
		}
	}
	return ""
}
