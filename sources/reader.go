package sources

import (
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// Reader reads the same paths again and again, decoding only the files whose size or
// modification time changed since the previous Read; the others are taken from memory.
// `gatebridge run` reads through it on every reload, so an edit of one file in a large tree
// costs the decoding of that file, not of the tree (YAML decodes at ~3 MB/s per core).
type Reader struct {
	paths []string
	opts  Options
	cache map[string]cachedFile
	// onlyEndpoints: the last Read found changes only in files holding nothing but
	// EndpointSlices and Endpoints, before and after the change.
	onlyEndpoints bool
	// changedIngresses and otherConverterInput: what the last Read changed of the
	// converter's input (ConverterChanges).
	changedIngresses    map[string]bool
	otherConverterInput bool
	// last is what the last Read returned: the kinds no changed file holds are reused.
	last *Loaded
}

type cachedFile struct {
	size    int64
	modTime time.Time
	docs    []decoded
}

// NewReader reads paths (files or directories; not "-").
func NewReader(paths []string, opts Options) *Reader {
	return &Reader{paths: paths, opts: opts, cache: map[string]cachedFile{}}
}

// Read returns what the paths hold now, as ReadPaths would.
func (r *Reader) Read() (*Loaded, error) {
	var files []string
	for _, p := range r.paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		fs, err := listFiles(p)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	next := make(map[string]cachedFile, len(files))
	onlyEndpoints := true
	ingresses, others := map[string]bool{}, false
	var kinds kindSet
	// noteChange records a file changed from before to after (nil: added, removed).
	noteChange := func(before, after []decoded) {
		onlyEndpoints = onlyEndpoints && endpointsOnly(before) && endpointsOnly(after)
		addIngressKeys(before, ingresses)
		addIngressKeys(after, ingresses)
		others = others || !sameConverterInput(before, after)
		for i := range before {
			kinds.note(&before[i])
		}
		for i := range after {
			kinds.note(&after[i])
		}
	}
	results := make([][]decoded, 0, len(files))
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		c, ok := r.cache[f]
		if !ok || c.size != info.Size() || !c.modTime.Equal(info.ModTime()) {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			docs := expandJSONLists(splitDocuments(f, b))
			prev := c
			c = cachedFile{size: info.Size(), modTime: info.ModTime(), docs: make([]decoded, len(docs))}
			parallel.For(len(docs), func(i int) { c.docs[i] = decodeDocument(docs[i]) })
			noteChange(prev.docs, c.docs)
		}
		next[f] = c
		results = append(results, c.docs)
	}
	for f, c := range r.cache {
		if _, kept := next[f]; !kept {
			noteChange(c.docs, nil)
		}
	}
	r.cache = next
	r.onlyEndpoints = onlyEndpoints
	r.changedIngresses, r.otherConverterInput = ingresses, others
	r.last = mergeReusing(results, r.opts, r.last, kinds)
	return r.last, nil
}

// OnlyEndpointsChanged reports whether the last Read found changes (edited, added or
// removed files) only in files that hold nothing but EndpointSlices and Endpoints, before
// and after the change — so that nothing but endpoints can differ from the Read before. It
// also holds when nothing changed.
func (r *Reader) OnlyEndpointsChanged() bool { return r.onlyEndpoints }

// ConverterChanges reports what the last Read changed (edited, added or removed files) of
// what the converter reads: the Ingresses of those files, before and after, by
// namespace/name; and whether anything else it reads changed (IngressClasses, Services,
// Secrets, ConfigMaps — compared, so that editing an Ingress in the file of its Service
// leaves the Service unchanged). Ingresses of unchanged files are unchanged — the contract
// of converters.Incremental.
func (r *Reader) ConverterChanges() (ingresses map[string]bool, others bool) {
	return r.changedIngresses, r.otherConverterInput
}

// addIngressKeys adds the namespace/name of the Ingresses of docs to keys.
func addIngressKeys(docs []decoded, keys map[string]bool) {
	for _, d := range docs {
		for i := range d.ingresses {
			keys[d.ingresses[i].Namespace+"/"+d.ingresses[i].Name] = true
		}
	}
}

// sameConverterInput reports whether two versions of a file hold the same IngressClasses,
// Services, Secrets and ConfigMaps, in the same order.
func sameConverterInput(before, after []decoded) bool {
	var a, b decoded
	for _, d := range before {
		a.classes, a.services, a.secrets, a.cms = append(a.classes, d.classes...), append(a.services, d.services...), append(a.secrets, d.secrets...), append(a.cms, d.cms...)
	}
	for _, d := range after {
		b.classes, b.services, b.secrets, b.cms = append(b.classes, d.classes...), append(b.services, d.services...), append(b.secrets, d.secrets...), append(b.cms, d.cms...)
	}
	return reflect.DeepEqual(a.classes, b.classes) && reflect.DeepEqual(a.services, b.services) &&
		reflect.DeepEqual(a.secrets, b.secrets) && reflect.DeepEqual(a.cms, b.cms)
}

// endpointsOnly reports whether decoded documents hold EndpointSlices and Endpoints only.
func endpointsOnly(docs []decoded) bool {
	for _, d := range docs {
		if len(d.ingresses)+len(d.classes)+len(d.services)+len(d.secrets)+len(d.cms)+len(d.problems)+len(d.ignored) > 0 {
			return false
		}
		for _, o := range d.objects {
			switch o.GetObjectKind().GroupVersionKind().Kind {
			case "EndpointSlice", "Endpoints":
			default:
				return false
			}
		}
	}
	return true
}
