package ingressgen

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// InvalidCase is an object the API server refuses, with the field it names and a piece of
// what it says.
type InvalidCase struct {
	Name   string
	Object map[string]any
	// Field is the field path of one expected problem; Message a substring of its message.
	Field, Message string
}

func httpRoute(name string) map[string]any {
	return map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gatebridge", "namespace": "gatebridge-system"}},
			"hostnames":  []any{"shop.example.com"},
			"rules": []any{map[string]any{
				"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}},
				"backendRefs": []any{map[string]any{"name": "web", "port": int64(80)}},
			}},
		},
	}
}

func gateway(name string) map[string]any {
	return map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "Gateway",
		"metadata":   map[string]any{"name": name, "namespace": "gatebridge-system"},
		"spec": map[string]any{
			"gatewayClassName": "gatebridge",
			"listeners": []any{
				map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP"},
			},
		},
	}
}

// set sets the value at a dotted path with [i] indexes in obj, and returns obj.
func set(obj map[string]any, path string, value any) map[string]any {
	var cur any = obj
	parts := splitPath(path)
	for i, p := range parts {
		m := cur.(map[string]any)
		last := i == len(parts)-1
		if p.index < 0 {
			if last {
				m[p.key] = value
				return obj
			}
			if _, ok := m[p.key]; !ok {
				m[p.key] = map[string]any{}
			}
			cur = m[p.key]
			continue
		}
		list := m[p.key].([]any)
		if last {
			list[p.index] = value
			return obj
		}
		cur = list[p.index]
	}
	return obj
}

type pathPart struct {
	key   string
	index int
}

func splitPath(path string) []pathPart {
	var out []pathPart
	for _, seg := range strings.Split(path, ".") {
		p := pathPart{key: seg, index: -1}
		if k, idx, ok := strings.Cut(seg, "["); ok {
			p.key = k
			fmt.Sscanf(strings.TrimSuffix(idx, "]"), "%d", &p.index)
		}
		out = append(out, p)
	}
	return out
}

// InvalidObjects are hand-made objects of the kinds convert emits, each breaking one rule
// of the CRDs (schema patterns and limits, CEL rules, list keys, ObjectMeta names, unknown
// fields).
func InvalidObjects() []InvalidCase {
	rewrite := func(path string) map[string]any {
		r := httpRoute("rewrite-too-long")
		rule := r["spec"].(map[string]any)["rules"].([]any)[0].(map[string]any)
		rule["filters"] = []any{map[string]any{"type": "URLRewrite", "urlRewrite": map[string]any{
			"path": map[string]any{"type": "ReplaceFullPath", "replaceFullPath": path}}}}
		return r
	}
	dupListeners := gateway("duplicate-listeners")
	dupListeners["spec"].(map[string]any)["listeners"] = []any{
		map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP"},
		map[string]any{"name": "http", "port": int64(8080), "protocol": "HTTP"},
	}
	httpWithTLS := gateway("http-with-tls")
	httpWithTLS["spec"].(map[string]any)["listeners"] = []any{
		map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP", "hostname": "shop.example.com",
			"tls": map[string]any{"mode": "Terminate", "certificateRefs": []any{map[string]any{"name": "shop-tls"}}}},
	}
	return []InvalidCase{
		{Name: "path without leading slash", Object: set(httpRoute("no-slash"), "spec.rules[0].matches[0].path.value", "api"),
			Field: "spec.rules[0].matches[0].path", Message: "must be an absolute path"},
		{Name: "uppercase hostname", Object: set(httpRoute("uppercase-host"), "spec.hostnames", []any{"Shop.Example.com"}),
			Field: "spec.hostnames[0]", Message: "should match"},
		{Name: "placeholder hostname", Object: set(httpRoute("placeholder-host"), "spec.hostnames", []any{"registry.<your domain>"}),
			Field: "spec.hostnames[0]", Message: "should match"},
		{Name: "replaceFullPath over 1024 characters", Object: rewrite("/" + long("a", 1100)),
			Field: "spec.rules[0].filters[0].urlRewrite.path.replaceFullPath", Message: "Too long"},
		{Name: "listener name too long", Object: set(gateway("long-listener"), "spec.listeners[0].name", long("l", 300)),
			Field: "spec.listeners[0].name", Message: "Too long"},
		{Name: "listener hostname *", Object: set(gateway("star-listener"), "spec.listeners[0].hostname", "*"),
			Field: "spec.listeners[0].hostname", Message: "should match"},
		{Name: "duplicate listener names", Object: dupListeners, Field: "spec.listeners[1]", Message: "Duplicate value"},
		{Name: "tls on an HTTP listener", Object: httpWithTLS, Field: "spec.listeners", Message: "tls must not be specified"},
		{Name: "object name not a DNS subdomain", Object: set(httpRoute("x"), "metadata.name", "Bad_Name"),
			Field: "metadata.name", Message: "a lowercase RFC 1123 subdomain"},
		{Name: "object name longer than 253", Object: set(httpRoute("x"), "metadata.name", long("n", 254)),
			Field: "metadata.name", Message: "must be no more than 253"},
		{Name: "label value longer than 63", Object: set(httpRoute("long-label"), "metadata.labels", map[string]any{"gatebridge.dev/source-ingress": long("v", 64)}),
			Field: "metadata.labels", Message: "must be no more than 63"},
		{Name: "unknown field", Object: set(httpRoute("unknown-field"), "spec.bogus", "x"),
			Field: "spec.bogus", Message: "unknown field"},
		{Name: "backend port out of range", Object: set(httpRoute("port-range"), "spec.rules[0].backendRefs[0].port", int64(70000)),
			Field: "spec.rules[0].backendRefs[0].port", Message: "should be less than or equal to 65535"},
		{Name: "more than 16 rules", Object: set(httpRoute("many-rules"), "spec.rules", repeat(httpRoute("r")["spec"].(map[string]any)["rules"].([]any)[0], 17)),
			Field: "spec.rules", Message: "Too many"},
		{Name: "RouteFilter with neither block", Object: map[string]any{
			"apiVersion": "gatebridge.dev/v1alpha1", "kind": "RouteFilter",
			"metadata": map[string]any{"name": "empty", "namespace": "default"}, "spec": map[string]any{}},
			Field: "spec", Message: "exactly one of regexRewrite, redirect, response or headers must be set"},
		{Name: "RouteFilter redirect URL over 4096", Object: map[string]any{
			"apiVersion": "gatebridge.dev/v1alpha1", "kind": "RouteFilter",
			"metadata": map[string]any{"name": "long-url", "namespace": "default"},
			"spec":     map[string]any{"redirect": map[string]any{"statusCode": int64(301), "url": "https://example.com/" + long("u", 4100)}}},
			Field: "spec.redirect.url", Message: "Too long"},
		{Name: "TrafficPolicy negative body size", Object: map[string]any{
			"apiVersion": "gatebridge.dev/v1alpha1", "kind": "TrafficPolicy",
			"metadata": map[string]any{"name": "negative", "namespace": "default"},
			"spec": map[string]any{
				"targetRefs":  []any{map[string]any{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web"}},
				"requestBody": map[string]any{"maxBytes": int64(-1)}}},
			Field: "spec.requestBody.maxBytes", Message: "should be greater than or equal to 0"},
		{Name: "kind not served", Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRouteTypo",
			"metadata": map[string]any{"name": "typo", "namespace": "default"}},
			Message: "no matches for kind"},
	}
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = runtime.DeepCopyJSONValue(v)
	}
	return out
}

