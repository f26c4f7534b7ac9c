package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestSSLCiphers: ssl-ciphers sets the TLS 1.2 ciphers of its host's own SNI filter chain
// (first Ingress of the host wins, as ingress-nginx's server-level ssl_ciphers); another
// host on the same port keeps the defaults.
func TestSSLCiphers(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: strict
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/ssl-ciphers: "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384"
spec:
  ingressClassName: nginx
  tls: [{hosts: [ciphers.example.com], secretName: ciphers}]
  rules:
  - host: ciphers.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: strict-newer
  namespace: e2e
  creationTimestamp: "2024-01-02T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/ssl-ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256"
spec:
  ingressClassName: nginx
  rules:
  - host: ciphers.example.com
    http:
      paths:
      - {path: /newer, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [default-ciphers.example.com], secretName: default-ciphers}]
  rules:
  - host: default-ciphers.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "ciphers" "ciphers.example.com"}}
{{.TLSSecret "e2e" "default-ciphers" "default-ciphers.example.com"}}
{{.Service "e2e" "web" "web"}}
`)
	aes128 := tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	aes256 := tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	for _, c := range []struct {
		host   string
		offer  uint16
		served bool
	}{
		{"ciphers.example.com", aes256, true},
		// The newer Ingress's cipher is not the host's (first wins).
		{"ciphers.example.com", aes128, false},
		{"default-ciphers.example.com", aes128, true},
		{"default-ciphers.example.com", aes256, true},
	} {
		got, err := handshake(c.host, c.offer)
		switch {
		case c.served && err != nil:
			t.Errorf("%s offering %s: %v, want a handshake", c.host, tls.CipherSuiteName(c.offer), err)
		case c.served && got != c.offer:
			t.Errorf("%s offering %s: negotiated %s", c.host, tls.CipherSuiteName(c.offer), tls.CipherSuiteName(got))
		case !c.served && err == nil:
			t.Errorf("%s offering %s: handshake succeeded, want it refused", c.host, tls.CipherSuiteName(c.offer))
		}
	}
	// The host still serves its routes over the cipher it offers.
	if res := do(t, request{url: "https://ciphers.example.com/newer"}); res.status != 200 || res.backend == nil {
		t.Errorf("GET https://ciphers.example.com/newer: %d", res.status)
	}
}

// handshake connects to Envoy's HTTPS port with SNI host, offering TLS 1.2 with one cipher
// suite, and returns the negotiated one.
func handshake(host string, suite uint16) (uint16, error) {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", env.httpsPort), 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: env.ca.Pool(), MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	return c.ConnectionState().CipherSuite, nil
}
