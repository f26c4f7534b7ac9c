package annotations

import (
	"os"
	"strings"
	"testing"
)

// TestCatalogHasEveryIngressNginxAnnotation checks the catalog against the list of names
// ingress-nginx v1.15.1 accepts (testdata, from its documentation).
func TestCatalogHasEveryIngressNginxAnnotation(t *testing.T) {
	b, err := os.ReadFile("testdata/ingress-nginx-v1.15.1-names.txt")
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(b))
	if len(names) != 138 {
		t.Fatalf("reference list has %d names, want 138", len(names))
	}
	for _, n := range names {
		s, ok := Lookup(n)
		if !ok || s.Level == Legacy || s.Level == Unknown {
			t.Errorf("%s: missing from the catalog", n)
		}
	}
	for _, s := range Catalog() {
		if s.Note == "" || s.Family == "" || s.Level == "" {
			t.Errorf("%s: incomplete entry %+v", s.Name, s)
		}
		if s.Level != Legacy && s.Risk == "" {
			t.Errorf("%s: no risk level", s.Name)
		}
	}
}

func parse(kv ...string) *Ingress {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[DefaultPrefix+"/"+kv[i]] = kv[i+1]
	}
	return Parse(m, "", DefaultDefaults())
}

func hasFinding(in *Ingress, name string, level Level) bool {
	for _, f := range in.Findings {
		if f.Annotation == name && f.Level == level {
			return true
		}
	}
	return false
}

func TestParseSemantics(t *testing.T) {
	t.Run("booleans use ParseBool", func(t *testing.T) {
		if !parse("use-regex", "T").Rewrite.UseRegex || !parse("use-regex", "1").Rewrite.UseRegex {
			t.Error("T and 1 are true for strconv.ParseBool")
		}
		if parse("use-regex", "yes").Rewrite.UseRegex {
			t.Error("yes is not a boolean")
		}
	})
	t.Run("timeouts take integers only", func(t *testing.T) {
		in := parse("proxy-read-timeout", "60s")
		if in.Timeouts.Read != nil {
			t.Error("60s must be invalid")
		}
	})
	t.Run("temporal wins over permanent", func(t *testing.T) {
		in := parse("permanent-redirect", "https://a.example/x", "temporal-redirect", "https://b.example/y")
		if in.Redirect.Literal == nil || in.Redirect.Literal.URL != "https://b.example/y" || in.Redirect.Literal.Code != 302 {
			t.Errorf("got %+v", in.Redirect.Literal)
		}
	})
	t.Run("permanent code out of range falls back to 301", func(t *testing.T) {
		in := parse("permanent-redirect", "https://a.example/x", "permanent-redirect-code", "399")
		if in.Redirect.Literal.Code != 301 {
			t.Errorf("code %d", in.Redirect.Literal.Code)
		}
	})
	t.Run("temporal code 308 falls back to 302", func(t *testing.T) {
		in := parse("temporal-redirect", "https://a.example/x", "temporal-redirect-code", "308")
		if in.Redirect.Literal.Code != 302 {
			t.Errorf("code %d", in.Redirect.Literal.Code)
		}
	})
	t.Run("redirect with nginx variable is invalid", func(t *testing.T) {
		if parse("permanent-redirect", "https://a.example$request_uri").Redirect.Literal != nil {
			t.Error("$request_uri must be refused (CVE-2023-5044)")
		}
	})
	t.Run("canary weight total only above 100", func(t *testing.T) {
		if got := parse("canary", "true", "canary-weight-total", "50").Canary.WeightTotal; got != 100 {
			t.Errorf("total %d", got)
		}
		if got := parse("canary", "true", "canary-weight-total", "1000").Canary.WeightTotal; got != 1000 {
			t.Errorf("total %d", got)
		}
	})
	t.Run("canary annotations without canary reject the Ingress", func(t *testing.T) {
		if !parse("canary-weight", "10").Rejected {
			t.Error("must be rejected")
		}
	})
	t.Run("alias: canonical wins", func(t *testing.T) {
		in := parse("allowlist-source-range", "10.0.0.0/8", "whitelist-source-range", "192.168.0.0/16")
		if len(in.Access.Allow) != 1 || in.Access.Allow[0].String() != "10.0.0.0/8" {
			t.Errorf("allow %v", in.Access.Allow)
		}
	})
	t.Run("invalid CIDR fails closed", func(t *testing.T) {
		if !parse("whitelist-source-range", "10.0.0.0/33").Blocked() {
			t.Error("must fail closed")
		}
	})
	t.Run("invalid auth value fails closed", func(t *testing.T) {
		if !parse("auth-url", "https://auth/x", "auth-cache-duration", "forever").Blocked() {
			t.Error("ingress-nginx drops all auth here; gatebridge must refuse instead")
		}
	})
	t.Run("auth-url with unknown variable fails closed", func(t *testing.T) {
		if !parse("auth-url", "https://auth/$remote_addr").Blocked() {
			t.Error("must fail closed")
		}
	})
	t.Run("snippets are refused", func(t *testing.T) {
		in := parse("configuration-snippet", "return 200;")
		if !in.Blocked() || !hasFinding(in, "configuration-snippet", Refused) {
			t.Error("must be refused")
		}
	})
	t.Run("CR LF refused everywhere", func(t *testing.T) {
		in := parse("upstream-vhost", "a.example\r\nX: y")
		if in.Backend.UpstreamVhost != "" {
			t.Error("CR/LF must be refused")
		}
	})
	t.Run("cors origins without scheme are dropped", func(t *testing.T) {
		in := parse("enable-cors", "true", "cors-allow-origin", "origin.cors.com:8080, https://ok.example")
		if len(in.CORS.AllowOrigins) != 1 || in.CORS.AllowOrigins[0] != "https://ok.example" {
			t.Errorf("origins %v", in.CORS.AllowOrigins)
		}
	})
	t.Run("body size", func(t *testing.T) {
		if got := *parse("proxy-body-size", "8m").Timeouts.BodySizeBytes; got != 8<<20 {
			t.Errorf("8m = %d", got)
		}
		if got := *parse("proxy-body-size", "0").Timeouts.BodySizeBytes; got != 0 {
			t.Errorf("0 = %d", got)
		}
	})
	t.Run("unknown and legacy names are reported", func(t *testing.T) {
		in := parse("rewrite-targt", "/", "secure-backends", "true")
		if !hasFinding(in, "rewrite-targt", Unknown) || !hasFinding(in, "secure-backends", Legacy) {
			t.Errorf("findings %+v", in.Findings)
		}
	})
	t.Run("custom prefix ignores the default prefix", func(t *testing.T) {
		in := Parse(map[string]string{"example.com/use-regex": "true", DefaultPrefix + "/rewrite-target": "/x"}, "example.com", DefaultDefaults())
		if !in.Rewrite.UseRegex || in.Rewrite.Target != "" {
			t.Errorf("got %+v", in.Rewrite)
		}
	})
}

