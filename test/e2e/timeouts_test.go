package e2e

import (
	"fmt"
	"testing"
)

// TestTimeoutsAndRetries: proxy-read-timeout is an idle timeout in seconds answered 504
// when the backend stays silent longer; the defaults (60 s idle, no total deadline) let a
// slow backend answer; connection failures are retried on another endpoint (nginx
// `proxy_next_upstream error timeout`, 3 tries) for every method, since nothing was sent;
// proxy-next-upstream "off" does not retry (§3.10).
func TestTimeoutsAndRetries(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: defaults, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: timeouts.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /flaky, pathType: Prefix, backend: {service: {name: flaky, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: read1
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/proxy-read-timeout: "1"}
spec:
  ingressClassName: nginx
  rules:
  - host: timeouts.example.com
    http:
      paths:
      - {path: /slow, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: noretry
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/proxy-next-upstream: "off"}
spec:
  ingressClassName: nginx
  rules:
  - host: timeouts.example.com
    http:
      paths:
      - {path: /noretry, pathType: Prefix, backend: {service: {name: flaky-noretry, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
---
apiVersion: v1
kind: Service
metadata: {name: flaky, namespace: e2e}
spec: {ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: flaky-dead, namespace: e2e, labels: {kubernetes.io/service-name: flaky}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: {{.DeadPort}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: flaky-live, namespace: e2e, labels: {kubernetes.io/service-name: flaky}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: {{.Port "web"}}}]
---
apiVersion: v1
kind: Service
metadata: {name: flaky-noretry, namespace: e2e}
spec: {ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: flaky-noretry-dead, namespace: e2e, labels: {kubernetes.io/service-name: flaky-noretry}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: {{.DeadPort}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: flaky-noretry-live, namespace: e2e, labels: {kubernetes.io/service-name: flaky-noretry}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: {{.Port "web"}}}]
`)
	h := "http://timeouts.example.com"
	delay := func(d string) map[string]string { return map[string]string{"X-Echo-Delay": d} }
	check(t, "read-timeout-1s-backend-silent-2s-504", request{url: h + "/slow", headers: delay("2s")}, expect{status: 504, local: true})
	check(t, "read-timeout-1s-backend-answers-in-300ms", request{url: h + "/slow", headers: delay("300ms")}, expect{status: 200, backend: "api"})
	check(t, "default-timeouts-2s-backend-answers", request{url: h + "/wait", headers: delay("2s")}, expect{status: 200, backend: "web"})
	for i := range 10 {
		check(t, fmt.Sprintf("dead-endpoint-get-retried/%d", i), request{url: h + "/flaky/g"}, expect{status: 200, backend: "web", method: "GET"})
	}
	for i := range 10 {
		check(t, fmt.Sprintf("dead-endpoint-post-retried/%d", i), request{method: "POST", url: h + "/flaky/p", body: "payload"}, expect{status: 200, backend: "web", method: "POST",
			also: func(t *testing.T, res result) {
				if res.backend != nil && res.backend.BodyBytes != 7 {
					t.Errorf("backend read %d body bytes, want 7", res.backend.BodyBytes)
				}
			}})
	}
	t.Run("next-upstream-off-not-retried", func(t *testing.T) {
		codes := map[int]int{}
		for range 10 {
			codes[do(t, request{url: h + "/noretry"}).status]++
		}
		if codes[200] == 0 || codes[502] == 0 || codes[200]+codes[502] != 10 {
			t.Errorf("10 requests over a dead and a live endpoint without retries: %v, want both 200 and 502", codes)
		}
	})
}
