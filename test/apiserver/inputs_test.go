package apiserver

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/goldencase"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// inputSet is one conversion: input files (or bytes) and the options convert is given.
type inputSet struct {
	group string // golden, fuzz seeds, examples, real-world
	name  string
	paths []string
	data  []byte // when set, written to a file and read instead of paths
	conv  converters.Options
	src   sources.Options
}

// fuzzOptions are the options of converters' FuzzConvert, whose seeds are the golden inputs.
var fuzzOptions = converters.Options{IncludeUnclassed: true}

// inputSets lists every input the emitted-objects test converts: the golden cases with
// their directives, the fuzz seeds and corpora, manifests/examples and the real-world corpus.
func inputSets(t *testing.T) []inputSet {
	t.Helper()
	var sets []inputSet
	goldens := glob(t, filepath.Join(repoRoot, "converters", "testdata", "*.in.yaml"))
	if len(goldens) == 0 {
		t.Fatal("no golden inputs under converters/testdata")
	}
	for _, f := range goldens {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		conv, src := caseOptions(t, f, raw)
		name := strings.TrimSuffix(filepath.Base(f), ".in.yaml")
		sets = append(sets, inputSet{group: "golden", name: name, paths: []string{f}, conv: conv, src: src})
		// FuzzConvert's seeds are the same files, converted with the fuzz target's options.
		sets = append(sets, inputSet{group: "fuzz seeds", name: "FuzzConvert/" + name, paths: []string{f}, conv: fuzzOptions})
	}
	for _, pkg := range []string{"converters", "sources"} {
		for i, seed := range literalFuzzSeeds(t, filepath.Join(repoRoot, pkg, "fuzz_test.go")) {
			sets = append(sets, inputSet{group: "fuzz seeds", name: fmt.Sprintf("%s f.Add #%d", pkg, i+1), data: seed, conv: fuzzOptions})
		}
		for _, f := range glob(t, filepath.Join(repoRoot, pkg, "testdata", "fuzz", "*", "*")) {
			data, ok := fuzzCorpusBytes(t, f)
			if !ok {
				continue
			}
			rel, _ := filepath.Rel(repoRoot, f)
			sets = append(sets, inputSet{group: "fuzz corpus", name: rel, data: data, conv: fuzzOptions})
		}
	}
	examples := filepath.Join(repoRoot, "manifests", "examples")
	sets = append(sets, inputSet{group: "examples", name: "manifests/examples", paths: []string{examples}})

	corpus := filepath.Join(repoRoot, "test", "corpus", "real-world")
	files := glob(t, filepath.Join(corpus, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no real-world corpus under %s", corpus)
	}
	// The whole corpus at once (one shared Gateway for every host), with and without the
	// Ingresses that name no class, then each file on its own.
	sets = append(sets,
		inputSet{group: "real-world", name: "test/corpus/real-world", paths: []string{corpus}},
		inputSet{group: "real-world", name: "test/corpus/real-world --include-unclassed", paths: []string{corpus}, conv: converters.Options{IncludeUnclassed: true}})
	for _, f := range files {
		sets = append(sets, inputSet{group: "real-world", name: filepath.Base(f) + " --include-unclassed", paths: []string{f}, conv: converters.Options{IncludeUnclassed: true}})
	}
	return sets
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("globbing %s: %v", pattern, err)
	}
	sort.Strings(m)
	return m
}

// caseOptions reads a golden case's first-line directive (internal/goldencase), as the
// converter's golden test does. An unknown directive fails the test: the case would be
// converted with the wrong options.
func caseOptions(t *testing.T, file string, in []byte) (converters.Options, sources.Options) {
	t.Helper()
	o, so, err := goldencase.Options(in)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return o, so
}

// literalFuzzSeeds returns the []byte("…") literals passed to f.Add in a fuzz test file.
func literalFuzzSeeds(t *testing.T, file string) [][]byte {
	t.Helper()
	src, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	var seeds [][]byte
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Add" || len(call.Args) != 1 {
			return true
		}
		if b, ok := byteSliceLiteral(call.Args[0]); ok {
			seeds = append(seeds, b)
		}
		return true
	})
	return seeds
}

// byteSliceLiteral returns the bytes of a []byte("…") conversion of a string literal.
func byteSliceLiteral(e ast.Expr) ([]byte, bool) {
	conv, ok := e.(*ast.CallExpr)
	if !ok || len(conv.Args) != 1 {
		return nil, false
	}
	if at, ok := conv.Fun.(*ast.ArrayType); !ok || at.Len != nil {
		return nil, false
	}
	lit, ok := conv.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return nil, false
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}

// fuzzCorpusBytes reads a `go test fuzz v1` corpus file with one []byte value.
func fuzzCorpusBytes(t *testing.T, file string) ([]byte, bool) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, false
	}
	if !sc.Scan() {
		return nil, false
	}
	e, err := parser.ParseExpr(sc.Text())
	if err != nil {
		t.Logf("%s: not a []byte value: %v", file, err)
		return nil, false
	}
	return byteSliceLiteral(e)
}
