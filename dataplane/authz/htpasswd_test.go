package authz

import (
	"encoding/base64"
	"testing"
)

func TestParseHtpasswd(t *testing.T) {
	file := "# comment line\r\n" +
		"\n" +
		"alice:{PLAIN}first\r\n" +
		"alice:{PLAIN}second\n" + // first line for a user wins
		"bob:{PLAIN}bob:trailing comment\n" + // hash ends at the next ':'
		"no-colon-line\n" +
		"  spaced:{PLAIN}x\n" + // leading spaces are part of the user name, as in nginx
		"last:{PLAIN}no-newline"
	users := parseHtpasswd([]byte(file))
	want := map[string]string{
		"alice":    "{PLAIN}first",
		"bob":      "{PLAIN}bob",
		"  spaced": "{PLAIN}x",
		"last":     "{PLAIN}no-newline",
	}
	if len(users) != len(want) {
		t.Fatalf("parsed %d users (%v), want %d", len(users), users, len(want))
	}
	for u, h := range want {
		if users[u].hash != h {
			t.Errorf("user %q: hash %q, want %q", u, users[u].hash, h)
		}
	}
}

func TestParseBasicCredentials(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	cases := []struct {
		header, user, pw string
		ok               bool
	}{
		{"Basic " + b64([]byte("alice:secret")), "alice", "secret", true},
		{"basic " + b64([]byte("alice:secret")), "alice", "secret", true}, // scheme is case-insensitive
		{"BASIC   " + b64([]byte("alice:se:cret")), "alice", "se:cret", true},
		{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("a:b")), "a", "b", true}, // padding optional
		{"Basic " + b64([]byte("alice:")), "alice", "", true},
		{"Basic " + b64([]byte(":secret")), "", "", false}, // empty user
		{"Basic " + b64([]byte("nocolon")), "", "", false},
		{"Basic !!!!", "", "", false},
		{"Basic YWxp\nY2U6cw==", "", "", false}, // Go would skip the newline, nginx does not
		{"Basic ", "", "", false},
		{"Bearer abc", "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		u, p, ok := parseBasicCredentials(c.header)
		if ok != c.ok || u != c.user || p != c.pw {
			t.Errorf("parseBasicCredentials(%q) = %q, %q, %v; want %q, %q, %v", c.header, u, p, ok, c.user, c.pw, c.ok)
		}
	}
}
