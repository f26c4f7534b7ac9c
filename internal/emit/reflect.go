package emit

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An object is read into the tree (tree.go) straight from its Go value: the tree is what
// json.Marshal's bytes would have given it, without writing those bytes and reading them
// back, which cost ~60% of encoding an object (5,000 Ingresses: ~0.09 s of CPU time). It
// follows encoding/json's rules for the types the converter emits: exported fields under
// their tag's name, embedded structs' fields promoted, omitempty and omitzero, nil
// pointers, slices and maps as null, maps by sorted key. Whatever is outside those rules
// is read as before, from json.Marshal's encoding of that value alone: a type that
// implements json.Marshaler or encoding.TextMarshaler (metav1.Time, resource.Quantity,
// intstr.IntOrString, …), []byte (base64), floats, maps without string keys, struct
// types whose fields encoding/json resolves by its dominance rules or with the string
// option, and strings that encoding/json escapes (the token is then its own). The emit
// tests compare every output with the map-based encoder's (converters.EncodeObjects).

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	// jsonNumber is a string encoding/json writes as a number.
	jsonNumber = reflect.TypeFor[json.Number]()
)

// codec is what readValue knows of a type, found once: whether encoding/json encodes it
// with its own method, how omitzero tests it, its struct plan and its element's codec.
type codec struct {
	typ  reflect.Type
	kind reflect.Kind
	// marshal: always read from json.Marshal's bytes; addrMarshal: when addressable (the
	// method is on the pointer).
	marshal, addrMarshal bool
	// zero is how omitzero tests a value of the type.
	zero zeroTest
	// stringMap: exactly map[string]string (labels, annotations), read without reflection.
	stringMap bool
	// own writes the value of a type whose MarshalJSON is known (ownWriters), nil otherwise.
	own ownWriter

	planOnce sync.Once
	plan     *structPlan
	elemOnce sync.Once
	elem     *codec
}

// zeroTest is encoding/json's omitzero test for a type: its IsZero method (through an
// interface, a pointer, a value, or the address of a value), else the zero value.
type zeroTest uint8

const (
	zeroPlain zeroTest = iota
	zeroInterfaceMethod
	zeroPointerMethod
	zeroValueMethod
	zeroAddrMethod
)

var codecs sync.Map // reflect.Type → *codec

// ownWriter appends to dst what v's MarshalJSON writes between quotes (a string that
// needs no escape), or reports that it writes null.
type ownWriter func(dst []byte, v reflect.Value) (out []byte, null bool)

// ownWriters write the marshalers of every object (metadata.creationTimestamp) and of
// every timeout as their MarshalJSON does, without encoding/json (3 allocations each).
var ownWriters = map[reflect.Type]ownWriter{
	// MarshalJSON: null when zero, else the UTC time in RFC 3339, quoted.
	reflect.TypeFor[metav1.Time](): func(dst []byte, v reflect.Value) ([]byte, bool) {
		tm := valueOf[metav1.Time](v)
		if tm.IsZero() {
			return dst, true
		}
		return tm.UTC().AppendFormat(dst, time.RFC3339), false
	},
	// MarshalJSON: the duration's String (digits, '.', '-' and unit letters, µ), quoted.
	reflect.TypeFor[metav1.Duration](): func(dst []byte, v reflect.Value) ([]byte, bool) {
		return append(dst, valueOf[metav1.Duration](v).Duration.String()...), false
	},
}

// ownNode adds the node of a value an ownWriter writes.
func (t *tree) ownNode(own ownWriter, v reflect.Value) int {
	start := len(t.scratch)
	t.scratch = append(t.scratch, '"')
	var null bool
	if t.scratch, null = own(t.scratch, v); null {
		t.scratch = t.scratch[:start]
		return t.literal("null")
	}
	t.scratch = append(t.scratch, '"')
	return t.scalar('"', start)
}

// valueOf is v's value, of type T, through its address when it has one (no copy to the heap).
func valueOf[T any](v reflect.Value) T {
	if v.CanAddr() {
		return *v.Addr().Interface().(*T)
	}
	return v.Interface().(T)
}

