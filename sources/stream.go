package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// ReadPaths streams its input: a YAML file is read a window at a time and cut into
// documents as it is read, documents are decoded on all cores a batch at a time, and each
// batch's objects are gathered into one decoded before the next batch is read. A 52 MB
// file of 50,000 Ingresses is then never in memory whole, nor are 100,000 per-document
// results: the peak of reading is the decoded objects and a batch. A file that is one JSON
// value (kubectl get -o json) is read whole, as it must be to be split into its items.

// windowSize is how much of a YAML file is read at a time (a variable for tests).
var windowSize = 4 << 20

// batchSize is how many bytes of documents are decoded together: enough that every core
// stays busy to the end of a batch, small next to the objects decoded (a variable for
// tests).
var batchSize = 4 << 20

// batcher collects documents, decodes them a batch at a time and keeps what each file gave,
// in order.
type batcher struct {
	docs []document
	// files are the index of the file of each of docs.
	files []int
	size  int
	// groups are the decoded batches, one per file a batch holds documents of; groupFile
	// is the file of each.
	groups    []decoded
	groupFile []int
}

func (b *batcher) add(d document, file int) {
	b.docs, b.files = append(b.docs, d), append(b.files, file)
	b.size += len(d.data)
	if b.size >= batchSize {
		b.flush()
	}
}

// flush decodes the documents collected.
func (b *batcher) flush() {
	results := make([]decoded, len(b.docs))
	parallel.For(len(b.docs), func(i int) { results[i] = decodeDocument(b.docs[i]) })
	for start := 0; start < len(results); {
		end := start + 1
		for end < len(results) && b.files[end] == b.files[start] {
			end++
		}
		b.groups, b.groupFile = append(b.groups, gather(results[start:end])), append(b.groupFile, b.files[start])
		start = end
	}
	// Cleared: the documents point into the windows read, which can go now.
	clear(b.docs)
	b.docs, b.files, b.size = b.docs[:0], b.files[:0], 0
}

// dropFile forgets what file gave so far (its documents and groups are the last ones).
func (b *batcher) dropFile(file int) {
	n := len(b.files)
	for n > 0 && b.files[n-1] == file {
		n--
	}
	for _, d := range b.docs[n:] {
		b.size -= len(d.data)
	}
	clear(b.docs[n:])
	b.docs, b.files = b.docs[:n], b.files[:n]
	g := len(b.groupFile)
	for g > 0 && b.groupFile[g-1] == file {
		g--
	}
	b.groups, b.groupFile = b.groups[:g], b.groupFile[:g]
}

// gather joins the results of consecutive documents into one, in order.
func gather(rs []decoded) decoded {
	if len(rs) == 1 {
		return rs[0]
	}
	var out decoded
	for i := range rs {
		r := &rs[i]
		out.ingresses = append(out.ingresses, r.ingresses...)
		out.classes = append(out.classes, r.classes...)
		out.services = append(out.services, r.services...)
		out.secrets = append(out.secrets, r.secrets...)
		out.cms = append(out.cms, r.cms...)
		out.objects = append(out.objects, r.objects...)
		out.origins.ingresses = append(out.origins.ingresses, r.origins.ingresses...)
		out.origins.classes = append(out.origins.classes, r.origins.classes...)
		out.origins.services = append(out.origins.services, r.origins.services...)
		out.origins.secrets = append(out.origins.secrets, r.origins.secrets...)
		out.origins.configMaps = append(out.origins.configMaps, r.origins.configMaps...)
		out.origins.objects = append(out.origins.objects, r.origins.objects...)
		out.problems = append(out.problems, r.problems...)
		out.ignored = append(out.ignored, r.ignored...)
	}
	return out
}

// streamFile reads the file at path into b (as file number file), within the limits of
// opts: a file over the file limit is not read, a document over the document limit is not
// decoded; each is one document carrying its Problem, so that every other file and
// document is still read.
func streamFile(b *batcher, path string, file int, opts Options) error {
	f, err := os.Open(path)
	if err != nil {
		return wrapRead(path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return wrapRead(path, err)
	}
	return streamDocuments(b, path, f, info.Size(), file, opts)
}

// streamDocuments reads r (size bytes, or -1 when unknown) as the documents of source, as
// reading it whole and splitting it would (TestStreamedReadingEqualsWhole): the same
// documents, with the same limits.
func streamDocuments(b *batcher, source string, r io.Reader, size int64, file int, opts Options) error {
	limit := opts.maxFileSize()
	if size > limit {
		b.add(fileTooLarge(source, size, limit), file)
		return nil
	}
	// One byte more than the limit tells a file that grew past it (or standard input)
	// from one that is exactly at it.
	r = io.LimitReader(r, limit+1)
	tooLarge := func() {
		b.dropFile(file)
		b.add(fileTooLarge(source, -1, limit), file)
	}
	var read int64
	var carry []byte
	s := newYAMLSplitter(source)
	for first := true; ; first = false {
		buf := make([]byte, len(carry), max(len(carry)+nextWindow(size, read), 2*len(carry)))
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		read += int64(n)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return wrapRead(source, err)
		}
		if read > limit {
			tooLarge()
			return nil
		}
		if first && !surelyYAML(buf, eof) {
			// One JSON value, or too little read to tell: read whole, as before.
			rest, err := io.ReadAll(r)
			if err != nil {
				return wrapRead(source, err)
			}
			if read += int64(len(rest)); read > limit {
				tooLarge()
				return nil
			}
			for _, d := range documentsOf(source, append(buf, rest...), opts) {
				b.add(d, file)
			}
			return nil
		}
		var docs []document
		docs, carry = s.feed(buf, eof)
		for _, d := range docs {
			b.add(limitDocument(d, opts), file)
		}
		if eof {
			return nil
		}
	}
}

