package sources

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: " + name + ", namespace: " + ns + "}\n---\n"
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
		got, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		// Kinds no changed file holds are taken from the previous Read: still what a
		// fresh read gives.
		want, err := ReadPaths([]string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
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
