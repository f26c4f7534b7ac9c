package sources

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"
	"unicode/utf8"
)

// fastYAMLToJSON converts one YAML document to JSON, as sigs.k8s.io/yaml.YAMLToJSON does,
// for the block-style YAML that manifests are written in: mappings and sequences by
// indentation, plain and single-line quoted scalars, literal block scalars (|, |-),
// comments, flow collections written on one line ({path: /, pathType: Prefix}, [a, b]; see
// flow). It reports false as soon as the document uses anything else (anchors, tags, flow
// collections over several lines, folded or kept block scalars, multi-line flow scalars,
// tabs, a duplicated key, a plain scalar YAML 1.1 could read as other than a string, an
// integer or true/false/null) and the caller converts it with the full decoder.
// So it never guesses: what it converts reads back (json.Unmarshal) as YAMLToJSON's output
// does, which FuzzFastYAMLToJSON checks on arbitrary input. It also returns the document's
// typeHeader as json.Unmarshal would read it from the JSON when that is certain (nil
// otherwise): read while converting, rather than by decoding the whole JSON again.
//
// It is ~10x faster than the full decoder, which parses into a generic tree first and
// allocates for every node: on a file of 5,000 Ingresses with their Services, YAML decoding
// was three quarters of `gatebridge convert`'s CPU time.
func fastYAMLToJSON(dst, doc []byte) ([]byte, *typeHeader, bool) {
	if !printable(doc) {
		return dst, nil, false
	}
	p := parsers.Get().(*fastParser)
	defer func() {
		// Not kept by the pool: the document points into the window it was read in.
		p.src, p.out, p.scalar = nil, nil, p.scalar[:0]
		parsers.Put(p)
	}()
	p.reset(doc, dst)
	if !p.splitLines() {
		return dst, nil, false
	}
	p.skip()
	if p.i >= len(p.lines) || p.lines[p.i].indent != 0 || isSeqEntry(p.content(p.lines[p.i])) {
		return dst, nil, false // not a mapping at the top: not a manifest
	}
	if !p.mapping(0) {
		return dst, nil, false
	}
	if p.skip(); p.i < len(p.lines) {
		return dst, nil, false
	}
	if !p.hdrOK {
		return p.out, nil, true
	}
	h := p.hdr
	return p.out, &h, true
}

var parsers = sync.Pool{New: func() any { return &fastParser{} }}

// line is one line of a document: [start, end) its content without the indentation and
// the trailing blanks, rawEnd its end without the line break.
type line struct {
	start, end, rawEnd int
	indent             int
	// blank: only spaces; comment: its content starts with '#'.
	blank, comment bool
}

type fastParser struct {
	src   []byte
	lines []line
	// i is the next line to read.
	i   int
	out []byte
	// keys are the JSON keys of the mappings being read (offsets into out), for the
	// duplicate check.
	keys   [][2]int
	scalar []byte
	// depth is the number of mappings open; metadata says the one open at depth 2 is the
	// top-level metadata. hdr is what json.Unmarshal would read into a typeHeader, while
	// hdrOK: a key it would match without case, a value that is not a plain string, or
	// "items" make it uncertain.
	depth    int
	metadata bool
	hdr      typeHeader
	hdrOK    bool
	// flowDepth is the number of flow collections open.
	flowDepth int
}

func (p *fastParser) reset(doc, dst []byte) {
	p.src, p.lines, p.i, p.out, p.keys = doc, p.lines[:0], 0, dst, p.keys[:0]
	p.depth, p.metadata, p.hdr, p.hdrOK, p.flowDepth = 0, false, typeHeader{}, true, 0
}

