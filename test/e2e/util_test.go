package e2e

import (
	"encoding/base64"
	"fmt"
	"testing"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// httpsLoc is the Location of an https redirect to host + uri. ingress-nginx names no port
// (443); the suite maps Gateway port 443 to another port, which the redirect must name so
// that it reaches Envoy (as `gatebridge run` does).
func httpsLoc(host, uri string) string {
	if env.httpsPort == 443 {
		return "https://" + host + uri
	}
	return fmt.Sprintf("https://%s:%d%s", host, env.httpsPort, uri)
}

// locationOneOf accepts any of several Location values that name the same URL (nginx's
// "https://host" and Envoy's "https://host/" are equivalent: an empty http(s) path is "/").
func locationOneOf(want ...string) func(t *testing.T, res result) {
	return func(t *testing.T, res result) {
		t.Helper()
		got := res.header.Get("Location")
		for _, w := range want {
			if got == w {
				return
			}
		}
		t.Errorf("Location %q, want one of %q", got, want)
	}
}
