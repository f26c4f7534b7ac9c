package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/validation"
)

// dryRunWorkers is how many dry-run creates are in flight at once.
const dryRunWorkers = 8

// converted is what convert emits for one input set, as the documents of its YAML output.
type converted struct {
	res     converters.Result
	objects []*unstructured.Unstructured
}

// convertSet reads and converts one input set in-process and decodes the YAML convert would
// print, so that exactly the emitted bytes are sent to the API server.
func convertSet(s inputSet, tmp string) (*converted, error) {
	paths := s.paths
	if s.data != nil {
		f := filepath.Join(tmp, "input.yaml")
		if err := os.WriteFile(f, s.data, 0o644); err != nil {
			return nil, err
		}
		paths = []string{f}
	}
	loaded, err := sources.ReadPaths(paths, s.src)
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", paths, err)
	}
	res := converters.Convert(loaded.Input, s.conv)
	objs, err := emitted(res.Objects)
	if err != nil {
		return nil, err
	}
	return &converted{res: res, objects: objs}, nil
}

// emitted encodes objects as convert prints them and decodes the documents again.
func emitted(objs []client.Object) ([]*unstructured.Unstructured, error) {
	var buf bytes.Buffer
	if err := converters.EncodeObjects(&buf, objs, "yaml"); err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(&buf))
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d of the output: %w", i, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("document %d of the output: %w", i, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// verdict is the API server's answer to one dry-run create and what offline validation said.
type verdict struct {
	err      error // nil: accepted
	problems []validation.Problem
}

// dryRunner sends server-side dry-run creates with strict field validation (as kubectl
// apply does), on a few goroutines, asking the API server once per distinct object.
type dryRunner struct {
	c         client.Client
	mu        sync.Mutex
	cache     map[string]*verdictOnce
	nsMu      sync.Mutex
	nsCreated map[string]error
	// requests counts the dry-runs actually sent.
	requests int
}

type verdictOnce struct {
	once sync.Once
	v    verdict
}

func newDryRunner(c client.Client) *dryRunner {
	return &dryRunner{c: c, cache: map[string]*verdictOnce{}, nsCreated: map[string]error{}}
}

// ensureNamespace creates a namespace once; an error (a name the API server refuses) is kept
// and returned for every object in it.
func (d *dryRunner) ensureNamespace(ns string) error {
	d.nsMu.Lock()
	defer d.nsMu.Unlock()
	if err, done := d.nsCreated[ns]; done {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := ensureNamespace(ctx, d.c, ns)
	d.nsCreated[ns] = err
	return err
}

// check returns the API server's and offline validation's verdicts on objs, index for index.
func (d *dryRunner) check(objs []*unstructured.Unstructured) []verdict {
	out := make([]verdict, len(objs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < dryRunWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i] = d.verdictOf(objs[i])
			}
		}()
	}
	for i := range objs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out
}

func (d *dryRunner) verdictOf(u *unstructured.Unstructured) verdict {
	key, err := json.Marshal(u.Object)
	if err != nil {
		return verdict{err: fmt.Errorf("encoding: %w", err)}
	}
	d.mu.Lock()
	vo := d.cache[string(key)]
	if vo == nil {
		vo = &verdictOnce{}
		d.cache[string(key)] = vo
	}
	d.mu.Unlock()
	vo.once.Do(func() {
		var problems []validation.Problem
		// Core kinds (the CA ConfigMap of convert --portable) are not validated offline:
		// convert --validate leaves them out too (internal/cli/validate.go).
		if u.GetAPIVersion() != "v1" {
			problems = validation.Default().ValidateUnstructured(u.Object)
		}
		vo.v = verdict{problems: problems, err: d.dryRun(u)}
	})
	return vo.v
}

