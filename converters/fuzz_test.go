package converters_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// FuzzConvert decodes arbitrary YAML and converts it: no panic, and the objects encode.
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
		res := converters.Convert(loaded.Input, converters.Options{IncludeUnclassed: true})
		var buf bytes.Buffer
		if err := converters.EncodeObjects(&buf, res.Objects, "yaml"); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
