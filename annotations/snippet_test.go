package annotations

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSnippetPolicyNamesTheSetting(t *testing.T) {
	cases := []struct {
		allow bool
		risk  Risk
		want  string
	}{
		{false, RiskHigh, `allow-snippet-annotations is not "true" and annotations-risk-level is High, below Critical`},
		{true, RiskHigh, `annotations-risk-level is High, below Critical`},
		{false, RiskCritical, `allow-snippet-annotations is not "true"`},
		{true, RiskCritical, ``},
	}
	for _, c := range cases {
		d := DefaultDefaults()
		d.AllowSnippetAnnotations, d.RiskLevel = c.allow, c.risk
		if got := snippetPolicy(d); got != c.want {
			t.Errorf("allow=%v risk=%s: %q, want %q", c.allow, c.risk, got, c.want)
		}
		in := Parse(map[string]string{DefaultPrefix + "/configuration-snippet": "add_header X-A b;"}, "", d)
		if refused := len(in.Refused) > 0; refused != (c.want != "") {
			t.Errorf("allow=%v risk=%s: refused=%v", c.allow, c.risk, refused)
		}
	}
}

func TestTranslateSnippetIdioms(t *testing.T) {
	s, err := TranslateSnippet(`
# headers
add_header X-Frame-Options "DENY";
add_header Cache-Control 'no-store' always;
more_set_headers "X-A: 1" "X-B:";
more_clear_headers Server X-Powered-By;
proxy_hide_header X-Backend;
proxy_set_header X-Tenant "blue \"sky\"";
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header l5d-dst-override $service_name.$namespace.svc.cluster.local:$service_port;
more_set_input_headers "X-Env: prod";
deny 10.0.0.1;
allow 10.0.0.0/8;
deny all;
rewrite ^/api/(.*)$ /$1 break;
if ($scheme = https) { add_header Strict-Transport-Security "max-age=0"; }
proxy_busy_buffers_size 256k;
`, InLocation)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AddHeaders) != 2 || s.AddHeaders[0].Always || !s.AddHeaders[1].Always || s.AddHeaders[1].Value != "no-store" {
		t.Errorf("add_header: %+v", s.AddHeaders)
	}
	if len(s.SetHeaders) != 1 || s.SetHeaders[0].Name != "X-A" || strings.Join(s.ClearHeaders, ",") != "X-B,Server,X-Powered-By" {
		t.Errorf("more_set/clear_headers: %+v %v", s.SetHeaders, s.ClearHeaders)
	}
	if len(s.RequestHeaders) != 3 || s.RequestHeaders[0].Value != `blue "sky"` {
		t.Errorf("request headers: %+v", s.RequestHeaders)
	}
	if len(s.Deny) != 1 || len(s.Allow) != 1 || !s.DenyAll {
		t.Errorf("access: %+v %+v %v", s.Deny, s.Allow, s.DenyAll)
	}
	if s.Rewrite == nil || s.Rewrite.Replacement != "/$1" || len(s.HTTPSAddHeaders) != 1 {
		t.Errorf("rewrite/if: %+v %+v", s.Rewrite, s.HTTPSAddHeaders)
	}
	for _, l := range s.Lines {
		if l.Idiom == "" || l.Becomes == "" || l.Directive == "" {
			t.Errorf("line without idiom or construct: %+v", l)
		}
	}
}

func TestTranslateSnippetEmpty(t *testing.T) {
	for _, text := range []string{"", "  \n", "# a comment\n# another\n"} {
		s, err := TranslateSnippet(text, InLocation)
		if err != nil || len(s.Lines) != 1 || s.Lines[0].Idiom != IdiomComment {
			t.Errorf("%q: %+v %v", text, s, err)
		}
	}
}

func TestTranslateSnippetRedirects(t *testing.T) {
	cases := map[string]SnippetRedirect{
		"return 301 https://$host$request_uri;":             {Code: 301, Scheme: "https"},
		"return 308 $scheme://www.Example.com$request_uri;": {Code: 308, Host: "www.example.com"},
		"return 302 https://other.example.com/landing;":     {Code: 302, URL: "https://other.example.com/landing", Literal: true},
	}
	for text, want := range cases {
		s, err := TranslateSnippet(text, InLocation)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if *s.Redirect != want {
			t.Errorf("%s: %+v, want %+v", text, *s.Redirect, want)
		}
	}
}

