package emit

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The types below hold what encoding/json has rules for; readValue must read each as
// json.Marshal's bytes read back would be.

type valueMarshaler struct{ v string }

func (m valueMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal("value:" + m.v) }

type pointerMarshaler struct{ v string }

func (m *pointerMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal("pointer:" + m.v) }

type textKey struct{ v int }

func (k textKey) MarshalText() ([]byte, error) { return []byte("k" + string(rune('0'+k.v))), nil }

type zeroByMethod struct{ N int }

func (z zeroByMethod) IsZero() bool { return z.N < 0 }

type zeroByPointerMethod struct{ N int }

func (z *zeroByPointerMethod) IsZero() bool { return z.N == 7 }

type Inline struct {
	InlineA string `json:"inlineA,omitempty"`
	Shared  int    `json:"shared"`
}

type EmbeddedPtr struct {
	FromPtr string `json:"fromPtr"`
}

type named string

type conflictA struct{ Same int }
type conflictB struct{ Same int }

type withConflict struct {
	conflictA
	conflictB
	Other int
}

type ConflictA struct{ Same int }
type ConflictB struct{ Same int }

type withExportedConflict struct {
	ConflictA
	ConflictB `json:",inline"`
	Other     int
}

type withStringOption struct {
	N int `json:"n,string"`
}

type withBadTag struct {
	S string `json:"bad tag!"`
}

type unexportedEmbedded struct{ Visible int }

type withUnexportedEmbedded struct {
	unexportedEmbedded
	Own int
}

type edge struct {
	Inline `json:",inline"`
	*EmbeddedPtr
	Str        string            `json:"str"`
	Escaped    string            `json:"escaped"`
	Empty      string            `json:"empty,omitempty"`
	NegZero    float64           `json:"negZero,omitempty"`
	Float      float64           `json:"float"`
	Big        uint64            `json:"big"`
	Neg        int8              `json:"neg"`
	Bool       bool              `json:"bool"`
	FalseOmit  bool              `json:"falseOmit,omitempty"`
	NilPtr     *string           `json:"nilPtr"`
	NilPtrOmit *string           `json:"nilPtrOmit,omitempty"`
	Ptr        *int              `json:"ptr,omitempty"`
	NilSlice   []string          `json:"nilSlice"`
	EmptySlice []string          `json:"emptySlice"`
	NilMap     map[string]string `json:"nilMap"`
	Labels     map[string]string `json:"labels"`
	Named      map[named]any     `json:"named"`
	TextKeys   map[textKey]int   `json:"textKeys"`
	IntKeys    map[int]string    `json:"intKeys"`
	Any        any               `json:"any"`
	AnyNilPtr  any               `json:"anyNilPtr"`
	Bytes      []byte            `json:"bytes"`
	ByteArray  [3]byte           `json:"byteArray"`
	Array      [2]string         `json:"array"`
	Number     json.Number       `json:"number"`
	Raw        json.RawMessage   `json:"raw"`
	Value      valueMarshaler    `json:"value"`
	Pointer    pointerMarshaler  `json:"pointer"`
	PointerMap map[string]pointerMarshaler
	Time       metav1.Time            `json:"time"`
	ZeroTime   metav1.Time            `json:"zeroTime,omitempty"`
	TimeOmitZ  metav1.Time            `json:"timeOmitZero,omitzero"`
	Duration   metav1.Duration        `json:"duration"`
	DurationP  *metav1.Duration       `json:"durationP,omitempty"`
	DurationN  *metav1.Duration       `json:"durationN"`
	TimeP      *metav1.Time           `json:"timeP"`
	Times      map[string]metav1.Time `json:"times"`
	Durations  []metav1.Duration      `json:"durations"`
	Quantity   resource.Quantity      `json:"quantity"`
	IntOrStr   intstr.IntOrString     `json:"intOrStr"`
	ZeroM      zeroByMethod           `json:"zeroM,omitzero"`
	ZeroP      zeroByPointerMethod    `json:"zeroP,omitzero"`
	ZeroPtr    *zeroByMethod          `json:"zeroPtr,omitzero"`
	ZeroNilPtr *zeroByMethod          `json:"zeroNilPtr,omitzero"`
	ZeroIface  isZeroer               `json:"zeroIface,omitzero"`
	ZeroPMap   map[string]struct {
		Z zeroByPointerMethod `json:"z,omitzero"`
	} `json:"zeroPMap"`
	StructOmit struct{}               `json:"structOmit,omitempty"`
	StructZero struct{ A int }        `json:"structZero,omitzero"`
	Conflict   withConflict           `json:"conflict"`
	ExpConfl   withExportedConflict   `json:"exportedConflict"`
	StringOpt  withStringOption       `json:"stringOption"`
	Unexp      withUnexportedEmbedded `json:"unexportedEmbedded"`
	Skipped    string                 `json:"-"`
	//lint:ignore SA5008 a field named "-" is what this checks
	Dash       string `json:"-,"`
	NoTag      string
	BadTag     withBadTag `json:"badTag"`
	unexported string
	Nested     []map[string][]*Inline `json:"nested"`
}

