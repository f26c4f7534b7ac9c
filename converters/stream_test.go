package converters_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// streamedOutput converts in as `gatebridge convert` does (Options.Encoder) and returns
// the bytes written, the report and the refused locations, as encodeResult does for a
// conversion that keeps its objects.
func streamedOutput(t *testing.T, in converters.Input, opts converters.Options, format string) []byte {
	t.Helper()
	opts.Encoder = func() converters.ObjectEncoder {
		e, err := emit.NewObjectEncoder(format)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	res := converters.Convert(in, opts)
	if res.Objects != nil || res.EncodingError != nil {
		t.Fatalf("a streaming conversion kept its objects (%d) or failed: %v", len(res.Objects), res.EncodingError)
	}
	var b bytes.Buffer
	// One worker and all of them: the bytes must not depend on it.
	for _, workers := range []int{1, 0} {
		var w bytes.Buffer
		if err := emit.WriteEncoded(&w, res.Encoded, format, workers); err != nil {
			t.Fatal(err)
		}
		if b.Len() > 0 && !bytes.Equal(b.Bytes(), w.Bytes()) {
			t.Fatalf("WriteEncoded on one worker and on all of them wrote different bytes:\n%s", firstDiff(b.Bytes(), w.Bytes()))
		}
		b = w
	}
	rep, _ := json.MarshalIndent(res.Report, "", "  ")
	b.Write(rep)
	refused, _ := json.MarshalIndent(res.RefusedLocations, "", "  ")
	b.Write(refused)
	return b.Bytes()
}

// keptOutput is streamedOutput for a conversion that keeps its objects, written by
// emit.Write.
func keptOutput(t *testing.T, in converters.Input, opts converters.Options, format string) []byte {
	t.Helper()
	res := converters.Convert(in, opts)
	var b bytes.Buffer
	if err := emit.Write(&b, res.Objects, format, emit.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	rep, _ := json.MarshalIndent(res.Report, "", "  ")
	b.Write(rep)
	refused, _ := json.MarshalIndent(res.RefusedLocations, "", "  ")
	b.Write(refused)
	return b.Bytes()
}

// TestStreamedEqualsObjects: a streaming conversion (each part encoded as it is built,
// held compressed, written in order) writes the bytes, report and refused locations of a
// conversion that keeps its objects, for every golden case and a generated input, in YAML
// and JSON, with each part analysed once and twice (stream.go).
func TestStreamedEqualsObjects(t *testing.T) {
	cases := goldenInputs(t)
	ings, svcs := bench.Generate(300)
	cases["generated"] = struct {
		in   converters.Input
		opts converters.Options
	}{converters.Input{Ingresses: ings, Services: svcs}, converters.Options{}}
	for _, reanalyse := range []int{1 << 30, 1} {
		restore := converters.SetReanalyseMinParts(reanalyse)
		for name, c := range cases {
			for _, format := range []string{"yaml", "json"} {
				want := keptOutput(t, c.in, c.opts, format)
				got := streamedOutput(t, c.in, c.opts, format)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (%s, reanalysed from %d parts): streamed:\n%s", name, format, reanalyse, firstDiff(want, got))
				}
			}
		}
		restore()
	}
}
