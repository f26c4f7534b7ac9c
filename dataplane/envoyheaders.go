package dataplane

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// Envoy checks the headers a route adds and removes beyond its field rules
// (protoc-gen-validate), when it loads the route table, and refuses the whole table for one
// bad header: it never lets a route modify or remove Host or a pseudo-header (":-prefixed
// or host headers may not be modified"), and it parses every added value as a format
// string, where "%" starts a command ("Couldn't find valid command", "Not supported field").
// headersWhy says so for a route before it is encoded, as encodeRouteWhy checks its fields.

// formatCommands are the format commands gatebridge writes into header values; a value
// with another one did not come from the translator's escaping (escapeFormatter) and
// Envoy may not know it.
var formatCommands = map[string]bool{
	"REQ":                                    true,
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": true,
	"DYNAMIC_METADATA":                       true,
	"PATH":                                   true,
	"RESPONSE_CODE":                          true,
}

// routeHeadersWhy says why Envoy would refuse the headers route r adds or removes, its
// weighted clusters' included ("" when it would not).
func routeHeadersWhy(r *routev3.Route) string {
	if why := headerEditsWhy("route", r.RequestHeadersToAdd, r.RequestHeadersToRemove, r.ResponseHeadersToAdd, r.ResponseHeadersToRemove); why != "" {
		return why
	}
	if wc := r.GetRoute().GetWeightedClusters(); wc != nil {
		for _, c := range wc.Clusters {
			if why := headerEditsWhy("backend "+c.Name, c.RequestHeadersToAdd, c.RequestHeadersToRemove, c.ResponseHeadersToAdd, c.ResponseHeadersToRemove); why != "" {
				return why
			}
		}
	}
	return ""
}

// headerEditsWhy checks one set of header edits (where: whose they are).
func headerEditsWhy(where string, reqAdd []*corev3.HeaderValueOption, reqRemove []string, respAdd []*corev3.HeaderValueOption, respRemove []string) string {
	for _, adds := range [][]*corev3.HeaderValueOption{reqAdd, respAdd} {
		for _, o := range adds {
			if why := headerOptionWhy(o.GetHeader().GetKey(), o.GetHeader().GetValue()); why != "" {
				return where + ": " + why
			}
		}
	}
	for _, removes := range [][]string{reqRemove, respRemove} {
		for _, name := range removes {
			if !modifiableHeader(name) {
				return fmt.Sprintf("%s: header %q cannot be removed (Envoy never lets a route remove Host or a pseudo-header)", where, name)
			}
		}
	}
	return ""
}

// headerOptionWhy says why Envoy would refuse to add header key with value ("" when it
// would not).
func headerOptionWhy(key, value string) string {
	if !modifiableHeader(key) {
		return fmt.Sprintf("header %q cannot be set (Envoy never lets a route modify Host or a pseudo-header)", key)
	}
	if why := formatWhy(value); why != "" {
		return fmt.Sprintf("header %s value %.100q: %s", key, value, why)
	}
	return ""
}

// modifiableHeader reports whether Envoy lets a route add or remove header name: not Host,
// not a pseudo-header.
func modifiableHeader(name string) bool {
	return !strings.HasPrefix(name, ":") && !strings.EqualFold(name, "host")
}

// formatWhy says why Envoy would not parse v as a format string ("" when it would): "%%" is
// a literal "%", and any other "%" starts a command of formatCommands, %NAME%,
// %NAME(args)% or %NAME(args):LENGTH%.
func formatWhy(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			i++
			continue
		}
		j := i + 1
		for j < len(v) && (v[j] >= 'A' && v[j] <= 'Z' || v[j] >= '0' && v[j] <= '9' || v[j] == '_') {
			j++
		}
		name := v[i+1 : j]
		if !formatCommands[name] {
			return fmt.Sprintf("%%%s is not a format command gatebridge writes (a literal %% is written %%%%)", name)
		}
		if j < len(v) && v[j] == '(' {
			end := strings.IndexByte(v[j:], ')')
			if end < 0 {
				return fmt.Sprintf("%%%s( is not closed", name)
			}
			j += end + 1
			if j < len(v) && v[j] == ':' {
				j++
				for j < len(v) && v[j] >= '0' && v[j] <= '9' {
					j++
				}
			}
		}
		if j >= len(v) || v[j] != '%' {
			return fmt.Sprintf("%%%s is not closed with %%", name)
		}
		i = j
	}
	return ""
}
