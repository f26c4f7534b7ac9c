package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/converters"
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
	// origins are where each object above was read ("file#N"), index for index with
	// Input.Ingresses, Input.IngressClasses, Input.Services, Input.Secrets, configMaps and
	// Objects.
	origins perKind[[]string]
	// duplicates are the Problems of objects defined twice, by kind: a Reader reuses them
	// with the objects of a kind no file changed.
	duplicates perKind[[]Problem]
	// counts are, by kind, how many objects each file read held (nil for a kind with
	// duplicates): a Reader splices an edited file's objects into the last Read's.
	counts perKind[[]int]
	// splicedIngresses: the Ingresses are the last Read's with an edited file's spliced in.
	splicedIngresses bool
}

// Options say how to read.
type Options struct {
	// ConfigMap is the namespace/name of the ingress-nginx controller ConfigMap to use
	// among the ConfigMaps read. Empty: the ConfigMap named ingress-nginx-controller (any
	// namespace) if exactly one is present.
	ConfigMap string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// MaxDocumentSize is the largest document decoded, in bytes (0: DefaultMaxDocumentSize;
	// the --max-document-size flag). A larger one is a Problem and is not decoded.
	MaxDocumentSize int64
	// MaxFileSize is the largest file (or standard input) read, in bytes (0:
	// DefaultMaxFileSize; the --max-file-size flag). A larger one is a Problem and is not
	// read.
	MaxFileSize int64
}

// document is one YAML or JSON document with its origin.
type document struct {
	source string
	data   []byte
	json   bool
	// line is the line of the file the document starts on (1-based), so that YAML errors
	// name lines of the file, not of the document.
	line int
	// skipped, when not nil, is why the document is not decoded (it is too large); data is
	// then nil.
	skipped *Problem
}

// ReadPaths reads every path (file, directory read recursively for .yaml/.yml/.json, or
// "-" for standard input), streamed (stream.go).
func ReadPaths(paths []string, opts Options) (*Loaded, error) {
	b := &batcher{}
	file := 0
	for _, p := range paths {
		if err := readPath(b, p, &file, opts); err != nil {
			return nil, err
		}
	}
	b.flush()
	l := merge([][]decoded{b.groups}, opts)
	// No Reader keeps these documents: point at the objects of Input instead, so that the
	// decoded batches (a second copy of every Service and Secret) can be collected while
	// the input is converted.
	l.Services, l.Secrets = pointersTo(l.Input.Services), pointersTo(l.Input.Secrets)
	return l, nil
}

// readPath reads one path into b; file numbers the files read.
func readPath(b *batcher, p string, file *int, opts Options) error {
	if p == "-" {
		stdin := opts.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		*file++
		return streamDocuments(b, "<stdin>", stdin, -1, *file, opts)
	}
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	if !info.IsDir() {
		*file++
		return streamFile(b, p, *file, opts)
	}
	files, err := listFiles(p)
	if err != nil {
		return err
	}
	for _, f := range files {
		*file++
		if err := streamFile(b, f, *file, opts); err != nil {
			return err
		}
	}
	return nil
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

// splitDocuments splits a YAML stream at "---" lines; a file that is one JSON value (an
// object or an array, as kubectl get -o json writes) is one document. The choice is made by
// content, not by the first byte: a YAML stream may begin with a flow-style document
// ({apiVersion: v1, …}) and go on after a "---". json.Valid neither allocates nor reads
// more than the first bytes of such a stream, so JSON keeps its fast path.
func splitDocuments(source string, b []byte) []document {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(trimmed) {
		return []document{{source: source, data: trimmed, json: true, line: 1}}
	}
	docs, _ := newYAMLSplitter(source).feed(b, true)
	return docs
}

// hasContent reports whether a YAML chunk holds more than blank and comment-only lines
// (without copying it: a chunk may be hundreds of megabytes).
func hasContent(b []byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}

// decoded is the result of one document.
type decoded struct {
	ingresses []networkingv1.Ingress
	classes   []networkingv1.IngressClass
	services  []corev1.Service
	secrets   []corev1.Secret
	cms       []corev1.ConfigMap
	objects   []client.Object
	// origins name the document (or List item) each object above came from, index for
	// index, so that an object defined twice names both places.
	origins  perKind[[]string]
	problems []Problem
	ignored  []string
}

// expandJSONLists splits JSON List documents (kubectl get -o json) and JSON arrays into
// their items, so that they are decoded in parallel like YAML documents and the document
// size limit applies to each object, not to the whole export.
func expandJSONLists(docs []document) []document {
	var out []document
	for _, d := range docs {
		if !d.json || d.skipped != nil || len(d.data) == 0 {
			out = append(out, d)
			continue
		}
		items, list, sure := splitJSONList(d.data)
		if !sure {
			items, list = listItemsByUnmarshal(d.data)
		}
		if !list {
			out = append(out, d)
			continue
		}
		format := "%s.items[%d]"
		if d.data[0] == '[' {
			format = "%s[%d]"
		}
		for i, it := range items {
			out = append(out, document{source: fmt.Sprintf(format, d.source, i), data: it, json: true, line: 1})
		}
	}
	return out
}

// listItemsByUnmarshal returns the items of a JSON array or of an object whose kind ends in
// "List", read by json.Unmarshal; false for anything else (splitJSONList when it is not
// sure).
func listItemsByUnmarshal(data []byte) ([]json.RawMessage, bool) {
	if data[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return nil, false
		}
		return items, true
	}
	var l struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &l); err != nil || !strings.HasSuffix(l.Kind, "List") {
		return nil, false
	}
	return l.Items, true
}

