package emit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/internal/goldencase"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// variants are the ways of writing that must all give the same bytes: sequential, and
// parallel with more workers than cores (the interleaving differs from run to run).
var variants = []struct {
	name string
	opts emit.Options
}{
	{"sequential", emit.Options{Workers: 1}},
	{"parallel-2", emit.Options{Workers: 2}},
	{"parallel-7-release", emit.Options{Workers: 7, Release: true}},
}

// checkSame writes objs every way and in both formats, and compares each against the
// sequential map-based encoder (converters.EncodeObjects).
func checkSame(t *testing.T, objs []client.Object) {
	t.Helper()
	for _, format := range []string{"yaml", "json"} {
		var want bytes.Buffer
		if err := converters.EncodeObjects(&want, objs, format); err != nil {
			t.Fatal(err)
		}
		// As a streaming conversion writes them: encoded one by one (JSON with marks for
		// its line breaks), held in blocks of a few objects, then written.
		for _, workers := range []int{1, 3} {
			var got bytes.Buffer
			if err := emit.WriteEncoded(&got, encodedInBlocks(t, objs, format), format, workers); err != nil {
				t.Fatalf("%s WriteEncoded: %v", format, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%s WriteEncoded on %d workers: differs from converters.EncodeObjects at byte %d:\ngot:  %q\nwant: %q",
					format, workers, firstDiff(got.Bytes(), want.Bytes()), around(got.Bytes(), want.Bytes()), around(want.Bytes(), got.Bytes()))
			}
		}
		for _, v := range variants {
			in := append([]client.Object(nil), objs...) // Release clears its copy
			var got bytes.Buffer
			if err := emit.Write(&got, in, format, v.opts); err != nil {
				t.Fatalf("%s %s: %v", format, v.name, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%s %s: differs from converters.EncodeObjects at byte %d:\ngot:  %q\nwant: %q",
					format, v.name, firstDiff(got.Bytes(), want.Bytes()), around(got.Bytes(), want.Bytes()), around(want.Bytes(), got.Bytes()))
			}
			if v.opts.Release {
				for i, o := range in {
					if o != nil {
						t.Fatalf("%s %s: object %d not released", format, v.name, i)
					}
				}
			}
		}
	}
}

// encodedInBlocks encodes objs with an ObjectEncoder, three objects a block.
func encodedInBlocks(t *testing.T, objs []client.Object, format string) []emit.Encoded {
	t.Helper()
	enc, err := emit.NewObjectEncoder(format)
	if err != nil {
		t.Fatal(err)
	}
	var out []emit.Encoded
	var raw []byte
	var ends []int
	flush := func() {
		block := emit.NewBlock(raw)
		start := 0
		for _, end := range ends {
			out = append(out, block.Object(start, end))
			start = end
		}
		raw, ends = raw[:0], ends[:0]
	}
	for i, o := range objs {
		if raw, err = enc.Append(raw, o); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, len(raw))
		if i%3 == 2 {
			flush()
		}
	}
	flush()
	return out
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(a, b []byte) string {
	i := firstDiff(a, b)
	return string(a[max(0, i-80):min(len(a), i+80)])
}

// TestGoldenCasesSameBytes: the objects of every converter golden case are written in the
// bytes of the sequential encoder, in YAML and JSON, sequentially and in parallel.
func TestGoldenCasesSameBytes(t *testing.T) {
	cases, err := filepath.Glob("../../converters/testdata/*.in.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var all []client.Object
	for _, path := range cases {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		opts, sopts, err := goldencase.Options(raw)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := sources.ReadPaths([]string{path}, sopts)
		if err != nil {
			t.Fatal(err)
		}
		res := converters.Convert(loaded.Input, opts)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".in.yaml"), func(t *testing.T) { checkSame(t, res.Objects) })
		all = append(all, res.Objects...)
	}
	// All cases in one stream: many chunks, so the parallel writer reorders for real.
	t.Run("all", func(t *testing.T) { checkSame(t, all) })
}

// TestBenchInputSameBytes: the benchmark's objects (many chunks) give the same bytes.
func TestBenchInputSameBytes(t *testing.T) {
	ings, svcs := bench.Generate(700)
	res := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{})
	checkSame(t, res.Objects)
}

