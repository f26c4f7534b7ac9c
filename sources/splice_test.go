package sources

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestReaderSplicesAsAFreshReadWould: a Reader that splices edited files' objects into
// the last Read's (mergeReusing) returns what ReadPaths of the same tree returns, through
// a random run of edits: objects edited in place (the spliced case), renamed, added,
// removed, defined twice, files added and removed, Services edited next to Ingresses.
func TestReaderSplicesAsAFreshReadWould(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	dir := t.TempDir()
	write := fileWriter(t, dir)
	ingress := func(ns, name, path string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
			"\nspec:\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - path: " + path +
			"\n        pathType: Prefix\n        backend:\n          service:\n            name: s\n            port:\n              number: 80\n---\n"
	}
	service := func(name string, port int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: x\nspec:\n  ports:\n  - port: %d\n---\n", name, port)
	}
	// files[f] are the names of file f's Ingresses; services[f] whether it holds a Service.
	const nFiles = 6
	files := make([][]string, nFiles)
	services := make([]bool, nFiles)
	present := make([]bool, nFiles)
	render := func(f int) string {
		var b strings.Builder
		for _, name := range files[f] {
			b.WriteString(ingress("x", name, fmt.Sprintf("/%s-%d", name, rng.IntN(1000))))
		}
		if services[f] {
			b.WriteString(service(fmt.Sprintf("svc-%d", f), 80+rng.IntN(100)))
		}
		// A Reader keeps the last version of a file emptied (an in-place write in
		// progress); a file with nothing to serve says so in a comment.
		return b.String() + "# end\n"
	}
	name := func(f int) string { return fmt.Sprintf("f%d.yaml", f) }
	for f := range nFiles {
		files[f] = []string{fmt.Sprintf("i%d-0", f), fmt.Sprintf("i%d-1", f)}
		services[f], present[f] = f%2 == 0, true
		write(name(f), render(f))
	}
	r := NewReader([]string{dir}, Options{})
	spliced := 0
	for step := range 300 {
		f := rng.IntN(nFiles)
		what := "edit"
		switch k := rng.IntN(20); {
		case k == 0:
			what = "rename"
			files[f] = append(files[f][:0:0], files[f]...)
			if len(files[f]) > 0 {
				files[f][rng.IntN(len(files[f]))] = fmt.Sprintf("r%d", step)
			}
		case k == 1:
			what = "add"
			files[f] = append(files[f], fmt.Sprintf("a%d", step))
		case k == 2 && len(files[f]) > 0:
			what = "remove one"
			files[f] = files[f][1:]
		case k == 3:
			what = "define twice"
			other := rng.IntN(nFiles)
			if len(files[other]) > 0 {
				files[f] = append(files[f], files[other][0])
			}
		case k == 4:
			what = "toggle the file"
			present[f] = !present[f]
		case k == 5:
			what = "toggle the Service"
			services[f] = !services[f]
		case k == 6:
			what = "empty file list"
			files[f] = nil
		}
		if present[f] {
			write(name(f), render(f))
		} else {
			_ = os.Remove(filepath.Join(dir, name(f)))
		}
		got, want := readAndFresh(t, r, dir)
		if !reflect.DeepEqual(got.Input, want.Input) || !reflect.DeepEqual(got.Objects, want.Objects) ||
			!reflect.DeepEqual(got.Services, want.Services) || !reflect.DeepEqual(got.origins, want.origins) ||
			!reflect.DeepEqual(got.Problems, want.Problems) {
			t.Fatalf("step %d (%s of %s): the Reader's result differs from ReadPaths'", step, what, name(f))
		}
		if got.splicedIngresses {
			spliced++
		}
	}
	// Most edits are in place, but while some object is defined twice every Read merges
	// anew: 58 of the 300 Reads splice with this seed.
	if spliced < 40 {
		t.Errorf("only %d Reads spliced: the test does not exercise splice", spliced)
	}
}

// TestSpliceTakesOnlyEditsInPlace: splice takes a changed group that defines the same
// objects in the same order, and refuses one that renames, adds, removes or reorders.
func TestSpliceTakesOnlyEditsInPlace(t *testing.T) {
	doc := func(names ...string) decoded {
		var d decoded
		for _, n := range names {
			d.services = append(d.services, svc(n))
			d.origins.services = append(d.origins.services, "f#"+n)
		}
		return d
	}
	of := func(d *decoded) ([]corev1.Service, []string) { return d.services, d.origins.services }
	prevGroups := [][]decoded{{doc("a", "b")}, {doc("c")}}
	kept, origins, _ := collect(prevGroups, of, serviceIdentity)
	prev := mergedKind[corev1.Service]{values: values(kept), pointers: kept, origins: origins, counts: groupCounts(prevGroups, of)}
	for _, tc := range []struct {
		name  string
		group []decoded
		ok    bool
	}{
		{"same names", []decoded{doc("a", "b")}, true},
		{"same names over two documents", []decoded{doc("a"), doc("b")}, true},
		{"renamed", []decoded{doc("a", "x")}, false},
		{"added", []decoded{doc("a", "b", "x")}, false},
		{"removed", []decoded{doc("a")}, false},
		{"reordered", []decoded{doc("b", "a")}, false},
	} {
		groups := [][]decoded{tc.group, prevGroups[1]}
		m, ok := splice(groups, prev, []bool{true, false}, true, of, serviceIdentity)
		if ok != tc.ok {
			t.Errorf("%s: splice ok = %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if ok {
			k, o, _ := collect(groups, of, serviceIdentity)
			if !reflect.DeepEqual(m.values, values(k)) || !reflect.DeepEqual(m.origins, o) || !reflect.DeepEqual(m.pointers, k) {
				t.Errorf("%s: splice differs from collect", tc.name)
			}
		}
	}
}

func svc(name string) corev1.Service {
	s := corev1.Service{}
	s.Name, s.Namespace = name, "x"
	return s
}

func serviceIdentity(o *corev1.Service) identity {
	return identity{kind: "Service", namespace: o.Namespace, name: o.Name}
}
