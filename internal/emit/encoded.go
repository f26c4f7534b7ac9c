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

// encodedChunkBytes is about how many bytes WriteEncoded writes a chunk: chunks are cut by
// size, not by count, so that the buffers in flight (a few per core) hold as much in JSON
// as in YAML, where JSON objects are twice the bytes.
const encodedChunkBytes = 256 << 10

// WriteEncoded writes encodings made by an ObjectEncoder of the same format, in order,
// with what Write puts around and between them: the bytes Write writes for the objects.
func WriteEncoded(w io.Writer, objs []Encoded, format string, workers int) error {
	return framed(w, format, func(asJSON bool) error {
		bounds := chunkBounds(objs, asJSON)
		return writeInOrder(w, len(bounds)-1, workers, func(e *encoder, c int) error {
			return e.encodedChunk(objs[:bounds[c+1]], bounds[c], asJSON)
		})
	})
}

// writtenSize is about how many bytes an encoding held as o is written as, with its
// separator: JSON's marks expand to about twice their bytes (jsonMarked).
func writtenSize(o Encoded, asJSON bool) int {
	if asJSON {
		return 2*o.Len() + len(",\n    ")
	}
	return o.Len() + len("---\n")
}

// chunkBounds cuts objs into chunks of about encodedChunkBytes written: chunk c is
// objs[bounds[c]:bounds[c+1]].
func chunkBounds(objs []Encoded, asJSON bool) []int {
	bounds := []int{0}
	size := 0
	for i, o := range objs {
		size += writtenSize(o, asJSON)
		if size >= encodedChunkBytes || i == len(objs)-1 {
			bounds = append(bounds, i+1)
			size = 0
		}
	}
	return bounds
}

// encodedChunk writes objs[from:], each preceded by its separator, into e.buf (replacing
// its content). A part's objects of one kind are next to each other in the output: the
// block last decompressed is kept for the next object.
func (e *encoder) encodedChunk(objs []Encoded, from int, asJSON bool) error {
	// Sized once: grown by append, the buffer was copied over and over.
	size := 0
	for _, o := range objs[from:] {
		size += writtenSize(o, asJSON)
	}
	if cap(e.buf) < size {
		e.buf = make([]byte, 0, size)
	}
	e.buf = e.buf[:0]
	var current *Block
	raw := e.raw
	for i := from; i < len(objs); i++ {
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
