package authz

import (
	"net"
	"strings"
)

// request is what Check knows about the client request, taken from the CheckRequest.
type request struct {
	method    string
	scheme    string // "http" or "https"
	authority string // Host header as sent (nginx $http_host)
	uri       string // path and query as sent (nginx $request_uri)
	clientIP  string // nginx $remote_addr
	requestID string // nginx $req_id
	headers   []headerField
}

type headerField struct {
	name  string // lower case
	value string
}

// header returns the client's header name (lower case), joining repeated fields with ", "
// (nginx's rule for $http_* variables).
func (r *request) header(name string) (string, bool) {
	var (
		vals []string
		seen bool
	)
	for _, h := range r.headers {
		if h.name == name {
			vals, seen = append(vals, h.value), true
		}
	}
	return strings.Join(vals, ", "), seen
}

// host is nginx's $host: the Host header's host part, lower case, without the port.
func (r *request) host() string {
	return strings.ToLower(hostWithoutPort(r.authority))
}

func hostWithoutPort(authority string) string {
	if strings.HasPrefix(authority, "[") {
		if i := strings.IndexByte(authority, ']'); i >= 0 {
			return authority[:i+1]
		}
		return authority
	}
	if h, _, ok := strings.Cut(authority, ":"); ok {
		return h
	}
	return authority
}

// path is nginx's $uri (approximated without normalisation) and args its $args.
func (r *request) path() string {
	p, _, _ := strings.Cut(r.uri, "?")
	return p
}

func (r *request) args() (string, bool) {
	_, q, ok := strings.Cut(r.uri, "?")
	return q, ok
}

// tmpl is a string with nginx variables ($name or ${name}), parsed once per SetPolicies.
type tmpl struct {
	parts []tmplPart
}

type tmplPart struct {
	text  string
	isVar bool
}

// parseTemplate splits s into literal text and variable references. unknown lists the
// referenced variables that expand to nothing (nginx would refuse such a configuration). A '$'
// not followed by a variable name is kept literally.
func parseTemplate(s string) (t tmpl, unknown []string) {
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			i++
			continue
		}
		name, width := "", 0
		if i+1 < len(s) && s[i+1] == '{' {
			if end := strings.IndexByte(s[i+2:], '}'); end > 0 && isVarName(s[i+2:i+2+end]) {
				name, width = s[i+2:i+2+end], end+3
			}
		} else {
			j := i + 1
			for j < len(s) && isVarNameByte(s[j]) {
				j++
			}
			if j > i+1 {
				name, width = s[i+1:j], j-i
			}
		}
		if name == "" {
			lit.WriteByte('$')
			i++
			continue
		}
		flush()
		t.parts = append(t.parts, tmplPart{text: name, isVar: true})
		if !knownVariable(name) {
			unknown = append(unknown, name)
		}
		i += width
	}
	flush()
	return t, unknown
}

func isVarNameByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isVarName(s string) bool {
	for i := range len(s) {
		if !isVarNameByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func (t tmpl) expand(r *request) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.isVar {
			v, _ := lookupVariable(p.text, r)
			b.WriteString(v)
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// Variable prefixes resolved per request.
const (
	varPrefixHTTP   = "http_"
	varPrefixArg    = "arg_"
	varPrefixCookie = "cookie_"
)

func knownVariable(name string) bool {
	_, ok := lookupVariable(name, nil)
	return ok
}

// lookupVariable resolves the nginx variables this package supports. With r == nil it only
// reports whether name is supported. Supported: $host, $http_host, $best_http_host, $scheme,
// $pass_access_scheme, $request_uri, $escaped_request_uri, $uri, $document_uri, $args,
// $query_string, $is_args, $request_method, $remote_addr, $req_id, $request_id,
// $http_<header>, $arg_<name> and $cookie_<name>.
func lookupVariable(name string, r *request) (string, bool) {
	known := func(f func() string) (string, bool) {
		if r == nil {
			return "", true
		}
		return f(), true
	}
	switch name {
	case "host":
		return known(func() string { return r.host() })
	case "http_host", "best_http_host":
		return known(func() string { return r.authority })
	case "scheme", "pass_access_scheme":
		return known(func() string { return r.scheme })
	case "request_uri":
		return known(func() string { return r.uri })
	case "escaped_request_uri":
		return known(func() string { return escapeURIComponent(r.uri) })
	case "uri", "document_uri":
		return known(func() string { return r.path() })
	case "args", "query_string":
		return known(func() string { a, _ := r.args(); return a })
	case "is_args":
		return known(func() string {
			if a, _ := r.args(); a != "" {
				return "?"
			}
			return ""
		})
	case "request_method":
		return known(func() string { return r.method })
	case "remote_addr":
		return known(func() string { return r.clientIP })
	case "req_id", "request_id":
		return known(func() string { return r.requestID })
	}
	switch {
	case strings.HasPrefix(name, varPrefixHTTP) && len(name) > len(varPrefixHTTP):
		return known(func() string {
			v, _ := r.header(strings.ReplaceAll(strings.ToLower(name[len(varPrefixHTTP):]), "_", "-"))
			return v
		})
	case strings.HasPrefix(name, varPrefixArg) && len(name) > len(varPrefixArg):
		return known(func() string {
			a, _ := r.args()
			return queryArg(a, name[len(varPrefixArg):])
		})
	case strings.HasPrefix(name, varPrefixCookie) && len(name) > len(varPrefixCookie):
		return known(func() string {
			c, _ := r.header("cookie")
			return cookieValue(c, name[len(varPrefixCookie):])
		})
	}
	return "", false
}

// queryArg is nginx's $arg_<name>: the raw (undecoded) value of the first "name=value" pair,
// name compared case-insensitively.
func queryArg(args, name string) string {
	for pair := range strings.SplitSeq(args, "&") {
		if k, v, ok := strings.Cut(pair, "="); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// cookieValue is nginx's $cookie_<name>.
func cookieValue(header, name string) string {
	for c := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(c), "=")
		if ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// escapeURIComponent is what ingress-nginx's template uses for $escaped_request_uri:
// "set_escape_uri $escaped_request_uri $request_uri;" from the set-misc module, which
// percent-encodes every byte except the RFC 3986 unreserved characters A-Z a-z 0-9 - . _ ~
// (upper-case hex). This is stricter than nginx's own ngx_escape_uri ARGS mode, which would
// leave '/' and '=' alone; the e2e expectation "/?a=b&c=d" → "%2F%3Fa%3Db%26c%3Dd" needs the
// component mode.
func escapeURIComponent(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := range len(s) {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := range len(s) {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// clientAddress strips a port from an address if there is one (Envoy sends IP and port
// separately, but tests and pipe addresses may not).
func clientAddress(ip string) string {
	if h, _, err := net.SplitHostPort(ip); err == nil {
		return h
	}
	return ip
}