// splitLines fills p.lines; it refuses document markers and directives.
func (p *fastParser) splitLines() bool {
	for s := 0; s < len(p.src); {
		e := bytes.IndexByte(p.src[s:], '\n')
		next := s + e + 1
		if e < 0 {
			e, next = len(p.src)-s, len(p.src)
		}
		raw := p.src[s : s+e]
		ind := 0
		for ind < len(raw) && raw[ind] == ' ' {
			ind++
		}
		end := len(raw)
		for end > ind && raw[end-1] == ' ' {
			end--
		}
		l := line{start: s + ind, end: s + end, rawEnd: s + e, indent: ind, blank: ind == len(raw)}
		l.comment = !l.blank && raw[ind] == '#'
		if ind == 0 && !l.blank && (raw[0] == '%' || bytes.HasPrefix(raw, []byte("---")) || bytes.HasPrefix(raw, []byte("..."))) {
			return false
		}
		p.lines = append(p.lines, l)
		s = next
	}
	return true
}

func (p *fastParser) content(l line) []byte { return p.src[l.start:l.end] }

// skip moves past blank and comment lines.
func (p *fastParser) skip() {
	for p.i < len(p.lines) && (p.lines[p.i].blank || p.lines[p.i].comment) {
		p.i++
	}
}

// next moves to the next line that is not blank or a comment and returns it with its
// content, or false when there is none at column ind or deeper (the block at ind ends).
func (p *fastParser) next(ind int) (line, []byte, bool) {
	p.skip()
	if p.i >= len(p.lines) || p.lines[p.i].indent < ind {
		return line{}, nil, false
	}
	l := p.lines[p.i]
	return l, p.content(l), true
}

func isSeqEntry(c []byte) bool { return len(c) > 0 && c[0] == '-' && (len(c) == 1 || c[1] == ' ') }

// mapping reads the block mapping whose keys are at column ind, from line p.i.
func (p *fastParser) mapping(ind int) bool {
	p.out = append(p.out, '{')
	p.depth++
	defer func() { p.depth-- }()
	keysFrom := len(p.keys)
	for first := true; ; first = false {
		l, c, ok := p.next(ind)
		if !ok {
			break
		}
		if l.indent > ind || isSeqEntry(c) {
			return false // "- " where a key must be: an error
		}
		keyEnd, rest, ok := splitKey(c)
		if !ok || keyEnd > maxSimpleKey {
			return false
		}
		if !first {
			p.out = append(p.out, ',')
		}
		field, v0, ok := p.entryKey(keysFrom, bytes.TrimRight(c[:keyEnd], " "))
		if !ok {
			return false
		}
		p.i++
		if !p.value(ind, rest, true) {
			return false
		}
		p.entryDone(field, v0)
	}
	p.keys = p.keys[:keysFrom]
	p.out = append(p.out, '}')
	return true
}

// entryKey writes the key k of a mapping entry (block or flow) and its colon: field is the
// header field it fills ("": none) and v0 where its value starts in out; false for a key
// the fast path does not take or a duplicate. entryDone follows the entry's value.
func (p *fastParser) entryKey(keysFrom int, k []byte) (field string, v0 int, ok bool) {
	k0 := len(p.out)
	if !p.key(k) || p.duplicate(keysFrom, k0) {
		return "", 0, false
	}
	p.keys = append(p.keys, [2]int{k0, len(p.out)})
	p.out = append(p.out, ':')
	field = p.headerField(p.out[k0 : len(p.out)-1])
	if field == "metadata" {
		p.metadata = true
	}
	return field, len(p.out), true
}

// entryDone records the header field of an entry whose value was just written at out[v0:].
func (p *fastParser) entryDone(field string, v0 int) {
	switch {
	case field == "metadata":
		p.metadata = false
		if p.out[v0] != '{' && string(p.out[v0:]) != "null" {
			p.hdrOK = false
		}
	case field != "":
		p.setHeader(field, p.out[v0:])
	}
}

// duplicate reports whether the key just written at out[k0:] is one of the mapping's, or
// differs from one only in case: encoding/json matches struct fields without case, and the
// full decoder sorts the keys, so which of two such keys wins would differ.
func (p *fastParser) duplicate(keysFrom, k0 int) bool {
	k := p.out[k0:]
	for _, o := range p.keys[keysFrom:] {
		if bytes.EqualFold(p.out[o[0]:o[1]], k) {
			return true
		}
	}
	return false
}

