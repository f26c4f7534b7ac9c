package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fsnotify/fsnotify"
)

// TestWatchSetNote: which file events reload. A given file and the manifests under a given
// directory do, and so do directories appearing or disappearing there; an editor's swap
// file, a log next to the manifests, a hidden directory or a file outside do not. Paths are
// compared absolute, so that "-f ." works.
func TestWatchSetNote(t *testing.T) {
	root := t.TempDir()
	tree, single := filepath.Join(root, "tree"), filepath.Join(root, "single")
	for _, d := range []string{tree, single, filepath.Join(tree, "sub"), filepath.Join(tree, ".git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(single, "web.yaml")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t.Chdir(tree)
	var ws watchSet
	for _, p := range []string{".", file} {
		if err := ws.add(w, p); err != nil {
			t.Fatal(err)
		}
	}
	// Created after the watch started.
	if err := os.Mkdir(filepath.Join(tree, "newdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		op   fsnotify.Op
		want bool
	}{
		{"web.yaml", fsnotify.Write, true}, // under "-f .", named relative
		{filepath.Join(tree, "sub", "a.YML"), fsnotify.Create, true},
		{filepath.Join(tree, "list.json"), fsnotify.Remove, true},
		{filepath.Join(tree, ".web.yaml.swp"), fsnotify.Write, false},
		{filepath.Join(tree, "gatebridge.log"), fsnotify.Write, false},
		{filepath.Join(tree, "newdir"), fsnotify.Create, true},
		{filepath.Join(tree, "gone"), fsnotify.Remove, true},
		{filepath.Join(tree, ".git"), fsnotify.Create, false},
		{file, fsnotify.Chmod, true},
		{filepath.Join(single, "other.yaml"), fsnotify.Write, false}, // next to a given file
		{filepath.Join(root, "elsewhere.yaml"), fsnotify.Write, false},
	}
	for _, c := range cases {
		if got := ws.note(w, fsnotify.Event{Name: c.name, Op: c.op}); got != c.want {
			t.Errorf("%s %s: reload %v, want %v", c.op, c.name, got, c.want)
		}
	}
	var watched []string
	for _, p := range w.WatchList() {
		abs, _ := filepath.Abs(p)
		watched = append(watched, abs)
	}
	if !slices.Contains(watched, filepath.Join(tree, "newdir")) {
		t.Errorf("a directory created under a watched tree is not watched: %v", watched)
	}
	if slices.Contains(watched, filepath.Join(tree, ".git")) {
		t.Errorf("a hidden directory is watched: %v", watched)
	}
}