// Mutate changes one randomly chosen field of obj (decoded JSON; changed in place) in a
// way the API server often refuses: a string made uppercase, overlong, emptied or stripped
// of its leading "/", a number out of range, a list emptied or an element duplicated, an
// unknown field added. It returns what it did.
func Mutate(r *rand.Rand, obj map[string]any) string {
	var leaves []leaf
	collect(obj, "", &leaves)
	if len(leaves) == 0 {
		return "nothing to mutate"
	}
	l := leaves[r.Intn(len(leaves))]
	return l.mutate(r)
}

// leaf is one place in the object that can be mutated.
type leaf struct {
	path  string
	get   func() any
	setTo func(any)
}

func collect(v any, path string, out *[]leaf) {
	switch c := v.(type) {
	case map[string]any:
		if path != "" && path != "metadata" {
			m := c
			*out = append(*out, leaf{path: path, get: func() any { return m }, setTo: func(any) {}})
		}
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if path == "" && (k == "apiVersion" || k == "kind") {
				continue
			}
			if path == "metadata" && k != "name" && k != "labels" {
				continue
			}
			child := joinPath(path, k)
			m, key := c, k
			switch c[k].(type) {
			case map[string]any, []any:
				collect(c[k], child, out)
			default:
				*out = append(*out, leaf{path: child, get: func() any { return m[key] }, setTo: func(x any) { m[key] = x }})
			}
		}
	case []any:
		list := c
		*out = append(*out, leaf{path: path, get: func() any { return list }, setTo: func(any) {}})
		for i := range c {
			child := fmt.Sprintf("%s[%d]", path, i)
			idx := i
			switch c[i].(type) {
			case map[string]any, []any:
				collect(c[i], child, out)
			default:
				*out = append(*out, leaf{path: child, get: func() any { return list[idx] }, setTo: func(x any) { list[idx] = x }})
			}
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (l leaf) mutate(r *rand.Rand) string {
	switch v := l.get().(type) {
	case string:
		var nv string
		switch r.Intn(6) {
		case 0:
			nv = strings.ToUpper(v)
		case 1:
			nv = v + long("z", 1100)
		case 2:
			nv = ""
		case 3:
			nv = strings.TrimPrefix(v, "/") + " x"
		case 4:
			nv = "*"
		default:
			nv = "Bad_Value"
		}
		l.setTo(nv)
		return fmt.Sprintf("%s: %q → %q", l.path, short(v), short(nv))
	case int64, float64:
		nv := []int64{-1, 0, 70000, 1 << 40}[r.Intn(4)]
		l.setTo(nv)
		return fmt.Sprintf("%s: %v → %d", l.path, v, nv)
	case bool:
		l.setTo(!v)
		return fmt.Sprintf("%s: %v → %v", l.path, v, !v)
	case map[string]any:
		if r.Intn(2) == 0 {
			v["bogusField"] = "x"
			return l.path + ": unknown field added"
		}
		for k := range v {
			delete(v, k)
			return l.path + "." + k + ": removed"
		}
		return l.path + ": empty object"
	case []any:
		if len(v) > 0 && r.Intn(2) == 0 {
			v[len(v)-1] = runtime.DeepCopyJSONValue(v[0])
			return l.path + ": last element replaced by a copy of the first"
		}
		for i := range v {
			v[i] = "not-an-object"
			return fmt.Sprintf("%s[%d]: replaced by a string", l.path, i)
		}
		return l.path + ": empty list"
	}
	return l.path + ": unchanged"
}

func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
