package annotations

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// TestValuesReadAsIngressNginx: every line of a value is trimmed, every element of a CIDR
// list too (YAML block scalars are served), and a line break left inside a value is refused.
func TestValuesReadAsIngressNginx(t *testing.T) {
	p := func(s string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(s)} }
	for _, c := range []struct {
		name, value string
		allow       []netip.Prefix
		blocked     bool
	}{
		{"block scalar", "10.0.0.0/8\n", p("10.0.0.0/8"), false},
		{"blanks around", "  10.0.0.0/8 \t", p("10.0.0.0/8"), false},
		{"one entry a line", "10.0.0.0/8,\n  192.168.0.0/16\n", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")}, false},
		{"CRLF lines", "10.0.0.0/8,\r\n192.168.0.0/16\r\n", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")}, false},
		{"two entries on two lines without a comma", "10.0.0.0/8\n192.168.0.0/16", nil, true},
		{"NUL", "10.0.0.0/8\x00", nil, true},
	} {
		for _, name := range []string{"whitelist-source-range", "allowlist-source-range"} {
			in := parse(name, c.value)
			if in.Blocked() != c.blocked {
				t.Errorf("%s %s %q: blocked %v, want %v (%+v)", c.name, name, c.value, in.Blocked(), c.blocked, in.Findings)
			}
			if !c.blocked && !reflect.DeepEqual(in.Access.Allow, c.allow) {
				t.Errorf("%s %s %q: allow %v, want %v", c.name, name, c.value, in.Access.Allow, c.allow)
			}
		}
	}
	if in := parse("denylist-source-range", "10.1.0.0/16,\n10.2.0.0/16\n"); in.Blocked() || len(in.Access.Deny) != 2 {
		t.Errorf("denylist block scalar: blocked %v, deny %v", in.Blocked(), in.Access.Deny)
	}
	if in := parse("limit-rps", "5", "limit-whitelist", "10.0.0.0/8,\n10.1.0.0/16\n"); len(in.Findings) != 0 && hasInvalid(in) {
		t.Errorf("limit-whitelist block scalar refused: %+v", in.Findings)
	}
}

// TestStringValuesTrimmedLineByLine: string annotations are trimmed line by line (a trailing
// line break is dropped, security-sensitive values included); a line break inside the value
// is refused with a finding that names the annotation.
func TestStringValuesTrimmedLineByLine(t *testing.T) {
	for _, c := range []struct {
		name, value string
		invalid     bool
	}{
		{"proxy-read-timeout", "120\n", false},
		{"proxy-read-timeout", "  120  ", false},
		{"rewrite-target", "/new\n", false},
		{"rewrite-target", "/new\n/other", true},
		{"auth-url", "http://auth.example.com/verify\n", false},
		{"auth-url", "http://auth.example.com/verify\nX-Injected: 1", true},
		{"cors-allow-headers", "DNT,\nUser-Agent", true},
		{"cors-allow-headers", "DNT,\rUser-Agent", true},
	} {
		in := parse("enable-cors", "true", c.name, c.value)
		if got := hasInvalid(in); got != c.invalid {
			t.Errorf("%s %q: invalid %v, want %v (%+v)", c.name, c.value, got, c.invalid, in.Findings)
		}
	}
}

// TestCORSListsAsWritten: the three CORS lists keep what was written between the commas, so
// the data plane (joining with ",") sends the header value as written; values ingress-nginx's
// validators refuse fall back to the default.
func TestCORSListsAsWritten(t *testing.T) {
	for _, c := range []struct {
		name, value, want string
	}{
		{"cors-allow-headers", "DNT, User-Agent", "DNT, User-Agent"},
		{"cors-allow-headers", "X-Custom,X-Other", "X-Custom,X-Other"},
		{"cors-allow-headers", " DNT, User-Agent \n", "DNT, User-Agent"},
		{"cors-allow-headers", "DNT,  User-Agent", DefaultCORSHeaders},
		{"cors-allow-headers", ",DNT", DefaultCORSHeaders},
		{"cors-allow-headers", "*", DefaultCORSHeaders},
		{"cors-allow-methods", "get, post", "get, post"},
		{"cors-allow-methods", "GET,POST", "GET,POST"},
		{"cors-allow-methods", "GET,,POST", DefaultCORSMethods},
		{"cors-expose-headers", "X-Total, *", "X-Total, *"},
		{"cors-expose-headers", "X-Total,", "X-Total,"},
	} {
		in := parse("enable-cors", "true", c.name, c.value)
		var got []string
		switch c.name {
		case "cors-allow-headers":
			got = in.CORS.AllowHeaders
		case "cors-allow-methods":
			got = in.CORS.AllowMethods
		default:
			got = in.CORS.ExposeHeaders
		}
		if s := strings.Join(got, ","); s != c.want {
			t.Errorf("%s %q: sent %q, want %q", c.name, c.value, s, c.want)
		}
	}
	in := parse("enable-cors", "true")
	if m, h := strings.Join(in.CORS.AllowMethods, ","), strings.Join(in.CORS.AllowHeaders, ","); m != DefaultCORSMethods || h != DefaultCORSHeaders {
		t.Errorf("defaults: %q %q", m, h)
	}
}

func hasInvalid(in *Ingress) bool {
	for _, f := range in.Findings {
		if f.Invalid {
			return true
		}
	}
	return false
}