// TestTranslateSnippetRefuses: anything outside the grammar refuses, naming the directive
// and its line.
func TestTranslateSnippetRefuses(t *testing.T) {
	cases := map[string]string{
		"add_header X-A a;\nsub_filter a b;":                   "line 2, sub_filter",
		"add_header X-Req $request_id;":                        "variable $request_id",
		"more_set_headers -s 404 'X-A: b';":                    "option -s",
		"more_clear_headers X-*;":                              "wildcard",
		"proxy_set_header X-U $upstream_addr;":                 "variable $upstream_addr",
		"add_header X-U $request_uri;":                         "variable $request_uri",
		"return 444;":                                          "line 1, return",
		"return 200 $host;":                                    "variables",
		"return 301 https://$host$uri;":                        "SCHEME://HOST$request_uri",
		"rewrite ^/a /b last;":                                 "break",
		"rewrite ^/(?=a) /b break;":                            "RE2",
		"allow 10.0.0.0/8; deny all; allow 1.2.3.4;":           "never reached",
		"allow 10.0.0.0/8; deny 10.1.0.0/16; deny all;":        "deny after an allow",
		"if ($request_method = POST) { add_header X-A b; }":    "if ($scheme = https)",
		"if ($scheme = https) { return 403; add_header A b; }": "only add_header",
		"if ($http_x_forwarded_proto != \"https\") { return 301 https://$host$request_uri; }": "replaces x-forwarded-proto",
		"if ($request_method = POST) { return 405; }":                                         "only $scheme and request headers",
		"if ($http_x_a = b) { return 301 /x; }\nreturn 302 /y;":                               "one return",
		"location ~ ^/x { return 404; }":                                                      "regular-expression locations",
		"location @x { return 404; }":                                                         "named and regular-expression",
		"location /x { proxy_pass http://a; }":                                                "only return, allow, deny",
		"location /x { location /x/y { return 404; } }":                                       "only return, allow, deny",
		"location /x { return 404; return 403; }":                                             "second return",
		"location /x { deny 10.0.0.0/33; }":                                                   "not an address",
		"location /x { return 404; }\nlocation ^~ /x { deny all; }":                           "duplicate location",
		"location x { return 404; }":                                                          "not a literal path",
		"proxy_read_timeout 600s;":                                                            "is duplicate",
		"add_header X-A {":                                                                    "not valid nginx configuration",
		"add_header X-A \"a\nb\";":                                                            "line break",
		"lua_need_request_body on;":                                                           "outside the snippet grammar",
		"add_header X-A a; add_header X-B b; return 301 /x; return 302 /y;":                   "second return",
	}
	for text, want := range cases {
		_, err := TranslateSnippet(text, InLocation)
		var se *SnippetError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", text, err, want)
		}
	}
}

func TestTranslateSnippetResponses(t *testing.T) {
	s, err := TranslateSnippet(`return 200 "ok";`, InLocation)
	if err != nil || s.Response == nil || *s.Response != (SnippetResponse{Code: 200, Body: "ok"}) {
		t.Errorf("return 200 ok: %+v %v", s, err)
	}
	// nginx's reader turns \n, \t and \r into the characters, quoted or not.
	s, err = TranslateSnippet(`return 200 "User-agent: *\nDisallow: /\t\\x";`, InLocation)
	if err != nil || s.Response == nil || s.Response.Body != "User-agent: *\nDisallow: /\t\\x" {
		t.Errorf("return text with escapes: %+v %v", s, err)
	}
	for _, text := range []string{`add_header X-A "a\nb";`, `return 301 "https://a\n/";`} {
		if _, err := TranslateSnippet(text, InLocation); err == nil || !strings.Contains(err.Error(), "line break") {
			t.Errorf("%s: %v, want a line-break refusal", text, err)
		}
	}
	s, err = TranslateSnippet("return https://example.com/x;", InLocation)
	if err != nil || s.Redirect == nil || s.Redirect.Code != 302 {
		t.Errorf("return URL: %+v %v", s, err)
	}
}