// codecOf returns the codec of t. Its plan and element are found on first use, so that a
// type that contains itself does not recurse here.
func codecOf(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	c := &codec{typ: t, kind: t.Kind(), stringMap: t == reflect.TypeFor[map[string]string](), own: ownWriters[t]}
	if t.Kind() != reflect.Pointer {
		// A pointer is followed instead: its element marshals itself, or is addressable
		// and marshals through its address (which is what the pointer's method does).
		c.marshal = marshals(t)
		c.addrMarshal = !c.marshal && marshals(reflect.PointerTo(t))
	}
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		c.zero = zeroInterfaceMethod
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		c.zero = zeroPointerMethod
	case t.Implements(isZeroerType):
		c.zero = zeroValueMethod
	case reflect.PointerTo(t).Implements(isZeroerType):
		c.zero = zeroAddrMethod
	}
	actual, _ := codecs.LoadOrStore(t, c)
	return actual.(*codec)
}

// structPlan is the plan of a struct type (see structPlan).
func (c *codec) structPlan() *structPlan {
	c.planOnce.Do(func() { c.plan = planOf(c.typ) })
	return c.plan
}

// elemCodec is the codec of the type's elements (pointer, slice, array, map).
func (c *codec) elemCodec() *codec {
	c.elemOnce.Do(func() { c.elem = codecOf(c.typ.Elem()) })
	return c.elem
}

// structPlan is how a struct type is read: its fields sorted by key, or marshal when
// encoding/json decides its fields by rules not followed here.
type structPlan struct {
	fields  []fieldPlan
	marshal bool
}

// fieldPlan is one field of the JSON object of a struct.
type fieldPlan struct {
	// name is the field's JSON name; key the same bytes, rawKey its token with quotes.
	name        string
	key, rawKey []byte
	// index is the path of struct field indexes to it (through embedded structs).
	index     []int
	codec     *codec
	omitEmpty bool
	omitZero  bool
}

// planOf makes the plan of struct type t.
func planOf(t reflect.Type) *structPlan {
	p := &structPlan{}
	if !collectFields(t, nil, map[reflect.Type]bool{}, p) {
		return &structPlan{marshal: true}
	}
	// Sorted as the tree sorts an object's members: by the bytes of the key.
	slices.SortFunc(p.fields, func(a, b fieldPlan) int { return strings.Compare(string(a.key), string(b.key)) })
	for i := 1; i < len(p.fields); i++ {
		if string(p.fields[i].key) == string(p.fields[i-1].key) {
			// Two fields of one name: encoding/json picks one by depth and tags.
			return &structPlan{marshal: true}
		}
	}
	return p
}

// collectFields adds the fields of struct type t (reached through index) to p; false when
// t is outside the rules followed here.
func collectFields(t reflect.Type, index []int, visiting map[reflect.Type]bool, p *structPlan) bool {
	if visiting[t] {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		at := append(slices.Clip(index), i)
		if f.Anonymous {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case !f.IsExported() && ft.Kind() != reflect.Struct:
				continue // ignored by encoding/json
			case !f.IsExported():
				// Its exported fields are encoded, but reflection cannot hand them out.
				return false
			case name == "" && ft.Kind() == reflect.Struct:
				// Promoted fields: an embedded struct untagged, or tagged without a name
				// (k8s's `json:",inline"`).
				if !collectFields(ft, at, visiting, p) {
					return false
				}
				continue
			}
		} else if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		} else if !plainKey(name) {
			return false
		}
		fp := fieldPlan{name: name, key: []byte(name), rawKey: []byte(`"` + name + `"`), index: at, codec: codecOf(f.Type)}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				fp.omitEmpty = true
			case "omitzero":
				fp.omitZero = true
			case "string":
				return false
			}
		}
		p.fields = append(p.fields, fp)
	}
	return true
}

// plainKey: a tag name encoding/json takes as it is and writes without escapes.
func plainKey(name string) bool {
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return true
}

