package converters

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// writeYAML emits JSON-shaped data (maps, slices, strings, json.Number, bools, nil) as
// block YAML with sorted keys. It replaces a JSON → YAML re-parse that dominated the time
// of `convert` on large inputs. Strings are written plain only when they cannot be read
// back as anything else; otherwise they are double-quoted with JSON escaping (a JSON string
// is a valid YAML double-quoted scalar), so the output always round-trips.
func writeYAML(b *bytes.Buffer, v any, indent int) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}\n")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 || indent < 0 {
				writeIndent(b, max(indent, 0))
			}
			writeScalarString(b, k)
			b.WriteByte(':')
			writeValueAfterKey(b, x[k], max(indent, 0))
		}
	case []any:
		if len(x) == 0 {
			b.WriteString("[]\n")
			return
		}
		for i, item := range x {
			if i > 0 {
				writeIndent(b, indent)
			}
			b.WriteString("- ")
			switch it := item.(type) {
			case map[string]any:
				if len(it) == 0 {
					b.WriteString("{}\n")
				} else {
					writeYAML(b, it, indent+2)
				}
			case []any:
				if len(it) == 0 {
					b.WriteString("[]\n")
				} else {
					b.WriteByte('\n')
					writeIndent(b, indent+2)
					writeYAML(b, it, indent+2)
				}
			default:
				writeScalar(b, it)
				b.WriteByte('\n')
			}
		}
	default:
		writeScalar(b, v)
		b.WriteByte('\n')
	}
}

// writeValueAfterKey writes the value of a mapping key (after "key:").
func writeValueAfterKey(b *bytes.Buffer, v any, indent int) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteByte('\n')
		writeIndent(b, indent+2)
		writeYAML(b, x, indent+2)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteByte('\n')
		writeIndent(b, indent)
		writeYAML(b, x, indent)
	default:
		b.WriteByte(' ')
		writeScalar(b, v)
		b.WriteByte('\n')
	}
}

func writeIndent(b *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		b.WriteByte(' ')
	}
}

func writeScalar(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(x.String())
	case string:
		writeScalarString(b, x)
	default:
		j, _ := json.Marshal(x)
		b.Write(j)
	}
}

// plainSafe are strings that YAML reads back as the same string when unquoted.
var plainSafe = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./-]*$`)

// yaml11Words are read as booleans or null by YAML 1.1 parsers, so they are quoted.
var yaml11Words = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

func writeScalarString(b *bytes.Buffer, s string) {
	if plainSafe.MatchString(s) && !yaml11Words[strings.ToLower(s)] {
		b.WriteString(s)
		return
	}
	j, _ := json.Marshal(s)
	// json.Marshal escapes <, > and & as \u003c…; YAML reads those escapes fine, but keep
	// the output readable.
	j = bytes.ReplaceAll(j, []byte(`\u003c`), []byte("<"))
	j = bytes.ReplaceAll(j, []byte(`\u003e`), []byte(">"))
	j = bytes.ReplaceAll(j, []byte(`\u0026`), []byte("&"))
	b.Write(j)
}