// pointersTo returns a pointer to each element of objs (nil for none).
func pointersTo[T any](objs []T) []*T {
	if len(objs) == 0 {
		return nil
	}
	out := make([]*T, len(objs))
	for i := range objs {
		out[i] = &objs[i]
	}
	return out
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
	if d.skipped != nil {
		return decoded{problems: []Problem{*d.skipped}}
	}
	defer func() {
		if r := recover(); r != nil {
			out = decoded{problems: []Problem{{Source: d.source, Message: fmt.Sprintf("could not be decoded: %v", r)}}}
		}
	}()
	js := d.data
	if !d.json {
		if out, ok := decodeFast(d); ok {
			return out
		}
		var err error
		js, err = yaml.YAMLToJSON(d.data)
		if err != nil {
			// Named as far as its first lines tell, since it could not be parsed.
			kind, namespace, name := peekIdentity(d.data, false)
			return decoded{problems: []Problem{{Source: d.source, Kind: kind, Name: qualified(namespace, name), Message: describeYAMLError(err, d.line)}}}
		}
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return decoded{}
	}
	if t := bytes.TrimSpace(js); len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			return decoded{problems: []Problem{{Source: d.source, Message: "is not valid JSON: " + describeDecodeError(t, err, nil)}}}
		}
		for i, it := range items {
			decodeObject(fmt.Sprintf("%s[%d]", d.source, i), it, &out)
		}
		return out
	}
	decodeObject(d.source, js, &out)
	return out
}

// decodeFast decodes a YAML document through the fast path (fastYAMLToJSON); false when
// the fast path does not take it, the object has a problem, whose message the full
// decoder's reading gives, or it keeps managedFields (raw JSON, as the full decoder
// orders it).
func decodeFast(d document) (decoded, bool) {
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	js, h, ok := fastYAMLToJSON((*buf)[:0], d.data)
	*buf = js[:0]
	if !ok {
		return decoded{}, false
	}
	var out decoded
	if h != nil {
		decodeWithHeader(d.source, js, h, &out)
	} else {
		decodeObject(d.source, js, &out)
	}
	if len(out.problems) > 0 {
		return decoded{}, false
	}
	for _, o := range out.objects {
		if len(o.GetManagedFields()) > 0 {
			// fieldsV1 keeps its JSON as read, whose keys the full decoder sorts.
			return decoded{}, false
		}
	}
	return out, true
}

// jsonBuffers are decodeFast's buffers (encoding/json copies what it keeps).
var jsonBuffers = sync.Pool{New: func() any { return new([]byte) }}

// decodeObject decodes one object (or the items of a List) into out.
func decodeObject(source string, js []byte, out *decoded) {
	if h, ok := scanHeader(js); ok {
		decodeWithHeader(source, js, &h, out)
		return
	}
	var h typeHeader
	if err := json.Unmarshal(js, &h); err != nil {
		msg := "is not a Kubernetes object: " + describeDecodeError(js, err, reflect.TypeFor[typeHeader]())
		if t := bytes.TrimSpace(js); len(t) > 0 && t[0] != '{' {
			msg = "is not a Kubernetes object (a mapping with apiVersion, kind and metadata) but " + jsonValueKind(t[0])
		}
		out.problems = append(out.problems, Problem{Source: source, Message: msg})
		return
	}
	decodeWithHeader(source, js, &h, out)
}

