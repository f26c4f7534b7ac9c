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
			c = cachedFile{size: info.Size(), modTime: info.ModTime(), docs: make([]decoded, len(docs))}
			parallel.For(len(docs), func(i int) { c.docs[i] = decodeDocument(docs[i]) })
		}
		next[f] = c
		results = append(results, c.docs...)
	}
	r.cache = next
	return merge(results, r.opts), nil
}
