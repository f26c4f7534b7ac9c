package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestNotPortableShown: every format says, under an Ingress that is not portable, exactly
// which behaviours need gatebridge — or, for a --portable report, which were lost.
func TestNotPortableShown(t *testing.T) {
	for _, portable := range []bool{false, true} {
		r := sampleReport()
		r.Settings.Portable = portable
		r.Ingresses[1].NotPortable = []string{"the request body limit", "rate limiting"}
		label := "needs gatebridge for:"
		if portable {
			label = "lost by --portable:"
		}
		want := map[string]string{
			"table":    "  " + label + " the request body limit; rate limiting",
			"markdown": strings.ToUpper(label[:1]) + label[1:] + " the request body limit; rate limiting",
			"html":     "<strong>" + label + "</strong> the request body limit; rate limiting",
			"json":     `"notPortable": [`,
		}
		for format, w := range want {
			var b bytes.Buffer
			if err := Render(&b, r, format, sampleExtra()); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), w) {
				t.Errorf("portable=%v %s: missing %q in\n%s", portable, format, w, b.String())
			}
		}
	}
}
