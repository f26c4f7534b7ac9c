package e2e

import "testing"

// TestRegexMode: a host where one Ingress has use-regex or a rewrite-target switches every
// location of the host, whatever its Ingress or pathType, to a case-insensitive regex
// anchored only at the start, tried longest path string first; the first match wins
// (§3.1, §3.2, §4). rewrite-target replaces the whole path and keeps the query.
func TestRegexMode(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rewrite
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: /something(/|$)(.*), pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: strip
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:01Z"
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: /strip, pathType: Prefix, backend: {service: {name: solver, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: re
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:02Z"
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: "/foo/bar/[a-z]{3}", pathType: ImplementationSpecific, backend: {service: {name: v2, port: {number: 80}}}}
      - {path: "/id/[0-9]+", pathType: ImplementationSpecific, backend: {service: {name: v2, port: {number: 80}}}}
      - {path: "/t/.+", pathType: ImplementationSpecific, backend: {service: {name: v2, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: literal
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:03Z"
spec:
  ingressClassName: nginx
  rules:
  - host: regex.example.com
    http:
      paths:
      - {path: /foo/bar/bar, pathType: Exact, backend: {service: {name: errors, port: {number: 80}}}}
      - {path: /HEAD, pathType: Exact, backend: {service: {name: pool-a, port: {number: 80}}}}
      - {path: "/t/.*", pathType: ImplementationSpecific, backend: {service: {name: errors, port: {number: 80}}}}
      - {path: /foo, pathType: Prefix, backend: {service: {name: pool-b, port: {number: 80}}}}
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}{{.Service "e2e" "v2" "v2"}}{{.Service "e2e" "solver" "solver"}}
{{.Service "e2e" "errors" "errors"}}{{.Service "e2e" "pool-a" "pool-a"}}{{.Service "e2e" "pool-b" "pool-b"}}
`)
	h := "http://regex.example.com"
	check(t, "capture-groups-replace-whole-path-keep-query", request{url: h + "/something/new/x?a=1&b=2"}, expect{status: 200, backend: "api", uri: "/new/x?a=1&b=2"})
	check(t, "capture-group-empty", request{url: h + "/something"}, expect{status: 200, backend: "api", uri: "/"})
	check(t, "capture-case-insensitive", request{url: h + "/SOMETHING/Abc"}, expect{status: 200, backend: "api", uri: "/Abc"})
	check(t, "capture-pattern-not-matching-falls-through", request{url: h + "/somethingelse/x"}, expect{status: 200, backend: "web", uri: "/somethingelse/x"})
	check(t, "target-without-groups-gives-slash", request{url: h + "/strip/new/deep"}, expect{status: 200, backend: "solver", uri: "/"})
	check(t, "target-without-groups-keeps-query", request{url: h + "/strip/x?q=1"}, expect{status: 200, backend: "solver", uri: "/?q=1"})
	check(t, "rewrite-path-is-prefix-regex", request{url: h + "/STRIPPED"}, expect{status: 200, backend: "solver", uri: "/"})
	check(t, "longer-regex-beats-literal-exact", request{url: h + "/foo/bar/bar"}, expect{status: 200, backend: "v2", uri: "/foo/bar/bar"})
	check(t, "regex-matches", request{url: h + "/foo/bar/baz"}, expect{status: 200, backend: "v2", uri: "/foo/bar/baz"})
	check(t, "regex-anchored-at-start-only", request{url: h + "/id/123abc"}, expect{status: 200, backend: "v2", uri: "/id/123abc"})
	check(t, "regex-not-matching", request{url: h + "/id/abc"}, expect{status: 200, backend: "web"})
	check(t, "exact-becomes-prefix-regex", request{url: h + "/headers"}, expect{status: 200, backend: "pool-a", uri: "/headers"})
	check(t, "exact-becomes-case-insensitive", request{url: h + "/head"}, expect{status: 200, backend: "pool-a"})
	check(t, "prefix-matches-longer-segment", request{url: h + "/foobar"}, expect{status: 200, backend: "pool-b", uri: "/foobar"})
	check(t, "prefix-case-insensitive", request{url: h + "/FOO/bar/x"}, expect{status: 200, backend: "pool-b", uri: "/FOO/bar/x"})
	check(t, "same-length-greater-string-first", request{url: h + "/t/x"}, expect{status: 200, backend: "v2", uri: "/t/x"})
	check(t, "same-length-second-when-first-fails", request{url: h + "/t/"}, expect{status: 200, backend: "errors", uri: "/t/"})
	check(t, "root-catches-the-rest", request{url: h + "/other"}, expect{status: 200, backend: "web", uri: "/other"})
}