// minWindow is the smallest window read.
const minWindow = 4 << 10

// nextWindow is how much to read next of a stream of size bytes (-1: unknown) of which
// read are read: what is left and one byte more (to see the end), up to windowSize. A
// window is held as long as a document in it waits to be decoded, and a batch holds the
// documents of many small files: each must not take 4 MiB. A stream of unknown size is
// read in windows that double from minWindow.
func nextWindow(size, read int64) int {
	if size < 0 {
		return int(min(int64(windowSize), max(read, minWindow)))
	}
	return int(min(int64(windowSize), max(size-read+1, minWindow)))
}

// surelyYAML reports whether a stream that begins with buf is a YAML stream rather than
// one JSON value: it does not begin with '{' or '['. When buf holds only white space and
// more follows, it cannot tell.
func surelyYAML(buf []byte, eof bool) bool {
	t := bytes.TrimLeftFunc(buf, unicode.IsSpace)
	if len(t) == 0 || !eof && !utf8.FullRune(t) {
		// Only white space, or a rune cut at the window's end (which may be white space
		// too, as U+00A0 is): what follows tells.
		return eof
	}
	if r, _ := utf8.DecodeRune(t); r == '{' || r == '[' {
		return false
	}
	return true
}

// limitDocument sets d aside when it is over the document limit (documentsOf's rule).
func limitDocument(d document, opts Options) document {
	if limit := opts.maxDocumentSize(); int64(len(d.data)) > limit {
		d.skipped = documentTooLarge(&d, limit)
		d.data = nil
	}
	return d
}

// yamlSplitter cuts a YAML stream into documents at "---" lines, fed a piece at a time.
type yamlSplitter struct {
	source string
	// n counts the chunks between separators (empty ones too): documents are numbered so.
	n int
	// lineNo is the line number of the next line to scan, startLine that of the
	// document being read.
	lineNo, startLine int
	// scanned is how many bytes of the piece last returned were scanned already.
	scanned int
}

func newYAMLSplitter(source string) *yamlSplitter {
	return &yamlSplitter{source: source, lineNo: 1, startLine: 1}
}

// feed splits buf — what the previous feed returned, then what followed it in the stream
// — and returns the documents that end in it and the rest, from where the next document
// begins, to be fed again with what follows. At the end of the stream (eof) the rest is
// the last document.
func (s *yamlSplitter) feed(buf []byte, eof bool) (docs []document, rest []byte) {
	start := 0
	i := s.scanned
	for i < len(buf) {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 && !eof {
			break // a line cut by the window: scanned with what follows
		}
		lineEnd := len(buf)
		if j >= 0 {
			lineEnd = i + j
		}
		if isSeparator(bytes.TrimRight(buf[i:lineEnd], " \t\r")) {
			docs = s.emit(docs, buf[start:i])
			start, s.startLine = min(lineEnd+1, len(buf)), s.lineNo+1
		}
		if j < 0 {
			i = len(buf)
			break
		}
		i = lineEnd + 1
		s.lineNo++
	}
	if eof {
		if start < len(buf) {
			docs = s.emit(docs, buf[start:])
		}
		return docs, nil
	}
	s.scanned = i - start
	return docs, buf[start:]
}

// emit appends the chunk as the next document, unless it has no content.
func (s *yamlSplitter) emit(docs []document, chunk []byte) []document {
	s.n++
	if hasContent(chunk) {
		docs = append(docs, document{source: s.source + "#" + strconv.Itoa(s.n), data: chunk, line: s.startLine})
	}
	return docs
}

// isSeparator reports whether a line (trailing blanks trimmed) is a "---" document marker.
func isSeparator(line []byte) bool {
	return bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '#')
}

func wrapRead(source string, err error) error { return fmt.Errorf("reading %s: %w", source, err) }