// value reads a mapping value (inMapping) or a sequence entry whose parent is at column
// ind: rest is what follows the key (or "- ") on its line; p.i is the next line.
func (p *fastParser) value(ind int, rest []byte, inMapping bool) bool {
	if len(rest) > 0 {
		return p.inline(ind, rest)
	}
	p.skip()
	if p.i < len(p.lines) {
		l := p.lines[p.i]
		c := p.content(l)
		switch {
		case l.indent > ind && isSeqEntry(c):
			return p.sequence(l.indent)
		case l.indent > ind:
			return p.mapping(l.indent)
		case l.indent == ind && isSeqEntry(c) && inMapping:
			// "key:" then "- item" at the key's own column. Not for a sequence entry:
			// "-" then "- x" at its column is the next entry.
			return p.sequence(ind)
		}
	}
	p.out = append(p.out, "null"...)
	return true
}

// sequence reads the block sequence whose "- " are at column ind.
func (p *fastParser) sequence(ind int) bool {
	p.out = append(p.out, '[')
	for first := true; ; first = false {
		l, c, ok := p.next(ind)
		if !ok {
			break
		}
		if l.indent > ind {
			return false
		}
		if !isSeqEntry(c) {
			break // the parent mapping's next key
		}
		if !first {
			p.out = append(p.out, ',')
		}
		rest := bytes.TrimLeft(c[1:], " ")
		col := l.indent + (len(c) - len(rest))
		switch {
		case len(rest) == 0 || rest[0] == '#':
			p.i++
			if !p.value(ind, nil, false) {
				return false
			}
		case isSeqEntry(rest):
			return false // "- - x"
		case rest[0] == '{' || rest[0] == '[':
			// "- {path: /, pathType: Prefix}": a flow collection, not "key: value".
			p.i++
			if !p.inline(ind, rest) {
				return false
			}
		default:
			if _, _, isKey := splitKey(rest); isKey {
				// "- key: value": a mapping whose keys are at the column of this one.
				p.lines[p.i].start, p.lines[p.i].indent = l.start+(len(c)-len(rest)), col
				if !p.mapping(col) {
					return false
				}
				continue
			}
			p.i++
			if !p.inline(ind, rest) {
				return false
			}
		}
	}
	p.out = append(p.out, ']')
	return true
}

// maxFlowDepth is the deepest nesting of flow collections the fast path takes.
const maxFlowDepth = 32

// maxSimpleKey is below YAML's limit on an implicit key (1024 characters, counted here as
// bytes): a longer one is an error for the full decoder.
const maxSimpleKey = 1000

// splitKey splits "key: rest" (or "key:"), the key plain or quoted: keyEnd is where the
// key ends in c, rest what follows the ": " (comment removed).
func splitKey(c []byte) (keyEnd int, rest []byte, ok bool) {
	var colon int
	switch c[0] {
	case '"', '\'':
		end := closingQuote(c)
		if end < 0 || end+1 >= len(c) || c[end+1] != ':' {
			return 0, nil, false
		}
		keyEnd, colon = end+1, end+1
	default:
		colon = -1
		for i := 0; i < len(c); i++ {
			if c[i] == ':' && (i+1 == len(c) || c[i+1] == ' ') {
				colon = i
				break
			}
			if c[i] == ' ' && i+1 < len(c) && c[i+1] == '#' {
				return 0, nil, false
			}
		}
		if colon <= 0 {
			return 0, nil, false
		}
		keyEnd = colon
	}
	if colon+1 < len(c) && c[colon+1] != ' ' {
		return 0, nil, false
	}
	rest = bytes.TrimLeft(c[colon+1:], " ")
	if len(rest) > 0 && rest[0] == '#' {
		rest = nil
	}
	return keyEnd, rest, true
}

