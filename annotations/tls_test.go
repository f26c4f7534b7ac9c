package annotations

import (
	"reflect"
	"slices"
	"testing"
)

// TestClientCertAsIngressNginx: auth-tls-* read as ingress-nginx's authtls parser reads
// them — defaults, fallbacks for invalid verify-client/-depth, failing closed where
// ingress-nginx rejects the Ingress, nothing without auth-tls-secret.
func TestClientCertAsIngressNginx(t *testing.T) {
	for _, c := range []struct {
		name       string
		kv         []string
		want       ClientCert
		failClosed []string
	}{
		{"defaults", []string{"auth-tls-secret", "ns/ca"}, ClientCert{Secret: "ns/ca", Verify: VerifyOn, Depth: 1}, nil},
		{"all set", []string{"auth-tls-secret", "ca", "auth-tls-verify-client", "optional_no_ca", "auth-tls-verify-depth", "2",
			"auth-tls-error-page", "https://errors.example.com/mtls", "auth-tls-pass-certificate-to-upstream", "True", "auth-tls-match-cn", "CN=(alice|bob)"},
			ClientCert{Secret: "ca", Verify: VerifyOptionalNoCA, Depth: 2, ErrorPage: "https://errors.example.com/mtls", PassCertificate: true, MatchCN: "CN=(alice|bob)"}, nil},
		{"verify off keeps the CA (headers say NONE)", []string{"auth-tls-secret", "ca", "auth-tls-verify-client", "off"}, ClientCert{Secret: "ca", Verify: VerifyOff, Depth: 1}, nil},
		{"invalid verify-client falls back to on", []string{"auth-tls-secret", "ca", "auth-tls-verify-client", "sometimes"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, nil},
		{"depth 0 is 1", []string{"auth-tls-secret", "ca", "auth-tls-verify-depth", "0"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, nil},
		{"invalid depth is 1", []string{"auth-tls-secret", "ca", "auth-tls-verify-depth", "deep"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, nil},
		{"error page with a variable fails closed", []string{"auth-tls-secret", "ca", "auth-tls-error-page", "https://e.example.com/$request_uri"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, []string{"auth-tls-error-page"}},
		{"match-cn without CN= fails closed", []string{"auth-tls-secret", "ca", "auth-tls-match-cn", "alice"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, []string{"auth-tls-match-cn"}},
		{"match-cn with a quote fails closed", []string{"auth-tls-secret", "ca", "auth-tls-match-cn", `CN=a";`}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, []string{"auth-tls-match-cn"}},
		{"match-cn not RE2 fails closed", []string{"auth-tls-secret", "ca", "auth-tls-match-cn", "CN=(a"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, []string{"auth-tls-match-cn"}},
		{"pass-certificate not boolean fails closed", []string{"auth-tls-secret", "ca", "auth-tls-pass-certificate-to-upstream", "yes"}, ClientCert{Secret: "ca", Verify: VerifyOn, Depth: 1}, []string{"auth-tls-pass-certificate-to-upstream"}},
		{"bad secret reference fails closed", []string{"auth-tls-secret", "a/b/c"}, ClientCert{}, []string{"auth-tls-secret"}},
		{"nothing without the secret", []string{"auth-tls-verify-client", "on", "auth-tls-match-cn", "CN=x"}, ClientCert{}, nil},
	} {
		in := parse(c.kv...)
		if !reflect.DeepEqual(in.ClientCert, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, in.ClientCert, c.want)
		}
		if !slices.Equal(in.FailClosed, c.failClosed) {
			t.Errorf("%s: fail closed %v, want %v (%+v)", c.name, in.FailClosed, c.failClosed, in.Findings)
		}
		// Served now: only an invalid value refuses (fails closed), never the names as such.
		if len(in.Refused) > 0 {
			t.Errorf("%s: refused %v", c.name, in.Refused)
		}
	}
}

func TestEnvoyCipherSuites(t *testing.T) {
	for _, c := range []struct {
		list            string
		suites, dropped []string
		wantErr         bool
	}{
		// ingress-nginx's default ssl-ciphers: the DHE suites have no BoringSSL equivalent.
		{"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
			[]string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
			[]string{"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"}, false},
		{"ECDHE-RSA-AES256-GCM-SHA384, AES128-SHA !aNULL:!MD5", []string{"ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"}, nil, false},
		{"ECDHE-RSA-AES128-SHA:AES128-SHA:!AES128-SHA", []string{"ECDHE-RSA-AES128-SHA"}, nil, false},
		{"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", []string{"ECDHE-RSA-AES128-GCM-SHA256"}, nil, false},
		{"HIGH:!aNULL:!MD5", nil, nil, true},
		{"ECDHE+AESGCM", nil, nil, true},
		{"ECDHE-RSA-AES128-GCM-SHA256:@STRENGTH", nil, nil, true},
		{"ECDHE-RSA-AES128-GCM-SHA256:!SHA1", nil, nil, true},
		{"DHE-RSA-AES128-GCM-SHA256", nil, nil, true},
		{"NOT-A-CIPHER", nil, nil, true},
	} {
		suites, dropped, err := EnvoyCipherSuites(c.list)
		if (err != nil) != c.wantErr || !slices.Equal(suites, c.suites) || (!c.wantErr && !slices.Equal(dropped, c.dropped)) {
			t.Errorf("%q: got %v %v %v, want %v %v error %v", c.list, suites, dropped, err, c.suites, c.dropped, c.wantErr)
		}
	}
}

// TestProxySSLParamsFindings: proxy-ssl-ciphers and proxy-ssl-protocols are noted where
// Envoy cannot do what nginx does (the data plane then keeps Envoy's defaults, leaves out a
// cipher or version, or allows the versions between the lowest and highest listed), and
// not otherwise.
func TestProxySSLParamsFindings(t *testing.T) {
	for _, c := range []struct {
		kv   []string
		want []string // the annotations noted
	}{
		{[]string{"proxy-ssl-ciphers", "DEFAULT"}, nil},
		{[]string{"proxy-ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"}, nil},
		{[]string{"proxy-ssl-ciphers", "HIGH:!aNULL:!MD5"}, []string{"proxy-ssl-ciphers"}},
		{[]string{"proxy-ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256"}, []string{"proxy-ssl-ciphers"}},
		{[]string{"proxy-ssl-protocols", "TLSv1.2 TLSv1.3"}, nil},
		{[]string{"proxy-ssl-protocols", "TLSv1.2 TLSv1.2"}, nil},
		{[]string{"proxy-ssl-protocols", "SSLv3 TLSv1.2"}, []string{"proxy-ssl-protocols"}},
		{[]string{"proxy-ssl-protocols", "SSLv2 SSLv3"}, []string{"proxy-ssl-protocols"}},
		{[]string{"proxy-ssl-protocols", "TLSv1 TLSv1 TLSv1.2"}, []string{"proxy-ssl-protocols"}},
	} {
		in := parse(c.kv...)
		var got []string
		for _, f := range in.Findings {
			if f.Annotation == "proxy-ssl-ciphers" || f.Annotation == "proxy-ssl-protocols" {
				got = append(got, f.Annotation)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: findings on %v, want %v (%+v)", c.kv, got, c.want, in.Findings)
		}
	}
}
