package envoyregex

import "testing"

func TestWideHexEscape(t *testing.T) {
	for re, want := range map[string]string{
		`a\x{100}b`:         `\x{100}`,
		`\x{FF}\x41`:        "",
		`\\x{100}`:          "", // an escaped backslash, then x{100}
		`\Q\x{100}\E`:       "", // quoted
		`[\x00-\x{10FFFF}]`: `\x{10FFFF}`,
		`\Q\E\x{1F600}`:     `\x{1F600}`,
	} {
		if got := wideHexEscape(re); got != want {
			t.Errorf("wideHexEscape(%s) = %q, want %q", re, got, want)
		}
	}
}