// TestEdgeValuesSameBytes: strings that must be quoted, escapes, invalid UTF-8, keys with
// escapes, empty and nested containers, numbers, a status and a null creationTimestamp.
func TestEdgeValuesSameBytes(t *testing.T) {
	docs := []string{
		`{"apiVersion":"v1","kind":"X","metadata":{"name":"a","creationTimestamp":null},"status":{"x":1},"spec":{"a":"yes","b":"on","c":"123","d":"1.5","e":"","f":" lead","g":"x: y","h":"# c","i":"(?i)^(?:/a|/b).*","j":"line\nbreak","k":"<tag>&","l":"null","m":"~","n":"NO","o":"\\u003c literal","p":"\u2028","q":"tab\there","r":"é","s":"q\"{,}:[]\\","t":"\\\"[1]"}}`,
		`{"apiVersion":"v1","kind":"Y","metadata":{"creationTimestamp":null},"list":[{"x":1,"y":[]},{"z":{}},[1,2],[],{},"s",true,null,-3.25,1e+21],"empty":{},"nested":{"deep":{"deeper":["a",{"k":"v"}]}}}`,
		`{"apiVersion":"v1","kind":"Z","metadata":{"name":"b","creationTimestamp":"2024-01-01T00:00:00Z"},"\"odd key\"":1,"on":2,"-dash":3,"*star":"&anchor","quote'":"it's","a\u00e9":1,"a\u0000b":2,"ab":3,"<k>":"v"}`,
	}
	var objs []client.Object
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	// Invalid UTF-8: json.Marshal writes \ufffd, which encodes again as the character.
	objs = append(objs, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "W",
		"metadata": map[string]any{"name": "bad\xffutf8"}, "spec": map[string]any{"k\xfe": "v\xff<"}}})
	checkSame(t, objs)
	for _, o := range objs {
		checkSame(t, []client.Object{o})
	}
	checkSame(t, nil)
}

func TestUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	err := emit.Write(&b, nil, "xml", emit.Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown output format "xml"`) || b.Len() > 0 {
		t.Fatalf("err = %v, wrote %q", err, b.String())
	}
}

// failingWriter fails after n writes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// TestWriteErrorStops: a failing writer ends Write with its error (no goroutine left
// waiting: the test would hang or the race detector complain).
func TestWriteErrorStops(t *testing.T) {
	ings, svcs := bench.Generate(300)
	res := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{})
	for _, n := range []int{0, 1, 3} {
		for _, v := range variants {
			err := emit.Write(&failingWriter{n: n}, append([]client.Object(nil), res.Objects...), "yaml", v.opts)
			if err == nil || err.Error() != "disk full" {
				t.Fatalf("%s after %d writes: err = %v", v.name, n, err)
			}
		}
	}
}

// FuzzWriteMatchesEncodeObjects: any JSON object, as an object's content, is written in
// the bytes of the sequential encoder.
func FuzzWriteMatchesEncodeObjects(f *testing.F) {
	f.Add(`{"apiVersion":"v1","kind":"X","metadata":{"name":"a"},"spec":{"a":["<b>",1,{"c":null}]}}`)
	f.Add(`{"k":"\\u003c","\u00e9":"é","x":{"y":[[],{}]}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var m map[string]any
		if json.Unmarshal([]byte(doc), &m) != nil || m == nil {
			return
		}
		obj := &unstructured.Unstructured{Object: m}
		if _, err := json.Marshal(obj); err != nil {
			return
		}
		checkSame(t, []client.Object{obj, obj.DeepCopy()})
	})
}

// TestParallelEqualsSequential: the parallel writer gives exactly the bytes of the
// sequential one (Workers: 1) for a stream of many more chunks than it has buffers, whose
// chunks alternate between very large and very small (a large buffer is then reused for
// a small chunk, and the other way round), whatever the number of workers; and a writer
// failing after some chunks ends it with its error (every buffer goes back while the
// queue is drained, so no worker waits for one).
func TestParallelEqualsSequential(t *testing.T) {
	// 400 Ingresses: ~1,200 objects, ~19 chunks, more than the buffers of 2 or 3 workers.
	ings, svcs := bench.Generate(400)
	base := converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{}).Objects
	// A 64-object chunk of large objects (100 annotations each), then one of the usual.
	var objs []client.Object
	for i, o := range base {
		if (i/64)%2 == 0 {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": o.GetName(), "namespace": o.GetNamespace(), "annotations": largeAnnotations(i)}}}
			objs = append(objs, u)
			continue
		}
		objs = append(objs, o)
	}
	for _, format := range []string{"yaml", "json"} {
		var want bytes.Buffer
		if err := emit.Write(&want, objs, format, emit.Options{Workers: 1}); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{2, 3} {
			var got bytes.Buffer
			if err := emit.Write(&got, objs, format, emit.Options{Workers: workers}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%s, %d workers: differs from the sequential writer at byte %d", format, workers, firstDiff(got.Bytes(), want.Bytes()))
			}
			for _, n := range []int{2, 5} {
				err := emit.Write(&failingWriter{n: n}, objs, format, emit.Options{Workers: workers})
				if err == nil || err.Error() != "disk full" {
					t.Fatalf("%s, %d workers, failing after %d writes: err = %v", format, workers, n, err)
				}
			}
		}
	}
}

// largeAnnotations are 100 annotations, different for each i.
func largeAnnotations(i int) map[string]any {
	m := make(map[string]any, 100)
	for k := range 100 {
		m[fmt.Sprintf("example.com/key-%03d", k)] = strings.Repeat("v", k%50) + strconv.Itoa(i)
	}
	return m
}
