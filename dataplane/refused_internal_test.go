package dataplane

import "testing"

func TestNativelyCovered(t *testing.T) {
	e := []*routeEntry{{}}
	cases := []struct {
		name   string
		vhosts map[string][]*routeEntry
		host   string
		want   bool
	}{
		{"nothing native", map[string][]*routeEntry{}, "legacy.example.com", false},
		{"the host itself", map[string][]*routeEntry{"shop.example.com": e}, "shop.example.com", true},
		{"another host", map[string][]*routeEntry{"shop.example.com": e}, "legacy.example.com", false},
		{"a wildcard over it", map[string][]*routeEntry{"*.example.com": e}, "a.b.example.com", true},
		{"a wildcard over a narrower wildcard", map[string][]*routeEntry{"*.example.com": e}, "*.b.example.com", true},
		{"a wildcard is not its own parent domain", map[string][]*routeEntry{"*.example.com": e}, "example.com", false},
		{"an exact host does not cover a wildcard", map[string][]*routeEntry{"a.example.com": e}, "*.example.com", false},
		{"native catch-all covers everything", map[string][]*routeEntry{"*": e}, "legacy.example.com", true},
		{"an empty vhost is no native route", map[string][]*routeEntry{"*": nil, "shop.example.com": nil}, "shop.example.com", false},
	}
	for _, c := range cases {
		if got := nativelyCovered(c.vhosts)(c.host); got != c.want {
			t.Errorf("%s: nativelyCovered(%q) = %v, want %v", c.name, c.host, got, c.want)
		}
	}
}
