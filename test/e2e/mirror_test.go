package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestMirrorTarget: mirror-target ending in $request_uri sends a copy of every request of
// the Ingress, with its path and query, method and body, to the target's host and port,
// with the Host of mirror-host; the client gets the backend's answer whatever the mirror
// answers. The auth echo server records what it receives, so it plays the mirror.
func TestMirrorTarget(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: mirrored
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/mirror-target: "http://127.0.0.1:{{.Port "auth"}}$request_uri"
    nginx.ingress.kubernetes.io/mirror-host: shadow.example.com
spec:
  ingressClassName: nginx
  rules:
  - host: mirror.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: mirrored, port: {number: 80}}}}
{{.Service "e2e" "mirrored" "web"}}
`)
	// mirrored waits for the mirror to have seen a request for uri (Envoy does not wait for
	// it before answering the client).
	mirrored := func(t *testing.T, uri string) echo.Request {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if last, ok := env.auth.Last(); ok && last.URI == uri {
				return last
			}
			if time.Now().After(deadline) {
				last, _ := env.auth.Last()
				t.Fatalf("the mirror saw no request for %s (last: %s %s)", uri, last.Method, last.URI)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i, method := range []string{"GET", "POST"} {
		uri := fmt.Sprintf("/orders/%d?page=2&sort=asc", i)
		check(t, "copy-of-"+method, request{method: method, url: "http://mirror.example.com" + uri, body: map[bool]string{true: "a=1"}[method == "POST"]},
			expect{status: 200, backend: "web", method: method, also: func(t *testing.T, res result) {
				got := mirrored(t, uri)
				if got.Method != method {
					t.Errorf("mirror got method %s, want %s", got.Method, method)
				}
				if got.Host != "shadow.example.com" {
					t.Errorf("mirror got Host %q, want mirror-host shadow.example.com", got.Host)
				}
			}})
	}
}
