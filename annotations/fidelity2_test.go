package annotations

import (
	"slices"
	"testing"
)

// TestAccessListEmptyEntry: an empty entry fails ingress-nginx's CIDR parser, so the list
// fails closed; blanks and line breaks around entries are trimmed first.
func TestAccessListEmptyEntry(t *testing.T) {
	for v, closed := range map[string]bool{
		"10.0.0.0/8,":              true,
		"10.0.0.0/8,,127.0.0.1":    true,
		",10.0.0.0/8":              true,
		"10.0.0.0/8,\n127.0.0.1\n": false,
		"10.0.0.0/8, 127.0.0.1":    false,
	} {
		in := Parse(map[string]string{DefaultPrefix + "/whitelist-source-range": v}, "", DefaultDefaults())
		if got := slices.Contains(in.FailClosed, "whitelist-source-range"); got != closed {
			t.Errorf("%q: fails closed %v, want %v", v, got, closed)
		}
	}
}

// TestRelativeTemporalRedirect: a temporal-redirect that passes the character validator
// but is no http(s) URL drops the redirect group (served as if absent), while one that
// fails the validator rejects the Ingress.
func TestRelativeTemporalRedirect(t *testing.T) {
	in := Parse(map[string]string{
		DefaultPrefix + "/temporal-redirect":    "/busy",
		DefaultPrefix + "/permanent-redirect":   "https://example.com/",
		DefaultPrefix + "/from-to-www-redirect": "true",
		DefaultPrefix + "/relative-redirects":   "true",
	}, "", DefaultDefaults())
	if in.Redirect.Literal != nil || in.Redirect.FromToWWW || in.Rejected {
		t.Errorf("redirect group kept: literal %+v, www %v, rejected %v", in.Redirect.Literal, in.Redirect.FromToWWW, in.Rejected)
	}
	if v := in.Redirect.RelativeRedirects; v == nil || !*v {
		t.Errorf("relative-redirects dropped with the redirect group; it has a parser of its own")
	}
	in = Parse(map[string]string{DefaultPrefix + "/temporal-redirect": "https://example.com/$request_uri"}, "", DefaultDefaults())
	if !in.Rejected {
		t.Errorf("a temporal-redirect failing the validator must reject the Ingress")
	}
}

func TestCustomHeaderProblem(t *testing.T) {
	allowed := []string{"X-Frame-Options"}
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"X-Frame-Options", "DENY", true},
		{"x-frame-options", "DENY", false}, // listed names match exactly
		{"X-Other", "1", false},
		{"X Frame", "DENY", false},
		{"X-Frame-Options", "", false},
		{"X-Frame-Options", "a\nb", false},
	} {
		if got := CustomHeaderProblem(c.name, c.value, allowed) == ""; got != c.ok {
			t.Errorf("%q: %q accepted %v, want %v", c.name, c.value, got, c.ok)
		}
	}
}

func TestUpstreamVhostValues(t *testing.T) {
	spec, _ := Lookup("upstream-vhost")
	for v, ok := range map[string]bool{
		"backend.internal":      true,
		"backend.internal:8080": true,
		"$host.internal":        true,
		"${server_name}-a":      true,
		"backend internal":      false,
		"*.internal":            false,
		"host:port":             false,
	} {
		if got := spec.Validate(v) == nil; got != ok {
			t.Errorf("%q: valid %v, want %v", v, got, ok)
		}
	}
}

func TestHSTSDefaults(t *testing.T) {
	d := DefaultDefaults()
	if !d.HSTS || d.HSTSMaxAge != "31536000" || !d.HSTSIncludeSubdomains || d.HSTSPreload {
		t.Errorf("built-in HSTS defaults: %+v", d)
	}
	d, f := DefaultsFromConfigMap(map[string]string{"hsts": "false", "hsts-max-age": "1y", "hsts-preload": "true", "global-allowed-response-headers": "X-A, bad name"})
	if d.HSTS || d.HSTSMaxAge != "31536000" || !d.HSTSPreload || !slices.Equal(d.AllowedResponseHeaders, []string{"X-A"}) || len(f) != 2 {
		t.Errorf("ConfigMap HSTS: %+v, findings %+v", d, f)
	}
}

// affinity-canary-behavior is read without affinity: cookie (ingress-nginx parses it
// whatever the affinity type; on a canary Ingress it decides the canary's cookie).
func TestAffinityCanaryBehaviorWithoutAffinity(t *testing.T) {
	a := Parse(map[string]string{"nginx.ingress.kubernetes.io/affinity-canary-behavior": "legacy"}, DefaultPrefix, Defaults{})
	if a.Affinity.Cookie || a.Affinity.CanaryBehavior != "legacy" {
		t.Fatalf("affinity %+v, want no cookie and canary behavior legacy", a.Affinity)
	}
	for _, f := range a.Findings {
		if f.Annotation == "affinity-canary-behavior" {
			t.Errorf("unexpected finding %+v", f)
		}
	}
}

// satisfy is "any" or "all" exactly: ingress-nginx ignores anything else.
func TestSatisfyValues(t *testing.T) {
	for v, want := range map[string]bool{"any": true, "all": false, "Any": false, " any\n": true} {
		a := Parse(map[string]string{"nginx.ingress.kubernetes.io/satisfy": v}, DefaultPrefix, Defaults{})
		if a.ExternalAuth.SatisfyAny != want {
			t.Errorf("satisfy %q: SatisfyAny %v, want %v", v, a.ExternalAuth.SatisfyAny, want)
		}
	}
}
