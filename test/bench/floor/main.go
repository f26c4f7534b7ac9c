// Command floor measures the decode floor of an input file: split at "---" lines, then
// every document decoded with sigs.k8s.io/yaml into a map, one after the other on one
// goroutine (a .json file: encoding/json into a map). hack/bench.sh runs it with
// GOMAXPROCS=1 and compares `gatebridge convert` of the same file against its wall time:
// nothing that reads that YAML can be faster on one core.
//
//	GOMAXPROCS=1 go run ./test/bench/floor -f .cache/bench/ingresses-5000.yaml
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	file := flag.String("f", "", "input file (.yaml: multi-document YAML; .json: one JSON value)")
	flag.Parse()
	n, err := decodeFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "floor: decoded %d documents of %s\n", n, *file)
}

// decodeFile decodes every document of the file and returns how many there were.
func decodeFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		var v any
		if err := json.Unmarshal(t, &v); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		return 1, nil
	}
	n := 0
	for i, doc := range splitYAML(b) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return n, fmt.Errorf("%s#%d: %w", path, i+1, err)
		}
		n++
	}
	return n, nil
}

// splitYAML splits a YAML stream at "---" lines.
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i < len(b); {
		end := bytes.IndexByte(b[i:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += i
		}
		if line := bytes.TrimRight(b[i:end], " \t\r"); bytes.Equal(line, []byte("---")) {
			docs = append(docs, b[start:i])
			start = end + 1
		}
		i = end + 1
	}
	if start < len(b) {
		docs = append(docs, b[start:])
	}
	return docs
}
