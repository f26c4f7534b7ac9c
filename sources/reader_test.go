package sources

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReaderDecodesOnlyChangedFiles: a second Read sees an edited file and keeps the
// objects of untouched files (same pointers: they were not decoded again).
func TestReaderDecodesOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mod time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n", t0)
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n", t0)
	r := NewReader([]string{dir}, Options{})
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Input.Services) != 2 || len(first.Objects) != 1 {
		t.Fatalf("first read: %d services, %d objects", len(first.Input.Services), len(first.Objects))
	}
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b2}\n", t0.Add(time.Second))
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Input.Services[1].Name; got != "b2" {
		t.Errorf("edited file not re-read: service %q", got)
	}
	if first.Objects[0] != second.Objects[0] {
		t.Errorf("the untouched file was decoded again")
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
}