func TestDefaultsFromConfigMap(t *testing.T) {
	d, f := DefaultsFromConfigMap(map[string]string{"proxy-body-size": "10m", "ssl-redirect": "false", "http-redirect-code": "301", "proxy-read-timeout": "x"})
	if d.BodySizeBytes != 10<<20 || d.SSLRedirect || d.HTTPRedirectCode != 301 || d.ReadTimeout != 60 {
		t.Errorf("defaults %+v", d)
	}
	if len(f) != 1 || f[0].Key != "proxy-read-timeout" {
		t.Errorf("findings %+v", f)
	}
}

// limit-req-status-code is nginx's limit_req_status (400–599) and becomes the status of
// Envoy's rate limiter, which knows the standard codes only: any other keeps 503 with a
// finding rather than make Envoy refuse the route tables.
func TestLimitReqStatusCodeFromConfigMap(t *testing.T) {
	for _, c := range []struct {
		value   string
		want    int
		finding string
	}{
		{"429", 429, ""},
		{" 503 ", 503, ""},
		{"511", 511, ""},
		{"444", 503, "cannot answer with"},
		{"499", 503, "cannot answer with"},
		{"200", 503, "from 400 to 599"},
		{"600", 503, "from 400 to 599"},
		{"-1", 503, "non-negative integer"},
		{"x", 503, "non-negative integer"},
	} {
		d, f := DefaultsFromConfigMap(map[string]string{"limit-req-status-code": c.value})
		if d.LimitReqStatusCode != c.want {
			t.Errorf("%q: status %d, want %d", c.value, d.LimitReqStatusCode, c.want)
		}
		switch {
		case c.finding == "" && len(f) != 0:
			t.Errorf("%q: findings %+v, want none", c.value, f)
		case c.finding != "" && (len(f) != 1 || f[0].Key != "limit-req-status-code" || !strings.Contains(f[0].Message, c.finding)):
			t.Errorf("%q: findings %+v, want one saying %q", c.value, f, c.finding)
		}
	}
}
