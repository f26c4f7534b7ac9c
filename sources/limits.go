package sources

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// The default input limits. Decoding a YAML document costs several times its size in
// memory (a 200 MB document took 1.34 GB), so a document or a file far larger than any real
// manifest must not be decoded just because it was given.
const (
	// DefaultMaxDocumentSize is the kube-apiserver's own limit on a request body (3 MiB,
	// MaxRequestBodyBytes of k8s.io/apiserver): no object larger than that can be applied
	// to a cluster, so no real manifest is larger. Each item of a JSON List counts on its
	// own; a YAML List (kubectl get -o yaml) is one document.
	DefaultMaxDocumentSize int64 = 3 << 20
	// DefaultMaxFileSize bounds a whole file or standard input: several times the largest
	// real export (kubectl get -o json of 10,000 Ingresses and their Services is ~40 MB),
	// and small enough that reading it cannot exhaust a laptop.
	DefaultMaxFileSize int64 = 256 << 20
)

func (o Options) maxDocumentSize() int64 {
	if o.MaxDocumentSize > 0 {
		return o.MaxDocumentSize
	}
	return DefaultMaxDocumentSize
}

func (o Options) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

// documentsOf splits the bytes of one file into documents (JSON Lists into their items)
// and sets aside those over the document limit.
func documentsOf(source string, b []byte, opts Options) []document {
	docs := expandJSONLists(splitDocuments(source, b))
	limit := opts.maxDocumentSize()
	for i := range docs {
		if d := &docs[i]; int64(len(d.data)) > limit {
			d.skipped = documentTooLarge(d, limit)
			d.data = nil
		}
	}
	return docs
}

func fileTooLarge(source string, size, limit int64) document {
	what := "is larger than the limit of " + formatSize(limit) + " per file"
	if size >= 0 {
		what = "is " + sizeAgainst(size, limit) + ", over the limit of " + formatSize(limit) + " per file"
	}
	suggest := limit * 2
	if size > 0 {
		suggest = size
	}
	return document{source: source, skipped: &Problem{Source: source,
		Message: what + ", and is not read; to read it, raise the limit with --max-file-size " + flagSize(suggest)}}
}

func documentTooLarge(d *document, limit int64) *Problem {
	size := int64(len(d.data))
	kind, namespace, name := peekIdentity(d.data, d.json)
	msg := "is " + sizeAgainst(size, limit) + ", over the limit of " + formatSize(limit) +
		" per document, and is not decoded; to read it, raise the limit with --max-document-size " + flagSize(size)
	if strings.HasSuffix(kind, "List") && !d.json {
		msg += " (a YAML List is one document; in JSON, as kubectl get -o json writes, each item counts on its own)"
	}
	return &Problem{Source: d.source, Kind: kind, Name: qualified(namespace, name), Message: msg}
}

// formatSize writes a size in bytes as people read it: 3 MiB, 1.5 KiB, 200 bytes.
func formatSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size {
			s := strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// sizeAgainst writes size so that it reads larger than limit: in bytes when both would
// round to the same figure.
func sizeAgainst(size, limit int64) string {
	if formatSize(size) == formatSize(limit) {
		return strconv.FormatInt(size, 10) + " bytes"
	}
	return formatSize(size)
}

// flagSize is a value of --max-*-size that admits size: whole mebibytes, rounded up.
func flagSize(size int64) string {
	return strconv.FormatInt((size+1<<20-1)>>20, 10) + "Mi"
}

// peekLimit is how much of a document too large to decode is looked at for its kind and
// name: metadata comes first in what kubectl and most tools write.
const peekLimit = 64 << 10

// peekIdentity finds the kind, namespace and name of a document without decoding it, from
// its first 64 KiB: top-level kind and metadata.name/namespace of a block-style YAML
// document or of a JSON object. Empty when they are not found there.
func peekIdentity(data []byte, isJSON bool) (kind, namespace, name string) {
	if len(data) > peekLimit {
		data = data[:peekLimit]
	}
	if isJSON {
		return peekJSONIdentity(data)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), peekLimit)
	inMetadata, childIndent := false, ""
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		indent := line[:len(line)-len(trimmed)]
		if indent == "" {
			inMetadata = false
			if v, ok := strings.CutPrefix(line, "kind:"); ok {
				kind = yamlScalar(v)
			}
			if v, ok := strings.CutPrefix(line, "metadata:"); ok && strings.HasPrefix(strings.TrimSpace(v), "{") {
				// metadata: {name: web, namespace: shop} — one line, small: parse it.
				var m struct {
					Metadata struct{ Name, Namespace string }
				}
				if yaml.Unmarshal([]byte(line), &m) == nil {
					name, namespace = m.Metadata.Name, m.Metadata.Namespace
				}
			}
			inMetadata = line == "metadata:"
			childIndent = ""
			continue
		}
		if !inMetadata {
			continue
		}
		if childIndent == "" {
			childIndent = indent
		}
		if indent != childIndent {
			continue
		}
		if v, ok := strings.CutPrefix(trimmed, "name:"); ok {
			name = yamlScalar(v)
		} else if v, ok := strings.CutPrefix(trimmed, "namespace:"); ok {
			namespace = yamlScalar(v)
		}
	}
	return kind, namespace, name
}

// yamlScalar is a plain or quoted YAML scalar on one line, without a trailing comment.
func yamlScalar(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// peekJSONIdentity reads the top-level kind and metadata.name/namespace of a JSON object,
// token by token, stopping at the end of data.
func peekJSONIdentity(data []byte) (kind, namespace, name string) {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, key, metaKey := 0, "", ""
	inMetadata := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return kind, namespace, name
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				depth++
				if depth == 2 && key == "metadata" && t == '{' {
					inMetadata = true
				}
			case '}', ']':
				depth--
				if depth == 1 {
					inMetadata = false
				}
			}
			if depth == 1 {
				key = ""
			}
			metaKey = ""
			continue
		case string:
			switch {
			case depth == 1 && key == "":
				key = t
				continue
			case depth == 1 && key == "kind":
				kind = t
			case depth == 2 && inMetadata && metaKey == "":
				metaKey = t
				continue
			case depth == 2 && inMetadata && metaKey == "name":
				name = t
			case depth == 2 && inMetadata && metaKey == "namespace":
				namespace = t
			}
		}
		// A value ended.
		if depth == 1 {
			key = ""
		} else if depth == 2 {
			metaKey = ""
		}
	}
}
