// Package emit writes the objects `gatebridge convert` produced, as YAML documents or as a
// JSON v1 List, in the exact bytes of converters.EncodeObjects, but streamed: objects are
// encoded in chunks on all cores and each chunk is written as soon as the chunks before it
// are, so the output is never held whole (13 MB of YAML for 5,000 Ingresses) and
// encoding overlaps writing.
//
// A streaming conversion (converters.Options.Encoder) encodes each object with an
// ObjectEncoder as soon as it is built and holds the encodings compressed (Block) until
// they are sorted; WriteEncoded writes them, the bytes Write writes for the objects
// (encoded.go).
//
// Each object is read into a small reusable tree (no map[string]any per object) straight
// from its Go value, following encoding/json's rules (reflect.go; what they do not cover
// is read from json.Marshal's bytes), with the keys of every mapping sorted, as the
// map-based encoder sorted them; status and a null metadata.creationTimestamp are left out.
// A streaming conversion's JSON skips the tree: it is written straight from the value by
// the same rules (jsondirect.go), with a two-byte mark for each line break and its
// indentation, which WriteEncoded expands.
package emit
