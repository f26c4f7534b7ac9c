package dataplane

import (
	"fmt"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// templateVariable finds nginx variables ($name, ${name}) in a RouteFilter header value.
var templateVariable = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// envoyFormatter is the Envoy header formatter of an nginx variable ("" = none).
// $request_uri is the request's :path when the route's request headers are evaluated,
// before any path rewrite; $req_id is X-Request-ID, which the data plane keeps from the
// client or generates, as ingress-nginx's $req_id.
func envoyFormatter(name string) string {
	switch name {
	case "http_host":
		return "%REQ(:AUTHORITY)%"
	case "remote_addr":
		return "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
	case "request_method":
		return "%REQ(:METHOD)%"
	case "request_uri":
		return "%REQ(:PATH)%"
	case "scheme":
		return "%REQ(:SCHEME)%"
	case "req_id":
		return "%REQ(x-request-id)%"
	}
	if h, ok := strings.CutPrefix(name, "http_"); ok && h != "" {
		return "%REQ(" + strings.ReplaceAll(strings.ToLower(h), "_", "-") + ")%"
	}
	return ""
}

// headerTemplate translates a RouteFilter header value into an Envoy formatter string:
// literal text escaped, variables replaced.
func headerTemplate(v string) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range templateVariable.FindAllStringSubmatchIndex(v, -1) {
		b.WriteString(escapeFormatter(v[last:m[0]]))
		name := v[m[2]:m[3]]
		f := envoyFormatter(name)
		if f == "" {
			return "", fmt.Errorf("variable $%s is not one the data plane evaluates", name)
		}
		b.WriteString(f)
		last = m[1]
	}
	b.WriteString(escapeFormatter(v[last:]))
	return b.String(), nil
}

// headerTemplateOptions are the Envoy header options of RouteFilter headers.
func headerTemplateOptions(hs []v1alpha1.HeaderTemplate) ([]*corev3.HeaderValueOption, error) {
	var out []*corev3.HeaderValueOption
	for _, h := range hs {
		v, err := headerTemplate(h.Value)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Name, err)
		}
		o := setHeader(strings.ToLower(h.Name), v)
		if h.Append {
			o.AppendAction = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		out = append(out, o)
	}
	return out, nil
}
