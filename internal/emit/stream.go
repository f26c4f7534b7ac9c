package emit

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Options say how Write works; the bytes written do not depend on them.
type Options struct {
	// Workers is how many goroutines encode (0: GOMAXPROCS; 1: sequentially, on the
	// caller's goroutine).
	Workers int
	// Release sets each object's slot of the slice to nil once it is encoded, so that the
	// garbage collector can take the objects written while the rest are encoded (convert
	// does not use them afterwards).
	Release bool
}

// listHead and listTail are what a JSON v1 List has before and after its items.
const (
	listHead = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": ["
	listTail = "\n  ]\n}\n"
)

// chunkSize is the number of objects encoded together: large enough that handing chunks
// between goroutines costs nothing next to encoding them (~1.3 KB, ~10 µs an object),
// small enough that the chunks in flight stay small.
const chunkSize = 64

// window is how many encoded chunks may wait, per worker, for the chunks before them to be
// written.
const window = 4

// Write writes objs to w in format "yaml" (documents separated by "---"; "" is yaml too)
// or "json" (a v1 List), byte for byte as converters.EncodeObjects does.
func Write(w io.Writer, objs []client.Object, format string, o Options) error {
	return framed(w, format, func(asJSON bool) error { return writeChunks(w, objs, asJSON, o) })
}

// framed checks format and writes body (the objects) with what surrounds them: nothing in
// YAML, the head and the tail of a v1 List in JSON.
func framed(w io.Writer, format string, body func(asJSON bool) error) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	asJSON := format == "json"
	if asJSON {
		if _, err := io.WriteString(w, listHead); err != nil {
			return err
		}
	}
	if err := body(asJSON); err != nil {
		return err
	}
	if asJSON {
		_, err := io.WriteString(w, listTail)
		return err
	}
	return nil
}

// writeChunks encodes and writes the objects, chunk after chunk.
func writeChunks(w io.Writer, objs []client.Object, asJSON bool, o Options) error {
	return writeInOrder(w, (len(objs)+chunkSize-1)/chunkSize, o.Workers, func(e *encoder, c int) error {
		return e.chunk(objs, c, asJSON, o.Release)
	})
}

// writeInOrder fills chunks 0..chunks-1 with fill (into e.buf, on workers goroutines: 0
// is GOMAXPROCS, 1 the caller's alone) and writes them in order.
func writeInOrder(w io.Writer, chunks, workers int, fill func(e *encoder, c int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, chunks)
	if workers <= 1 {
		var e encoder
		for c := range chunks {
			if err := fill(&e, c); err != nil {
				return err
			}
			if _, err := w.Write(e.buf); err != nil {
				return err
			}
		}
		return nil
	}
	return writeParallel(w, chunks, workers, fill)
}

// job is one chunk to encode; done receives it encoded.
type job struct {
	chunk int
	done  chan result
}

type result struct {
	buf []byte
	err error
}

// writeParallel encodes chunks on workers goroutines and writes them in order. At most
// window×workers chunks wait to be written, so memory does not grow with the output.
func writeParallel(w io.Writer, chunks, workers int, fill func(e *encoder, c int) error) error {
	jobs := make(chan job)
	order := make(chan job, window*workers)
	quit := make(chan struct{})
	// Buffers go back to the workers once written. A fixed set (one per chunk that can be
	// in flight), not a sync.Pool: a pool is emptied by every garbage collection, and the
	// buffers then grow again from nothing (as many bytes allocated as written).
	free := make(chan []byte, (window+2)*workers)
	for range cap(free) {
		free <- nil
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for c := range chunks {
			j := job{chunk: c, done: make(chan result, 1)}
			// Handed to a worker first: every job in order is then encoded, and the
			// writer's wait for it ends.
			select {
			case jobs <- j:
			case <-quit:
				return
			}
			select {
			case order <- j:
			case <-quit:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var e encoder
			for j := range jobs {
				e.buf = <-free
				err := fill(&e, j.chunk)
				j.done <- result{buf: e.buf, err: err}
			}
		}()
	}
	var err error
	for j := range order {
		r := <-j.done
		if r.err == nil {
			_, r.err = w.Write(r.buf)
		}
		free <- r.buf[:0]
		if r.err != nil {
			err = r.err
			break
		}
	}
	close(quit)
	// Let the producer and the workers finish: drain what is still queued.
	for j := range order {
		// Each buffer goes back, or a worker could wait for one while this waits for it.
		free <- (<-j.done).buf
	}
	wg.Wait()
	return err
}

// chunk encodes the objects of chunk c, each preceded by its separator, into e.buf
// (replacing its content).
func (e *encoder) chunk(objs []client.Object, c int, asJSON, release bool) error {
	e.buf = e.buf[:0]
	end := min((c+1)*chunkSize, len(objs))
	for i := c * chunkSize; i < end; i++ {
		e.separator(i, asJSON)
		if err := e.object(objs[i], asJSON); err != nil {
			return fmt.Errorf("encoding %s %s/%s: %w", objs[i].GetObjectKind().GroupVersionKind().Kind, objs[i].GetNamespace(), objs[i].GetName(), err)
		}
		if release {
			objs[i] = nil
		}
	}
	return nil
}

// separator appends what comes before object i of the output: "---" between YAML
// documents, a line break, a comma and the indentation of a List's items in JSON.
func (e *encoder) separator(i int, asJSON bool) {
	switch {
	case asJSON && i > 0:
		e.buf = append(e.buf, ",\n    "...)
	case asJSON:
		e.buf = append(e.buf, "\n    "...)
	case i > 0:
		e.buf = append(e.buf, "---\n"...)
	}
}

// itemPrefix is the indentation of a List's items.
const itemPrefix = "    "

// object appends one object's encoding to e.buf.
func (e *encoder) object(obj client.Object, asJSON bool) error {
	root, err := e.read(obj)
	if err != nil {
		return err
	}
	if asJSON {
		e.json(root, itemPrefix, 0)
		return nil
	}
	e.yaml(root, 0)
	return nil
}

// objectMarked appends one object's encoding to e.buf as ObjectEncoder encodes it: JSON
// with marks for its line breaks, straight from the object (objectJSONMarked), YAML as
// object does.
func (e *encoder) objectMarked(obj client.Object, asJSON bool) error {
	if !asJSON {
		return e.object(obj, false)
	}
	return e.objectJSONMarked(obj)
}

// read reads obj into the encoder's tree, without what is never written (dropHidden).
func (e *encoder) read(obj client.Object) (int, error) {
	e.t.reset()
	root, err := e.t.readObject(obj)
	if err != nil {
		return 0, err
	}
	e.dropHidden(root)
	return root, nil
}
