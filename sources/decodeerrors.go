package sources

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// describeDecodeError says why js did not decode into a Kubernetes object, in the terms of
// the manifest: the field path (spec.rules[0].http.paths[0].backend.service.port.number)
// and what is wrong with its value — never Go type names, which mean nothing to the person
// who wrote the YAML.
//
// target is the type js was decoded into (nil: not known): it names what a field holds
// when a custom decoder reported the error (a port is a number or a name).
func describeDecodeError(js []byte, err error, target reflect.Type) string {
	var typeErr *json.UnmarshalTypeError
	var timeErr *time.ParseError
	var base64Err base64.CorruptInputError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return atPath(locateTypeError(js, typeErr), typeProblem(typeErr, declaredType(target, typeErr.Field)))
	case errors.As(err, &timeErr):
		return atPath(findValue(js, func(_ []pathStep, tok any) bool { return tok == timeErr.Value }),
			strconv.Quote(timeErr.Value)+" is not a time in RFC 3339 form (2006-01-02T15:04:05Z)")
	case errors.As(err, &base64Err):
		return atPath(findValue(js, notBase64Data), "is not valid base64 (Secret data is base64-encoded; use stringData for plain text)")
	case errors.As(err, &syntaxErr):
		return syntaxErr.Error() + " (at byte " + strconv.FormatInt(syntaxErr.Offset, 10) + ")"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func atPath(path, problem string) string {
	if path == "" {
		return problem
	}
	return path + ": " + problem
}

// typeProblem says what is wrong with a value of the wrong type; declared is the type of
// the field in the object (nil: not known), which differs from e.Type when the field has a
// decoder of its own.
func typeProblem(e *json.UnmarshalTypeError, declared reflect.Type) string {
	t := derefType(e.Type)
	if number, ok := strings.CutPrefix(e.Value, "number "); ok && t != nil && isNumeric(t.Kind()) {
		return numberProblem(number, t.Kind())
	}
	if d, ok := customValues[derefType(declared)]; ok {
		return "expected " + d + ", got " + gotValue(e.Value)
	}
	return "expected " + expectedValue(t) + ", got " + gotValue(e.Value)
}

// customValues name what the fields of types with a decoder of their own hold.
var customValues = map[reflect.Type]string{
	reflect.TypeFor[intstr.IntOrString](): "a number or a name",
	reflect.TypeFor[resource.Quantity]():  "a quantity (such as 500m or 1Gi)",
	reflect.TypeFor[metav1.Time]():        "a time (2006-01-02T15:04:05Z)",
}

func derefType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// declaredType follows field — encoding/json's path of Go field names or JSON names,
// without list indices or map keys — from root to the type of that field; nil when it
// cannot.
func declaredType(root reflect.Type, field string) reflect.Type {
	if root == nil || field == "" {
		return nil
	}
	t := root
	for _, name := range strings.Split(field, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldNamed(t, name)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

// fieldNamed finds the field of struct type t that JSON calls name (its tag's name, or its
// Go name when the tag has none, as embedded structs).
func fieldNamed(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && f.Name == name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func isNumeric(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

// numberProblem says why a number does not fit a field of kind k.
func numberProblem(number string, k reflect.Kind) string {
	f, err := strconv.ParseFloat(number, 64)
	switch {
	case k < reflect.Float32 && err == nil && f != float64(int64(f)) && f > -1e18 && f < 1e18:
		return number + " is not a whole number"
	case k >= reflect.Uint && k <= reflect.Uintptr && strings.HasPrefix(number, "-"):
		return number + " must not be negative"
	case strings.HasPrefix(number, "-"):
		return number + " is too small"
	}
	return number + " is too large"
}

// expectedValue names what a field of type t holds, as YAML people say it.
func expectedValue(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	if isNumeric(t.Kind()) {
		return "a whole number"
	}
	return "a value"
}

// gotValue names the JSON value kind encoding/json reports ("string", "number 5", "bool",
// "array", "object").
func gotValue(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean (true or false)"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		return "the number " + strings.TrimPrefix(v, "number ")
	}
	return v
}

// pathStep is one step of a field path: a key, or an index when key is empty.
type pathStep struct {
	key   string
	index int
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// formatPath writes a path as a manifest's author reads it: spec.rules[0].host, and
// metadata.annotations["nginx.ingress.kubernetes.io/rewrite-target"].
func formatPath(path []pathStep) string {
	var b strings.Builder
	for _, s := range path {
		switch {
		case s.key == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case !plainKey.MatchString(s.key):
			b.WriteString("[" + strconv.Quote(s.key) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// walkValues calls visit for every value of js — objects and lists when they open — with
// its path, its token (json.Delim for an object or a list) and the offset just after the
// token, until visit returns true.
func walkValues(js []byte, visit func(path []pathStep, tok any, end int64) bool) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	type frame struct {
		object  bool
		wantKey bool
	}
	var frames []frame
	var path []pathStep
	// valueDone moves past a value that ended: the next key of an object, the next index
	// of a list.
	valueDone := func() {
		if len(frames) == 0 {
			return
		}
		if f := &frames[len(frames)-1]; f.object {
			f.wantKey = true
			path = path[:len(path)-1]
		} else {
			path[len(path)-1].index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if n := len(frames); n > 0 && frames[n-1].object && frames[n-1].wantKey {
			if key, ok := tok.(string); ok {
				frames[n-1].wantKey = false
				path = append(path, pathStep{key: key})
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			frames = frames[:len(frames)-1]
			if d == ']' {
				path = path[:len(path)-1]
			}
			valueDone()
			continue
		}
		if visit(path, tok, dec.InputOffset()) {
			return
		}
		if d, ok := tok.(json.Delim); ok {
			frames = append(frames, frame{object: d == '{', wantKey: d == '{'})
			if d == '[' {
				path = append(path, pathStep{})
			}
			continue
		}
		valueDone()
	}
}

// findValue returns the path of the first value for which match holds, or "".
func findValue(js []byte, match func(path []pathStep, tok any) bool) string {
	found := ""
	walkValues(js, func(path []pathStep, tok any, _ int64) bool {
		if match(path, tok) {
			found = formatPath(path)
			return true
		}
		return false
	})
	return found
}

// notBase64Data matches a value of data or binaryData (of a Secret or ConfigMap) that is
// not base64.
func notBase64Data(path []pathStep, tok any) bool {
	s, ok := tok.(string)
	if !ok || len(path) != 2 || (path[0].key != "data" && path[0].key != "binaryData") {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err != nil
}

// locateTypeError finds the path of the value a type error is about. encoding/json gives
// the byte offset just after that value and a path without list indices, with the Go names
// of embedded structs in it (spec.rules.IngressRuleValue.http…); the value is the one of
// the right kind under that path ending at the offset, else the first of the right kind
// under that path (a custom decoder, such as the one of intOrString ports, reports an
// offset of its own).
func locateTypeError(js []byte, e *json.UnmarshalTypeError) string {
	var want []string
	if e.Field != "" {
		for _, s := range strings.Split(e.Field, ".") {
			// JSON field names are lowerCamelCase; embedded Go structs are not.
			if s != "" && !(s[0] >= 'A' && s[0] <= 'Z') {
				want = append(want, s)
			}
		}
	}
	kind, _, _ := strings.Cut(e.Value, " ")
	first, exact := "", ""
	walkValues(js, func(path []pathStep, tok any, end int64) bool {
		if tokenKind(tok) != kind || !keysStartWith(path, want) {
			return false
		}
		if first == "" {
			first = formatPath(path)
		}
		if end == e.Offset {
			exact = formatPath(path)
			return true
		}
		return false
	})
	switch {
	case exact != "":
		return exact
	case first != "":
		return first
	}
	return strings.Join(want, ".")
}

// tokenKind names a token as encoding/json's UnmarshalTypeError.Value does.
func tokenKind(tok any) string {
	switch t := tok.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	}
	return "null"
}

// keysStartWith reports whether the keys of path (indices skipped) begin with want.
func keysStartWith(path []pathStep, want []string) bool {
	i := 0
	for _, s := range path {
		if i == len(want) {
			return true
		}
		if s.key == "" {
			continue
		}
		if s.key != want[i] {
			return false
		}
		i++
	}
	return i == len(want)
}

var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// describeYAMLError says why a YAML document does not parse, with line numbers of the file
// (the parser counts from the document's first line, firstLine of the file).
func describeYAMLError(err error, firstLine int) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	msg = strings.Join(strings.Fields(msg), " ")
	if strings.HasPrefix(msg, "invalid map key:") {
		msg = "a mapping key is itself a mapping or a list; keys must be plain text"
	}
	if firstLine > 1 {
		msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
			n, err := strconv.Atoi(strings.TrimPrefix(m, "line "))
			if err != nil {
				return m
			}
			return "line " + strconv.Itoa(n+firstLine-1)
		})
	}
	return "is not valid YAML: " + msg
}
