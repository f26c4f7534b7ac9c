package emit

import (
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/s2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A streaming conversion (converters.Options.Encoder) encodes each part's objects as soon
// as they are built, with an ObjectEncoder, and holds them until all are sorted. They wait
// compressed: a Block holds the encodings of one part's objects (its HTTPRoutes and
// policies, ~3 KB of YAML an Ingress) compressed with S2, ~4x smaller (50,000 Ingresses:
// 144 MB of YAML held in 34 MB), for ~3% of the conversion's CPU time. WriteEncoded then
// decompresses and writes them in order, on all cores.

// ObjectEncoder encodes objects one at a time for WriteEncoded: in YAML as Write does,
// without the separators between them; in JSON with marks for its line breaks
// (write.go: jsonMarked), which WriteEncoded expands into the bytes Write writes. Not safe
// for concurrent use.
type ObjectEncoder struct {
	e      encoder
	asJSON bool
}

// NewObjectEncoder returns an encoder for format "yaml" ("" too) or "json".
func NewObjectEncoder(format string) (*ObjectEncoder, error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	return &ObjectEncoder{asJSON: format == "json"}, nil
}

// Append appends obj's encoding to buf.
func (o *ObjectEncoder) Append(buf []byte, obj client.Object) ([]byte, error) {
	o.e.buf = buf
	err := o.e.objectMarked(obj, o.asJSON)
	buf, o.e.buf = o.e.buf, nil
	return buf, err
}

// A Block holds the encodings of several objects, compressed.
type Block struct {
	compressed []byte
	size       int
}

// NewBlock compresses raw (the encodings of several objects, one after the other) into a
// Block; raw can be reused afterwards.
func NewBlock(raw []byte) *Block {
	// Compressed into a reused buffer and copied out: s2 needs room for its worst case,
	// and a block that kept that capacity would hold as much memory as raw.
	scratch := compressBuffers.Get().(*[]byte)
	defer compressBuffers.Put(scratch)
	if n := s2.MaxEncodedLen(len(raw)); cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	c := s2.Encode((*scratch)[:cap(*scratch)], raw)
	return &Block{compressed: append([]byte(nil), c...), size: len(raw)}
}

// compressBuffers are NewBlock's scratch buffers.
var compressBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Object is the encoding of one object of the block: bytes [start, end) of raw.
func (b *Block) Object(start, end int) Encoded {
	return Encoded{block: b, start: int32(start), end: int32(end)}
}

// Encoded is one object's encoding, held in a Block.
type Encoded struct {
	block      *Block
	start, end int32
}

// Len is the length of the encoding.
func (e Encoded) Len() int { return int(e.end - e.start) }

// encodedChunk is how many objects WriteEncoded decompresses and writes together.
const encodedChunk = 256

// WriteEncoded writes encodings made by an ObjectEncoder of the same format, in order,
// with what Write puts around and between them: the bytes Write writes for the objects.
func WriteEncoded(w io.Writer, objs []Encoded, format string, workers int) error {
	return framed(w, format, func(asJSON bool) error {
		chunks := (len(objs) + encodedChunk - 1) / encodedChunk
		return writeInOrder(w, chunks, workers, func(e *encoder, c int) error {
			return e.encodedChunk(objs, c, asJSON)
		})
	})
}

// encodedChunk writes the objects of chunk c, each preceded by its separator, into e.buf
// (replacing its content). A part's objects of one kind are next to each other in the
// output: the block last decompressed is kept for the next object.
func (e *encoder) encodedChunk(objs []Encoded, c int, asJSON bool) error {
	end := min((c+1)*encodedChunk, len(objs))
	// Sized once: grown by append, the buffer was copied over and over (a chunk of JSON
	// is ~0.5 MB). Expanded, JSON takes about twice its size held.
	size := 0
	for i := c * encodedChunk; i < end; i++ {
		size += objs[i].Len() + len(",\n    ")
	}
	if asJSON {
		size *= 2
	}
	if cap(e.buf) < size {
		e.buf = make([]byte, 0, size)
	}
	e.buf = e.buf[:0]
	var current *Block
	raw := e.raw
	for i := c * encodedChunk; i < end; i++ {
		o := objs[i]
		e.separator(i, asJSON)
		if o.block != current {
			var err error
			if raw, err = s2.Decode(raw[:cap(raw)], o.block.compressed); err != nil {
				return fmt.Errorf("decompressing an encoded object: %w", err)
			}
			current = o.block
		}
		if asJSON {
			e.expandJSON(raw[o.start:o.end])
		} else {
			e.buf = append(e.buf, raw[o.start:o.end]...)
		}
	}
	e.raw = raw // kept for the next chunk
	return nil
}

// checkFormat accepts the formats Write knows.
func checkFormat(format string) error {
	switch format {
	case "", "yaml", "json":
		return nil
	}
	return fmt.Errorf("unknown output format %q (accepted: yaml, json)", format)
}
