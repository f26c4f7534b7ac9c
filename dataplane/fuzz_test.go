package dataplane_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// FuzzTranslate feeds arbitrary YAML through the run pipeline (decode, convert, translate):
// nothing may panic, what is translated must validate and be deterministic, and a
// Translator that remembers the previous translation must agree with a fresh one.
func FuzzTranslate(f *testing.F) {
	ins, _ := filepath.Glob("testdata/*.in.yaml")
	for _, in := range ins {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loaded, err := sources.ReadPaths([]string{"-"}, sources.Options{Stdin: bytes.NewReader(data)})
		if err != nil {
			return
		}
		res := pipeline.Build(loaded, converters.Options{})
		out := dataplane.Translate(res.Model, goldenOptions)
		again := dataplane.Translate(res.Model, goldenOptions)
		if len(out.Resources.Routes) != len(again.Resources.Routes) || len(out.Problems) != len(again.Problems) {
			t.Fatalf("translation is not deterministic")
		}
		// Whatever the input, what is published passes Envoy's own rules: a value Envoy
		// would refuse costs its route or backend (a problem), never the whole configuration.
		if err := dataplane.Validate(out.Resources); err != nil {
			t.Fatalf("the translation does not validate, so Envoy would get none of it: %v", err)
		}
		// What is held in wire form encodes to the bytes of the whole messages.
		checkWireForm(t, out.Resources.Routes)
		checkWireForm(t, out.Resources.Endpoints)
		// A Translator that has seen the model before must give the same output.
		tr := dataplane.NewTranslator(goldenOptions)
		tr.Translate(res.Model)
		if !bytes.Equal(RenderOutput(t, tr.Translate(res.Model)), RenderOutput(t, out)) {
			t.Fatalf("the Translator's second translation differs from Translate's")
		}
	})
}
