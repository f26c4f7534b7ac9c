package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestLimitRate: limit-rate throttles the responses of the Ingress's rules to N KiB/s
// (Envoy's bandwidth limit filter) when proxy-buffering is on; without it (the default)
// nginx does not throttle, and neither does gatebridge (checked with nginx 1.22:
// limit_rate 5k on a proxied 20 kB response takes 3 s buffered, 0.01 s unbuffered);
// another Ingress on the same host is not throttled. The
// echo backend's answer repeats the request URI, so a long query makes a large response.
func TestLimitRate(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: slow
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/limit-rate: "32"
    nginx.ingress.kubernetes.io/proxy-buffering: "on"
spec:
  ingressClassName: nginx
  rules:
  - host: bandwidth.example.com
    http:
      paths:
      - {path: /slow, pathType: Prefix, backend: {service: {name: bandwidth, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: unbuffered
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/limit-rate: "32"
spec:
  ingressClassName: nginx
  rules:
  - host: bandwidth.example.com
    http:
      paths:
      - {path: /unbuffered, pathType: Prefix, backend: {service: {name: bandwidth, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fast, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: bandwidth.example.com
    http:
      paths:
      - {path: /fast, pathType: Prefix, backend: {service: {name: bandwidth, port: {number: 80}}}}
{{.Service "e2e" "bandwidth" "web"}}
`)
	query := "?q=" + strings.Repeat("a", 40<<10)
	timed := func(t *testing.T, path string) (time.Duration, int) {
		t.Helper()
		start := time.Now()
		res := do(t, request{url: "http://bandwidth.example.com" + path + query})
		if res.status != 200 {
			t.Fatalf("%s: status %d", path, res.status)
		}
		return time.Since(start), len(res.body)
	}
	t.Run("throttled", func(t *testing.T) {
		took, size := timed(t, "/slow")
		// At 32 KiB/s a response of size bytes takes size/32Ki seconds, less the bucket's
		// first allowance; well above what the unthrottled route takes.
		want := time.Duration(float64(size)/(32<<10)*float64(time.Second)) / 2
		if size < 64<<10 || took < want {
			t.Errorf("%d bytes in %v, want at least %v at 32 KiB/s", size, took, want)
		}
	})
	t.Run("unbuffered-not-throttled", func(t *testing.T) {
		if took, size := timed(t, "/unbuffered"); took > time.Second {
			t.Errorf("%d bytes in %v with limit-rate but proxy-buffering off", size, took)
		}
	})
	t.Run("other-ingress-not-throttled", func(t *testing.T) {
		if took, size := timed(t, "/fast"); took > time.Second {
			t.Errorf("%d bytes in %v without limit-rate", size, took)
		}
	})
}
