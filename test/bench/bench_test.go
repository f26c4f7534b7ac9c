package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// sizes are the Ingress counts of the figures; the 50,000 runs are skipped with -short.
var sizes = []int{1000, 5000, 50000}

func skipLarge(b *testing.B, n int) {
	if n > 5000 && testing.Short() {
		b.Skipf("n=%d skipped in -short mode", n)
	}
}

// reportRate adds the ingresses/s metric; call after the b.Loop loop.
func reportRate(b *testing.B, n int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/s, "ingresses/s")
	}
}

// BenchmarkConvert measures converters.Convert alone on decoded objects, as in the cluster.
func BenchmarkConvert(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			skipLarge(b, n)
			ings, svcs := Generate(n)
			in := converters.Input{Ingresses: ings, Services: svcs}
			b.ReportAllocs()
			for b.Loop() {
				res := converters.Convert(in, converters.Options{})
				if res.Report.Totals.Ingresses != n {
					b.Fatalf("converted %d Ingresses, want %d", res.Report.Totals.Ingresses, n)
				}
			}
			reportRate(b, n)
		})
	}
}

// BenchmarkDecodeAndConvertYAML measures reading a multi-document YAML file and converting it.
func BenchmarkDecodeAndConvertYAML(b *testing.B) { benchDecodeAndConvert(b, "yaml", WriteYAML) }

// BenchmarkDecodeAndConvertJSON measures reading a JSON v1 List file and converting it.
func BenchmarkDecodeAndConvertJSON(b *testing.B) { benchDecodeAndConvert(b, "json", WriteJSON) }

func benchDecodeAndConvert(b *testing.B, ext string, write func(io.Writer, int) error) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			path := writeInput(b, ext, n, write)
			if fi, err := os.Stat(path); err == nil {
				b.SetBytes(fi.Size())
			}
			b.ReportAllocs()
			for b.Loop() {
				loaded, err := sources.ReadPaths([]string{path}, sources.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(loaded.Problems) > 0 {
					b.Fatalf("%d problems reading %s, first: %+v", len(loaded.Problems), path, loaded.Problems[0])
				}
				res := converters.Convert(loaded.Input, converters.Options{})
				if res.Report.Totals.Ingresses != n {
					b.Fatalf("converted %d Ingresses, want %d", res.Report.Totals.Ingresses, n)
				}
			}
			reportRate(b, n)
		})
	}
}

// writeInput writes the generated input for n Ingresses into a temporary file.
func writeInput(tb testing.TB, ext string, n int, write func(io.Writer, int) error) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("ingresses-%d.%s", n, ext))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := write(f, n); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestGeneratedInputConverts checks that the generated input converts cleanly, so the
// benchmarks measure the normal path (no refusals, no findings that stop conversion).
func TestGeneratedInputConverts(t *testing.T) {
	const n = 50
	ings, svcs := Generate(n)
	res := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{})
	tot := res.Report.Totals
	t.Logf("totals: %+v", tot)
	if tot.Ingresses != n || tot.Exact+tot.Approximate != n {
		t.Fatalf("totals = %+v, want %d Ingresses, all exact or approximate", tot, n)
	}
	for _, r := range res.Report.Ingresses {
		if len(r.Objects) == 0 {
			t.Errorf("%s/%s (%s) produced no objects; findings: %+v", r.Namespace, r.Name, r.Verdict, r.Findings)
		}
	}
	if tot.Objects["HTTPRoute"] < n {
		t.Errorf("totals.objects = %v, want at least %d HTTPRoutes", tot.Objects, n)
	}
	if len(res.Objects) == 0 {
		t.Fatal("no objects")
	}
}

