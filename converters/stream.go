package converters

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// A streaming conversion (Options.Encoder; `gatebridge convert` and `report`) never holds
// every object at once. Each part is built, finished and encoded by one goroutine (four
// neighbouring parts a block, blockParts), and only its objects' bytes are kept,
// compressed (emit.Block: ~0.3 KB an Ingress, against ~5 KB of Go objects); the sorted
// output is then a list of encodings, merged from the parts by key as the objects would
// have been.
//
// With many parts the analysis is not kept either: a first pass analyses every part for
// its listeners only (the listener plan needs all of them before any part is built) and
// drops the rest, and each part is analysed again when it is built. That costs the
// analysis twice (~15% more CPU time for the converter) for a peak that no longer holds
// every Ingress's parsed annotations and route plan at once (~6 KB an Ingress), so it is
// done from reanalyseMinParts parts on, where memory matters more than the time: at 5,000
// Ingresses `gatebridge convert` peaked at ~94 MiB instead of ~128 for ~10% more wall time
// (issue 19's goals: 100 MiB and the one-core decode time; README "Performance"). Below,
// the peak is the process's start, whatever the conversion does.
//
// The bytes are those of Convert's objects encoded one by one: TestStreamedEqualsObjects
// checks it, with and without the second analysis.

// ObjectEncoder appends the encoding of one object to buf and returns it. One is used by
// one goroutine at a time.
type ObjectEncoder interface {
	Append(buf []byte, obj client.Object) ([]byte, error)
}

// reanalyseMinParts is the number of parts from which a streaming conversion analyses
// each part twice rather than keep every part's analysis (a variable for tests). It was
// 10,000 until `gatebridge convert` stopped linking the data plane (cmd/gatebridge): the
// 48 MiB of executable pages that cost made 100 MiB out of reach at 5,000 whatever this was.
var reanalyseMinParts = 2000

// TradesTimeForMemory reports whether a streaming conversion of in is large enough to
// analyse each part twice (above): from there on memory matters more than time, and a
// caller that paces the garbage collector may do the same (`gatebridge convert` holds the
// conversion under a memory limit). It counts Ingresses, which bound the parts.
func TradesTimeForMemory(in Input) bool { return len(in.Ingresses) >= reanalyseMinParts }

// analyseChunk is how many parts the first pass analyses together: enough to keep every
// core busy, few enough that their analysis is a small part of the peak.
const analyseChunk = 512

// analyseListeners is the first pass of a streaming conversion with many parts: each part
// gets its listeners (for the plan) and nothing else.
func (cv *conversion) analyseListeners(in Input, parts []*part) {
	for start := 0; start < len(parts); start += analyseChunk {
		chunk := parts[start:min(start+analyseChunk, len(parts))]
		cv.analyse(in, chunk)
		for _, p := range chunk {
			p.conv, p.sources, p.reports = nil, nil, nil
			for _, l := range p.listeners {
				if l.cert != nil {
					l.cert = &tlsCert{namespace: l.cert.namespace, secret: l.cert.secret, useDefault: l.cert.useDefault}
				}
			}
		}
	}
}

// buildEncoded builds, finishes and encodes every part (analysing it again first when
// analyseListeners analysed it) and reports whether any part emitted an object. Parts are
// finished as if the Gateway were emitted: when none emits anything, the caller converts
// again without streaming.
func (cv *conversion) buildEncoded(in Input, parts []*part, plan *listenerPlan, reanalyse bool, encoders *encoderPool) bool {
	emitted := make([]bool, len(parts))
	groups := blockGroups(parts)
	parallel.For(len(groups), func(g int) {
		for _, k := range groups[g] {
			p := parts[k]
			if reanalyse {
				placed := placementOf(p.listeners)
				*p = part{keys: p.keys, members: p.members}
				cv.analyse(in, []*part{p})
				for i, l := range p.listeners {
					l.owner, l.name = placed[i].owner, placed[i].name
				}
			}
			p.conv.emit(plan)
			emitted[k] = len(p.conv.out.objs) > 0
			p.finish(true)
			p.objects = nil
			// What only Incremental reads of a built part: the plan holds the listeners.
			p.listeners, p.placed = nil, nil
		}
		keyed := make([][]keyedObject, len(groups[g]))
		for i, k := range groups[g] {
			keyed[i] = parts[k].keyed
		}
		encodeKeyed(encoders, keyed...)
	})
	for _, e := range emitted {
		if e {
			return true
		}
	}
	return false
}

// blockParts is how many parts' objects are encoded into one block (emit.Block). S2
// compresses a block better the more it holds (the objects of neighbouring Ingresses are
// alike): 50,000 Ingresses hold ~35 MB of encodings in blocks of one part, ~15 MB in blocks
// of four. A block is decompressed whenever the output moves to one of its objects from
// another block's, so the parts of a block are neighbours in the output: sorted by their
// first Ingress's namespace and name, as the objects named after it are.
const blockParts = 4

// blockGroups returns the indexes of parts in groups of blockParts, by their first
// Ingress's namespace and name.
func blockGroups(parts []*part) [][]int {
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	first := func(i int) ingressKey {
		if len(parts[i].keys) == 0 {
			return ingressKey{}
		}
		return parts[i].keys[0]
	}
	slices.SortFunc(order, func(a, b int) int {
		ka, kb := first(a), first(b)
		return cmp.Or(strings.Compare(ka.namespace, kb.namespace), strings.Compare(ka.name, kb.name), a-b)
	})
	groups := make([][]int, 0, (len(order)+blockParts-1)/blockParts)
	for start := 0; start < len(order); start += blockParts {
		groups = append(groups, order[start:min(start+blockParts, len(order))])
	}
	return groups
}

// encodeKeyed encodes the objects of each of lists into one buffer, compressed as one
// block, and drops them.
func encodeKeyed(encoders *encoderPool, lists ...[]keyedObject) {
	n := 0
	for _, ks := range lists {
		n += len(ks)
	}
	if n == 0 {
		return
	}
	e := encoders.get()
	defer encoders.put(e)
	ends := make([]int, 0, n)
	for _, ks := range lists {
		for i := range ks {
			var err error
			e.buf, err = e.enc.Append(e.buf, ks[i].obj)
			if err != nil {
				encoders.fail(fmt.Errorf("encoding %s %s/%s: %w", ks[i].kind, ks[i].ns, ks[i].name, err))
			}
			ends = append(ends, len(e.buf))
		}
	}
	// The scratch buffer is reused by the next block.
	block := emit.NewBlock(e.buf)
	e.buf = e.buf[:0]
	start, j := 0, 0
	for _, ks := range lists {
		for i := range ks {
			ks[i].enc = block.Object(start, ends[j])
			ks[i].obj = nil
			start = ends[j]
			j++
		}
	}
}

// encoderPool hands out the conversion's ObjectEncoders with a scratch buffer each, and
// keeps the first encoding error.
type encoderPool struct {
	pool sync.Pool
	mu   sync.Mutex
	err  error
}

type pooledEncoder struct {
	enc ObjectEncoder
	buf []byte
}

func newEncoderPool(newEncoder func() ObjectEncoder) *encoderPool {
	ep := &encoderPool{}
	ep.pool.New = func() any { return &pooledEncoder{enc: newEncoder()} }
	return ep
}

func (ep *encoderPool) get() *pooledEncoder  { return ep.pool.Get().(*pooledEncoder) }
func (ep *encoderPool) put(e *pooledEncoder) { ep.pool.Put(e) }

func (ep *encoderPool) fail(err error) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.err == nil {
		ep.err = err
	}
}
