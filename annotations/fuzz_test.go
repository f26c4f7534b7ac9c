package annotations

import "testing"

// FuzzParse feeds arbitrary names and values through the parser: it must never panic and
// every finding must name an annotation.
func FuzzParse(f *testing.F) {
	for _, s := range Catalog() {
		f.Add(s.Name, "true")
	}
	f.Add("rewrite-target", "/$1$2$x")
	f.Add("auth-url", "https://$host/$remote_addr")
	f.Add("proxy-body-size", "99999999999999999999g")
	f.Add("whitelist-source-range", "10.0.0.0/8,::1,bad")
	f.Add("canary-by-header-pattern", "(?=x)[")
	f.Add("cors-allow-origin", "https://*.a.com, null, *")
	f.Fuzz(func(t *testing.T, name, value string) {
		in := Parse(map[string]string{DefaultPrefix + "/" + name: value, DefaultPrefix + "/canary": "true"}, "", DefaultDefaults())
		for _, f := range in.Findings {
			if f.Message == "" {
				t.Fatalf("finding without message: %+v", f)
			}
		}
	})
}
