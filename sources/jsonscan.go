package sources

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// JSON input (kubectl get -o json) is one large document: a List whose items are the
// objects. Splitting it with json.Unmarshal into []json.RawMessage runs on one core over
// the whole file before any item can be decoded, and decoding each item's header with
// json.Unmarshal reads the whole item a second time. Both are done here by a scanner over
// JSON already known to be valid (json.Valid, or produced by an encoder), which only finds
// where values begin and end; anything it is not sure json.Unmarshal would read the same
// way (an escaped or differently cased key, a value of an unexpected type) is left to
// json.Unmarshal.

// skipJSONValue returns the index just past the JSON value that starts at b[i] (after
// white space), or -1 when b is not valid JSON there.
func skipJSONValue(b []byte, i int) int {
	i = skipJSONSpace(b, i)
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipJSONString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipJSONString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		// A number or a literal: up to the next delimiter.
		start := i
		for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// skipJSONString returns the index just past the string that starts at b[i] ('"').
func skipJSONString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonMembers calls fn with each member of the object obj — its key token (quotes
// included) and its value — until fn returns false. It returns false when obj is not an
// object or not valid.
func jsonMembers(obj []byte, fn func(key, value []byte) bool) bool {
	i := skipJSONSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipJSONSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for i < len(obj) {
		k0 := i
		k1 := skipJSONString(obj, k0)
		if obj[k0] != '"' || k1 < 0 {
			return false
		}
		i = skipJSONSpace(obj, k1)
		if i >= len(obj) || obj[i] != ':' {
			return false
		}
		v0 := skipJSONSpace(obj, i+1)
		v1 := skipJSONValue(obj, v0)
		if v1 < 0 {
			return false
		}
		if !fn(obj[k0:k1], obj[v0:v1]) {
			return true
		}
		i = skipJSONSpace(obj, v1)
		if i < len(obj) && obj[i] == ',' {
			i = skipJSONSpace(obj, i+1)
			continue
		}
		return i < len(obj) && obj[i] == '}'
	}
	return false
}

// jsonItems returns the elements of the array arr, or false.
func jsonItems(arr []byte) ([][]byte, bool) {
	i := skipJSONSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, false
	}
	var items [][]byte
	i = skipJSONSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return items, true
	}
	for i < len(arr) {
		end := skipJSONValue(arr, i)
		if end < 0 {
			return nil, false
		}
		items = append(items, arr[i:end])
		i = skipJSONSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipJSONSpace(arr, i+1)
			continue
		}
		return items, i < len(arr) && arr[i] == ']'
	}
	return nil, false
}

// keyIs reports whether the key token k names field, as json.Unmarshal matches it; sure
// is false when it cannot tell without json.Unmarshal (an escape, another case).
func keyIs(k []byte, field string) (is, sure bool) {
	name := k[1 : len(k)-1]
	if string(name) == field {
		return true, true
	}
	if bytes.IndexByte(name, '\\') >= 0 || bytes.EqualFold(name, []byte(field)) {
		return false, false
	}
	return false, true
}

// plainJSONString returns the value of a string token without escapes; null gives
// isNull; anything else is not sure, invalid UTF-8 too (json.Valid accepts it, and
// json.Unmarshal reads each bad byte as U+FFFD).
func plainJSONString(v []byte) (s string, isNull, sure bool) {
	if string(v) == "null" {
		return "", true, true
	}
	if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return "", false, false
	}
	return string(v[1 : len(v)-1]), false, true
}

// scanHeader reads js's typeHeader as json.Unmarshal would, or reports false when it
// cannot be sure (then json.Unmarshal reads it, and names any error).
func scanHeader(js []byte) (typeHeader, bool) {
	var h typeHeader
	sure := true
	set := func(dst *string, v []byte) {
		s, isNull, ok := plainJSONString(v)
		switch {
		case !ok:
			sure = false
		case !isNull:
			*dst = s
		}
	}
	valid := jsonMembers(js, func(k, v []byte) bool {
		for _, f := range []string{"apiVersion", "kind", "metadata", "items"} {
			is, ok := keyIs(k, f)
			if !ok || is && f == "items" {
				sure = false
				return false
			}
			if !is {
				continue
			}
			switch f {
			case "apiVersion":
				set(&h.APIVersion, v)
			case "kind":
				set(&h.Kind, v)
			case "metadata":
				if string(v) == "null" {
					break
				}
				ok := jsonMembers(v, func(mk, mv []byte) bool {
					for _, mf := range []string{"name", "namespace"} {
						is, ok := keyIs(mk, mf)
						if !ok {
							sure = false
							return false
						}
						if is && mf == "name" {
							set(&h.Metadata.Name, mv)
						} else if is {
							set(&h.Metadata.Namespace, mv)
						}
					}
					return sure
				})
				sure = sure && ok
			}
		}
		return sure
	})
	return h, valid && sure
}

// splitJSONList returns the items of a JSON document that is an array or an object whose
// kind ends in "List" (a copy of each, so that the file can go once they are decoded),
// as expandJSONLists reads them with json.Unmarshal; list is false for any other
// document, sure is false when json.Unmarshal must tell.
func splitJSONList(data []byte) (items []json.RawMessage, list, sure bool) {
	var raw [][]byte
	if len(data) > 0 && data[0] == '[' { // documents are trimmed: as listItemsByUnmarshal
		var ok bool
		if raw, ok = jsonItems(data); !ok {
			return nil, false, false
		}
	} else {
		kind, itemsAt, sure := "", []byte(nil), true
		valid := jsonMembers(data, func(k, v []byte) bool {
			if is, ok := keyIs(k, "kind"); !ok {
				sure = false
			} else if is {
				s, isNull, ok := plainJSONString(v)
				sure = sure && ok
				if ok && !isNull {
					kind = s
				}
			}
			if is, ok := keyIs(k, "items"); !ok {
				sure = false
			} else if is {
				itemsAt = v
			}
			return sure
		})
		if !valid || !sure {
			return nil, false, false
		}
		if !strings.HasSuffix(kind, "List") {
			return nil, false, true
		}
		if itemsAt == nil || string(itemsAt) == "null" {
			return nil, true, true
		}
		var ok bool
		if raw, ok = jsonItems(itemsAt); !ok {
			return nil, false, false
		}
	}
	items = make([]json.RawMessage, len(raw))
	for i, r := range raw {
		items[i] = append(json.RawMessage(nil), r...)
	}
	return items, true, true
}
