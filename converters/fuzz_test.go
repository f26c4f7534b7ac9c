package converters_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// FuzzConvert decodes arbitrary YAML and converts it: no panic, the objects encode, and
// converting in parts gives what one part gives.
// Seeds are the golden inputs.
func FuzzConvert(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.in.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "in.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loaded, err := sources.ReadPaths([]string{p}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		opts := converters.Options{IncludeUnclassed: true}
		res := converters.Convert(loaded.Input, opts)
		var buf bytes.Buffer
		if err := converters.EncodeObjects(&buf, res.Objects, "yaml"); err != nil {
			t.Fatalf("encode: %v", err)
		}
		// Parts change nothing (parts.go).
		if got, want := encodeResult(t, res), encodeResult(t, converters.ConvertAsOnePart(loaded.Input, opts)); !bytes.Equal(got, want) {
			t.Fatalf("in parts:\n%s", firstDiff(want, got))
		}
	})
}
