package emit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// node is one JSON value of the tree an encoder reads an object into.
type node struct {
	// kind is '{', '[', '"' (a string) or 'l' (a number, true, false or null).
	kind byte
	// raw is a scalar's token as json.Marshal wrote it (a string with its quotes).
	raw []byte
	// first and n are the children of a container: members[first:first+n] of an object,
	// items[first:first+n] of an array.
	first, n int
}

// member is one key of an object.
type member struct {
	// key is the decoded key (the order of keys), rawKey its token with quotes.
	key, rawKey []byte
	val         int
}

// tree holds the nodes of one object; an encoder reuses it from object to object, so that
// reading an object allocates next to nothing.
type tree struct {
	nodes   []node
	members []member
	items   []int
	// stacks of the containers being read (children are copied into members and items
	// once their container is complete, so that each container's are contiguous).
	memberStack []member
	itemStack   []int
	// scratch holds the tokens readValue writes (reflect.go); nodes point into it.
	scratch []byte
	// keys holds the sorted keys of the string maps being read (readStringMap).
	keys keyStack
}

func (t *tree) reset() {
	t.nodes, t.members, t.items = t.nodes[:0], t.members[:0], t.items[:0]
	t.memberStack, t.itemStack = t.memberStack[:0], t.itemStack[:0]
	t.scratch = t.scratch[:0]
	t.keys.pop(0)
}

// read parses js (one JSON value, as json.Marshal writes it: no insignificant space)
// and returns the index of its root node.
func (t *tree) read(js []byte) (int, error) {
	t.reset()
	root, rest, err := t.value(js)
	if err != nil {
		return 0, err
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return 0, fmt.Errorf("unexpected data after the JSON value")
	}
	return root, nil
}

var errSyntax = fmt.Errorf("malformed JSON")

// value reads the value at the start of js and returns its node and what follows it.
func (t *tree) value(js []byte) (int, []byte, error) {
	js = skipSpace(js)
	if len(js) == 0 {
		return 0, nil, errSyntax
	}
	switch js[0] {
	case '{':
		return t.object(js[1:])
	case '[':
		return t.array(js[1:])
	case '"':
		end, err := stringEnd(js)
		if err != nil {
			return 0, nil, err
		}
		t.nodes = append(t.nodes, node{kind: '"', raw: js[:end]})
		return len(t.nodes) - 1, js[end:], nil
	}
	end := 0
	for end < len(js) && !isDelim(js[end]) {
		end++
	}
	if end == 0 {
		return 0, nil, errSyntax
	}
	t.nodes = append(t.nodes, node{kind: 'l', raw: js[:end]})
	return len(t.nodes) - 1, js[end:], nil
}

func (t *tree) object(js []byte) (int, []byte, error) {
	base := len(t.memberStack)
	js = skipSpace(js)
	if len(js) > 0 && js[0] == '}' {
		js = js[1:]
	} else {
		for {
			js = skipSpace(js)
			if len(js) == 0 || js[0] != '"' {
				return 0, nil, errSyntax
			}
			end, err := stringEnd(js)
			if err != nil {
				return 0, nil, err
			}
			rawKey := js[:end]
			key, err := t.decodeKey(rawKey)
			if err != nil {
				return 0, nil, err
			}
			js = skipSpace(js[end:])
			if len(js) == 0 || js[0] != ':' {
				return 0, nil, errSyntax
			}
			v, rest, err := t.value(js[1:])
			if err != nil {
				return 0, nil, err
			}
			t.memberStack = append(t.memberStack, member{key: key, rawKey: rawKey, val: v})
			js = skipSpace(rest)
			if len(js) == 0 {
				return 0, nil, errSyntax
			}
			if js[0] == '}' {
				js = js[1:]
				break
			}
			if js[0] != ',' {
				return 0, nil, errSyntax
			}
			js = js[1:]
		}
	}
	first := len(t.members)
	t.members = append(t.members, t.memberStack[base:]...)
	t.memberStack = t.memberStack[:base]
	ms := t.members[first:]
	// Sorted as a Go map's keys are sorted by encoding/json: by bytes of the decoded key.
	slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	t.nodes = append(t.nodes, node{kind: '{', first: first, n: len(ms)})
	return len(t.nodes) - 1, js, nil
}

func (t *tree) array(js []byte) (int, []byte, error) {
	base := len(t.itemStack)
	js = skipSpace(js)
	if len(js) > 0 && js[0] == ']' {
		js = js[1:]
	} else {
		for {
			v, rest, err := t.value(js)
			if err != nil {
				return 0, nil, err
			}
			t.itemStack = append(t.itemStack, v)
			js = skipSpace(rest)
			if len(js) == 0 {
				return 0, nil, errSyntax
			}
			if js[0] == ']' {
				js = js[1:]
				break
			}
			if js[0] != ',' {
				return 0, nil, errSyntax
			}
			js = js[1:]
		}
	}
	first := len(t.items)
	t.items = append(t.items, t.itemStack[base:]...)
	n := len(t.itemStack) - base
	t.itemStack = t.itemStack[:base]
	t.nodes = append(t.nodes, node{kind: '[', first: first, n: n})
	return len(t.nodes) - 1, js, nil
}

// decodeKey returns the decoded key of a quoted key token: the bytes between the quotes
// when it has no escapes (the usual case), else its decoded form.
func (t *tree) decodeKey(raw []byte) ([]byte, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	// Keys with escapes are rare: each gets its own copy.
	return []byte(s), nil
}

// stringEnd returns the length of the quoted string token at the start of js.
func stringEnd(js []byte) (int, error) {
	for i := 1; i < len(js); i++ {
		switch js[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errSyntax
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func skipSpace(js []byte) []byte {
	for len(js) > 0 && (js[0] == ' ' || js[0] == '\t' || js[0] == '\n' || js[0] == '\r') {
		js = js[1:]
	}
	return js
}

// stringValue returns the decoded value of a string node's token.
func stringValue(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
