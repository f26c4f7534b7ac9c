package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// TestReportBridgeMigration: with migration states (a conversion behind the bridge), every
// format shows each Ingress's state next to its verdict and counts them; without, none
// mentions migration.
func TestReportBridgeMigration(t *testing.T) {
	r := sampleReport()
	r.Ingresses[0].Migration = &converters.Migration{State: converters.MigrationMigrating, Weight: 25, Sticky: true}
	r.Ingresses[1].Migration = &converters.Migration{State: converters.MigrationObserved}
	r.Ingresses[2].Migration = &converters.Migration{State: converters.MigrationRefused}
	out := map[string]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Render(&b, r, f, Extra{}); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	for f, want := range map[string][]string{
		"table": {"INGRESS          VERDICT          MIGRATION               PORTABLE", "default/api      exact            migrating 25% (sticky)  yes", "Migration (behind the bridge): 1 observed, 1 migrating, 0 native, 1 refused"},
		"markdown": {"| Ingress | Verdict | Migration | Portable |", "| `default/api` | exact | migrating 25% (sticky) | yes |", "| refused | 1 |",
			"### shop/web\\|front — needs-attention · observed"},
		"html": {"<th>Migration</th>", `<span class="badge m-migrating">migrating 25% (sticky)</span>`, `<span class="badge m-native zero">0 native</span>`},
		"json": {`"migration": {`, `"state": "migrating"`, `"weight": 25`, `"sticky": true`},
	} {
		for _, w := range want {
			if !strings.Contains(out[f], w) {
				t.Errorf("%s: no %q in:\n%s", f, w, out[f])
			}
		}
	}
	var doc struct {
		Ingresses []struct{ Migration *converters.Migration }
	}
	if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil || doc.Ingresses[2].Migration.State != converters.MigrationRefused {
		t.Errorf("json: %v %+v", err, doc)
	}
	for _, f := range Formats {
		if got := render(t, f); strings.Contains(strings.ToLower(got), "migration") {
			t.Errorf("%s without migration states mentions migration", f)
		}
	}
}
