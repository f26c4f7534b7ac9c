package sources

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// Reader reads the same paths again and again, decoding only the files whose size or
// modification time changed since the previous Read; the others are taken from memory.
// `gatebridge run` reads through it on every reload, so an edit of one file in a large tree
// costs the decoding of that file, not of the tree (YAML decodes at ~3 MB/s per core).
//
// A Reader takes a file whole or not at all, the way the API server takes or refuses an
// update, so that a save in progress or a typo never withdraws what a file served:
//   - A file is read settled: when its size or modification time after the read differs
//     from before the read, it is being written, and it is read again (a few times, a few
//     milliseconds apart; a file still changing is treated as unreadable until its next
//     change).
//   - A changed file that cannot be read, that is empty (zero bytes: an in-place write has
//     truncated it and not written yet), or of which any document does not decode keeps
//     its last good version: all of that version's documents are still served, and a
//     Problem names the file, the documents that failed and says so. A new file in that
//     state contributes nothing until it is fixed. A fixed file is taken as usual.
//   - A removed file withdraws its objects: a deletion is meant.
//
// A kept file did not change: the incremental contracts (ConverterChanges,
// OnlyEndpointsChanged, the reuse of unchanged kinds) see no change in it, and neither
// does a file written again with the same bytes.
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
	// churn: the bytes the last Read decoded or dropped (ChurnBytes).
	churn int64
	// last is what the last Read returned: the kinds no changed file holds are reused.
	last *Loaded
	// files are the files the last Read took, in order (mergeReusing's groups).
	files []string
	// readFile reads at most limit+1 bytes of a file (readUpTo; tests interpose on it).
	readFile func(name string, limit int64) ([]byte, error)
}

// cachedFile is what a Reader knows of one file.
type cachedFile struct {
	// size and modTime are those of the version on disk last read, good or not, so that
	// an unchanged broken file is not decoded again; size -1 reads the file again on the
	// next Read (it could not be read).
	size    int64
	modTime time.Time
	// docs are the documents served: the file's last good version (nil: none yet).
	docs []decoded
	// good: docs are a version that decoded (false while a new file never did).
	good bool
	// sum and bytes are the SHA-256 and the length of the version docs were decoded from.
	sum   [sha256.Size]byte
	bytes int64
	// problems say why the version on disk is not served (nil when it is).
	problems []Problem
}

// served is what the file contributes to a Read: its served documents and, when the
// version on disk is not served, the problems that say why.
func (c *cachedFile) served() []decoded {
	if len(c.problems) == 0 {
		return c.docs
	}
	return append(c.docs[:len(c.docs):len(c.docs)], decoded{problems: c.problems})
}

// Settling: how often and how far apart a file that changes while it is read is read again.
const (
	settleAttempts = 4
	settlePause    = 5 * time.Millisecond
)

// NewReader reads paths (files or directories; not "-").
func NewReader(paths []string, opts Options) *Reader {
	return &Reader{paths: paths, opts: opts, cache: map[string]cachedFile{}, readFile: readUpTo}
}

// Read returns what the paths hold now, as ReadPaths would, except that a file that is
// being written, cannot be read or does not decode keeps its last good version (see
// Reader). It fails only when a path given to NewReader cannot be read.
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
		listed, err := listFiles(p)
		if err != nil {
			return nil, err
		}
		files = append(files, listed...)
	}
	next := make(map[string]cachedFile, len(files))
	onlyEndpoints := true
	ingresses, others := map[string]bool{}, false
	var churn int64
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
	read := make([]string, 0, len(files))
	changedFiles := make([]bool, 0, len(files))
	for _, f := range files {
		c := r.cache[f]
		changed := false
		info, err := os.Stat(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed since it was listed: withdrawn below, as any removed file
		case err != nil:
			c = c.keep(f, -1, time.Time{}, "cannot be read: "+err.Error(), nil)
		case c.size >= 0 && c.size == info.Size() && c.modTime.Equal(info.ModTime()):
			// Unchanged since the last Read (served, or still broken).
		default:
			fresh, freshChanged, decodedBytes, gone := r.refresh(f, c, info)
			if gone {
				continue
			}
			churn += decodedBytes
			if freshChanged {
				noteChange(c.docs, fresh.docs)
				churn += c.bytes
			}
			c, changed = fresh, freshChanged
		}
		next[f] = c
		results = append(results, c.served())
		read, changedFiles = append(read, f), append(changedFiles, changed)
	}
	for f, c := range r.cache {
		if _, kept := next[f]; !kept {
			noteChange(c.docs, nil)
			churn += c.bytes
		}
	}
	r.cache = next
	r.onlyEndpoints = onlyEndpoints
	r.changedIngresses, r.otherConverterInput = ingresses, others
	r.churn = churn
	if !slices.Equal(read, r.files) {
		changedFiles = nil // files came or went: the previous Read's positions do not hold
	}
	r.files = read
	r.last = mergeReusing(results, r.opts, r.last, kinds, changedFiles)
	return r.last, nil
}

