package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGatewayAPI: hand-written Gateway API objects served by gatebridge's GatewayClass, with
// the standard semantics: matches (path, method, header, query) and their precedence,
// header modifiers (values are literal, "%" included), redirects, rewrites, mirrors and
// weighted backends.
func TestGatewayAPI(t *testing.T) {
	apply(t, `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatebridge}
spec: {controllerName: gatebridge.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: e2e}
spec:
  gatewayClassName: gatebridge
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matches, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  hostnames: [gwapi.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /m}, method: POST}]
    backendRefs: [{name: api, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /h}, headers: [{name: X-Version, value: v2}]}]
    backendRefs: [{name: v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /h}, headers: [{name: X-Track, type: RegularExpression, value: "beta-[0-9]+"}]}]
    backendRefs: [{name: pool-b, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /q}, queryParams: [{name: env, value: beta}]}]
    backendRefs: [{name: pool-a, port: 80}]
  - matches: [{path: {type: Exact, value: /exact}}]
    backendRefs: [{name: solver, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /slash/}}]
    backendRefs: [{name: errors, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: no-such-service, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: filters, namespace: e2e}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [gwapi-filters.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Set, value: "50% off %REQ(host)%"}]
        add: [{name: X-Add, value: added}]
        remove: [X-Remove]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Resp, value: "100%"}]
        add: [{name: X-Resp-Add, value: "yes"}]
        remove: [X-Drop]
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: new.example.com
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
        statusCode: 301
    backendRefs: [{name: web, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /foo}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        hostname: rewritten.internal
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /}
    backendRefs: [{name: api, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /full}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplaceFullPath, replaceFullPath: /replaced}
    backendRefs: [{name: api, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /mirrored}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: mirror, port: 80}}
    backendRefs: [{name: v2, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /split}}]
    backendRefs: [{name: pool-a, port: 80, weight: 1}, {name: pool-b, port: 80, weight: 1}, {name: errors, port: 80, weight: 0}]
  - matches: [{path: {type: PathPrefix, value: /all}}]
    backendRefs: [{name: pool-a, port: 80, weight: 0}, {name: pool-b, port: 80, weight: 5}]
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}{{.Service "e2e" "solver" "solver"}}
{{.Service "e2e" "errors" "errors"}}{{.Service "e2e" "pool-a" "pool-a"}}{{.Service "e2e" "pool-b" "pool-b"}}{{.Service "e2e" "mirror" "mirror"}}
`)
	h := "http://gwapi.example.com"
	check(t, "prefix-root", request{url: h + "/x"}, expect{status: 200, backend: "web", uri: "/x"})
	check(t, "method-match", request{method: "POST", url: h + "/m/1", body: "x"}, expect{status: 200, backend: "api", method: "POST"})
	check(t, "method-mismatch", request{url: h + "/m/1"}, expect{status: 200, backend: "web"})
	check(t, "header-exact-match", request{url: h + "/h", headers: map[string]string{"X-Version": "v2"}}, expect{status: 200, backend: "v2"})
	check(t, "header-exact-mismatch", request{url: h + "/h", headers: map[string]string{"X-Version": "V2"}}, expect{status: 200, backend: "web"})
	check(t, "header-regex-match", request{url: h + "/h", headers: map[string]string{"X-Track": "beta-42"}}, expect{status: 200, backend: "pool-b"})
	check(t, "query-match", request{url: h + "/q?a=1&env=beta"}, expect{status: 200, backend: "pool-a", uri: "/q?a=1&env=beta"})
	check(t, "query-mismatch", request{url: h + "/q?env=prod"}, expect{status: 200, backend: "web"})
	check(t, "exact-path", request{url: h + "/exact"}, expect{status: 200, backend: "solver"})
	check(t, "exact-not-prefix", request{url: h + "/exact/x"}, expect{status: 200, backend: "web"})
	check(t, "prefix-trailing-slash-value-serves-bare-path", request{url: h + "/slash"}, expect{status: 200, backend: "errors", uri: "/slash"})
	check(t, "prefix-segment-wise", request{url: h + "/slashes"}, expect{status: 200, backend: "web"})
	check(t, "unresolvable-backend-500", request{url: h + "/missing"}, expect{status: 500, local: true})
	check(t, "unknown-host-404", request{url: "http://gwapi-other.example.com/"}, expect{status: 404, local: true})

	f := "http://gwapi-filters.example.com"
	check(t, "request-header-modifier", request{url: f + "/headers", headers: map[string]string{"X-Set": "client", "X-Add": "client", "X-Remove": "gone", "X-Echo-Response-Header": "X-Drop: 1"}},
		expect{status: 200, backend: "web",
			upstream: map[string]string{"X-Set": "50% off %REQ(host)%", "X-Remove": ""},
			headers:  map[string]string{"X-Resp": "100%", "X-Resp-Add": "yes", "X-Drop": ""},
			also: func(t *testing.T, res result) {
				if res.backend == nil {
					return
				}
				if got := strings.Join(res.backend.Headers.Values("X-Add"), ","); got != "client,added" {
					t.Errorf("backend received X-Add %q, want the client's value and \"added\"", got)
				}
			}})
	check(t, "redirect-hostname-prefix-301", request{url: f + "/old/page?q=1"}, expect{status: 301, location: "http://new.example.com/new/page?q=1", local: true})
	check(t, "rewrite-prefix-to-root", request{url: f + "/foo/bar?x=1"}, expect{status: 200, backend: "api", uri: "/bar?x=1", host: "rewritten.internal"})
	check(t, "rewrite-prefix-exact", request{url: f + "/foo"}, expect{status: 200, backend: "api", uri: "/"})
	check(t, "rewrite-full-path", request{url: f + "/full/a/b?k=v"}, expect{status: 200, backend: "api", uri: "/replaced?k=v"})

	before := env.mirror.Count()
	check(t, "mirror-primary-answers", request{url: f + "/mirrored/x"}, expect{status: 200, backend: "v2"})
	t.Run("mirror-received-copy", func(t *testing.T) {
		deadline := time.Now().Add(3 * time.Second)
		for env.mirror.Count() == before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if env.mirror.Count() == before {
			t.Fatal("the mirror backend received nothing")
		}
		if last, _ := env.mirror.Last(); last.URI != "/mirrored/x" {
			t.Errorf("mirror received %q, want /mirrored/x", last.URI)
		}
	})

	t.Run("weighted-backends", func(t *testing.T) {
		seen := map[string]int{}
		for range 40 {
			if res := do(t, request{url: f + "/split"}); res.backend != nil {
				seen[res.backend.Server]++
			}
		}
		if seen["pool-a"] == 0 || seen["pool-b"] == 0 || seen["errors"] != 0 {
			t.Errorf("40 requests at weights 1/1/0 reached %v, want pool-a and pool-b, never errors", seen)
		}
	})
	for i := range 5 {
		check(t, fmt.Sprintf("weight-0-never-chosen/%d", i), request{url: f + "/all"}, expect{status: 200, backend: "pool-b"})
	}
}