// closingQuote returns the index of the quote that closes the scalar c starts with, or -1.
func closingQuote(c []byte) int {
	q := c[0]
	for i := 1; i < len(c); i++ {
		switch {
		case q == '"' && c[i] == '\\':
			i++
		case c[i] == q && q == '\'' && i+1 < len(c) && c[i+1] == '\'':
			i++
		case c[i] == q:
			return i
		}
	}
	return -1
}

// key writes a mapping key as a JSON string: quoted, or plain and read as a string.
func (p *fastParser) key(k []byte) bool {
	if k[0] == '"' || k[0] == '\'' {
		s, ok := p.quoted(k)
		if !ok {
			return false
		}
		p.out = appendJSONString(p.out, s)
		return true
	}
	if plainKind(k) != 's' || !plainStart(k) || bytes.Equal(k, []byte("<<")) {
		return false
	}
	p.out = appendJSONString(p.out, k)
	return true
}

// inline reads a value written on its key's (or "- "'s) line; p.i is the next line.
func (p *fastParser) inline(ind int, v []byte) bool {
	switch v[0] {
	case '"', '\'':
		end := closingQuote(v)
		if end < 0 {
			return false // goes on on the next line
		}
		if after := bytes.TrimLeft(v[end+1:], " "); len(after) > 0 && (after[0] != '#' || len(after) == len(v[end+1:])) {
			return false
		}
		s, ok := p.quoted(v[:end+1])
		if !ok {
			return false
		}
		p.out = appendJSONString(p.out, s)
		return p.nothingDeeper(ind)
	case '|':
		return p.literal(ind, v)
	case '{', '[':
		after, ok := p.flow(v)
		if !ok {
			return false
		}
		if comment := bytes.TrimLeft(after, " "); len(comment) > 0 && (comment[0] != '#' || len(comment) == len(after)) {
			return false
		}
		return p.nothingDeeper(ind)
	}
	if !plainStart(v) {
		return false
	}
	if i := bytes.Index(v, []byte(" #")); i >= 0 {
		v = bytes.TrimRight(v[:i], " ")
	}
	if bytes.Contains(v, []byte(": ")) || v[len(v)-1] == ':' {
		return false
	}
	if !p.plain(v) {
		return false
	}
	return p.nothingDeeper(ind)
}

// flow reads the flow collection v starts with ('{' or '['), which must close on its line,
// and returns what follows it. It takes only what the full decoder certainly reads the
// same: entries separated by commas, no empty entry and no trailing comma; mapping keys
// plain or quoted and followed by ": "; values that are flow collections, single-line
// quoted scalars, or plain scalars without ':', '?', '#' or a flow indicator (which in a
// flow collection end a plain scalar, make a pair of it, or start a comment) and of a kind
// plainKind is sure of. Mapping keys are checked for duplicates and fill the header as
// those of block mappings do.
func (p *fastParser) flow(v []byte) ([]byte, bool) {
	// The full decoder refuses deep nesting (go-yaml: 10,000 levels); a manifest nests a
	// few: deeper ones are left to it, and to its error.
	if p.flowDepth++; p.flowDepth > maxFlowDepth {
		return nil, false
	}
	defer func() { p.flowDepth-- }()
	mapping := v[0] == '{'
	closing := byte(']')
	if mapping {
		closing = '}'
		p.depth++
		defer func() { p.depth-- }()
	}
	keysFrom := len(p.keys)
	p.out = append(p.out, v[0])
	v = bytes.TrimLeft(v[1:], " ")
	for first := true; ; first = false {
		if len(v) == 0 {
			return nil, false // continued on the next line
		}
		if v[0] == closing && first {
			break
		}
		if !first {
			p.out = append(p.out, ',')
		}
		var field string
		var v0 int
		var ok bool
		if mapping {
			if v, field, v0, ok = p.flowKey(keysFrom, v); !ok {
				return nil, false
			}
		}
		if v, ok = p.flowValue(v); !ok {
			return nil, false
		}
		if mapping {
			p.entryDone(field, v0)
		}
		v = bytes.TrimLeft(v, " ")
		if len(v) == 0 {
			return nil, false
		}
		if v[0] == closing {
			break
		}
		if v[0] != ',' {
			return nil, false
		}
		if v = bytes.TrimLeft(v[1:], " "); len(v) > 0 && v[0] == closing {
			return nil, false // a trailing comma
		}
	}
	p.keys = p.keys[:keysFrom]
	p.out = append(p.out, closing)
	return v[1:], true
}

