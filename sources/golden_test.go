package sources

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden testdata/*.out.yaml files")

// readSummary is what a golden file holds of a Loaded: what was not read and why, what was
// ignored, and every object kept with where it was read.
type readSummary struct {
	Problems []Problem      `json:"problems"`
	Ignored  map[string]int `json:"ignored"`
	Objects  []string       `json:"objects"`
}

func summarize(l *Loaded) readSummary {
	s := readSummary{Problems: l.Problems, Ignored: l.Ignored, Objects: []string{}}
	if s.Problems == nil {
		s.Problems = []Problem{}
	}
	add := func(kind, namespace, name string, origins []string, i int) {
		origin := "?"
		if i < len(origins) {
			origin = origins[i]
		}
		s.Objects = append(s.Objects, kind+" "+qualified(namespace, name)+" from "+origin)
	}
	for i, o := range l.Input.Ingresses {
		add("Ingress", o.Namespace, o.Name, l.origins.ingresses, i)
	}
	for i, o := range l.Input.IngressClasses {
		add("IngressClass", "", o.Name, l.origins.classes, i)
	}
	for i, o := range l.Input.Services {
		add("Service", o.Namespace, o.Name, l.origins.services, i)
	}
	for i, o := range l.Input.Secrets {
		add("Secret", o.Namespace, o.Name, l.origins.secrets, i)
	}
	for i, o := range l.configMaps {
		add("ConfigMap", o.Namespace, o.Name, l.origins.configMaps, i)
	}
	for i, o := range l.Objects {
		add(o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), l.origins.objects, i)
	}
	return s
}

// goTerms are what a message must never show its reader: Go type names and the errors of
// encoding/json as they are.
var goTerms = regexp.MustCompile(`json: |Go struct|Go value|sources\.|typeHeader|\[\]v1\.|\bint32\b|\bint64\b|map\[|interface \{\}`)

// caseOptions reads the first-line directive of a case file, or of testdata/<case>.options
// for a JSON file or a directory:
//
//	# sources: max-document-size=1Ki max-file-size=64
func caseOptions(t *testing.T, path, name string) Options {
	var o Options
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("# sources:")) {
		if b, err = os.ReadFile(filepath.Join("testdata", name+".options")); err != nil {
			return o
		}
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	line, ok := strings.CutPrefix(string(first), "# sources:")
	if !ok {
		return o
	}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		q, err := resource.ParseQuantity(v)
		if err != nil {
			t.Fatalf("bad %s %q: %v", k, v, err)
		}
		switch k {
		case "max-document-size":
			o.MaxDocumentSize = q.Value()
		case "max-file-size":
			o.MaxFileSize = q.Value()
		default:
			t.Fatalf("unknown directive %q", k)
		}
	}
	return o
}

// TestGolden reads each testdata/<case>.in.yaml (or .in.json, or the directory
// testdata/<case>/) and compares what was read with testdata/<case>.out.yaml.
func TestGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		switch {
		case e.IsDir() && e.Name() != "fuzz":
			cases = append(cases, e.Name())
		case strings.HasSuffix(e.Name(), ".in.yaml"), strings.HasSuffix(e.Name(), ".in.json"):
			cases = append(cases, e.Name())
		}
	}
	sort.Strings(cases)
	if len(cases) == 0 {
		t.Fatal("no golden cases in testdata/")
	}
	for _, c := range cases {
		name := strings.TrimSuffix(strings.TrimSuffix(c, ".in.yaml"), ".in.json")
		t.Run(name, func(t *testing.T) {
			in := filepath.Join("testdata", c)
			l, err := ReadPaths([]string{in}, caseOptions(t, in, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range l.Problems {
				if goTerms.MatchString(p.Message) {
					t.Errorf("%s: the message speaks Go, not YAML: %s", p.Source, p.Message)
				}
			}
			got, err := yaml.Marshal(summarize(l))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join("testdata", name+".out.yaml")
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./sources -run TestGolden -update)", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs (run with -update and review the diff):\n--- want\n%s\n--- got\n%s", out, want, got)
			}
		})
	}
}