// decodeWithHeader decodes one object (or the items of a List) whose header is read.
func decodeWithHeader(source string, js []byte, h *typeHeader, out *decoded) {
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
	name := qualified(h.Metadata.Namespace, h.Metadata.Name)
	fail := func(err error, target reflect.Type) {
		out.problems = append(out.problems, Problem{Source: source, Kind: h.Kind, Name: name,
			Message: "does not decode as " + h.APIVersion + " " + h.Kind + ": " + describeDecodeError(js, err, target) + "; this object is skipped"})
	}
	// Of the kinds the converter reads, only what it reads is kept: managedFields (often
	// the larger part of an exported object) and the status of Ingresses and Services are
	// dropped here, unknown fields by decoding into the Go types, so that a large export
	// costs memory for what conversion uses only.
	switch {
	case h.Kind == "Ingress" && h.APIVersion == "networking.k8s.io/v1":
		if o, ok := decodeAs[networkingv1.Ingress](js, fail); ok {
			defaultNamespace(&o.Namespace)
			o.ManagedFields, o.Status = nil, networkingv1.IngressStatus{}
			out.ingresses = append(out.ingresses, o)
			out.origins.ingresses = append(out.origins.ingresses, source)
		}
	case h.Kind == "Ingress" && (group == "extensions" || group == "networking.k8s.io"):
		out.problems = append(out.problems, Problem{Source: source, Kind: h.Kind, Name: name,
			Message: h.APIVersion + " Ingress was removed in Kubernetes 1.22 and ingress-nginx v1 does not read it; convert it to networking.k8s.io/v1 first (kubectl convert)"})
	case h.Kind == "IngressClass" && group == "networking.k8s.io":
		if o, ok := decodeAs[networkingv1.IngressClass](js, fail); ok {
			o.ManagedFields = nil
			out.classes = append(out.classes, o)
			out.origins.classes = append(out.origins.classes, source)
		}
	case h.Kind == "Service" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.Service](js, fail); ok {
			defaultNamespace(&o.Namespace)
			TrimService(&o)
			out.services = append(out.services, o)
			out.origins.services = append(out.origins.services, source)
		}
	case h.Kind == "Secret" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.Secret](js, fail); ok {
			defaultNamespace(&o.Namespace)
			o.ManagedFields = nil
			out.secrets = append(out.secrets, o)
			out.origins.secrets = append(out.origins.secrets, source)
		}
	case h.Kind == "ConfigMap" && h.APIVersion == "v1":
		if o, ok := decodeAs[corev1.ConfigMap](js, fail); ok {
			defaultNamespace(&o.Namespace)
			o.ManagedFields = nil
			out.cms = append(out.cms, o)
			out.origins.configMaps = append(out.origins.configMaps, source)
		}
	case servedKinds[h.APIVersion+"/"+h.Kind] != nil:
		o := servedKinds[h.APIVersion+"/"+h.Kind]()
		if err := json.Unmarshal(js, o); err != nil {
			fail(err, reflect.TypeOf(o))
			return
		}
		if o.GetNamespace() == "" && h.Kind != "GatewayClass" {
			o.SetNamespace("default")
		}
		out.objects = append(out.objects, o)
		out.origins.objects = append(out.origins.objects, source)
	default:
		if msg, ok := misspelledKind(h.APIVersion, h.Kind, h.Metadata.Name != ""); ok {
			out.problems = append(out.problems, Problem{Source: source, Kind: h.Kind, Name: name, Message: msg})
			return
		}
		kind := h.Kind
		if kind == "" {
			kind = "(no kind)"
		}
		out.ignored = append(out.ignored, kind)
	}
}

// jsonValueKind names a JSON value by its first byte: "a string", "a number", …
func jsonValueKind(first byte) string {
	switch {
	case first == '"':
		return "a string"
	case first == '[':
		return "a list"
	case first == 't' || first == 'f':
		return "a boolean (true or false)"
	}
	return "a number"
}

// decodeAs decodes js into a T, reporting a failure through fail.
func decodeAs[T any](js []byte, fail func(error, reflect.Type)) (T, bool) {
	var o T
	if err := json.Unmarshal(js, &o); err != nil {
		fail(err, reflect.TypeFor[T]())
		return o, false
	}
	return o, true
}

// TrimService keeps of a Service what conversion and the data plane read — its name,
// namespace, labels, type, ports and external name — and lets the rest go, since Services
// are held for the whole run: the selectors of 50,000 generated Services were ~10 MB of
// live heap at the end of conversion, and a cluster export adds cluster IPs, IP families
// and kubectl's last-applied-configuration annotation (a copy of the object) that nothing
// reads. Duplicates are found by name, so no other behaviour depends on the dropped fields.
func TrimService(s *corev1.Service) {
	s.ObjectMeta = metav1.ObjectMeta{
		Name: s.Name, Namespace: s.Namespace, UID: s.UID, ResourceVersion: s.ResourceVersion,
		Generation: s.Generation, CreationTimestamp: s.CreationTimestamp, Labels: s.Labels,
	}
	s.Spec = corev1.ServiceSpec{Type: s.Spec.Type, Ports: s.Spec.Ports, ExternalName: s.Spec.ExternalName}
	s.Status = corev1.ServiceStatus{}
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
	l.Input.ConfigMaps = l.configMaps // custom-headers reads the others
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
