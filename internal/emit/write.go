package emit

import (
	"bytes"
	"encoding/json"
)

// encoder encodes objects one at a time into buf; each goroutine has its own.
type encoder struct {
	t   tree
	buf []byte
	// keys holds the sorted keys of the string maps being written (jsondirect.go).
	keys keyStack
	// raw is the block WriteEncoded decompressed last.
	raw []byte
}

// dropHidden leaves out what convert never writes: the top-level status and a null
// metadata.creationTimestamp (Go's encoding writes a zero time as null).
func (e *encoder) dropHidden(root int) {
	r := &e.t.nodes[root]
	if r.kind != '{' {
		return
	}
	e.removeMember(r, "status", false)
	for _, m := range e.t.members[r.first : r.first+r.n] {
		if string(m.key) == "metadata" && e.t.nodes[m.val].kind == '{' {
			e.removeMember(&e.t.nodes[m.val], "creationTimestamp", true)
		}
	}
}

// removeMember removes key from object o (only when its value is null, if onlyNull).
func (e *encoder) removeMember(o *node, key string, onlyNull bool) {
	ms := e.t.members[o.first : o.first+o.n]
	for i, m := range ms {
		if string(m.key) != key {
			continue
		}
		if v := e.t.nodes[m.val]; onlyNull && (v.kind != 'l' || string(v.raw) != "null") {
			return
		}
		copy(ms[i:], ms[i+1:])
		o.n--
		return
	}
}

// --- YAML: block style, keys sorted, strings plain only when they read back as the same
// string (converters/yamlwrite.go writes the same bytes from maps).

func (e *encoder) yaml(v int, indent int) {
	n := e.t.nodes[v]
	switch n.kind {
	case '{':
		if n.n == 0 {
			e.buf = append(e.buf, "{}\n"...)
			return
		}
		for i, m := range e.t.members[n.first : n.first+n.n] {
			if i > 0 {
				e.indent(indent)
			}
			e.yamlString(m.key, m.rawKey)
			e.buf = append(e.buf, ':')
			e.yamlAfterKey(m.val, indent)
		}
	case '[':
		if n.n == 0 {
			e.buf = append(e.buf, "[]\n"...)
			return
		}
		for i, it := range e.t.items[n.first : n.first+n.n] {
			if i > 0 {
				e.indent(indent)
			}
			e.buf = append(e.buf, "- "...)
			switch c := e.t.nodes[it]; c.kind {
			case '{':
				if c.n == 0 {
					e.buf = append(e.buf, "{}\n"...)
				} else {
					e.yaml(it, indent+2)
				}
			case '[':
				if c.n == 0 {
					e.buf = append(e.buf, "[]\n"...)
				} else {
					e.buf = append(e.buf, '\n')
					e.indent(indent + 2)
					e.yaml(it, indent+2)
				}
			default:
				e.yamlScalar(c)
				e.buf = append(e.buf, '\n')
			}
		}
	default:
		e.yamlScalar(n)
		e.buf = append(e.buf, '\n')
	}
}

// yamlAfterKey writes the value of a mapping key (after "key:").
func (e *encoder) yamlAfterKey(v int, indent int) {
	switch n := e.t.nodes[v]; n.kind {
	case '{':
		if n.n == 0 {
			e.buf = append(e.buf, " {}\n"...)
			return
		}
		e.buf = append(e.buf, '\n')
		e.indent(indent + 2)
		e.yaml(v, indent+2)
	case '[':
		if n.n == 0 {
			e.buf = append(e.buf, " []\n"...)
			return
		}
		e.buf = append(e.buf, '\n')
		e.indent(indent)
		e.yaml(v, indent)
	default:
		e.buf = append(e.buf, ' ')
		e.yamlScalar(n)
		e.buf = append(e.buf, '\n')
	}
}

// spaces are appended by slicing, not one by one.
const spaces = "                                                                "

func (e *encoder) indent(n int) {
	for n > len(spaces) {
		e.buf = append(e.buf, spaces...)
		n -= len(spaces)
	}
	e.buf = append(e.buf, spaces[:n]...)
}

// yamlScalar writes a number, true, false or null as JSON wrote it, and a string as
// yamlString does.
func (e *encoder) yamlScalar(n node) {
	if n.kind != '"' {
		e.buf = append(e.buf, n.raw...)
		return
	}
	inner := n.raw[1 : len(n.raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		e.yamlString(inner, n.raw)
		return
	}
	s, err := stringValue(n.raw)
	if err != nil {
		// Not reachable for json.Marshal's output; keep the token, which YAML reads as the
		// same double-quoted string.
		e.buf = append(e.buf, n.raw...)
		return
	}
	e.yamlString([]byte(s), nil)
}

// yamlString writes s plain when YAML reads it back as the same string, else as a JSON
// string (a valid YAML double-quoted scalar) with <, > and & left readable. raw, when not
// nil, is s as a JSON token without escapes: it is what json.Marshal would write.
func (e *encoder) yamlString(s, raw []byte) {
	if plainSafe(s) && !yaml11Word(s) {
		e.buf = append(e.buf, s...)
		return
	}
	if raw != nil && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
		e.buf = append(e.buf, raw...)
		return
	}
	j, _ := json.Marshal(string(s))
	// json.Marshal escapes <, > and & as \u003c…; YAML reads those escapes fine, but keep
	// the output readable (the same replacements as converters/yamlwrite.go).
	if bytes.Contains(j, []byte(`\u00`)) {
		j = bytes.ReplaceAll(j, []byte(`\u003c`), []byte("<"))
		j = bytes.ReplaceAll(j, []byte(`\u003e`), []byte(">"))
		j = bytes.ReplaceAll(j, []byte(`\u0026`), []byte("&"))
	}
	e.buf = append(e.buf, j...)
}