func TestTranslateIfReturn(t *testing.T) {
	cases := map[string]SnippetIfReturn{
		`if ($http_x_forwarded_ssl != "on") { return 301 https://$host$request_uri; }`: {Header: "x-forwarded-ssl", Value: "on", Negate: true,
			Redirect: &SnippetRedirect{Code: 301, Scheme: "https"}},
		`if ($scheme = http) { return 308 https://$host$request_uri; }`: {Scheme: "http", Redirect: &SnippetRedirect{Code: 308, Scheme: "https"}},
		`if ($scheme != http) { return 403; }`:                          {Scheme: "https", Response: &SnippetResponse{Code: 403}},
		`if ($http_user_agent = "bad-bot") { return 403 "go away"; }`:   {Header: "user-agent", Value: "bad-bot", Response: &SnippetResponse{Code: 403, Body: "go away"}},
	}
	for text, want := range cases {
		s, err := TranslateSnippet(text, InLocation)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		got := *s.IfReturn
		if got.Scheme != want.Scheme || got.Header != want.Header || got.Value != want.Value || got.Negate != want.Negate ||
			(got.Redirect == nil) != (want.Redirect == nil) || (got.Response == nil) != (want.Response == nil) ||
			got.Redirect != nil && *got.Redirect != *want.Redirect || got.Response != nil && *got.Response != *want.Response {
			t.Errorf("%s: %+v, want %+v", text, got, want)
		}
	}
}

