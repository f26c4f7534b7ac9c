package emit

import (
	"encoding/json"
	"reflect"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A streaming conversion's JSON (ObjectEncoder) is written straight from each object's Go
// value, without reading it into the tree first: JSON needs nothing the tree gives, where
// YAML's writer looks at a value before writing it (an empty container, how a string is
// quoted). It follows readValue's rules (reflect.go) and writes what jsonMarked writes
// from the tree readValue reads, with what dropHidden leaves out left out:
// TestDirectJSONEqualsTree. What readValue reads from json.Marshal's bytes is read so
// here too, into the tree, and written from there.

// hidden says what of a value is left out, as dropHidden leaves it out of the tree.
type hidden uint8

const (
	hideNothing hidden = iota
	// hideObject: the object's status (and, through hideMetadata, its metadata's).
	hideObject
	// hideMetadata: a null creationTimestamp.
	hideMetadata
)

// objectJSONMarked appends obj as jsonMarked writes it (dropHidden applied).
func (e *encoder) objectJSONMarked(obj client.Object) error {
	if obj == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	v := reflect.ValueOf(obj)
	return e.jsonValue(v, codecOf(v.Type()), 0, hideObject)
}

// jsonValue appends v, of c's type, at depth, leaving out what hide says.
func (e *encoder) jsonValue(v reflect.Value, c *codec, depth int, hide hidden) error {
	if c.own != nil {
		e.ownJSON(c.own, v)
		return nil
	}
	if c.marshal || c.addrMarshal && v.CanAddr() {
		return e.jsonThroughTree(v, depth, hide)
	}
	switch c.kind {
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.jsonValue(v.Elem(), c.elemCodec(), depth, hide)
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		ev := v.Elem()
		return e.jsonValue(ev, codecOf(ev.Type()), depth, hide)
	case reflect.Struct:
		plan := c.structPlan()
		if plan.marshal {
			return e.jsonThroughTree(v, depth, hide)
		}
		return e.jsonStruct(v, plan, depth, hide)
	case reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if c.typ.Key().Kind() != reflect.String {
			return e.jsonThroughTree(v, depth, hide)
		}
		return e.jsonMap(v, c, depth, hide)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if c.typ.Elem().Kind() == reflect.Uint8 {
			return e.jsonThroughTree(v, depth, hide) // base64
		}
		return e.jsonArray(v, c.elemCodec(), depth)
	case reflect.Array:
		return e.jsonArray(v, c.elemCodec(), depth)
	case reflect.String:
		e.jsonStr(v.String())
		return nil
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		return nil
	}
	return e.jsonThroughTree(v, depth, hide)
}

// jsonThroughTree appends v read from json.Marshal's bytes into the tree.
func (e *encoder) jsonThroughTree(v reflect.Value, depth int, hide hidden) error {
	e.t.reset()
	root, err := e.t.marshalled(v)
	if err != nil {
		return err
	}
	switch hide {
	case hideObject:
		e.dropHidden(root)
	case hideMetadata:
		if r := &e.t.nodes[root]; r.kind == '{' {
			e.removeMember(r, "creationTimestamp", true)
		}
	}
	e.jsonMarked(root, depth)
	return nil
}

// ownJSON appends the value an ownWriter writes.
func (e *encoder) ownJSON(own ownWriter, v reflect.Value) {
	start := len(e.buf)
	e.buf = append(e.buf, '"')
	var null bool
	if e.buf, null = own(e.buf, v); null {
		e.buf = append(e.buf[:start], "null"...)
		return
	}
	e.buf = append(e.buf, '"')
}

// jsonStr appends s as a string token, as jsonString writes str's token.
func (e *encoder) jsonStr(s string) {
	if plainJSONString(s) {
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, s...)
		e.buf = append(e.buf, '"')
		return
	}
	tok, _ := json.Marshal(s) // a string always encodes
	e.jsonString(tok)
}

// beginMember starts the member key of an object at depth (the first if !wrote): it
// appends the opening brace or a comma and the line mark, and returns where the member
// starts and the hiding its value gets; ok is false for a member hide leaves out before it
// is written (an object's status), and nothing is appended then.
func (e *encoder) beginMember(wrote bool, depth int, hide hidden, key string) (start int, child hidden, ok bool) {
	child = hideNothing
	if hide == hideObject {
		switch key {
		case "status":
			return 0, hideNothing, false
		case "metadata":
			child = hideMetadata
		}
	}
	start = len(e.buf)
	if wrote {
		e.buf = append(e.buf, ',')
	} else {
		e.buf = append(e.buf, '{')
	}
	e.lineMark(depth + 1)
	return start, child, true
}

// endMember ends the member key begun at start, its value written from valueStart, and
// reports whether it stays: a null creationTimestamp of an object's metadata is taken back.
func (e *encoder) endMember(hide hidden, key string, start, valueStart int) bool {
	if hide == hideMetadata && key == "creationTimestamp" && string(e.buf[valueStart:]) == "null" {
		e.buf = e.buf[:start]
		return false
	}
	return true
}

// objectEnd closes an object that has members (wrote), or writes an empty one.
func (e *encoder) objectEnd(wrote bool, depth int) {
	if !wrote {
		e.buf = append(e.buf, "{}"...)
		return
	}
	e.lineMark(depth)
	e.buf = append(e.buf, '}')
}

func (e *encoder) jsonStruct(v reflect.Value, plan *structPlan, depth int, hide hidden) error {
	wrote := false
	for i := range plan.fields {
		f := &plan.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && emptyValue(fv) || f.omitZero && zeroValue(fv, f.codec.zero) {
			continue
		}
		start, child, ok := e.beginMember(wrote, depth, hide, f.name)
		if !ok {
			continue
		}
		e.buf = append(e.buf, f.rawKey...)
		e.buf = append(e.buf, ": "...)
		valueStart := len(e.buf)
		if err := e.jsonValue(fv, f.codec, depth+1, child); err != nil {
			return err
		}
		wrote = e.endMember(hide, f.name, start, valueStart) || wrote
	}
	e.objectEnd(wrote, depth)
	return nil
}

func (e *encoder) jsonMap(v reflect.Value, c *codec, depth int, hide hidden) error {
	var keys []string
	var vals map[string]reflect.Value
	var strs map[string]string
	if c.stringMap {
		strs = v.Interface().(map[string]string)
		var kb int
		keys, kb = e.keys.sorted(strs)
		defer e.keys.pop(kb)
	} else {
		keys, vals = sortedEntries(v)
	}
	elem := c.elemCodec()
	wrote := false
	for _, k := range keys {
		start, child, ok := e.beginMember(wrote, depth, hide, k)
		if !ok {
			continue
		}
		e.jsonStr(k)
		e.buf = append(e.buf, ": "...)
		valueStart := len(e.buf)
		if c.stringMap {
			e.jsonStr(strs[k])
		} else if err := e.jsonValue(vals[k], elem, depth+1, child); err != nil {
			return err
		}
		wrote = e.endMember(hide, k, start, valueStart) || wrote
	}
	e.objectEnd(wrote, depth)
	return nil
}

func (e *encoder) jsonArray(v reflect.Value, elem *codec, depth int) error {
	n := v.Len()
	if n == 0 {
		e.buf = append(e.buf, "[]"...)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i := range n {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.lineMark(depth + 1)
		if err := e.jsonValue(v.Index(i), elem, depth+1, hideNothing); err != nil {
			return err
		}
	}
	e.lineMark(depth)
	e.buf = append(e.buf, ']')
	return nil
}