// TestWritersMatchGenerate checks that WriteYAML and WriteJSON, read back by the file
// loader, give exactly the objects of Generate.
func TestWritersMatchGenerate(t *testing.T) {
	const n = 30
	ings, svcs := Generate(n)
	// Read back as sources keeps Services: what conversion reads of them.
	for i := range svcs {
		sources.TrimService(&svcs[i])
	}
	want := converters.Input{Ingresses: ings, Services: svcs}
	for _, c := range []struct {
		ext   string
		write func(io.Writer, int) error
	}{{"yaml", WriteYAML}, {"json", WriteJSON}} {
		t.Run(c.ext, func(t *testing.T) {
			path := writeInput(t, c.ext, n, c.write)
			loaded, err := sources.ReadPaths([]string{path}, sources.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(loaded.Problems) > 0 || len(loaded.Ignored) > 0 {
				t.Fatalf("problems %+v, ignored %v", loaded.Problems, loaded.Ignored)
			}
			// JSON comparison: metav1.Time decodes into local time, which DeepEqual would
			// tell apart from the UTC times of Generate.
			if g, w := mustJSON(t, loaded.Input), mustJSON(t, want); !bytes.Equal(g, w) {
				t.Errorf("read back:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestGenerateShape(t *testing.T) {
	ings, svcs := Generate(401)
	ing, svc := ings[400], svcs[400]
	if ing.Namespace != "ns-0" || ing.Name != "app-400" || ing.Spec.Rules[0].Host != "app-400.example.com" ||
		ing.Spec.TLS[0].SecretName != "app-400-tls" || len(ing.Annotations) != 3 || *ing.Spec.IngressClassName != "nginx" ||
		!ing.CreationTimestamp.Time.Equal(BaseTime.Add(400e9)) {
		t.Errorf("Ingress 400 = %+v", ing)
	}
	if svc.Namespace != "ns-0" || svc.Name != "app-400" || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 80 ||
		svc.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Errorf("Service 400 = %+v", svc)
	}
	if ings[199].Namespace != "ns-199" || ings[200].Namespace != "ns-0" {
		t.Errorf("namespaces: %s, %s", ings[199].Namespace, ings[200].Namespace)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkEmit measures writing the converted objects as convert does (internal/emit: in
// parallel, streamed), in YAML and JSON.
func BenchmarkEmit(b *testing.B) {
	for _, n := range sizes {
		for _, format := range []string{"yaml", "json"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, format), func(b *testing.B) {
				skipLarge(b, n)
				ings, svcs := Generate(n)
				objs := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{}).Objects
				var out countingWriter
				b.ReportAllocs()
				for b.Loop() {
					out = 0
					if err := emit.Write(&out, objs, format, emit.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(out), "bytes-out")
				reportRate(b, n)
			})
		}
	}
}

// countingWriter counts what is written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// BenchmarkEncodeObject measures what a streaming conversion does with each object it
// builds (converters/stream.go): its encoding by an emit.ObjectEncoder, on one goroutine,
// in YAML and JSON, and then the compression of the encodings (emit.NewBlock, one block
// per 8 objects, about a part's).
func BenchmarkEncodeObject(b *testing.B) {
	ings, svcs := Generate(1000)
	objs := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{}).Objects
	for _, format := range []string{"yaml", "json"} {
		for _, compress := range []bool{false, true} {
			name := format
			if compress {
				name += "+block"
			}
			b.Run(name, func(b *testing.B) {
				enc, err := emit.NewObjectEncoder(format)
				if err != nil {
					b.Fatal(err)
				}
				var buf []byte
				size := 0
				b.ReportAllocs()
				for b.Loop() {
					size = 0
					for i, o := range objs {
						if buf, err = enc.Append(buf, o); err != nil {
							b.Fatal(err)
						}
						if i%8 == 7 || i == len(objs)-1 {
							size += len(buf)
							if compress {
								emit.NewBlock(buf)
							}
							buf = buf[:0]
						}
					}
				}
				b.ReportMetric(float64(size)/float64(len(objs)), "bytes/object")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(objs)), "ns/object")
			})
		}
	}
}
