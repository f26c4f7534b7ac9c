package envoy_test

import (
	"regexp"
	"testing"

	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
)

// TestStatsTags: the tags cut the data plane's route statistic names into host, side and
// source, whatever dots the host and the source hold, and leave the family name
// "gatebridge.upstream_rq_…". (The e2e bridge test reads them from a real Envoy.)
func TestStatsTags(t *testing.T) {
	for _, c := range []struct{ host, side, source string }{
		{"shop.example.com", dataplane.SideNative, "shop/web"},
		{"a.b.c.example.org", dataplane.SideFallback, "team.x/web.v2"},
		{"*.example.com", dataplane.SideFallback, dataplane.StatSourceHTTPRoutePrefix + "shop/api"},
		{"*", dataplane.SideFallback, dataplane.StatSourceNone},
	} {
		name := "vhost." + c.host + ".route." + dataplane.RouteStatPrefix + "." + c.side + "." + c.source + ".upstream_rq_total"
		got := map[string]string{}
		cut := make([]bool, len(name))
		for _, tag := range envoy.StatsTags() {
			m := regexp.MustCompile(tag.GetRegex()).FindStringSubmatchIndex(name)
			if m == nil {
				t.Fatalf("%s: tag %s does not match", name, tag.TagName)
			}
			got[tag.TagName] = name[m[4]:m[5]]
			for i := m[2]; i < m[3]; i++ {
				cut[i] = true
			}
		}
		var rest []byte
		for i := range name {
			if !cut[i] {
				rest = append(rest, name[i])
			}
		}
		want := map[string]string{envoy.StatTagHost: c.host, envoy.StatTagSide: c.side, envoy.StatTagSource: c.source}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: tag %s = %q, want %q", name, k, got[k], v)
			}
		}
		if string(rest) != "gatebridge.upstream_rq_total" {
			t.Errorf("%s: name without the tags %q, want gatebridge.upstream_rq_total", name, rest)
		}
	}
}
