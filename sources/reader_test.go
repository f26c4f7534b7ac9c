package sources

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReaderDecodesOnlyChangedFiles: a second Read sees an edited file and keeps the
// objects of untouched files (same pointers: they were not decoded again).
func TestReaderDecodesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n")
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n")
	r := NewReader([]string{dir}, Options{})
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Input.Services) != 2 || len(first.Objects) != 1 {
		t.Fatalf("first read: %d services, %d objects", len(first.Input.Services), len(first.Objects))
	}
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b2}\n")
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Input.Services[1].Name; got != "b2" {
		t.Errorf("edited file not re-read: service %q", got)
	}
	if first.Objects[0] != second.Objects[0] || first.Services[0] != second.Services[0] {
		t.Errorf("the untouched file was decoded again")
	}
	if first.Services[1] == second.Services[1] || second.Services[1].Name != "b2" {
		t.Errorf("the edited Service kept its pointer")
	}
	if r.OnlyEndpointsChanged() {
		t.Errorf("a Service changed, but OnlyEndpointsChanged")
	}
	if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	third, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Input.Services) != 1 {
		t.Errorf("removed file still read: %d services", len(third.Input.Services))
	}
	if r.OnlyEndpointsChanged() {
		t.Errorf("a file with a Service was removed, but OnlyEndpointsChanged")
	}
}

