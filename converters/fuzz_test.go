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
	// The bridge's weight parser: values around its edges.
	for _, w := range []string{"100", " 7 ", "101", "-1", "+5", "5%", "2.5", "0x10", "007", "99999999999999999999"} {
		f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: w, namespace: d, annotations: {gatebridge.dev/migrate: 'true', gatebridge.dev/weight: '" + w + "', gatebridge.dev/sticky: 'true'}}\nspec: {rules: [{host: a.b, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]}\n"))
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
		// In bridge mode too, and what it serves natively encodes.
		opts.Bridge, opts.PreviousWeights = true, map[string]int{"d/w": 40}
		res = converters.Convert(loaded.Input, opts)
		if got, want := encodeResult(t, res), encodeResult(t, converters.ConvertAsOnePart(loaded.Input, opts)); !bytes.Equal(got, want) {
			t.Fatalf("bridge mode, in parts:\n%s", firstDiff(want, got))
		}
		buf.Reset()
		if err := converters.EncodeObjects(&buf, converters.NativeObjects(res, opts), "yaml"); err != nil {
			t.Fatalf("encode native: %v", err)
		}
	})
}
