package annotations

import (
	"strings"
	"testing"
)

// TestValuesWithinLimits: a value that would exceed the Gateway API (or gatebridge CRD)
// field it becomes, or that ingress-nginx would not accept, is invalid — never emitted, never
// cut; values at the limit are valid.
func TestValuesWithinLimits(t *testing.T) {
	cases := []struct {
		annotation, value string
		valid             bool
	}{
		{"rewrite-target", "/" + strings.Repeat("a", 1023), true},
		{"rewrite-target", strings.Repeat("a", 1023), true}, // "/" is prefixed: 1024
		{"rewrite-target", "/" + strings.Repeat("a", 1024), false},
		{"rewrite-target", strings.Repeat("a", 50<<20), false},
		{"rewrite-target", "file:///etc/passwd", false},
		{"rewrite-target", "javascript:x", false},
		{"rewrite-target", "https://example.com/x", false},
		{"rewrite-target", "/$2", true},
		{"rewrite-target", "/a:b", true},
		{"app-root", "/" + strings.Repeat("a", 1024), false},
		{"x-forwarded-prefix", "/" + strings.Repeat("a", 4096), false},
		{"permanent-redirect", "https://example.com/new", true},
		{"permanent-redirect", "HTTP://example.com/", true},
		{"permanent-redirect", "file:///etc/passwd", false},
		{"permanent-redirect", "-5", false},
		{"permanent-redirect", "javascript:alert", false},
		{"permanent-redirect", "/relative", true},
		{"permanent-redirect", "//evil.example.com/x", false},
		{"temporal-redirect", "/relative", false},
		{"permanent-redirect", "https:///no-host", false},
		{"permanent-redirect", "https://example.com/" + strings.Repeat("a", 4096), false},
		{"temporal-redirect", "file:///etc/passwd", false},
		{"temporal-redirect", "http://example.com:8080/x?y=1", true},
		{"upstream-vhost", "backend.internal", true},
		{"upstream-vhost", "*.internal", false},
		{"upstream-vhost", strings.Repeat("a.", 127) + "ab", false},
		{"server-alias", "a.example.com, " + strings.Repeat("a.", 126) + "com", false},
		{"server-alias", "*.example.com", true},
		// Hostnames of gatebridge's own fields: 253 characters at most (a DNS name's limit,
		// the CRD's for the mirror, TLS's for SNI).
		{"mirror-host", strings.Repeat("h", 253), true},
		{"mirror-host", strings.Repeat("h", 254), false},
		{"mirror-target", "https://" + strings.Repeat("h", 254) + "$request_uri", false},
		{"mirror-target", "https://" + strings.Repeat("h", 253) + "$request_uri", true},
		{"proxy-ssl-name", strings.Repeat("a.", 126) + "a", true},
		{"proxy-ssl-name", strings.Repeat("a.", 127) + "a", false},
		{"session-cookie-domain", strings.Repeat("d", 254), false},
		{"auth-secret", strings.Repeat("n", 64) + "/secret", false},
		{"auth-secret", "ns/" + strings.Repeat("s", 254), false},
		{"auth-secret", "ns/secret", true},
		{"default-backend", strings.Repeat("s", 64), false},
		{"canary-by-header", "X-Canary", true},
		{"canary-by-header", "x/canary", false},
		{"canary-by-header", "x:canary", false},
		{"canary-by-header", strings.Repeat("h", 257), false},
		{"canary-by-header-value", strings.Repeat("v", 4097), false},
		{"canary-by-header-pattern", strings.Repeat("p", 4096), false},
		{"canary-by-cookie", strings.Repeat("c", 1025), false},
		{"canary-weight-total", "1000000", true},
		{"canary-weight-total", "1000001", false},
		{"limit-rps", "2147483647", true},
		{"limit-rps", "2147483648", false},
		{"limit-rps", "99999999999999999999999", false},
		{"proxy-read-timeout", "3000000000", false},
		{"auth-method", "GET", true},
		{"auth-method", "FETCH", false},
		{"auth-method", "get", false},
		{"auth-response-headers", "X-User, X_Group", true},
		{"auth-response-headers", "X.User", false},
		{"auth-url", "http://auth..example.com/check", false},
	}
	for _, c := range cases {
		spec, ok := Lookup(c.annotation)
		if !ok {
			t.Fatalf("%s: not in the catalog", c.annotation)
		}
		err := spec.Validate(c.value)
		if (err == nil) != c.valid {
			t.Errorf("%s: %.60q: error %v, want valid=%v", c.annotation, c.value, err, c.valid)
		}
		if err != nil && len(c.value) > 4096 && len(err.Error()) > 300 {
			t.Errorf("%s: the error repeats the value: %.100s…", c.annotation, err)
		}
	}
}

// TestTooLargeIntegers: an integer beyond 32 bits says "too large", never "not an integer".
func TestTooLargeIntegers(t *testing.T) {
	for _, v := range []string{"2147483648", "99999999999999999999999", "-2147483649"} {
		spec, _ := Lookup("limit-rpm")
		if err := spec.Validate(v); err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("%s: %v, want \"too large\"", v, err)
		}
	}
}

// TestAuthURLMetadataWarning: an auth-url on a link-local or cloud metadata address is
// served (ingress-nginx serves it too) with a warning; other addresses and auth-signin get
// none.
func TestAuthURLMetadataWarning(t *testing.T) {
	for _, c := range []struct {
		url  string
		warn bool
	}{
		{"http://169.254.169.254/latest/meta-data/", true},
		{"http://169.254.1.2:8080/auth", true},
		{"http://[fe80::1]/auth", true},
		{"http://[fd00:ec2::254]/", true},
		{"http://[::ffff:169.254.169.254]/", true},
		{"http://metadata.google.internal/computeMetadata/v1/", true},
		{"http://METADATA.GOOGLE.INTERNAL./x", true},
		{"http://auth.auth.svc.cluster.local/check", false},
		{"http://10.0.0.1/check", false},
		{"https://$host/auth", false},
	} {
		in := parse("auth-url", c.url, "auth-signin", "http://169.254.169.254/signin")
		warned := false
		for _, f := range in.Findings {
			if f.Warning {
				if f.Annotation != "auth-url" {
					t.Errorf("%s: warning on %s", c.url, f.Annotation)
				}
				warned = true
			}
		}
		if warned != c.warn {
			t.Errorf("%s: warned %v, want %v (%+v)", c.url, warned, c.warn, in.Findings)
		}
		if in.Blocked() {
			t.Errorf("%s: blocked, want served", c.url)
		}
	}
}
