package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// Problem is a document that could not be read.
type Problem struct {
	// Source is "file" or "file#N" (N = 1-based document number).
	Source  string `json:"source"`
	Kind    string `json:"kind,omitempty"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
}

// Loaded is what was read.
type Loaded struct {
	Input    converters.Input
	Problems []Problem
	// Ignored counts documents of kinds gatebridge does not read, by kind.
	Ignored map[string]int
	// Objects are the Gateway API objects, gatebridge extension objects, EndpointSlices and
	// Endpoints of the input, in input order: `run` serves them next to the converted
	// Ingresses; convert and report do not read them.
	Objects []client.Object
	// Services and Secrets are Input.Services and Input.Secrets as pointers. A Reader
	// returns the same pointers again while an object's file is unchanged, so that the data
	// plane can tell unchanged objects apart without comparing their content.
	Services []*corev1.Service
	Secrets  []*corev1.Secret
	// ConfigMapName selects the ingress-nginx ConfigMap ("namespace/name"); see Options.
	configMaps []corev1.ConfigMap
}

// Options say how to read.
type Options struct {
	// ConfigMap is the namespace/name of the ingress-nginx controller ConfigMap to use
	// among the ConfigMaps read. Empty: the ConfigMap named ingress-nginx-controller (any
	// namespace) if exactly one is present.
	ConfigMap string
	// Stdin is read for the path "-".
	Stdin io.Reader
}

// document is one YAML or JSON document with its origin.
type document struct {
	source string
	data   []byte
	json   bool
}

// ReadPaths reads every path (file, directory read recursively for .yaml/.yml/.json, or
// "-" for standard input).
func ReadPaths(paths []string, opts Options) (*Loaded, error) {
	var docs []document
	for _, p := range paths {
		d, err := readPath(p, opts.Stdin)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return decodeAll(docs, opts), nil
}

func readPath(p string, stdin io.Reader) ([]document, error) {
	if p == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return splitDocuments("<stdin>", b), nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if !info.IsDir() {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return splitDocuments(p, b), nil
	}
	files, err := listFiles(p)
	if err != nil {
		return nil, err
	}
	var docs []document
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		docs = append(docs, splitDocuments(f, b)...)
	}
	return docs, nil
}

// listFiles returns the .yaml, .yml and .json files under dir (hidden directories skipped),
// sorted.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != dir {
			return filepath.SkipDir
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

// splitDocuments splits a YAML stream at "---" lines; a JSON file is one document.
func splitDocuments(source string, b []byte) []document {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return []document{{source: source, data: trimmed, json: true}}
	}
	var out []document
	n := 0
	start := 0
	emit := func(end int) {
		n++
		chunk := b[start:end]
		if len(bytes.TrimSpace(stripComments(chunk))) > 0 {
			out = append(out, document{source: fmt.Sprintf("%s#%d", source, n), data: chunk})
		}
	}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		lineEnd := len(b)
		if j >= 0 {
			lineEnd = i + j
		}
		line := bytes.TrimRight(b[i:lineEnd], " \t\r")
		if bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '#') {
			emit(i)
			start = lineEnd + 1
			if start > len(b) {
				start = len(b)
			}
		}
		if j < 0 {
			break
		}
		i = lineEnd + 1
	}
	if start < len(b) {
		emit(len(b))
	}
	return out
}

// stripComments drops comment-only lines, to recognise empty documents.
func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		out = append(out, l...)
		out = append(out, '\n')
	}
	return out
}

// decoded is the result of one document.
type decoded struct {
	ingresses []networkingv1.Ingress
	classes   []networkingv1.IngressClass
	services  []corev1.Service
	secrets   []corev1.Secret
	cms       []corev1.ConfigMap
	objects   []client.Object
	problems  []Problem
	ignored   []string
}

// expandJSONLists splits JSON List documents (kubectl get -o json) into their items, so
// they are decoded in parallel like YAML documents.
func expandJSONLists(docs []document) []document {
	var out []document
	for _, d := range docs {
		if !d.json || d.data[0] != '{' {
			out = append(out, d)
			continue
		}
		var l struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(d.data, &l); err != nil || !strings.HasSuffix(l.Kind, "List") {
			out = append(out, d)
			continue
		}
		for i, it := range l.Items {
			out = append(out, document{source: fmt.Sprintf("%s.items[%d]", d.source, i), data: it, json: true})
		}
	}
	return out
}

// decodeAll decodes documents on all cores and merges the results in input order.
func decodeAll(docs []document, opts Options) *Loaded {
	docs = expandJSONLists(docs)
	results := make([]decoded, len(docs))
	parallel.For(len(docs), func(i int) { results[i] = decodeDocument(docs[i]) })
	return merge([][]decoded{results}, opts)
}

// merge joins groups of decoded documents (a Reader's files), in order, into one Loaded.
func merge(groups [][]decoded, opts Options) *Loaded {
	return mergeReusing(groups, opts, nil, allKinds)
}

// kindSet says which kinds of what is read changed since a previous Loaded.
type kindSet struct{ ingresses, classes, services, secrets, configMaps, objects bool }

var allKinds = kindSet{true, true, true, true, true, true}

// note adds the kinds d holds.
func (k *kindSet) note(d *decoded) {
	k.ingresses = k.ingresses || len(d.ingresses) > 0
	k.classes = k.classes || len(d.classes) > 0
	k.services = k.services || len(d.services) > 0
	k.secrets = k.secrets || len(d.secrets) > 0
	k.configMaps = k.configMaps || len(d.cms) > 0
	k.objects = k.objects || len(d.objects) > 0
}

// mergeReusing is merge taking the slices of the kinds that did not change from prev
// (when not nil): a reload after an Ingress edit does not copy 10,000 Services again.
func mergeReusing(groups [][]decoded, opts Options, prev *Loaded, changed kindSet) *Loaded {
	if prev == nil {
		changed = allKinds
	}
	l := &Loaded{Ignored: map[string]int{}}
	// Sized first: growing slices of 10,000 Ingresses copies them again and again, and
	// `gatebridge run` merges on every reload.
	var ings, svcs, secrets, objs int
	for _, g := range groups {
		for i := range g {
			r := &g[i]
			ings, svcs, secrets, objs = ings+len(r.ingresses), svcs+len(r.services), secrets+len(r.secrets), objs+len(r.objects)
		}
	}
	// (A kind with nothing stays nil, as appending nothing leaves it.)
	if changed.ingresses && ings > 0 {
		l.Input.Ingresses = make([]networkingv1.Ingress, 0, ings)
	}
	if changed.services && svcs > 0 {
		l.Input.Services = make([]corev1.Service, 0, svcs)
		l.Services = make([]*corev1.Service, 0, svcs)
	}
	if changed.secrets && secrets > 0 {
		l.Input.Secrets = make([]corev1.Secret, 0, secrets)
		l.Secrets = make([]*corev1.Secret, 0, secrets)
	}
	if changed.objects && objs > 0 {
		l.Objects = make([]client.Object, 0, objs)
	}
	for _, g := range groups {
		for i := range g {
			l.add(&g[i], changed)
		}
	}
	if prev != nil {
		if !changed.ingresses {
			l.Input.Ingresses = prev.Input.Ingresses
		}
		if !changed.classes {
			l.Input.IngressClasses = prev.Input.IngressClasses
		}
		if !changed.services {
			l.Input.Services, l.Services = prev.Input.Services, prev.Services
		}
		if !changed.secrets {
			l.Input.Secrets, l.Secrets = prev.Input.Secrets, prev.Secrets
		}
		if !changed.configMaps {
			l.configMaps = prev.configMaps
		}
		if !changed.objects {
			l.Objects = prev.Objects
		}
	}
	l.pickConfigMap(opts.ConfigMap)
	return l
}

// add appends the kinds of one decoded document that changed to l.
func (l *Loaded) add(r *decoded, changed kindSet) {
	if changed.ingresses {
		l.Input.Ingresses = append(l.Input.Ingresses, r.ingresses...)
	}
	if changed.classes {
		l.Input.IngressClasses = append(l.Input.IngressClasses, r.classes...)
	}
	if changed.services {
		l.Input.Services = append(l.Input.Services, r.services...)
		for i := range r.services {
			l.Services = append(l.Services, &r.services[i])
		}
	}
	if changed.secrets {
		l.Input.Secrets = append(l.Input.Secrets, r.secrets...)
		for i := range r.secrets {
			l.Secrets = append(l.Secrets, &r.secrets[i])
		}
	}
	if changed.configMaps {
		l.configMaps = append(l.configMaps, r.cms...)
	}
	if changed.objects {
		l.Objects = append(l.Objects, r.objects...)
	}
	l.Problems = append(l.Problems, r.problems...)
	for _, k := range r.ignored {
		l.Ignored[k]++
	}
}

// typeHeader is the part of an object needed to pick its Go type.
type typeHeader struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

func decodeDocument(d document) (out decoded) {
	defer func() {
		if r := recover(); r != nil {
			out = decoded{problems: []Problem{{Source: d.source, Message: fmt.Sprintf("could not be decoded: %v", r)}}}
		}
	}()
	js := d.data
	if !d.json {
		var err error
		js, err = yaml.YAMLToJSON(d.data)
		if err != nil {
			return decoded{problems: []Problem{{Source: d.source, Message: "is not valid YAML: " + err.Error()}}}
		}
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return decoded{}
	}
	if t := bytes.TrimSpace(js); len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			return decoded{problems: []Problem{{Source: d.source, Message: "is not valid JSON: " + err.Error()}}}
		}
		for i, it := range items {
			decodeObject(fmt.Sprintf("%s[%d]", d.source, i), it, &out)
		}
		return out
	}
	decodeObject(d.source, js, &out)
	return out
}

// decodeObject decodes one object (or the items of a List) into out.
func decodeObject(source string, js []byte, out *decoded) {
	var h typeHeader
	if err := json.Unmarshal(js, &h); err != nil {
		out.problems = append(out.problems, Problem{Source: source, Message: "is not a Kubernetes object: " + err.Error()})
		return
	}
	if strings.HasSuffix(h.Kind, "List") && h.Kind != "" {
		for i, it := range h.Items {
			decodeObject(fmt.Sprintf("%s.items[%d]", source, i), it, out)
		}
		return
	}
	group := h.APIVersion
	if i := strings.LastIndexByte(group, '/'); i >= 0 {
		group = group[:i]
	} else {
		group = ""
	}
	fail := func(err error) {
		out.problems = append(out.problems, Problem{Source: source, Kind: h.Kind, Name: qualified(h.Metadata.Namespace, h.Metadata.Name),
			Message: "does not decode as " + h.APIVersion + " " + h.Kind + ": " + err.Error() + "; this object is skipped"})
	}
	switch {
	case h.Kind == "Ingress" && h.APIVersion == "networking.k8s.io/v1":
		if o, ok := decodeAs[networkingv1.Ingress](js, fail); ok {
			defaultNamespace(&o.Namespace)
			out.ingresses = append(out.ingresses, o)
		}
	case h.Kind == "Ingress" && (group == "extensions" || group == "networking.k8s.io"):
		out.problems = append(out.problems, Problem{Source: source, Kind: h.Kind, Name: qualified(h.Metadata.Namespace, h.Metadata.Name),
			Message: h.APIVersion + " Ingress was removed in Kubernetes 1.22 and ingress-nginx v1 does not read it; convert it to networking.k8s.io/v1 first (kubectl convert)"})
	case h.Kind == "IngressClass" && group == "networking.k8s.io":
		if o, ok := decodeAs[networkingv1.IngressClass](js, fail); ok {
			out.classes = append(out.classes, o)
		}
	case h.Kind == "Service" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.Service](js, fail); ok {
			defaultNamespace(&o.Namespace)
			out.services = append(out.services, o)
		}
	case h.Kind == "Secret" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.Secret](js, fail); ok {
			defaultNamespace(&o.Namespace)
			out.secrets = append(out.secrets, o)
		}
	case h.Kind == "ConfigMap" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.ConfigMap](js, fail); ok {
			defaultNamespace(&o.Namespace)
			out.cms = append(out.cms, o)
		}
	case servedKinds[h.APIVersion+"/"+h.Kind] != nil:
		o := servedKinds[h.APIVersion+"/"+h.Kind]()
		if err := json.Unmarshal(js, o); err != nil {
			fail(err)
			return
		}
		if o.GetNamespace() == "" && h.Kind != "GatewayClass" {
			o.SetNamespace("default")
		}
		out.objects = append(out.objects, o)
	default:
		kind := h.Kind
		if kind == "" {
			kind = "(no kind)"
		}
		out.ignored = append(out.ignored, kind)
	}
}

// decodeAs decodes js into a T, reporting a failure through fail.
func decodeAs[T any](js []byte, fail func(error)) (T, bool) {
	var o T
	if err := json.Unmarshal(js, &o); err != nil {
		fail(err)
		return o, false
	}
	return o, true
}

// defaultNamespace gives namespace-less manifests the "default" namespace, as kubectl apply.
func defaultNamespace(ns *string) {
	if *ns == "" {
		*ns = "default"
	}
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// pickConfigMap chooses the controller ConfigMap.
func (l *Loaded) pickConfigMap(want string) {
	var candidates []*corev1.ConfigMap
	for i := range l.configMaps {
		cm := &l.configMaps[i]
		switch {
		case want != "" && qualified(cm.Namespace, cm.Name) == want:
			l.Input.ControllerConfigMap = cm
			return
		case want == "" && cm.Name == "ingress-nginx-controller":
			candidates = append(candidates, cm)
		}
	}
	if want != "" {
		l.Problems = append(l.Problems, Problem{Source: "--configmap", Name: want, Message: "ConfigMap " + want + " is not in the input; ingress-nginx's built-in defaults are used"})
		return
	}
	if len(candidates) == 1 {
		l.Input.ControllerConfigMap = candidates[0]
	} else if len(candidates) > 1 {
		l.Problems = append(l.Problems, Problem{Source: "ConfigMap", Name: "ingress-nginx-controller",
			Message: "several ConfigMaps named ingress-nginx-controller; pass --configmap namespace/name to choose; built-in defaults are used"})
	}
}
