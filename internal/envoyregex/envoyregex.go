package envoyregex

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
)

// EnvoyProgramLimit is the RE2 program size above which the Envoys gatebridge bootstraps
// refuse a regular expression (runtime key re2.max_program_size.error_level; Envoy's
// default, 100, is too small for some real Ingress paths). Envoy refuses such a pattern
// with its whole resource and every other change of the same push.
const EnvoyProgramLimit = 100_000

// MaxProgram is the largest regular expression gatebridge sends Envoy, as the size of the
// program Go compiles it to. Go's and RE2's program sizes differ (measured against Envoy's
// own check: a literal is the same size in both; RE2 counts ~1.35× Go's for repeated
// classes such as [^/]+/, and far less for case-insensitive literals and alternations), so
// the limit is a tenth of Envoy's: well beyond any real path or header pattern, and safely
// under what Envoy takes.
const MaxProgram = EnvoyProgramLimit / 10

// MaxLength is the longest regular expression gatebridge sends Envoy, in bytes: RE2
// refuses a pattern whose parse outgrows its memory budget ("pattern too large") even when
// Go compiles it small (Go folds repeated alternatives), and no path, header or origin
// pattern comes near it.
const MaxLength = 32 << 10

// Check reports why Envoy would not take re: it is not RE2 syntax as Go reads it, it is
// longer than MaxLength, its program is larger than MaxProgram, or it writes a
// character above U+00FF as a \x{…} escape, which Envoy's RE2 refuses ("invalid escape
// sequence") though Go takes it — the character itself is taken
// (TestEnvoyTakesEveryPatternCheckAccepts holds these against the real Envoy).
func Check(re string) error {
	if len(re) > MaxLength {
		return fmt.Errorf("too long: %d bytes, at most %d are sent to Envoy", len(re), MaxLength)
	}
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return err
	}
	if esc := wideHexEscape(re); esc != "" {
		return fmt.Errorf("the escape %s is one Envoy does not take: write the character itself", esc)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return err
	}
	if n := len(prog.Inst); n > MaxProgram {
		return fmt.Errorf("too large: it compiles to %d instructions, at most %d are sent to Envoy", n, MaxProgram)
	}
	return nil
}

// wideHexEscape returns the first \x{…} escape of re whose value is above 0xFF ("" if
// none), skipping escaped backslashes and \Q…\E quotes. re parses (syntax.Parse).
func wideHexEscape(re string) string {
	for i := 0; i < len(re); i++ {
		if re[i] != '\\' || i+1 >= len(re) {
			continue
		}
		switch re[i+1] {
		case 'Q':
			end := strings.Index(re[i+2:], `\E`)
			if end < 0 {
				return ""
			}
			i += 2 + end + 1
		case 'x':
			if i+2 < len(re) && re[i+2] == '{' {
				end := strings.IndexByte(re[i+3:], '}')
				if end < 0 {
					return ""
				}
				if v, err := strconv.ParseUint(re[i+3:i+3+end], 16, 32); err == nil && v > 0xFF {
					return re[i : i+3+end+1]
				}
				i += 3 + end
			} else {
				i++
			}
		default:
			i++ // an escaped character, a backslash included
		}
	}
	return ""
}