// readValue reads v, of c's type, into the tree and returns its node.
func (t *tree) readValue(v reflect.Value, c *codec) (int, error) {
	if c.own != nil {
		return t.ownNode(c.own, v), nil
	}
	if c.marshal || c.addrMarshal && v.CanAddr() {
		return t.marshalled(v)
	}
	switch c.kind {
	case reflect.Pointer:
		if v.IsNil() {
			return t.literal("null"), nil
		}
		return t.readValue(v.Elem(), c.elemCodec())
	case reflect.Interface:
		if v.IsNil() {
			return t.literal("null"), nil
		}
		e := v.Elem()
		return t.readValue(e, codecOf(e.Type()))
	case reflect.Struct:
		return t.readStruct(v, c.structPlan())
	case reflect.Map:
		if v.IsNil() {
			return t.literal("null"), nil
		}
		return t.readMap(v, c)
	case reflect.Slice:
		if v.IsNil() {
			return t.literal("null"), nil
		}
		if c.typ.Elem().Kind() == reflect.Uint8 {
			return t.marshalled(v) // base64
		}
		return t.readArray(v, c.elemCodec())
	case reflect.Array:
		return t.readArray(v, c.elemCodec())
	case reflect.String:
		return t.str(v.String())
	case reflect.Bool:
		if v.Bool() {
			return t.literal("true"), nil
		}
		return t.literal("false"), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		start := len(t.scratch)
		t.scratch = strconv.AppendInt(t.scratch, v.Int(), 10)
		return t.scalar('l', start), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		start := len(t.scratch)
		t.scratch = strconv.AppendUint(t.scratch, v.Uint(), 10)
		return t.scalar('l', start), nil
	}
	// Floats, and what encoding/json refuses (channels, functions, complex numbers).
	return t.marshalled(v)
}

// readObject reads obj (a pointer, nil or not) into the tree.
func (t *tree) readObject(obj any) (int, error) {
	if obj == nil {
		return t.literal("null"), nil
	}
	v := reflect.ValueOf(obj)
	return t.readValue(v, codecOf(v.Type()))
}

// marshals: encoding/json encodes values of type t with their own method (or, for
// json.Number, as a number).
func marshals(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) || t == jsonNumber
}

// marshalled reads v from json.Marshal's encoding of it (addressable values through their
// address, so that methods on the pointer apply as encoding/json applies them).
func (t *tree) marshalled(v reflect.Value) (int, error) {
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	js, err := json.Marshal(x)
	if err != nil {
		return 0, err
	}
	n, rest, err := t.value(js)
	if err != nil {
		return 0, err
	}
	if len(skipSpace(rest)) > 0 {
		return 0, fmt.Errorf("unexpected data after the JSON value of a %s", v.Type())
	}
	return n, nil
}

// literal adds a number, true, false or null node.
func (t *tree) literal(tok string) int {
	start := len(t.scratch)
	t.scratch = append(t.scratch, tok...)
	return t.scalar('l', start)
}

// scalar adds a node of the token scratch[start:].
func (t *tree) scalar(kind byte, start int) int {
	t.nodes = append(t.nodes, node{kind: kind, raw: t.scratch[start:len(t.scratch):len(t.scratch)]})
	return len(t.nodes) - 1
}

// str adds a string node: the string between quotes when encoding/json would not escape
// anything in it, else encoding/json's token.
func (t *tree) str(s string) (int, error) {
	if !plainJSONString(s) {
		js, err := json.Marshal(s)
		if err != nil {
			return 0, err
		}
		t.nodes = append(t.nodes, node{kind: '"', raw: js})
		return len(t.nodes) - 1, nil
	}
	start := len(t.scratch)
	t.scratch = append(t.scratch, '"')
	t.scratch = append(t.scratch, s...)
	t.scratch = append(t.scratch, '"')
	return t.scalar('"', start), nil
}

// plainJSONString: encoding/json writes s between quotes as it is (with its default HTML
// escaping): printable ASCII but ", \, <, > and &, and valid UTF-8 other than U+2028 and
// U+2029.
func plainJSONString(s string) bool {
	i := 0
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !plainASCII[c] {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// plainASCII are the bytes below utf8.RuneSelf that encoding/json writes as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func (t *tree) readStruct(v reflect.Value, plan *structPlan) (int, error) {
	if plan.marshal {
		return t.marshalled(v)
	}
	base := len(t.memberStack)
	for i := range plan.fields {
		f := &plan.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && emptyValue(fv) || f.omitZero && zeroValue(fv, f.codec.zero) {
			continue
		}
		n, err := t.readValue(fv, f.codec)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f.key, err)
		}
		t.memberStack = append(t.memberStack, member{key: f.key, rawKey: f.rawKey, val: n})
	}
	return t.closeObject(base), nil
}

// closeObject moves the members stacked from base into the tree as one object (already
// sorted by key).
func (t *tree) closeObject(base int) int {
	first := len(t.members)
	t.members = append(t.members, t.memberStack[base:]...)
	n := len(t.memberStack) - base
	t.memberStack = t.memberStack[:base]
	t.nodes = append(t.nodes, node{kind: '{', first: first, n: n})
	return len(t.nodes) - 1
}