// flowKey reads a flow mapping's key and its ": ", writes them (entryKey), and returns what
// follows with the key's header field and where its value starts.
func (p *fastParser) flowKey(keysFrom int, v []byte) (rest []byte, field string, v0 int, ok bool) {
	var k []byte
	// span is the key as the full decoder measures it against its limit: up to the colon,
	// blanks included.
	var span int
	if v[0] == '"' || v[0] == '\'' {
		end := closingQuote(v)
		if end < 0 {
			return nil, "", 0, false
		}
		k, v, span = v[:end+1], v[end+1:], end+1
	} else {
		end := bytes.IndexByte(v, ':')
		if end <= 0 || bytes.ContainsAny(v[:end], ",[]{}#?") {
			return nil, "", 0, false
		}
		k, v, span = bytes.TrimRight(v[:end], " "), v[end:], end
	}
	if len(v) < 2 || v[0] != ':' || v[1] != ' ' || span > maxSimpleKey {
		return nil, "", 0, false
	}
	if field, v0, ok = p.entryKey(keysFrom, k); !ok {
		return nil, "", 0, false
	}
	return bytes.TrimLeft(v[2:], " "), field, v0, true
}

// flowValue reads one value of a flow collection and returns what follows it.
func (p *fastParser) flowValue(v []byte) ([]byte, bool) {
	switch v[0] {
	case '{', '[':
		return p.flow(v)
	case '"', '\'':
		end := closingQuote(v)
		if end < 0 {
			return nil, false
		}
		s, ok := p.quoted(v[:end+1])
		if !ok {
			return nil, false
		}
		p.out = appendJSONString(p.out, s)
		return v[end+1:], true
	}
	if !plainStart(v) {
		return nil, false
	}
	end := bytes.IndexAny(v, ",]}")
	if end < 0 {
		return nil, false
	}
	plain := bytes.TrimRight(v[:end], " ")
	if len(plain) == 0 || bytes.ContainsAny(plain, ":#[{?") {
		return nil, false
	}
	return v[end:], p.plain(plain)
}

// plain writes the plain scalar v as JSON, or reports false when plainKind is not sure
// what YAML 1.1 reads it as.
func (p *fastParser) plain(v []byte) bool {
	switch plainKind(v) {
	case 's':
		p.out = appendJSONString(p.out, v)
	case 'i':
		p.out = append(p.out, v...)
	case 't':
		p.out = append(p.out, "true"...)
	case 'f':
		p.out = append(p.out, "false"...)
	case 'n':
		p.out = append(p.out, "null"...)
	default:
		return false
	}
	return true
}

// nothingDeeper: after a scalar, a line deeper than its parent would continue it (a
// multi-line scalar) or be an error.
func (p *fastParser) nothingDeeper(ind int) bool {
	p.skip()
	return p.i >= len(p.lines) || p.lines[p.i].indent <= ind
}

// plainStart: a plain scalar may start with c[0] (no indicator, nothing that needs care).
func plainStart(c []byte) bool {
	switch c[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return len(c) > 1 && c[0] == '-' && c[1] != ' ' // "-1", "-x"
	}
	return true
}