// plainSafe: ^[A-Za-z_/][A-Za-z0-9_./-]*$, the strings YAML reads back unchanged unquoted
// (except the YAML 1.1 words).
func plainSafe(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_', c == '/':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// yaml11Words are the words YAML 1.1 parsers read as booleans or null, in any case.
var yaml11Words = [][]byte{[]byte("y"), []byte("yes"), []byte("n"), []byte("no"), []byte("on"), []byte("off"), []byte("true"), []byte("false"), []byte("null")}

// yaml11Word: s, an ASCII string (plainSafe), is one of yaml11Words in any case (compared
// without lowering a copy of s: this runs for every key and plain string written).
func yaml11Word(s []byte) bool {
	if len(s) > 5 {
		return false
	}
	for _, w := range yaml11Words {
		if bytes.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// --- JSON: as json.MarshalIndent writes a map with the prefix prefix and "  " indent.

func (e *encoder) json(v int, prefix string, depth int) {
	e.jsonTree(v, jsonLines{prefix: prefix}, depth)
}

// A streaming conversion holds its JSON with a mark in place of each line break and its
// indentation (jsonMarked): 0x01 and the depth, two bytes instead of up to ~20, which the
// output expands (expandJSON). Held so, the JSON is 60 % of its indented size (~15 % more
// than the YAML) and costs that to compress and decompress, and expanding it is a search
// for one byte (vectorised) and an append a line. 0x01 is not found elsewhere in the
// encoding: encoding/json escapes control characters in strings and keys.
const lineMark = 0x01

// jsonMarked writes the value as json does with the prefix itemPrefix, each line break and
// its indentation replaced by lineMark and the depth (a byte; deeper lines are written
// out).
func (e *encoder) jsonMarked(v int, depth int) {
	e.jsonTree(v, jsonLines{prefix: itemPrefix, marked: true}, depth)
}

// jsonLines is how JSON's line breaks are written: with their indentation after the
// prefix, or marked (lineMark).
type jsonLines struct {
	prefix string
	marked bool
}

func (e *encoder) lineBreak(l jsonLines, depth int) {
	if l.marked {
		e.lineMark(depth)
	} else {
		e.newline(l.prefix, depth)
	}
}

// jsonTree writes tree node v at depth, its line breaks as l says.
func (e *encoder) jsonTree(v int, l jsonLines, depth int) {
	n := e.t.nodes[v]
	switch n.kind {
	case '{':
		if n.n == 0 {
			e.buf = append(e.buf, "{}"...)
			return
		}
		e.buf = append(e.buf, '{')
		for i, m := range e.t.members[n.first : n.first+n.n] {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.lineBreak(l, depth+1)
			e.jsonString(m.rawKey)
			e.buf = append(e.buf, ": "...)
			e.jsonTree(m.val, l, depth+1)
		}
		e.lineBreak(l, depth)
		e.buf = append(e.buf, '}')
	case '[':
		if n.n == 0 {
			e.buf = append(e.buf, "[]"...)
			return
		}
		e.buf = append(e.buf, '[')
		for i, it := range e.t.items[n.first : n.first+n.n] {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.lineBreak(l, depth+1)
			e.jsonTree(it, l, depth+1)
		}
		e.lineBreak(l, depth)
		e.buf = append(e.buf, ']')
	case '"':
		e.jsonString(n.raw)
	default:
		e.buf = append(e.buf, n.raw...)
	}
}

func (e *encoder) lineMark(depth int) {
	if depth > 0xff {
		e.newline(itemPrefix, depth)
		return
	}
	e.buf = append(e.buf, lineMark, byte(depth))
}

// expandJSON appends src, which jsonMarked wrote, with its marks expanded: the bytes json
// writes with the prefix itemPrefix.
func (e *encoder) expandJSON(src []byte) {
	buf := e.buf // a local: appends to e.buf would load and store it each time
	for {
		k := bytes.IndexByte(src, lineMark)
		if k < 0 || k+1 >= len(src) {
			e.buf = append(buf, src...)
			return
		}
		buf = append(buf, src[:k]...)
		if n := 1 + len(itemPrefix) + 2*int(src[k+1]); n <= len(newlineSpaces) {
			buf = append(buf, newlineSpaces[:n]...)
		} else {
			e.buf = buf
			e.newline(itemPrefix, int(src[k+1]))
			buf = e.buf
		}
		src = src[k+2:]
	}
}

func (e *encoder) newline(prefix string, depth int) {
	// The prefixes are spaces: one append when the line is not indented deeper than
	// newlineSpaces goes.
	if n := 1 + len(prefix) + 2*depth; n <= len(newlineSpaces) && isSpaces(prefix) {
		e.buf = append(e.buf, newlineSpaces[:n]...)
		return
	}
	e.buf = append(e.buf, '\n')
	e.buf = append(e.buf, prefix...)
	e.indent(2 * depth)
}

func isSpaces(s string) bool {
	for i := range len(s) {
		if s[i] != ' ' {
			return false
		}
	}
	return true
}

// newlineSpaces is a line break and the indentation of a line.
const newlineSpaces = "\n" + spaces

// jsonString writes a string token as encoding/json writes its decoded value: the token
// itself when it has no escapes (json.Marshal wrote it, so it needed none), else the
// value encoded again (json.Marshal writes invalid UTF-8 as \ufffd, which encodes again
// as the character itself).
func (e *encoder) jsonString(raw []byte) {
	if bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
		e.buf = append(e.buf, raw...)
		return
	}
	s, err := stringValue(raw)
	if err != nil {
		e.buf = append(e.buf, raw...)
		return
	}
	j, _ := json.Marshal(s)
	e.buf = append(e.buf, j...)
}
