package annotations

import (
	"reflect"
	"strings"
	"testing"
)

// TestHashKeys: each nginx variable of upstream-hash-by becomes one key part, in order,
// with $http_x_y read as the header x-y; literal text is left out; a variable Envoy cannot
// read, or no variable at all, is refused.
func TestHashKeys(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []HashKey
		why  string
	}{
		{expr: "$request_uri", want: []HashKey{{Source: HashRequestURI}}},
		{expr: "$binary_remote_addr", want: []HashKey{{Source: HashSourceIP}}},
		{expr: "${host}-$http_X_User_Id", want: []HashKey{{Source: HashHost}, {Source: HashHeader, Name: "x-user-id"}}},
		{expr: "$cookie_sid$arg_tenant", want: []HashKey{{Source: HashCookie, Name: "sid"}, {Source: HashQueryParam, Name: "tenant"}}},
		{expr: "$request_method", why: "$request_method"},
		{expr: "$http_", why: "$http_"},
		{expr: "constant", why: "literal text only"},
	} {
		got, why := hashKeys(c.expr)
		if c.why != "" {
			if !strings.Contains(why, c.why) || got != nil {
				t.Errorf("%s: keys %v, why %q; want refused mentioning %q", c.expr, got, why, c.why)
			}
			continue
		}
		if why != "" || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: keys %v, why %q; want %v", c.expr, got, why, c.want)
		}
	}
}

// TestParseRewritePairs: proxy-redirect-* follow ingress-nginx's template (off/default
// FROM or off TO write nothing); proxy-cookie-* take "FROM TO"; variables and regular
// expressions refuse the Ingress.
func TestParseRewritePairs(t *testing.T) {
	parse := func(kv ...string) *Ingress {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[DefaultPrefix+"/"+kv[i]] = kv[i+1]
		}
		return Parse(m, "", Defaults{})
	}
	if got := parse("proxy-redirect-from", "http://a/", "proxy-redirect-to", "https://b/").Timeouts.Redirect; got == nil || *got != (RewritePair{"http://a/", "https://b/"}) {
		t.Errorf("redirect pair %v", got)
	}
	for _, kv := range [][]string{
		{"proxy-redirect-from", "http://a/"},
		{"proxy-redirect-from", "default", "proxy-redirect-to", "https://b/"},
		{"proxy-redirect-from", "off", "proxy-redirect-to", "https://b/"},
		{"proxy-redirect-from", "http://a/", "proxy-redirect-to", "off"},
	} {
		if in := parse(kv...); in.Timeouts.Redirect != nil || in.Blocked() {
			t.Errorf("%v: redirect %v, blocked %v; want no rewrite", kv, in.Timeouts.Redirect, in.Blocked())
		}
	}
	if got := parse("proxy-cookie-domain", "a.internal b.example.com").Timeouts.CookieDomain; got == nil || *got != (RewritePair{"a.internal", "b.example.com"}) {
		t.Errorf("cookie domain pair %v", got)
	}
	for _, kv := range [][]string{
		{"proxy-cookie-path", "~^/a(.*) /$1"},
		{"proxy-redirect-from", "http://a/", "proxy-redirect-to", "https://$host/"},
	} {
		if in := parse(kv...); !in.Blocked() {
			t.Errorf("%v: not refused", kv)
		}
	}
}
