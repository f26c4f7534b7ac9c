package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// fakePlane records what a Server publishes.
type fakePlane struct {
	mu sync.Mutex
	// models are the models published, full or endpoints only, in order.
	models    []*dataplane.Model
	full, eps int
	// fail makes the next publishing fail.
	fail error
}

func (f *fakePlane) Apply(m *dataplane.Model) (*dataplane.Output, string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail; err != nil {
		f.fail = nil
		return nil, "", false, err
	}
	f.models = append(f.models, m)
	f.full++
	return &dataplane.Output{}, fmt.Sprint(len(f.models)), true, nil
}

func (f *fakePlane) ApplyEndpoints(m *dataplane.Model) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail; err != nil {
		f.fail = nil
		return "", false, err
	}
	f.models = append(f.models, m)
	f.eps++
	return fmt.Sprint(len(f.models)), true, nil
}

func (f *fakePlane) WaitApplied(context.Context, string) error { return nil }

func (f *fakePlane) published() []*dataplane.Model {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.models)
}

// routePaths are the path matches of the HTTPRoutes of m, sorted.
func routePaths(m *dataplane.Model) []string {
	var out []string
	for _, r := range m.HTTPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, match := range rule.Matches {
				if match.Path != nil && match.Path.Value != nil {
					out = append(out, *match.Path.Value)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// servedFile is an Ingress for paths with its Service.
func servedFile(paths ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: default}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n")
	for _, p := range paths {
		b.WriteString("      - {path: " + p + ", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n")
	}
	b.WriteString("---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n")
	return b.String()
}

func slice(addr string) string {
	return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{port: 8080}]\nendpoints: [{addresses: [\"" + addr + "\"]}]\n"
}

// TestServerReloadPolicy: the first reload publishes everything; an EndpointSlice edit only
// endpoints; a broken edit of a served file changes nothing that is served; a reload that
// could not be published, or was postponed because files changed while they were read,
// keeps its changes for the next one, which publishes everything.
func TestServerReloadPolicy(t *testing.T) {
	dir := t.TempDir()
	write := fileWriter(t, dir)
	write("web.yaml", servedFile("/old"))
	write("eps.yaml", slice("10.0.0.1"))
	fp := &fakePlane{}
	srv := NewServer([]string{dir}, sources.Options{}, converters.Options{}, fp)
	ctx := context.Background()
	reload := func(what string) *Applied {
		t.Helper()
		a, err := srv.Reload(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return a
	}
	lastPaths := func() []string { ms := fp.published(); return routePaths(ms[len(ms)-1]) }

	if a := reload("first"); !a.First || a.Output == nil || fp.full != 1 {
		t.Errorf("first reload: First=%v, full publishes %d; want a full publish", a.First, fp.full)
	}
	write("eps.yaml", slice("10.0.0.2"))
	if a := reload("slice edited"); a.First || a.Output != nil || fp.eps != 1 {
		t.Errorf("slice edited: %d endpoint publishes, Output %v; want endpoints only", fp.eps, a.Output)
	}
	write("web.yaml", servedFile("/old")[:200])
	a := reload("broken edit")
	if got := lastPaths(); !slices.Equal(got, []string{"/old"}) {
		t.Errorf("broken edit: serves %v, want [/old]", got)
	}
	if !strings.Contains(problems(a), "last good version") {
		t.Errorf("broken edit: no problem says the last good version is served:\n%s", problems(a))
	}

	write("web.yaml", servedFile("/new"))
	fp.fail = errors.New("xDS refused")
	if _, err := srv.Reload(ctx); err == nil {
		t.Fatal("a failed publish is not an error")
	}
	write("eps.yaml", slice("10.0.0.3"))
	full := fp.full
	if a := reload("slice edited after a failed publish"); a.Output == nil || fp.full != full+1 {
		t.Errorf("after a failed publish, an endpoints-only change published endpoints only")
	}
	if got := lastPaths(); !slices.Equal(got, []string{"/new"}) {
		t.Errorf("serves %v, want [/new]", got)
	}

	// Files that changed while they were read: nothing is published; the next reload
	// publishes everything.
	write("web.yaml", servedFile("/newer"))
	published := len(fp.published())
	a, err := srv.reload(ctx, func() bool { return true })
	if err != nil || !a.Postponed || len(fp.published()) != published {
		t.Errorf("changed while read: Postponed=%v, err=%v, %d published; want postponed, nothing published", a.Postponed, err, len(fp.published())-published)
	}
	write("eps.yaml", slice("10.0.0.4"))
	if a := reload("after a postponed reload"); a.Output == nil {
		t.Errorf("after a postponed reload, an endpoints-only change published endpoints only")
	}
	if got := lastPaths(); !slices.Equal(got, []string{"/newer"}) {
		t.Errorf("serves %v, want [/newer]", got)
	}
}

func problems(a *Applied) string {
	var b strings.Builder
	for _, p := range a.Reload.Loaded.Problems {
		b.WriteString(p.Source + ": " + p.Message + "\n")
	}
	return b.String()
}

// TestServerWatchPublishesNoPartialWrite rewrites a served file in place, again and again,
// the ways writers do — os.WriteFile (truncate, then write), in two writes with a pause
// between, and every third time first a truncated version, then the whole one — while
// Watch serves it: no model published lacks the route every version holds. Then the last
// version is published.
//
// Every partial state this writer leaves fails to decode or is empty. Not covered: a
// truncation that leaves a valid, different object is served as written (unless an
// Ingress of it is invalid for the API server, see sources.Reader).
func TestServerWatchPublishesNoPartialWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.yaml")
	versions := []string{servedFile("/stable", "/one"), servedFile("/stable", "/two")}
	if err := os.WriteFile(path, []byte(versions[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	fp := &fakePlane{}
	srv := NewServer([]string{dir}, sources.Options{}, converters.Options{}, fp)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var postponed, reloads int
	var reloadErrs []error
	started := make(chan struct{})
	stopped := make(chan error)
	go func() {
		stopped <- srv.Watch(ctx, func(a *Applied, err error) {
			mu.Lock()
			defer mu.Unlock()
			reloads++
			if a != nil && a.Postponed {
				postponed++
			}
			if err != nil {
				reloadErrs = append(reloadErrs, err)
			}
			if a != nil && a.First {
				close(started)
			}
		})
	}()
	<-started
	for i := range 80 {
		rewriteInPlace(t, path, versions[i%2], i)
	}
	final := servedFile("/stable", "/final")
	if err := os.WriteFile(path, []byte(final), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms := fp.published()
		if slices.Contains(routePaths(ms[len(ms)-1]), "/final") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last version was not published; last published: %v", routePaths(ms[len(ms)-1]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, m := range fp.published() {
		if !slices.Contains(routePaths(m), "/stable") {
			bad++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d reloads, %d postponed, %d published (%d full, %d endpoints only)", reloads, postponed, len(fp.published()), fp.full, fp.eps)
	if bad > 0 {
		t.Errorf("%d of %d published models lack /stable: a partial write was served", bad, len(fp.published()))
	}
	if len(reloadErrs) > 0 {
		t.Errorf("reload errors: %v", reloadErrs)
	}
}

// rewriteInPlace writes body over path in place, the i-th time, with pauses around the
// debounce (0, 15, 30, 45 ms) so that reloads happen between the steps of a write too:
//   - every third time, first a truncated version (cut inside a flow mapping: it does not
//     decode), written whole, then after a pause the complete one;
//   - every other time in two writes of one open file, cut at the same place, with a pause
//     between;
//   - otherwise os.WriteFile (truncate to empty, then write).
func rewriteInPlace(t *testing.T, path, body string, i int) {
	t.Helper()
	cut := strings.Index(body, "pathType") + 5
	pause := time.Duration(i%4) * 15 * time.Millisecond
	if i%3 == 0 {
		if err := os.WriteFile(path, []byte(body[:cut]), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
	}
	if i%2 == 1 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(body[:cut]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		if _, err := f.WriteString(body[cut:]); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause)
}