func (d *dryRunner) dryRun(u *unstructured.Unstructured) error {
	obj := u.DeepCopy()
	gvk := obj.GroupVersionKind()
	mapping, err := d.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace && obj.GetNamespace() != "" {
		if err := d.ensureNamespace(obj.GetNamespace()); err != nil {
			return fmt.Errorf("its namespace cannot be created: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	d.mu.Lock()
	d.requests++
	d.mu.Unlock()
	return d.c.Create(ctx, obj, client.DryRunAll, client.FieldValidation("Strict"))
}

// duplicates names the objects a set holds twice: the API server would refuse the second
// create with AlreadyExists.
func duplicates(objs []*unstructured.Unstructured) map[int]string {
	seen := map[string]int{}
	out := map[int]string{}
	for i, u := range objs {
		k := describe(u)
		if first, ok := seen[k]; ok {
			out[i] = fmt.Sprintf("AlreadyExists: the output holds %s twice (documents %d and %d)", k, first+1, i+1)
			continue
		}
		seen[k] = i
	}
	return out
}

// disagreement says how offline validation differs from the API server on one object, or
// "" when they agree: silent where the server accepts; where it refuses, the same causes
// (field and message) for an Invalid answer, each unknown field for a strict decoding error.
func disagreement(v verdict) string {
	if v.err == nil {
		if len(v.problems) == 0 {
			return ""
		}
		return fmt.Sprintf("the API server accepts it, offline validation reports %s", problemList(v.problems))
	}
	if len(v.problems) == 0 {
		return fmt.Sprintf("the API server refuses it (%v), offline validation is silent", v.err)
	}
	var unknown []validation.Problem
	for _, p := range v.problems {
		if strings.HasPrefix(p.Message, "strict decoding error: unknown field") {
			unknown = append(unknown, p)
		}
	}
	var status apierrors.APIStatus
	switch {
	case meta.IsNoMatchError(v.err):
		if strings.Contains(v.problems[0].Message, "no matches for kind") {
			return ""
		}
	case len(unknown) > 0:
		for _, p := range unknown {
			if !strings.Contains(v.err.Error(), fmt.Sprintf("unknown field %q", p.Field)) {
				return fmt.Sprintf("offline validation reports %s, the API server says %v", p, v.err)
			}
		}
		return ""
	case apierrors.IsInvalid(v.err) && errors.As(v.err, &status) && status.Status().Details != nil:
		var server []string
		for _, c := range status.Status().Details.Causes {
			server = append(server, c.Field+": "+c.Message)
		}
		var offline []string
		for _, p := range v.problems {
			offline = append(offline, p.Field+": "+p.Message)
		}
		sort.Strings(server)
		sort.Strings(offline)
		if strings.Join(server, "\n") == strings.Join(offline, "\n") {
			return ""
		}
		return fmt.Sprintf("causes differ:\n    API server: %s\n    offline:    %s", strings.Join(server, "\n                "), strings.Join(offline, "\n                "))
	case strings.Contains(v.err.Error(), "its namespace cannot be created"):
		for _, p := range v.problems {
			if p.Field == "metadata.namespace" {
				return ""
			}
		}
	}
	return fmt.Sprintf("the API server says %v, offline validation reports %s", v.err, problemList(v.problems))
}

func problemList(ps []validation.Problem) string {
	var s []string
	for _, p := range ps {
		if p.Field != "" {
			s = append(s, p.Field+": "+p.Message)
		} else {
			s = append(s, p.Message)
		}
	}
	return strings.Join(s, "; ")
}

// groupCounts are the per-group totals the tests log.
type groupCounts struct {
	inputs, objects, accepted, rejected int
}

func logCounts(t *testing.T, order []string, counts map[string]*groupCounts) {
	t.Helper()
	for _, g := range order {
		c := counts[g]
		if c == nil {
			continue
		}
		t.Logf("%-12s %4d inputs, %5d objects emitted: %5d accepted, %d rejected", g, c.inputs, c.objects, c.accepted, c.rejected)
	}
}
