package sources

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// wholeDocuments is the reading streamDocuments must equal: the whole stream read, then
// split (as every input was read before reading was streamed).
func wholeDocuments(source string, r io.Reader, size int64, opts Options) ([]document, error) {
	limit := opts.maxFileSize()
	if size > limit {
		return []document{fileTooLarge(source, size, limit)}, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return []document{fileTooLarge(source, -1, limit)}, nil
	}
	return documentsOf(source, b, opts), nil
}

// readWhole reads paths (files only) whole, decodes every document and merges them.
func readWhole(t *testing.T, paths []string, opts Options) *Loaded {
	t.Helper()
	var results []decoded
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		docs, err := wholeDocuments(p, f, info.Size(), opts)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			results = append(results, decodeDocument(d))
		}
	}
	l := merge([][]decoded{results}, opts)
	l.Services, l.Secrets = pointersTo(l.Input.Services), pointersTo(l.Input.Secrets)
	return l
}

// TestStreamedReadingEqualsWhole reads inputs with windows and batches of every size —
// lines, separators and runes cut at window ends, one document per batch — and checks that
// ReadPaths gives what reading each file whole gives.
func TestStreamedReadingEqualsWhole(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var many strings.Builder
	for i := range 60 {
		sep := []string{"---\n", "--- # next\n", "---\r\n", "---   \n"}[i%4]
		fmt.Fprintf(&many, "%sapiVersion: v1\nkind: Service\nmetadata:\n  name: s%d\n  namespace: n%d\nspec:\n  ports:\n  - port: %d\n", sep, i, i%7, 80+i)
		if i%9 == 0 {
			many.WriteString("# only a comment\n---\n\n---\n")
		}
		if i%11 == 0 {
			fmt.Fprintf(&many, "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i%d\n  annotations:\n    a: \"héllo ünïcödé\"\nspec:\n  defaultBackend:\n    service:\n      name: s%d\n      port:\n        number: 80\n", i, i)
		}
	}
	inputs := map[string][]string{
		"many":              {write("many.yaml", many.String())},
		"no final newline":  {write("nonl.yaml", strings.TrimSuffix(many.String(), "\n"))},
		"separator at end":  {write("sepend.yaml", many.String()+"---")},
		"leading spaces":    {write("lead.yaml", "\u00a0\n\n  \n"+many.String())},
		"bad document":      {write("bad.yaml", many.String()+"---\nkind: [\n---\napiVersion: v1\nkind: Service\nmetadata: {name: after}\n")},
		"json list":         {write("list.json", `{"kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"b"}}]}`)},
		"json after spaces": {write("spaces.json", "\n\n   "+`[{"apiVersion":"v1","kind":"Service","metadata":{"name":"c"}}]`)},
		// A window that ends inside a multi-byte space before the JSON cannot tell.
		"json after a multi-byte space": {write("nbsp.json", "\u00a0\u2003"+`[{"apiVersion":"v1","kind":"Service","metadata":{"name":"d"}}]`)},
		"flow style first":              {write("flow.yaml", "{apiVersion: v1, kind: Service, metadata: {name: f}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: g\n")},
		"several files":                 {write("one.yaml", many.String()), write("two.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s1\n  namespace: n1\n"), write("three.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"j"}}`)},
		"empty":                         {write("empty.yaml", "")},
	}
	golden, _ := filepath.Glob("testdata/*.in.*")
	for _, g := range golden {
		inputs["testdata "+filepath.Base(g)] = []string{g}
	}
	limits := []Options{{}, {MaxDocumentSize: 150}, {MaxFileSize: int64(many.Len() / 2)}}
	defer func(w, b int) { windowSize, batchSize = w, b }(windowSize, batchSize)
	for name, paths := range inputs {
		for li, opts := range limits {
			want := readWhole(t, paths, opts)
			for _, w := range []int{1, 7, 64, 1000, 1 << 20} {
				for _, b := range []int{1, 300, 1 << 20} {
					windowSize, batchSize = w, b
					got, err := ReadPaths(paths, opts)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s, limits %d, window %d, batch %d: streamed reading differs from whole reading\ngot:  %+v\nwant: %+v", name, li, w, b, summarize(got), summarize(want))
					}
				}
			}
		}
	}
}

// TestStreamedReadingOfStandardInput: standard input (size unknown) reads as a file does.
func TestStreamedReadingOfStandardInput(t *testing.T) {
	in := "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n"
	defer func(w int) { windowSize = w }(windowSize)
	windowSize = 5
	got, err := ReadPaths([]string{"-"}, Options{Stdin: bytes.NewBufferString(in)})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := wholeDocuments("<stdin>", strings.NewReader(in), -1, Options{})
	var results []decoded
	for _, d := range docs {
		results = append(results, decodeDocument(d))
	}
	want := merge([][]decoded{results}, Options{})
	want.Services, want.Secrets = pointersTo(want.Input.Services), pointersTo(want.Input.Secrets)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("standard input: got %+v, want %+v", summarize(got), summarize(want))
	}
	// Over the file limit while read (its size was not known): one problem, nothing else.
	got, err = ReadPaths([]string{"-"}, Options{Stdin: bytes.NewBufferString(in), MaxFileSize: 60})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Input.Services) != 0 || len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Message, "limit") {
		t.Errorf("standard input over the limit: got %+v", summarize(got))
	}
}

// TestNextWindow: a small file is read in one window of its size (a batch holds the
// documents of many small files, and each window as long as its documents wait), a large one
// in windowSize windows, a stream of unknown size in windows that double.
func TestNextWindow(t *testing.T) {
	for _, c := range []struct {
		size, read int64
		want       int
	}{
		{100, 0, minWindow},
		{50 << 10, 0, 50<<10 + 1},
		{50 << 20, 0, windowSize},
		{50 << 20, 50<<20 - 10, minWindow},
		{10, 20, minWindow}, // the file grew while read
		{-1, 0, minWindow},
		{-1, 64 << 10, 64 << 10},
		{-1, 100 << 20, windowSize},
	} {
		if got := nextWindow(c.size, c.read); got != c.want {
			t.Errorf("nextWindow(%d, %d) = %d, want %d", c.size, c.read, got, c.want)
		}
	}
}
