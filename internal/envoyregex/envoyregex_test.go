package envoyregex_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// regexFamilies grow a regular expression with n: shapes whose RE2 program is as large as
// Go's (literals, classes), larger (repeated negated classes, as Ingress paths have) and
// smaller (case-insensitive literals, alternations).
var regexFamilies = map[string]func(n int) string{
	"literal":               func(n int) string { return strings.Repeat("a", n) },
	"wide literal":          func(n int) string { return strings.Repeat("é", n) },
	"classes":               func(n int) string { return strings.Repeat("[a-z]", n) },
	"byte classes":          func(n int) string { return strings.Repeat(`[\x00-\x{FF}]`, n) },
	"path segments":         func(n int) string { return "(?i)^(?:/api/v[0-9]+/" + strings.Repeat("[^/]+/", n) + ").*" },
	"ingress literal":       func(n int) string { return "(?i)^(?:/" + strings.Repeat("a", n) + ").*" },
	"optional groups":       func(n int) string { return strings.Repeat(`(?:x\d+)?`, n) },
	"repeated alternatives": func(n int) string { return "(?:" + strings.Repeat("ab|", n) + "c)" },
	"distinct alternatives": func(n int) string {
		alts := make([]string, n)
		for i := range alts {
			alts[i] = strconv.Itoa(i * 7919)
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	},
	"counted repeats": func(n int) string { return strings.Repeat(`[0-9]{1,9}`, n) },
	"nested repeats":  func(n int) string { return strings.Repeat(`(?:(?:a|b)+c)*`, n) },
}

// largestAccepted is the largest n for which Check accepts family(n) (binary search;
// the families grow monotonically).
func largestAccepted(family func(int) string) int {
	lo, hi := 1, 1
	for envoyregex.Check(family(hi)) == nil {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if envoyregex.Check(family(mid)) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TestEnvoyTakesEveryPatternCheckAccepts holds Check's estimate against the real
// Envoy: for each family, the largest regular expression Check accepts loads in Envoy
// (--mode validate, with the runtime gatebridge's bootstraps set), as a route's path match.
// Were it refused, Envoy would NACK the route table and every change pushed with it.
func TestEnvoyTakesEveryPatternCheckAccepts(t *testing.T) {
	envoyPath := envoytest.Require(t)
	dir := t.TempDir()
	for name, family := range regexFamilies {
		n := largestAccepted(family)
		re := family(n)
		config := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(config, staticRegexRoute(t, re), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(envoyPath, "--mode", "validate", "-c", config, "-l", "error").CombinedOutput()
		if err != nil {
			t.Errorf("%s: Check accepts %d repetitions (%d characters), Envoy refuses them: %v\n%s", name, n, len(re), err, lastLines(string(out), 5))
		}
	}
	// And Envoy's limit is real: one above it is refused (so the test above tests something).
	over := strings.Repeat("a", envoyregex.EnvoyProgramLimit+1)
	config := filepath.Join(dir, "over.json")
	if err := os.WriteFile(config, staticRegexRoute(t, over), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(envoyPath, "--mode", "validate", "-c", config, "-l", "critical").Run(); err == nil {
		t.Errorf("Envoy took a regular expression of %d characters above re2.max_program_size.error_level", len(over))
	}
	if envoyregex.Check(over) == nil {
		t.Errorf("Check accepts what Envoy refuses")
	}
	// Envoy's RE2 refuses \x{…} above U+00FF, which Go takes: so does Check.
	for _, re := range []string{`\x{100}`, `[\x00-\x{10FFFF}]`} {
		config := filepath.Join(dir, "wide.json")
		if err := os.WriteFile(config, staticRegexRoute(t, re), 0o644); err != nil {
			t.Fatal(err)
		}
		if exec.Command(envoyPath, "--mode", "validate", "-c", config, "-l", "critical").Run() == nil {
			t.Errorf("Envoy now takes %s: Check need not refuse it", re)
		}
		if envoyregex.Check(re) == nil {
			t.Errorf("Check accepts %s, which Envoy refuses", re)
		}
	}
}

// staticRegexRoute is a static Envoy configuration with gatebridge's runtime and one route
// whose path match is re.
func staticRegexRoute(t *testing.T, re string) []byte {
	t.Helper()
	hcm := map[string]any{
		"@type":       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		"stat_prefix": "regex",
		"http_filters": []any{map[string]any{"name": "envoy.filters.http.router", "typed_config": map[string]any{
			"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}},
		"route_config": map[string]any{"virtual_hosts": []any{map[string]any{"name": "all", "domains": []any{"*"},
			"routes": []any{map[string]any{"match": map[string]any{"safe_regex": map[string]any{"regex": re}},
				"direct_response": map[string]any{"status": 200}}}}}},
	}
	config := map[string]any{
		"layered_runtime": map[string]any{"layers": []any{map[string]any{"name": "gatebridge", "static_layer": envoy.GatewayRuntime()}}},
		"static_resources": map[string]any{"listeners": []any{map[string]any{
			"name":          "regex",
			"address":       map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": 1}},
			"filter_chains": []any{map[string]any{"filters": []any{map[string]any{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}}}},
		}}},
	}
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