// refresh reads f, which changed since c was cached (or is new), and returns what the file
// serves now; changed says whether that differs from c.docs, decodedBytes how much was
// decoded, gone that the file was removed meanwhile.
func (r *Reader) refresh(f string, c cachedFile, info os.FileInfo) (next cachedFile, changed bool, decodedBytes int64, gone bool) {
	v, err := r.readSettled(f, info)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, false, 0, true
	case err != nil:
		return c.keep(f, -1, time.Time{}, err.Error(), nil), false, 0, false
	case v.tooLarge:
		tooLarge := fileTooLarge(f, v.size, r.opts.maxFileSize()).skipped
		return c.keep(f, v.size, v.modTime, "is not read", []Problem{*tooLarge}), false, 0, false
	}
	sum := sha256.Sum256(v.data)
	if c.good && sum == c.sum {
		// The version served, written again (touch, a save without edits, a broken edit
		// undone): nothing to decode, nothing changed.
		c.size, c.modTime, c.problems = v.size, v.modTime, nil
		return c, false, 0, false
	}
	if len(v.data) == 0 && len(c.docs) > 0 {
		return c.keep(f, v.size, v.modTime, "is empty (an in-place write empties a file before it writes it; remove the file to withdraw its objects)", nil), false, 0, false
	}
	docs := decodeFile(f, v.data, r.opts)
	if problems := decodingProblems(docs); len(problems) > 0 {
		return c.keep(f, v.size, v.modTime, documentsThat(f, problems, "does not decode", "do not decode"), problems), false, v.size, false
	}
	if c.good {
		// The cluster's rule: an update the API server refuses leaves the object as it
		// was. A truncated write that still parses often leaves such an Ingress.
		if refused := newlyInvalidIngresses(f, c.docs, docs); len(refused) > 0 {
			return c.keep(f, v.size, v.modTime, documentsThat(f, refused, "holds an Ingress the API server would refuse", "hold Ingresses the API server would refuse"), refused), false, v.size, false
		}
	}
	return cachedFile{size: v.size, modTime: v.modTime, docs: docs, good: true, sum: sum, bytes: v.size}, true, v.size, false
}

// fileVersion is one settled read of a file.
type fileVersion struct {
	size    int64
	modTime time.Time
	data    []byte
	// tooLarge: the file is over the file size limit and was not read (data is nil).
	tooLarge bool
}

// readSettled reads f until its size and modification time are the same after the read
// as before it, and the bytes read are as many as its size: no writer was in the middle
// of it. A file still changing after settleAttempts reads is an error. A file over the
// size limit is not read.
func (r *Reader) readSettled(f string, before os.FileInfo) (fileVersion, error) {
	limit := r.opts.maxFileSize()
	for attempt := 1; ; attempt++ {
		if before.Size() > limit {
			return fileVersion{size: before.Size(), modTime: before.ModTime(), tooLarge: true}, nil
		}
		b, err := r.readFile(f, limit)
		if err != nil {
			return fileVersion{}, fmt.Errorf("cannot be read: %w", err)
		}
		after, err := os.Stat(f)
		if err != nil {
			return fileVersion{}, fmt.Errorf("cannot be read: %w", err)
		}
		if after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) && int64(len(b)) == after.Size() {
			return fileVersion{size: after.Size(), modTime: after.ModTime(), data: b}, nil
		}
		if attempt == settleAttempts {
			return fileVersion{}, fmt.Errorf("is still being written (it changed while it was read, %d times)", attempt)
		}
		time.Sleep(settlePause)
		before = after
	}
}