func TestTranslateServerLocations(t *testing.T) {
	s, err := TranslateSnippet("# Do not expose metrics.\nlocation = /metrics {\n  return 404;\n}\nlocation = /admin { deny all; }\nlocation = /old { return 301 https://$host$request_uri; }", InServer)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Locations) != 3 || s.Locations[0].Response.Code != 404 || s.Locations[1].Response.Code != 403 || s.Locations[2].Redirect == nil {
		t.Errorf("locations: %+v", s.Locations)
	}
	for text, want := range map[string]string{
		"location ~ ^/m { return 404; }":                               "regular-expression locations",
		"location /m { allow 10.0.0.0/8; deny all; }":                  "one return",
		"location = /m { return 404; add_header A b; }":                "one return",
		"location = /m { proxy_pass http://x; }":                       "only return or deny all",
		"location = /m { return 404; }\nlocation = /m { return 403; }": "duplicate location",
	} {
		if _, err := TranslateSnippet(text, InServer); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

func TestTranslateNestedLocations(t *testing.T) {
	s, err := TranslateSnippet("location /__admin { deny all; }\nlocation = /metrics { return 404; }\nlocation ^~ /old { return 301 https://example.com/new; }\n"+
		"location =/x { allow 10.0.0.0/8; deny all; return 200 \"ok\"; }\nlocation /x { }", InLocation)
	if err != nil {
		t.Fatal(err)
	}
	want := []SnippetLocation{
		{Line: 1, Kind: LocationPrefix, Path: "/__admin", NoBackend: true},
		{Line: 2, Kind: LocationExact, Path: "/metrics", Response: &SnippetResponse{Code: 404}},
		{Line: 3, Kind: LocationPrefixNoRegex, Path: "/old", Redirect: &SnippetRedirect{Code: 301, URL: "https://example.com/new", Literal: true}},
		{Line: 4, Kind: LocationExact, Path: "/x", Response: &SnippetResponse{Code: 200, Body: "ok"}},
		{Line: 5, Kind: LocationPrefix, Path: "/x", NoBackend: true},
	}
	got := make([]SnippetLocation, len(s.Locations))
	for i, l := range s.Locations {
		l.Body = nil
		got[i] = l
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("locations:\n%+v\nwant\n%+v", got, want)
	}
	// Each location's line, then its block's: allow/deny are never evaluated.
	if len(s.Lines) != 8 || s.Lines[0].Idiom != IdiomLocation || !strings.Contains(s.Lines[0].Becomes, "503") || s.Lines[0].Approximate == "" ||
		s.Lines[1].Idiom != IdiomAccess || !strings.HasPrefix(s.Lines[1].Becomes, "nothing") ||
		!strings.Contains(s.Lines[4].Becomes, "answering 200") || s.Lines[4].Approximate != "" {
		t.Errorf("lines: %+v", s.Lines)
	}
	s, err = TranslateSnippet(`location = /robots.txt { add_header X-Robots-Tag none always; more_set_headers "Content-Type: text/plain"; more_clear_headers Server; return 200 "User-agent: *"; }`, InLocation)
	if err != nil || len(s.Locations) != 1 {
		t.Fatalf("headers in a location: %+v %v", s, err)
	}
	if b := s.Locations[0].Body; len(b.AddHeaders) != 1 || len(b.SetHeaders) != 1 || len(b.ClearHeaders) != 1 || len(s.AddHeaders)+len(s.SetHeaders) != 0 || len(s.Lines) != 4 {
		t.Errorf("headers in a location: body %+v, snippet %+v", b, s)
	}
	s, err = TranslateSnippet("location ^~ /x { return 404; }\nlocation /y { deny all; }", InServer)
	if err != nil || len(s.Locations) != 2 || s.Locations[0].Kind != LocationPrefixNoRegex || s.Locations[1].Response.Code != 403 {
		t.Errorf("server-snippet prefix locations: %+v %v", s, err)
	}
	if _, err := TranslateSnippet("location = /x { return 404; }", InAuth); err == nil {
		t.Error("a location in auth-snippet is translated")
	}
}

func TestTranslateSnippetContexts(t *testing.T) {
	s, err := TranslateSnippet("proxy_set_header X-A b;\nproxy_read_timeout 300s;", InServer)
	if err != nil || len(s.RequestHeaders) != 0 || len(s.Lines) != 2 {
		t.Errorf("server-level proxy_set_header/proxy_read_timeout are no-ops: %+v %v", s, err)
	}
	if _, err := TranslateSnippet("return 301 /x;", InServer); err == nil {
		t.Error("return in server-snippet is translated")
	}
	s, err = TranslateSnippet("proxy_set_header X-Forwarded-Method $request_method;", InAuth)
	if err != nil || len(s.RequestHeaders) != 1 || s.RequestHeaders[0].Value != "$request_method" {
		t.Errorf("auth-snippet: %+v %v", s, err)
	}
	if _, err := TranslateSnippet("add_header X-A b;", InAuth); err == nil {
		t.Error("add_header in auth-snippet is translated")
	}
	if _, err := TranslateSnippet("proxy_set_header X-A $upstream_addr;", InAuth); err == nil {
		t.Error("an unknown variable in auth-snippet is translated")
	}
}

// FuzzTranslateSnippet: any text either translates or refuses with a SnippetError; never
// a panic. Crashers found are kept in testdata/fuzz/FuzzTranslateSnippet.
func FuzzTranslateSnippet(f *testing.F) {
	for _, s := range []string{
		"add_header X-A b always;", "more_set_headers \"X: y\";", "if ($scheme = https) { add_header A b; }",
		"location = /m { return 404; }", "rewrite (a)(b) /$2$1 break;", "allow ::1; deny all;",
		"return 301 https://$host$request_uri;", "\"unterminated", "}{", "if (", "# c\n;", "proxy_set_header Host $host;",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, ctx uint8) {
		s, err := TranslateSnippet(text, SnippetContext(ctx%3))
		if err != nil {
			var se *SnippetError
			if !errors.As(err, &se) || err.Error() == "" {
				t.Fatalf("error %v is not a SnippetError", err)
			}
			return
		}
		for _, l := range s.Lines {
			if l.Becomes == "" || !utf8.ValidString(l.Idiom) {
				t.Fatalf("line without construct: %+v", l)
			}
		}
	})
}
