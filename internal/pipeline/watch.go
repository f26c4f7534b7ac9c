package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch serves the files and reloads whenever they change, until ctx ends. done is called
// after every reload with what it did and its error (the last good configuration is then
// still served). Watch returns the error of the first reload, which starts serving, and
// errors setting up the watch.
//
// The events of one save are batched (reloadDebounce after the last one). When files
// change again while a reload reads them, nothing is published and they are read again
// after the debounce, so a write in progress is not served (for at most maxPostpone of
// continuous writes; each file is read settled and whole in any case, see sources.Reader).
func (s *Server) Watch(ctx context.Context, done func(*Applied, error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching files: %w", err)
	}
	defer w.Close()
	var watched watchSet
	for _, p := range s.paths {
		if err := watched.add(w, p); err != nil {
			return err
		}
	}
	// Watching starts before the first read: a change made meanwhile is not missed.
	a, err := s.Reload(ctx)
	done(a, err)
	if err != nil {
		return err
	}
	var timer *time.Timer
	var fire <-chan time.Time
	arm := func() {
		if timer == nil {
			timer = time.NewTimer(reloadDebounce)
		} else {
			timer.Reset(reloadDebounce)
		}
		fire = timer.C
	}
	// drain takes the events that arrived meanwhile and reports whether one concerns the
	// files read.
	drain := func() bool {
		changed := false
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return changed
				}
				changed = watched.note(w, ev) || changed
			default:
				return changed
			}
		}
	}
	// postponedSince: when publishing was first postponed by files that kept changing.
	var postponedSince time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if watched.note(w, ev) {
				arm()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			done(nil, fmt.Errorf("watching files: %w", err))
		case <-fire:
			fire = nil
			changedDuringRead := false
			a, err := s.reload(ctx, func() bool {
				changedDuringRead = drain()
				return changedDuringRead && (postponedSince.IsZero() || time.Since(postponedSince) < maxPostpone)
			})
			if changedDuringRead {
				arm()
			}
			switch {
			case a.Postponed && postponedSince.IsZero():
				postponedSince = time.Now()
			case !a.Postponed:
				postponedSince = time.Time{}
			}
			done(a, err)
		}
	}
}

// watchSet is what Watch watches: the files given and the directory trees given.
type watchSet struct {
	files, dirs []string
}

// add watches a file's directory (editors replace files by renaming) or a directory tree
// (without hidden directories, which sources.Reader does not read either).
func (ws *watchSet) add(w *fsnotify.Watcher, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	// Compared as absolute paths: events under "-f ." are named "x.yaml".
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("watching %s: %w", path, err)
	}
	if !st.IsDir() {
		ws.files = append(ws.files, abs)
		return w.Add(filepath.Dir(path))
	}
	ws.dirs = append(ws.dirs, abs)
	return watchTree(w, path)
}

func watchTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}

// note handles one event: a directory created under a watched tree is watched too. It
// reports whether the event may change what is read: a given file, a file the Reader reads
// under a given directory (.yaml, .yml, .json), or a directory created, removed or renamed
// there. Other files (an editor's swap file, a log next to the manifests) do not reload.
func (ws *watchSet) note(w *fsnotify.Watcher, ev fsnotify.Event) bool {
	name, err := filepath.Abs(ev.Name)
	if err != nil {
		return true
	}
	for _, f := range ws.files {
		if name == f {
			return true
		}
	}
	var under string
	for _, d := range ws.dirs {
		if strings.HasPrefix(name, d+string(filepath.Separator)) {
			under = d
			break
		}
	}
	if under == "" {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
		return true // perhaps a directory that held files
	}
	if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
		if strings.HasPrefix(filepath.Base(name), ".") {
			return false // hidden: not read
		}
		if ev.Op&fsnotify.Create != 0 {
			_ = watchTree(w, ev.Name)
		}
		return true
	}
	return false
}
