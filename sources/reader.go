package sources

import (
	"fmt"
	"os"
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
	var results []decoded
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
			onlyEndpoints = onlyEndpoints && endpointsOnly(prev.docs) && endpointsOnly(c.docs)
		}
		next[f] = c
		results = append(results, c.docs...)
	}
	for f, c := range r.cache {
		if _, kept := next[f]; !kept {
			onlyEndpoints = onlyEndpoints && endpointsOnly(c.docs)
		}
	}
	r.cache = next
	r.onlyEndpoints = onlyEndpoints
	return merge(results, r.opts), nil
}

// OnlyEndpointsChanged reports whether the last Read found changes (edited, added or
// removed files) only in files that hold nothing but EndpointSlices and Endpoints, before
// and after the change — so that nothing but endpoints can differ from the Read before. It
// also holds when nothing changed.
func (r *Reader) OnlyEndpointsChanged() bool { return r.onlyEndpoints }

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