// fieldByIndex is v's field at index, false when the way there goes through a nil
// embedded pointer (encoding/json then leaves its fields out).
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// emptyValue is encoding/json's omitempty test (-0.0 is empty, unlike for reflect.IsZero).
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// zeroValue is encoding/json's omitzero test of v, whose type's test is z (nil pointers
// and interfaces are zero).
func zeroValue(v reflect.Value, z zeroTest) bool {
	switch z {
	case zeroInterfaceMethod:
		return v.IsNil() || v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil() || v.Interface().(isZeroer).IsZero()
	case zeroPointerMethod:
		return v.IsNil() || v.Interface().(isZeroer).IsZero()
	case zeroValueMethod:
		return v.Interface().(isZeroer).IsZero()
	case zeroAddrMethod:
		if !v.CanAddr() {
			// As encoding/json does: a copy, to call the pointer method.
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(isZeroer).IsZero()
	}
	return v.IsZero()
}

func (t *tree) readMap(v reflect.Value, c *codec) (int, error) {
	if c.typ.Key().Kind() != reflect.String {
		return t.marshalled(v)
	}
	if c.stringMap {
		return t.readStringMap(v.Interface().(map[string]string))
	}
	elem := c.elemCodec()
	keys, vals := sortedEntries(v)
	base := len(t.memberStack)
	for _, k := range keys {
		n, err := t.readValue(vals[k], elem)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k, err)
		}
		if err := t.pushKey(k, n); err != nil {
			return 0, err
		}
	}
	return t.closeObject(base), nil
}

// sortedEntries are the keys of v, a map with string keys, sorted, and its values by key.
func sortedEntries(v reflect.Value) ([]string, map[string]reflect.Value) {
	keys := make([]string, 0, v.Len())
	vals := make(map[string]reflect.Value, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := it.Key().String()
		keys = append(keys, k)
		vals[k] = it.Value()
	}
	slices.Sort(keys)
	return keys, vals
}

// readStringMap is readMap for map[string]string (labels, annotations), without reflection.
func (t *tree) readStringMap(m map[string]string) (int, error) {
	keys, kb := t.keys.sorted(m)
	defer t.keys.pop(kb)
	base := len(t.memberStack)
	for _, k := range keys {
		n, err := t.str(m[k])
		if err != nil {
			return 0, err
		}
		if err := t.pushKey(k, n); err != nil {
			return 0, err
		}
	}
	return t.closeObject(base), nil
}

// keyStack holds the sorted keys of the string maps being read or written, so that sorting
// a map's keys allocates nothing once the stack has grown (a map of strings holds no maps,
// but a map of them may be read while another is).
type keyStack []string

// sorted stacks the keys of m, sorted, and returns them with the stack's height before.
func (s *keyStack) sorted(m map[string]string) (keys []string, base int) {
	base = len(*s)
	for k := range m {
		*s = append(*s, k)
	}
	keys = (*s)[base:]
	slices.Sort(keys)
	return keys, base
}

// pop takes the stack back to height base.
func (s *keyStack) pop(base int) {
	clear((*s)[base:])
	*s = (*s)[:base]
}

// pushKey stacks the member k: n, its key decoded and as a token as tree.object has them.
func (t *tree) pushKey(k string, n int) error {
	kn, err := t.str(k)
	if err != nil {
		return err
	}
	raw := t.nodes[kn].raw
	t.nodes = t.nodes[:kn] // the key's node was only a way to its token
	key, err := t.decodeKey(raw)
	if err != nil {
		return err
	}
	t.memberStack = append(t.memberStack, member{key: key, rawKey: raw, val: n})
	return nil
}

func (t *tree) readArray(v reflect.Value, elem *codec) (int, error) {
	base := len(t.itemStack)
	for i := range v.Len() {
		n, err := t.readValue(v.Index(i), elem)
		if err != nil {
			return 0, err
		}
		t.itemStack = append(t.itemStack, n)
	}
	first := len(t.items)
	t.items = append(t.items, t.itemStack[base:]...)
	n := len(t.itemStack) - base
	t.itemStack = t.itemStack[:base]
	t.nodes = append(t.nodes, node{kind: '[', first: first, n: n})
	return len(t.nodes) - 1, nil
}