// readUpTo reads at most limit+1 bytes of a file: one more than the limit tells a file
// that grew past it.
func readUpTo(name string, limit int64) ([]byte, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(io.LimitReader(file, limit+1))
}

// decodeFile splits one file into documents and decodes them on all cores.
func decodeFile(f string, b []byte, opts Options) []decoded {
	docs := documentsOf(f, b, opts)
	out := make([]decoded, len(docs))
	parallel.For(len(docs), func(i int) { out[i] = decodeDocument(docs[i]) })
	return out
}

// decodingProblems are the problems of the documents of one file.
func decodingProblems(docs []decoded) []Problem {
	var out []Problem
	for _, d := range docs {
		out = append(out, d.problems...)
	}
	return out
}

// documentsThat names the documents of f that problems are about, followed by what they do:
// "document 3 does not decode", "document 2, document 5 do not decode".
func documentsThat(f string, problems []Problem, singular, plural string) string {
	var labels []string
	for _, p := range problems {
		l := strings.TrimPrefix(p.Source, f)
		switch {
		case l == "":
			l = "the file"
		case l[0] == '#':
			l = "document " + l[1:]
		default:
			l = "document " + strings.TrimPrefix(l, ".")
		}
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if len(labels) == 1 {
		return labels[0] + " " + singular
	}
	return strings.Join(labels, ", ") + " " + plural
}

// newlyInvalidIngresses are the Ingresses of after, a new version of the file f, that the
// API server would refuse (converters.ValidateIngress) and that before, its last good
// version, did not hold exactly so: an invalid Ingress left as it was does not stop the
// rest of its file from being edited.
func newlyInvalidIngresses(f string, before, after []decoded) []Problem {
	var out []Problem
	for _, d := range after {
		for i := range d.ingresses {
			ing := &d.ingresses[i]
			findings := converters.ValidateIngress(ing)
			if len(findings) == 0 || holdsIngress(before, ing) {
				continue
			}
			source := f
			if i < len(d.origins.ingresses) {
				source = d.origins.ingresses[i]
			}
			var why []string
			for _, fd := range findings {
				why = append(why, strings.TrimSpace(fd.Field+" "+fd.Message))
			}
			out = append(out, Problem{Source: source, Kind: "Ingress", Name: qualified(ing.Namespace, ing.Name),
				Message: "would be refused by the API server: " + strings.Join(why, "; ")})
		}
	}
	return out
}

// holdsIngress reports whether docs hold an Ingress equal to ing.
func holdsIngress(docs []decoded, ing *networkingv1.Ingress) bool {
	for _, d := range docs {
		for i := range d.ingresses {
			if reflect.DeepEqual(&d.ingresses[i], ing) {
				return true
			}
		}
	}
	return false
}

// keep returns c still serving its last good version (nothing for a file that never
// decoded) while the version on disk (size, modTime; size -1: read it again next time)
// is not served because of why; problems are the decoding problems, printed before.
func (c cachedFile) keep(f string, size int64, modTime time.Time, why string, problems []Problem) cachedFile {
	c.size, c.modTime = size, modTime
	note := Problem{Source: f}
	if c.good {
		note.Message = why + "; the last good version of this file is still served until it is fixed"
	} else {
		note.Message = why + "; this file is not served until it is fixed"
	}
	c.problems = append(problems[:len(problems):len(problems)], note)
	return c
}

// OnlyEndpointsChanged reports whether the last Read found changes (edited, added or
// removed files) only in files that hold nothing but EndpointSlices and Endpoints, before
// and after the change — so that nothing but endpoints can differ from the Read before. It
// also holds when nothing changed.
func (r *Reader) OnlyEndpointsChanged() bool { return r.onlyEndpoints }

// ChurnBytes is how many bytes the last Read decoded or dropped: the files read and
// decoded, and the versions replaced or removed. After a large churn, `run` returns the
// memory it no longer needs to the operating system.
func (r *Reader) ChurnBytes() int64 { return r.churn }

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