// plainKind says what YAML 1.1 (go-yaml v2, under sigs.k8s.io/yaml) reads a plain scalar
// as: 's' string, 'i' an integer written as JSON writes it, 't' true, 'f' false, 'n' null,
// 0 anything else (a float, another way of writing a number, a timestamp).
func plainKind(s []byte) byte {
	if k, ok := resolvedWords[string(s)]; ok {
		return k
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+':
	case c == '.':
		if _, err := strconv.ParseFloat(string(s), 64); err == nil {
			return 0
		}
		return 's'
	default:
		return 's'
	}
	if canonicalInt.Match(s) {
		return 'i'
	}
	if len(s) >= 8 && s[4] == '-' {
		return 0 // maybe a timestamp
	}
	plain := bytes.ReplaceAll(s, []byte("_"), nil)
	if _, err := strconv.ParseInt(string(plain), 0, 64); err == nil {
		return 0
	}
	if _, err := strconv.ParseUint(string(plain), 0, 64); err == nil {
		return 0
	}
	if yamlFloat.Match(plain) {
		return 0
	}
	if bytes.HasPrefix(plain, []byte("0b")) || bytes.HasPrefix(plain, []byte("-0b")) {
		return 0
	}
	return 's'
}

var (
	// canonicalInt is an integer as JSON and go-yaml both write it (18 digits at most:
	// within int64).
	canonicalInt = regexp.MustCompile(`^(0|-?[1-9][0-9]{0,17})$`)
	yamlFloat    = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// resolvedWords are YAML 1.1's words for booleans and null; its words for floats (.inf,
// .nan) are left to the full decoder (0).
var resolvedWords = func() map[string]byte {
	m := map[string]byte{"": 'n', "~": 'n', "null": 'n', "Null": 'n', "NULL": 'n'}
	for _, w := range []string{"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"} {
		m[w] = 't'
	}
	for _, w := range []string{"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"} {
		m[w] = 'f'
	}
	for _, w := range []string{".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"} {
		m[w] = 0
	}
	return m
}()

// quoted returns the value of a single-line quoted scalar q (quotes included), or false
// for an escape it leaves to the full decoder.
func (p *fastParser) quoted(q []byte) ([]byte, bool) {
	body := q[1 : len(q)-1]
	if q[0] == '\'' {
		if bytes.IndexByte(body, '\'') < 0 {
			return body, true
		}
		p.scalar = p.scalar[:0]
		for i := 0; i < len(body); i++ {
			p.scalar = append(p.scalar, body[i])
			if body[i] == '\'' {
				i++ // '' is '
			}
		}
		return p.scalar, true
	}
	if bytes.IndexByte(body, '\\') < 0 {
		return body, true
	}
	p.scalar = p.scalar[:0]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			p.scalar = append(p.scalar, c)
			continue
		}
		if i++; i >= len(body) {
			return nil, false
		}
		switch body[i] {
		case '\\', '"':
			p.scalar = append(p.scalar, body[i])
		case 'n':
			p.scalar = append(p.scalar, '\n')
		case 't':
			p.scalar = append(p.scalar, '\t')
		case 'r':
			p.scalar = append(p.scalar, '\r')
		case 'u':
			if i+4 >= len(body) {
				return nil, false
			}
			r, err := strconv.ParseUint(string(body[i+1:i+5]), 16, 32)
			if err != nil || (r >= 0xD800 && r <= 0xDFFF) {
				return nil, false
			}
			p.scalar = utf8.AppendRune(p.scalar, rune(r))
			i += 4
		default:
			return nil, false
		}
	}
	return p.scalar, true
}