// TestReaderOnlyEndpointsChanged: edits, additions and removals of files holding nothing
// but EndpointSlices and Endpoints are endpoint-only changes; a file that gains or loses
// another kind is not.
func TestReaderOnlyEndpointsChanged(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	slice := func(addr string) string {
		return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: a}}\naddressType: IPv4\nendpoints: [{addresses: [\"" + addr + "\"]}]\n"
	}
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
	write("eps.yaml", slice("10.0.0.1"))
	r := NewReader([]string{dir}, Options{})
	read := func() {
		t.Helper()
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if r.OnlyEndpointsChanged() {
		t.Errorf("first read: every file is new")
	}
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"nothing changed", func() {}, true},
		{"slice edited", func() { write("eps.yaml", slice("10.0.0.2")) }, true},
		{"slice file added", func() { write("eps2.yaml", slice("10.0.0.3")) }, true},
		{"slice file removed", func() { _ = os.Remove(filepath.Join(dir, "eps2.yaml")) }, true},
		{"slice file gains a Service", func() {
			write("eps.yaml", slice("10.0.0.2")+"---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n")
		}, false},
		{"and loses it again", func() { write("eps.yaml", slice("10.0.0.2")) }, false},
		{"Service edited", func() { write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a2}\n") }, false},
	}
	for _, s := range steps {
		s.do()
		read()
		if got := r.OnlyEndpointsChanged(); got != s.want {
			t.Errorf("%s: OnlyEndpointsChanged = %v, want %v", s.name, got, s.want)
		}
	}
}

// TestReaderConverterChanges: the Ingresses of changed files are named, before and after
// the change, and only they; any other kind the converter reads is flagged.
func TestReaderConverterChanges(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	ingress := func(ns, name string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec: {defaultBackend: {service: {name: s, port: {number: 80}}}}\n---\n"
	}
	write("a.yaml", ingress("x", "a1")+ingress("x", "a2"))
	write("b.yaml", ingress("z", "b"))
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	write("eps.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\n")
	r := NewReader([]string{dir}, Options{})
	steps := []struct {
		name   string
		do     func()
		want   []string
		others bool
	}{
		{"first read", func() {}, []string{"x/a1", "x/a2", "z/b"}, true},
		{"nothing changed", func() {}, nil, false},
		{"one Ingress renamed", func() { write("a.yaml", ingress("x", "a1")+ingress("x", "a3")) }, []string{"x/a1", "x/a2", "x/a3"}, false},
		{"file removed", func() { _ = os.Remove(filepath.Join(dir, "b.yaml")) }, []string{"z/b"}, false},
		{"slice edited", func() {
			write("eps.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-2}\naddressType: IPv4\n")
		}, nil, false},
		{"Service edited", func() { write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n") }, nil, true},
		{"Ingress added next to the Service", func() {
			write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n---\n"+ingress("x", "c"))
		}, []string{"x/c"}, false},
		{"Service file removed", func() { _ = os.Remove(filepath.Join(dir, "svc.yaml")) }, []string{"x/c"}, true},
	}
	for _, s := range steps {
		s.do()
		// Kinds no changed file holds are taken from the previous Read: still what a
		// fresh read gives.
		got, want := readAndFresh(t, r, dir)
		if !reflect.DeepEqual(got.Input, want.Input) || !reflect.DeepEqual(got.Objects, want.Objects) || !reflect.DeepEqual(got.Services, want.Services) {
			t.Errorf("%s: the Reader's result differs from ReadPaths'", s.name)
		}
		ings, others := r.ConverterChanges()
		if got := slices.Sorted(maps.Keys(ings)); !slices.Equal(got, s.want) || others != s.others {
			t.Errorf("%s: ConverterChanges = %v, %v; want %v, %v", s.name, got, others, s.want, s.others)
		}
	}
}

// fileWriter returns a function that writes a file in dir, each write with a modification
// time one second later than the one before (a Reader notices changes by size and time).
func fileWriter(t *testing.T, dir string) func(name, body string) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	return func(name, body string) {
		t.Helper()
		n++
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := t0.Add(time.Duration(n) * time.Second)
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// servedIngress is a file a Reader serves: an Ingress for path and its Service.
func servedIngress(path string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: default}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - {path: " + path + ", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n"
}

// brokenEdits are edits of servedIngress that do not decode: what a half-finished save, a
// truncated write or a typo leaves.
var brokenEdits = []struct{ name, body string }{
	{"truncated inside a flow mapping", servedIngress("/old")[:strings.Index(servedIngress("/old"), "pathType")+6]},
	{"second document cut short", servedIngress("/old") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web2, namesp"},
	{"invalid YAML", strings.Replace(servedIngress("/old"), "  rules:", "  rules: [", 1)},
	{"a field of the wrong type", strings.Replace(servedIngress("/old"), "ingressClassName: nginx", "ingressClassName: [nginx]", 1)},
}

// readAndFresh returns what r reads now and what a fresh ReadPaths of dir reads.
func readAndFresh(t *testing.T, r *Reader, dir string) (got, want *Loaded) {
	t.Helper()
	got = readOK(t, r)
	want, err := ReadPaths([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return got, want
}

func readOK(t *testing.T, r *Reader) *Loaded {
	t.Helper()
	l, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ingressPaths(l *Loaded) []string {
	var out []string
	for _, ing := range l.Input.Ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				out = append(out, rule.Host+p.Path)
			}
		}
	}
	return out
}

// problemsText joins the problems of l, one per line, as `run` prints them.
func problemsText(l *Loaded) string {
	var b strings.Builder
	for _, p := range l.Problems {
		b.WriteString(p.Source + ": " + p.Message + "\n")
	}
	return b.String()
}

// TestReaderKeepsLastGoodOfBrokenFile: an edit that leaves a served file undecodable keeps
// every object of its last good version (a kept file did not change: no converter change,
// same objects); the problem names the document and says the last good version is still
// served. A fixed file is taken as usual; removing a file withdraws it even when broken.
func TestReaderKeepsLastGoodOfBrokenFile(t *testing.T) {
	for _, edit := range brokenEdits {
		t.Run(edit.name, func(t *testing.T) {
			dir := t.TempDir()
			write := fileWriter(t, dir)
			write("web.yaml", servedIngress("/old"))
			write("eps.yaml", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\n")
			r := NewReader([]string{dir}, Options{})
			good := readOK(t, r)

			write("web.yaml", edit.body)
			kept := readOK(t, r)
			if got := ingressPaths(kept); !slices.Equal(got, []string{"a.example.com/old"}) {
				t.Fatalf("after the broken edit the Reader serves %v, want the last good a.example.com/old", got)
			}
			if !reflect.DeepEqual(kept.Input, good.Input) || !reflect.DeepEqual(kept.Objects, good.Objects) {
				t.Errorf("the last good version is not served whole")
			}
			if kept.Services[0] != good.Services[0] {
				t.Errorf("the kept Service was decoded again (a kept file did not change)")
			}
			msg := problemsText(kept)
			if !strings.Contains(msg, filepath.Join(dir, "web.yaml")+"#") || !strings.Contains(msg, "last good version") {
				t.Errorf("the problems do not name the document and say the last good version is served:\n%s", msg)
			}
			if ings, others := r.ConverterChanges(); len(ings) != 0 || others {
				t.Errorf("kept file: ConverterChanges = %v, %v; want nothing", ings, others)
			}
			if !r.OnlyEndpointsChanged() {
				t.Errorf("kept file: OnlyEndpointsChanged = false; nothing changed")
			}
			// Still broken, not touched again: still kept, still reported.
			again := readOK(t, r)
			if got := ingressPaths(again); !slices.Equal(got, []string{"a.example.com/old"}) || !strings.Contains(problemsText(again), "last good version") {
				t.Errorf("second read of the broken file: serves %v, problems:\n%s", got, problemsText(again))
			}

			write("web.yaml", servedIngress("/new"))
			fixed := readOK(t, r)
			if got := ingressPaths(fixed); !slices.Equal(got, []string{"a.example.com/new"}) {
				t.Errorf("after the fix the Reader serves %v, want a.example.com/new", got)
			}
			if len(fixed.Problems) != 0 {
				t.Errorf("problems after the fix: %+v", fixed.Problems)
			}
			if ings, _ := r.ConverterChanges(); !ings["default/web"] {
				t.Errorf("fixed file: the Ingress is not among the changes: %v", ings)
			}

			write("web.yaml", edit.body)
			readOK(t, r)
			if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
				t.Fatal(err)
			}
			removed := readOK(t, r)
			if len(removed.Input.Ingresses) != 0 || len(removed.Input.Services) != 0 || len(removed.Problems) != 0 {
				t.Errorf("removed broken file: %d Ingresses, %d Services, problems %+v; want none", len(removed.Input.Ingresses), len(removed.Input.Services), removed.Problems)
			}
			if ings, others := r.ConverterChanges(); !ings["default/web"] || !others {
				t.Errorf("removed file: ConverterChanges = %v, %v; want its Ingress and Service", ings, others)
			}
		})
	}
}

// TestReaderNewBrokenFileContributesNothing: a file first seen broken serves none of its
// documents, not even the ones that decode, until every document decodes.
func TestReaderNewBrokenFileContributesNothing(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: other}\n")
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	write("web.yaml", brokenEdits[1].body)
	l := readOK(t, r)
	if len(l.Input.Ingresses) != 0 || len(l.Input.Services) != 1 {
		t.Errorf("new broken file: %d Ingresses, %d Services; want 0 and 1", len(l.Input.Ingresses), len(l.Input.Services))
	}
	if msg := problemsText(l); !strings.Contains(msg, "not served") || !strings.Contains(msg, "web.yaml#3") {
		t.Errorf("the problems do not say the new file is not served:\n%s", msg)
	}
	if ings, others := r.ConverterChanges(); len(ings) != 0 || others {
		t.Errorf("ConverterChanges = %v, %v; nothing was taken", ings, others)
	}
	write("web.yaml", servedIngress("/new"))
	if got := ingressPaths(readOK(t, r)); !slices.Equal(got, []string{"a.example.com/new"}) {
		t.Errorf("after the fix: %v", got)
	}
}

// TestReaderKeepsLastGoodOfEmptyFile: a served file truncated to zero bytes (the first step
// of every in-place write) keeps its last good version; a deletion is how a file's objects
// are withdrawn.
func TestReaderKeepsLastGoodOfEmptyFile(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("web.yaml", servedIngress("/old"))
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	write("web.yaml", "")
	l := readOK(t, r)
	if got := ingressPaths(l); !slices.Equal(got, []string{"a.example.com/old"}) {
		t.Errorf("empty file: serves %v, want the last good a.example.com/old", got)
	}
	if msg := problemsText(l); !strings.Contains(msg, "empty") || !strings.Contains(msg, "last good version") {
		t.Errorf("problems:\n%s", msg)
	}
	write("new.yaml", "")
	if l := readOK(t, r); len(l.Problems) != 1 {
		t.Errorf("a new empty file is no problem: %+v", l.Problems)
	}
}

// TestReaderKeepsLastGoodOfUnreadableFile: a file that cannot be read keeps its last good
// version, and is tried again on the next Read even if its size and time did not change.
func TestReaderKeepsLastGoodOfUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("web.yaml", servedIngress("/old"))
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	fail := true
	r.readFile = func(name string, limit int64) ([]byte, error) {
		if fail {
			return nil, fmt.Errorf("open %s: permission denied", name)
		}
		return readUpTo(name, limit)
	}
	write("web.yaml", servedIngress("/new"))
	l := readOK(t, r)
	if got := ingressPaths(l); !slices.Equal(got, []string{"a.example.com/old"}) {
		t.Errorf("unreadable file: serves %v, want the last good a.example.com/old", got)
	}
	if msg := problemsText(l); !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "last good version") {
		t.Errorf("problems:\n%s", msg)
	}
	fail = false
	if got := ingressPaths(readOK(t, r)); !slices.Equal(got, []string{"a.example.com/new"}) {
		t.Errorf("readable again: serves %v, want a.example.com/new", got)
	}
}

// TestReaderRereadsFileChangedWhileRead: a file whose size or time changes while it is read
// is read again, so that a write in progress is never taken.
func TestReaderRereadsFileChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("web.yaml", servedIngress("/old"))
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	write("web.yaml", servedIngress("/new")[:60])
	reads := 0
	r.readFile = func(name string, limit int64) ([]byte, error) {
		reads++
		b, err := readUpTo(name, limit)
		if reads == 1 {
			// The writer finishes while the Reader reads the first half.
			write("web.yaml", servedIngress("/new"))
		}
		return b, err
	}
	l := readOK(t, r)
	if got := ingressPaths(l); !slices.Equal(got, []string{"a.example.com/new"}) || reads != 2 {
		t.Errorf("serves %v after %d reads; want a.example.com/new after 2", got, reads)
	}
	if len(l.Problems) != 0 {
		t.Errorf("problems: %+v", l.Problems)
	}
}

// TestReaderSameContentIsNoChange: a file written again with the same bytes (touch, a save
// without edits) is not a change: nothing is decoded or converted again.
func TestReaderSameContentIsNoChange(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("web.yaml", servedIngress("/old"))
	r := NewReader([]string{dir}, Options{})
	first := readOK(t, r)
	write("web.yaml", brokenEdits[0].body)
	readOK(t, r)
	write("web.yaml", servedIngress("/old"))
	l := readOK(t, r)
	if l.Services[0] != first.Services[0] {
		t.Errorf("the same content was decoded again")
	}
	if ings, others := r.ConverterChanges(); len(ings) != 0 || others {
		t.Errorf("ConverterChanges = %v, %v; want nothing", ings, others)
	}
	if r.ChurnBytes() != 0 {
		t.Errorf("ChurnBytes = %d, want 0", r.ChurnBytes())
	}
}

// TestReaderChurnBytes: the bytes read and dropped by a Read, which tell `run` when to
// return memory to the operating system.
func TestReaderChurnBytes(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	body := servedIngress("/old")
	write("web.yaml", body)
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	if got := r.ChurnBytes(); got != int64(len(body)) {
		t.Errorf("first read: ChurnBytes = %d, want %d", got, len(body))
	}
	readOK(t, r)
	if got := r.ChurnBytes(); got != 0 {
		t.Errorf("nothing changed: ChurnBytes = %d, want 0", got)
	}
	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	readOK(t, r)
	if got := r.ChurnBytes(); got != int64(len(body)) {
		t.Errorf("file removed: ChurnBytes = %d, want %d", got, len(body))
	}
}

// TestReaderKeepsLastGoodOfRefusedUpdate: as in a cluster, an update the API server would
// refuse leaves the object as it was: a changed file whose Ingress became invalid (here a
// write cut inside "pathType: Prefix", which still parses) keeps its last good version. An
// Ingress that was already invalid, left as it is, does not stop its file from changing;
// a new file is taken as usual (the converter refuses its invalid Ingress).
func TestReaderKeepsLastGoodOfRefusedUpdate(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	block := strings.Replace(servedIngress("/old"), "{path: /old, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}",
		"path: /old\n        pathType: Prefix\n        backend: {service: {name: web, port: {number: 80}}}", 1)
	write("web.yaml", block)
	r := NewReader([]string{dir}, Options{})
	readOK(t, r)
	cut := block[:strings.Index(block, "pathType: Pre")+len("pathType: Pre")]
	write("web.yaml", cut)
	l := readOK(t, r)
	if got := ingressPaths(l); !slices.Equal(got, []string{"a.example.com/old"}) || len(l.Input.Services) != 1 {
		t.Errorf("refused update: serves %v and %d Services, want the last good version", got, len(l.Input.Services))
	}
	if msg := problemsText(l); !strings.Contains(msg, "API server would refuse") || !strings.Contains(msg, "pathType") || !strings.Contains(msg, "web.yaml#1") {
		t.Errorf("problems:\n%s", msg)
	}

	invalid := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: placeholder}\nspec: {rules: [{host: \"__ingress_host__\"}]}\n---\n"
	other := func(path string) string { return strings.ReplaceAll(servedIngress(path), "name: web", "name: other") }
	write("new.yaml", invalid+other("/one"))
	if got := ingressPaths(readOK(t, r)); !slices.Contains(got, "a.example.com/one") {
		t.Errorf("a new file with an invalid Ingress is not taken: %v", got)
	}
	write("new.yaml", invalid+other("/two"))
	if got := ingressPaths(readOK(t, r)); !slices.Contains(got, "a.example.com/two") {
		t.Errorf("an edit next to an Ingress that was invalid already is not taken: %v", got)
	}
}