// viaJSON is the tree json.Marshal's bytes give, written in YAML and JSON.
func viaJSON(t *testing.T, v any) (string, string) {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var e encoder
	root, err := e.t.read(js)
	if err != nil {
		t.Fatal(err)
	}
	return written(&e, root)
}

// direct is the tree readValue reads, written in YAML and JSON.
func direct(t *testing.T, v any) (string, string) {
	t.Helper()
	var e encoder
	root, err := e.t.readObject(v)
	if err != nil {
		t.Fatal(err)
	}
	return written(&e, root)
}

func written(e *encoder, root int) (string, string) {
	e.buf = e.buf[:0]
	e.yaml(root, 0)
	y := string(e.buf)
	e.buf = e.buf[:0]
	e.json(root, "", 0)
	return y, string(e.buf)
}

func checkDirect(t *testing.T, v any) {
	t.Helper()
	wantY, wantJ := viaJSON(t, v)
	gotY, gotJ := direct(t, v)
	if gotY != wantY {
		t.Errorf("YAML differs:\ngot:\n%s\nwant:\n%s", gotY, wantY)
	}
	if gotJ != wantJ {
		t.Errorf("JSON differs:\ngot:\n%s\nwant:\n%s", gotJ, wantJ)
	}
}

func edgeValue(s string) *edge {
	n := 5
	e := &edge{
		Inline:      Inline{Shared: 3},
		EmbeddedPtr: &EmbeddedPtr{FromPtr: s},
		Str:         s, Escaped: "<a href=\"x\">&amp;</a>\u2028\x01\xff" + s,
		NegZero: math.Copysign(0, -1), Float: 1.5e21, Big: math.MaxUint64, Neg: -128, Bool: true,
		Ptr: &n, EmptySlice: []string{}, Labels: map[string]string{"b": s, "a": "x", "<k>": "v", s: "same"},
		Named:    map[named]any{"z": []any{1.0, "two", nil, map[string]any{"k": s}}, "a": nil},
		TextKeys: map[textKey]int{{1}: 1, {2}: 2}, IntKeys: map[int]string{10: "ten", 9: "nine"},
		Any: map[string]any{"n": json.Number("12"), "s": s}, AnyNilPtr: (*int)(nil),
		Bytes: []byte(s), ByteArray: [3]byte{1, 2, 3}, Array: [2]string{s, "yes"},
		Number: "3.25", Raw: json.RawMessage(` { "x" : [1, 2] } `),
		Value: valueMarshaler{s}, Pointer: pointerMarshaler{s}, PointerMap: map[string]pointerMarshaler{"m": {s}},
		Time:     metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)),
		Duration: metav1.Duration{Duration: 90 * time.Second}, Quantity: resource.MustParse("1Mi"),
		DurationP: &metav1.Duration{Duration: 1500 * time.Microsecond}, TimeP: &metav1.Time{},
		Times:     map[string]metav1.Time{"zero": {}, "t": metav1.NewTime(time.Date(2020, 2, 3, 4, 5, 6, 7, time.FixedZone("x", 3600)))},
		Durations: []metav1.Duration{{}, {Duration: -time.Hour}},
		IntOrStr:  intstr.FromString(s), ZeroM: zeroByMethod{-1}, ZeroP: zeroByPointerMethod{7}, ZeroPtr: &zeroByMethod{-1}, ZeroIface: (*zeroByMethod)(nil),
		ZeroPMap: map[string]struct {
			Z zeroByPointerMethod `json:"z,omitzero"`
		}{"a": {zeroByPointerMethod{7}}, "b": {zeroByPointerMethod{1}}},
		Conflict: withConflict{Other: 1}, ExpConfl: withExportedConflict{Other: 2}, StringOpt: withStringOption{N: 4},
		Unexp:   withUnexportedEmbedded{unexportedEmbedded{1}, 2},
		Skipped: s, Dash: s, NoTag: s, BadTag: withBadTag{s}, unexported: s,
		Nested: []map[string][]*Inline{{"k": {{InlineA: s}, nil}}, nil},
	}
	return e
}

func TestReadValueAsJSONMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", "yes", "1.5", "line\nbreak", "é", "\x00", "a\"b", "`~!@#$%^&*()"} {
		checkDirect(t, edgeValue(s))
	}
	checkDirect(t, &edge{})
	checkDirect(t, edge{Ptr: new(int)})
	checkDirect(t, (*edge)(nil))
	checkDirect(t, []any{nil, 1, "x", &Inline{}})
	// The plans of types whose fields encoding/json resolves by its own rules.
	if codecOf(reflect.TypeFor[edge]()).structPlan().marshal {
		t.Fatal("the edge type is read from json.Marshal's bytes: the test compares nothing")
	}
	for _, v := range []any{withConflict{}, withExportedConflict{}, withStringOption{}, withUnexportedEmbedded{}, withBadTag{}} {
		if p := codecOf(reflect.TypeOf(v)).structPlan(); !p.marshal {
			t.Errorf("%T is read field by field; encoding/json has rules for it that readValue does not follow", v)
		}
	}
}

func FuzzReadValue(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028", "\xff", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDirect(t, edgeValue(s))
	})
}

// hiddenParts has what dropHidden leaves out of an object, for TestDirectJSONEqualsTree.
type hiddenParts struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     *edge             `json:"spec,omitempty"`
	Status   map[string]any    `json:"status,omitempty"`
}

// treeJSON is what a streaming conversion held as JSON before objects were written
// straight from their values: the tree, without what dropHidden drops, jsonMarked.
func treeJSON(t *testing.T, v any) string {
	t.Helper()
	var e encoder
	root, err := e.t.readObject(v)
	if err != nil {
		t.Fatal(err)
	}
	e.dropHidden(root)
	e.jsonMarked(root, 0)
	return string(e.buf)
}

func directJSON(t *testing.T, v any) string {
	t.Helper()
	var e encoder
	rv := reflect.ValueOf(v)
	if err := e.jsonValue(rv, codecOf(rv.Type()), 0, hideObject); err != nil {
		t.Fatal(err)
	}
	return string(e.buf)
}

func checkDirectJSON(t *testing.T, v any) {
	t.Helper()
	if got, want := directJSON(t, v), treeJSON(t, v); got != want {
		t.Errorf("direct JSON differs from the tree's:\ngot:\n%q\nwant:\n%q", got, want)
	}
}

func TestDirectJSONEqualsTree(t *testing.T) {
	for _, s := range []string{"", "plain", "line\nbreak", "\xff", "<&>", "a\"b\\"} {
		checkDirectJSON(t, edgeValue(s))
		checkDirectJSON(t, &hiddenParts{Spec: edgeValue(s), Status: map[string]any{"s": s}})
		checkDirectJSON(t, &hiddenParts{Metadata: metav1.ObjectMeta{Name: s, Labels: map[string]string{s: s},
			CreationTimestamp: metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))}})
		// Maps: the same members left out, or kept (a creationTimestamp that is not null).
		checkDirectJSON(t, map[string]any{"status": s, "metadata": map[string]any{"creationTimestamp": nil, "name": s}})
		checkDirectJSON(t, map[string]any{"metadata": map[string]any{"creationTimestamp": s}, "spec": []any{}})
		checkDirectJSON(t, map[string]any{"metadata": map[string]any{"creationTimestamp": nil}})
	}
	checkDirectJSON(t, &hiddenParts{})
	checkDirectJSON(t, &edge{})
	checkDirectJSON(t, (*edge)(nil))
	checkDirectJSON(t, []any{nil, map[string]any{}, []int{}, &Inline{}})
}

func FuzzDirectJSON(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028", "\xff", "\\\"", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDirectJSON(t, &hiddenParts{Spec: edgeValue(s), Metadata: metav1.ObjectMeta{Name: s, Annotations: map[string]string{s: s}}})
	})
}