// literal reads a literal block scalar ("|" or "|-", then its lines, indented deeper
// than its parent at column ind).
func (p *fastParser) literal(ind int, header []byte) bool {
	h := header[1:]
	strip := len(h) > 0 && h[0] == '-'
	if strip {
		h = h[1:]
	}
	if len(h) > 0 && !bytes.HasPrefix(h, []byte(" #")) {
		return false // keep (+), an indentation indicator, or more on the line
	}
	// The content's column is the first non-blank line's; no blank line before it may
	// be longer (YAML calls that an error, or content: left to the full decoder).
	first := p.i
	for first < len(p.lines) && p.lines[first].blank {
		first++
	}
	if first == len(p.lines) || p.lines[first].indent <= ind {
		return false // empty: its value depends on what follows
	}
	col := p.lines[first].indent
	end := first
	for end < len(p.lines) && (p.lines[end].blank || p.lines[end].indent >= col) {
		if l := p.lines[end]; l.blank && l.rawEnd-(l.start-l.indent) > col {
			return false
		}
		end++
	}
	// Trailing blank lines are not the scalar's (clip and strip drop them).
	last := end
	for last > first && p.lines[last-1].blank {
		last--
	}
	if lastLine := p.lines[last-1]; lastLine.rawEnd == len(p.src) {
		return false // no line break after the last line
	}
	for k := p.i; k < first; k++ {
		if p.lines[k].rawEnd-(p.lines[k].start-p.lines[k].indent) > 0 {
			return false
		}
	}
	// Leading empty lines are content (line breaks) too.
	p.scalar = p.scalar[:0]
	for k := p.i; k < last; k++ {
		l := p.lines[k]
		if k > p.i {
			p.scalar = append(p.scalar, '\n')
		}
		if !l.blank {
			p.scalar = append(p.scalar, p.src[l.start-l.indent+col:l.rawEnd]...)
		}
	}
	if !strip {
		p.scalar = append(p.scalar, '\n')
	}
	p.out = appendJSONString(p.out, p.scalar)
	p.i = end
	return p.nothingDeeper(ind)
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(out, s []byte) []byte {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\t':
			out = append(out, '\\', 't')
		case '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

const hexDigit = "0123456789abcdef"

// printable reports whether doc is valid UTF-8 made of what YAML allows unescaped and
// nothing the fast path leaves to the full decoder: no tab, carriage return, byte order
// mark, other control character, or the YAML 1.1 line breaks U+0085, U+2028, U+2029.
func printable(doc []byte) bool {
	for i := 0; i < len(doc); {
		c := doc[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(doc[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r >= 0xfffe && r <= 0xffff:
			return false
		}
		i += n
	}
	return true
}

// headerField says which typeHeader field the JSON key k (quotes included) of the mapping
// being read fills: "apiVersion", "kind", "metadata" at the top, "name", "namespace" in
// the top-level metadata, "" for none. A key json.Unmarshal would match only without
// case, and "items", make the header uncertain.
func (p *fastParser) headerField(k []byte) string {
	var fields []string
	switch {
	case p.depth == 1:
		fields = []string{"apiVersion", "kind", "metadata", "items"}
	case p.depth == 2 && p.metadata:
		fields = []string{"name", "namespace"}
	default:
		return ""
	}
	if len(k) < 2 || k[0] != '"' || k[len(k)-1] != '"' {
		p.hdrOK = false
		return ""
	}
	name := k[1 : len(k)-1]
	for _, f := range fields {
		switch {
		case string(name) == f && f != "items":
			return f
		case bytes.EqualFold(name, []byte(f)):
			p.hdrOK = false
			return ""
		}
	}
	if bytes.IndexByte(name, '\\') >= 0 {
		p.hdrOK = false // an escaped key could spell a field
	}
	return ""
}

// setHeader records a header field's JSON value v: a string without escapes, or null
// (nothing); anything else makes the header uncertain.
func (p *fastParser) setHeader(field string, v []byte) {
	if string(v) == "null" {
		return
	}
	if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
		p.hdrOK = false
		return
	}
	s := string(v[1 : len(v)-1])
	switch field {
	case "apiVersion":
		p.hdr.APIVersion = s
	case "kind":
		p.hdr.Kind = s
	case "name":
		p.hdr.Metadata.Name = s
	case "namespace":
		p.hdr.Metadata.Namespace = s
	}
}
