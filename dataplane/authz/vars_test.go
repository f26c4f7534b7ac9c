package authz

import (
	"slices"
	"testing"
)

func TestEscapeURIComponent(t *testing.T) {
	cases := map[string]string{
		"/?a=b&c=d":         "%2F%3Fa%3Db%26c%3Dd", // ingress-nginx e2e
		"/a-b_c.d~e":        "%2Fa-b_c.d~e",
		"/p a+b#c%d":        "%2Fp%20a%2Bb%23c%25d",
		"/ü":                "%2F%C3%BC",
		"AZaz09":            "AZaz09",
		"!*'();:@$,[]":      "%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D",
		"\x00\x7f\"<>\\^`{": "%00%7F%22%3C%3E%5C%5E%60%7B",
	}
	for in, want := range cases {
		if got := escapeURIComponent(in); got != want {
			t.Errorf("escapeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplateExpansion(t *testing.T) {
	r := &request{
		method:    "PUT",
		scheme:    "https",
		authority: "Example.COM:8443",
		uri:       "/p/q?a=1&B=two&c",
		clientIP:  "203.0.113.7",
		requestID: "rid",
		headers: []headerField{
			{"x-user", "u1"}, {"x-user", "u2"},
			{"cookie", "sess=abc; other=1"},
		},
	}
	cases := map[string]string{
		"$host":                  "example.com",
		"${host}x":               "example.comx",
		"$http_host":             "Example.COM:8443",
		"$scheme://$host$uri":    "https://example.com/p/q",
		"$request_uri":           "/p/q?a=1&B=two&c",
		"$escaped_request_uri":   "%2Fp%2Fq%3Fa%3D1%26B%3Dtwo%26c",
		"$args|$is_args":         "a=1&B=two&c|?",
		"$request_method":        "PUT",
		"$remote_addr":           "203.0.113.7",
		"$http_x_user":           "u1, u2",
		"$arg_b":                 "two",
		"$arg_c":                 "", // no '=': no value, as in nginx
		"$cookie_sess":           "abc",
		"$req_id":                "rid",
		"$pass_access_scheme":    "https",
		"cost: 5$ and $":         "cost: 5$ and $",
		"$unknown_var/x":         "/x",
		"${http_x_user}${nope}!": "u1, u2!",
	}
	for in, want := range cases {
		tm, _ := parseTemplate(in)
		if got := tm.expand(r); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
	if _, unknown := parseTemplate("$host $unknown_var ${nope} $http_anything"); !slices.Equal(unknown, []string{"unknown_var", "nope"}) {
		t.Errorf("unknown variables = %v", unknown)
	}
	if h := (&request{authority: "[::1]:80"}).host(); h != "[::1]" {
		t.Errorf("IPv6 host = %q", h)
	}
}

func TestSignInTarget(t *testing.T) {
	const tail = "=$pass_access_scheme://$http_host$escaped_request_uri"
	cases := []struct{ signIn, param, want string }{
		{"http://$host/auth/start", "", "http://$host/auth/start?rd" + tail},
		{"https://sso/start?x=1", "", "https://sso/start?x=1&rd" + tail},
		{"https://sso/start?rd=https://fixed", "", "https://sso/start?rd=https://fixed"},
		{"https://sso/start?return=1", "return", "https://sso/start?return=1"},
		{"https://sso/start?rd=x", "return", "https://sso/start?rd=x&return" + tail},
		{"https://sso/start?rd=", "", "https://sso/start?rd=&rd" + tail}, // empty value does not count
	}
	for _, c := range cases {
		got, err := signInTarget(c.signIn, c.param)
		if err != nil || got != c.want {
			t.Errorf("signInTarget(%q, %q) = %q, %v; want %q", c.signIn, c.param, got, err, c.want)
		}
	}
}

func TestEscapeInvalidQueryBytes(t *testing.T) {
	cases := map[string]string{
		"":                          "",
		"a=1&b=%2F/x?y:z@!$'()*+,;": "a=1&b=%2F/x?y:z@!$'()*+,;",
		"u=one, two":                "u=one,%20two",
		" x":                        "%20x",
		"q=ü\"<>":                   "q=%C3%BC%22%3C%3E",
	}
	for in, want := range cases {
		if got := escapeInvalidQueryBytes(in); got != want {
			t.Errorf("escapeInvalidQueryBytes(%q) = %q, want %q", in, got, want)
		}
	}
}
