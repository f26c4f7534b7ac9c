package annotations

import (
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"
	"github.com/tufanbarisyildirim/gonginx/parser"
)

// Snippets are translated, never copied: the text is parsed with a real nginx
// configuration parser (gonginx) and every directive must be one of the idioms below
// (docs/snippets.md). A directive outside the grammar refuses the whole snippet, naming it
// and its line. The translation is data (headers, a redirect, a rewrite, access lists);
// converters/ turns it into Gateway API filters and gatebridge policies.

// Snippet idioms, as the report names them.
const (
	IdiomComment        = "comment"
	IdiomResponseHeader = "response-header"
	IdiomRequestHeader  = "request-header"
	IdiomReturn         = "return"
	IdiomRewrite        = "rewrite"
	IdiomAccess         = "access"
	IdiomIf             = "if"
	IdiomProxySetting   = "proxy-setting"
	IdiomLocation       = "location"
)

// SnippetHeader is one header a snippet sets, adds or removes.
type SnippetHeader struct {
	Name, Value string
	// Always is add_header's "always": also on error responses.
	Always bool
}

// SnippetRewrite is `rewrite REGEX REPL break`: the path is replaced by REPL when the
// (unanchored) REGEX matches it; $1…$9 are its groups.
type SnippetRewrite struct {
	Regex, Replacement string
}

// SnippetRedirect is `return 301|302|303|307|308 URL`. URL holds no variable, or is one
// of the forms Scheme/Host/KeepHost describe.
type SnippetRedirect struct {
	Code int
	// URL is the literal Location when Literal is true.
	URL     string
	Literal bool
	// Scheme and Host replace the request's ("" = keep); the path and query are kept
	// ($request_uri).
	Scheme, Host string
}

// SnippetResponse is `return CODE [TEXT]`: nginx answers itself.
type SnippetResponse struct {
	Code int
	Body string
}

// SnippetLocationKind is the modifier of a nested location.
type SnippetLocationKind string

// Location kinds.
const (
	// LocationExact is `location = PATH`: only PATH.
	LocationExact SnippetLocationKind = "="
	// LocationPrefix is `location PATH`: every path starting with PATH (characters, not
	// segments; case-sensitive).
	LocationPrefix SnippetLocationKind = ""
	// LocationPrefixNoRegex is `location ^~ PATH`: a prefix location after which nginx
	// tries no regular-expression location.
	LocationPrefixNoRegex SnippetLocationKind = "^~"
)

// SnippetLocation is a location block of a snippet: server-snippet's exact locations that
// answer themselves, configuration-snippet's exact and prefix locations nested in the
// Ingress's location.
type SnippetLocation struct {
	Line     int
	Kind     SnippetLocationKind
	Path     string
	Redirect *SnippetRedirect
	Response *SnippetResponse
	// NoBackend: a configuration-snippet location without return, which ingress-nginx
	// answers 503 (nestedLocationBody).
	NoBackend bool
	// Body holds a configuration-snippet location's own response headers (add_header,
	// more_set_headers, more_clear_headers) and the report lines of its block.
	Body *Snippet
}

// SnippetLine is what one directive of a snippet became, for the report.
type SnippetLine struct {
	Line      int
	Directive string
	Idiom     string
	// Becomes names the Gateway API / gatebridge construct (or why nothing is needed).
	Becomes string
	// Approximate states a difference, if any.
	Approximate string
}

// Snippet is the translation of one snippet annotation.
type Snippet struct {
	// AddHeaders are add_header (nginx inheritance: a level with any add_header replaces
	// all of the outer level's).
	AddHeaders []SnippetHeader
	// HTTPSAddHeaders are the add_header inside `if ($scheme = https) { … }`; HasHTTPSIf
	// says such a block exists (it replaces AddHeaders on HTTPS requests when it adds any).
	HTTPSAddHeaders []SnippetHeader
	HasHTTPSIf      bool
	// SetHeaders are more_set_headers (replace the upstream's value).
	SetHeaders []SnippetHeader
	// ClearHeaders are more_clear_headers; HideHeaders proxy_hide_header (inherited as
	// add_header is).
	ClearHeaders, HideHeaders []string
	// RequestHeaders are proxy_set_header / more_set_input_headers; an empty value
	// removes the header. Values may hold $service_name, $namespace and $service_port,
	// which the converter knows per location.
	RequestHeaders []SnippetHeader
	Redirect       *SnippetRedirect
	// Response is `return CODE [TEXT]` with a code that is not a redirect.
	Response *SnippetResponse
	// IfReturn is a return inside an if on the scheme or a request header.
	IfReturn *SnippetIfReturn
	// Locations are the location blocks: server-snippet's `location = PATH { return …; }`,
	// configuration-snippet's `location [=|^~] PATH { … }`.
	Locations []SnippetLocation
	Rewrite   *SnippetRewrite
	// Access: deny CIDRs, then allow CIDRs, then everything else denied (DenyAll) or
	// allowed.
	Allow, Deny []netip.Prefix
	DenyAll     bool
	HasAccess   bool
	// ProxySSLVerifyOff is `proxy_ssl_verify off`: nginx's default.
	ProxySSLVerifyOff bool
	Lines             []SnippetLine
}

// SnippetError is a directive outside the grammar.
type SnippetError struct {
	Line      int
	Directive string
	Why       string
}

func (e *SnippetError) Error() string {
	if e.Line == 0 {
		return e.Why
	}
	return fmt.Sprintf("line %d, %s: %s", e.Line, e.Directive, e.Why)
}

// SnippetContext says where a snippet is written: its directives differ by level.
type SnippetContext int

// Snippet contexts.
const (
	// InLocation is configuration-snippet: inside every location of the Ingress.
	InLocation SnippetContext = iota
	// InServer is server-snippet: in the server block of each host (oldest Ingress wins).
	InServer
	// InAuth is auth-snippet: inside the auth subrequest's location.
	InAuth
)

// maxSnippetBytes bounds the work on one snippet; real ones are a few lines.
const maxSnippetBytes = 16 << 10

// TranslateSnippet parses text and translates it against the grammar of ctx.
func TranslateSnippet(text string, ctx SnippetContext) (s *Snippet, err error) {
	if len(text) > maxSnippetBytes {
		return nil, &SnippetError{Why: fmt.Sprintf("is %d bytes long; gatebridge translates snippets of at most %d", len(text), maxSnippetBytes)}
	}
	defer func() {
		// The parser is third-party code run on user input: a panic there is a refusal.
		if p := recover(); p != nil {
			s, err = nil, &SnippetError{Why: fmt.Sprintf("the nginx parser failed on it (%v)", p)}
		}
	}()
	cfg, perr := parser.NewStringParser(text, parser.WithSkipValidDirectivesErr()).Parse()
	if perr != nil {
		return nil, &SnippetError{Why: "is not valid nginx configuration (" + perr.Error() + "); nginx would have refused it too"}
	}
	t := &translator{ctx: ctx, out: &Snippet{}}
	if err := t.block(cfg.Block.GetDirectives(), false); err != nil {
		return nil, err
	}
	return t.out, nil
}

type translator struct {
	ctx SnippetContext
	out *Snippet
	// accessClosed: an `allow all` or `deny all` was read; later access lines are dead.
	accessClosed bool
}

func (t *translator) line(d config.IDirective, idiom, becomes string) {
	t.out.Lines = append(t.out.Lines, SnippetLine{Line: d.GetLine(), Directive: directiveText(d), Idiom: idiom, Becomes: becomes})
}

func (t *translator) approx(why string) {
	t.out.Lines[len(t.out.Lines)-1].Approximate = why
}

// directiveText is the directive as written on one line (blocks elided).
func directiveText(d config.IDirective) string {
	parts := []string{d.GetName()}
	for _, p := range d.GetParameters() {
		parts = append(parts, p.Value)
	}
	s := strings.Join(parts, " ")
	if d.GetBlock() != nil {
		return s + " { … }"
	}
	return s + ";"
}

func refuse(d config.IDirective, why string) error {
	return &SnippetError{Line: d.GetLine(), Directive: d.GetName(), Why: why}
}

// params returns the directive's parameters unquoted as nginx reads them.
func params(d config.IDirective) ([]string, error) {
	var out []string
	for _, p := range d.GetParameters() {
		v, err := unquote(p.Value)
		if err != nil {
			return nil, refuse(d, err.Error())
		}
		out = append(out, v)
	}
	return out, nil
}

// unquote reads one nginx token (unquoteToken) that must fit on one line: a header or URL.
func unquote(v string) (string, error) {
	v = unquoteToken(v)
	if strings.ContainsAny(v, "\r\n\x00") {
		return "", fmt.Errorf("a value holds a line break or NUL, which no header or URL can carry")
	}
	return v, nil
}

// unquoteToken reads one nginx token as nginx's configuration reader does: quotes removed,
// backslash escapes resolved (\", \', \\ the character; \t, \r, \n a tab, carriage return,
// line feed); nginx keeps other backslashes, and so does this.
func unquoteToken(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '"', '\'', '\\':
				i++
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// block translates the directives of one level; inIf is set inside `if ($scheme = https)`.
func (t *translator) block(ds []config.IDirective, inIf bool) error {
	for _, d := range ds {
		if err := t.directive(d, inIf); err != nil {
			return err
		}
	}
	if len(ds) == 0 && !inIf && len(t.out.Lines) == 0 {
		t.out.Lines = append(t.out.Lines, SnippetLine{Idiom: IdiomComment, Becomes: "nothing: the snippet is empty or only comments"})
	}
	return nil
}

func (t *translator) directive(d config.IDirective, inIf bool) error {
	name := d.GetName()
	if inIf && name != "add_header" {
		return refuse(d, "only add_header is translated inside if ($scheme = …)")
	}
	if t.ctx == InAuth && name != "proxy_set_header" {
		return refuse(d, "only proxy_set_header is translated in auth-snippet (headers of the auth request)")
	}
	switch name {
	case "add_header":
		return t.addHeader(d, inIf)
	case "more_set_headers":
		return t.moreSetHeaders(d)
	case "more_clear_headers":
		return t.moreClearHeaders(d)
	case "proxy_hide_header":
		return t.hideHeader(d)
	case "proxy_set_header":
		return t.proxySetHeader(d)
	case "more_set_input_headers":
		return t.moreSetInputHeaders(d)
	case "return":
		return t.returnDirective(d)
	case "rewrite":
		return t.rewrite(d)
	case "allow", "deny":
		return t.access(d)
	case "if":
		return t.ifBlock(d)
	case "location":
		return t.location(d)
	case "proxy_ssl_verify":
		return t.proxySSLVerify(d)
	}
	if ann, ok := proxySettingAnnotation[name]; ok {
		return t.proxySetting(d, ann)
	}
	return refuse(d, "is outside the snippet grammar gatebridge translates (docs/snippets.md)")
}

var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]{1,256}$`)

func checkHeaderName(d config.IDirective, n string) error {
	if !headerName.MatchString(n) || strings.Contains(n, "$") {
		return refuse(d, fmt.Sprintf("%q is not a literal header name", n))
	}
	return nil
}

// headerValue checks the variables of a header value: the ones known per location
// (locationVariables, resolved by the converter) and those the data plane evaluates per
// request (dynamicVariables; $request_uri only towards the backend). dynamic reports
// whether the value needs the per-request evaluation.
func headerValue(d config.IDirective, v string, request bool) (dynamic bool, err error) {
	if len(v) > 4096 {
		return false, refuse(d, "the value is longer than the 4096 characters a Gateway API header holds")
	}
	for _, m := range nginxVariable.FindAllStringSubmatch(v, -1) {
		name := m[1]
		switch {
		case locationVariables[name]:
		case dynamicVariables[name], strings.HasPrefix(name, "http_") && len(name) > 5, request && name == "request_uri":
			dynamic = true
		default:
			return false, refuse(d, "variable $"+name+" is not translated (docs/snippets.md lists the variables gatebridge evaluates)")
		}
	}
	return dynamic, nil
}

// dynamicVariables are evaluated per request by the data plane (RouteFilter headers).
var dynamicVariables = map[string]bool{"http_host": true, "remote_addr": true, "request_method": true, "scheme": true, "req_id": true}

// headerConstruct names what a header with value v becomes.
func headerConstruct(dynamic bool, std string) string {
	if dynamic {
		std = strings.Replace(std, "ResponseHeaderModifier", "RouteFilter headers.response", 1)
		std = strings.Replace(std, "RequestHeaderModifier", "RouteFilter headers.request", 1)
		return std + " (nginx variables evaluated per request)"
	}
	return std
}

func hasVariable(v string) bool { return nginxVariable.MatchString(v) }

func (t *translator) addHeader(d config.IDirective, inIf bool) error {
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) < 2 || len(p) > 3 || (len(p) == 3 && p[2] != "always") {
		return refuse(d, "expects add_header NAME VALUE [always]")
	}
	if err := checkHeaderName(d, p[0]); err != nil {
		return err
	}
	dynamic, err := headerValue(d, p[1], false)
	if err != nil {
		return err
	}
	h := SnippetHeader{Name: p[0], Value: p[1], Always: len(p) == 3}
	if inIf {
		t.out.HTTPSAddHeaders = append(t.out.HTTPSAddHeaders, h)
		t.line(d, IdiomIf, headerConstruct(dynamic, "response header add "+h.Name)+" on the HTTPS listener's rules only")
	} else {
		t.out.AddHeaders = append(t.out.AddHeaders, h)
		t.line(d, IdiomResponseHeader, headerConstruct(dynamic, "ResponseHeaderModifier add "+h.Name))
	}
	if h.Value == "" {
		t.out.Lines[len(t.out.Lines)-1].Becomes = "nothing: nginx sends no header for an empty add_header value"
	}
	if !h.Always {
		t.approx("nginx adds it only to 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses (no \"always\"); gatebridge adds it to every response of the rule")
	}
	return nil
}

// moreSetHeaders is headers-more's more_set_headers "N: V" …; -s and -t (status and
// content-type conditions) are refused.
func (t *translator) moreSetHeaders(d config.IDirective) error {
	p, err := headersMoreArgs(d, "sets no header")
	if err != nil {
		return err
	}
	for _, v := range p {
		n, val, _ := strings.Cut(v, ":")
		n, val = strings.TrimSpace(n), strings.TrimSpace(val)
		if err := headersMoreName(d, n); err != nil {
			return err
		}
		dynamic, err := headerValue(d, val, false)
		if err != nil {
			return err
		}
		if val == "" {
			// "N:" or "N" clears the header.
			t.out.ClearHeaders = append(t.out.ClearHeaders, n)
			t.line(d, IdiomResponseHeader, "ResponseHeaderModifier remove "+n)
			continue
		}
		t.out.SetHeaders = append(t.out.SetHeaders, SnippetHeader{Name: n, Value: val, Always: true})
		t.line(d, IdiomResponseHeader, headerConstruct(dynamic, "ResponseHeaderModifier set "+n))
	}
	return nil
}

func (t *translator) moreClearHeaders(d config.IDirective) error {
	p, err := headersMoreArgs(d, "clears no header")
	if err != nil {
		return err
	}
	for _, n := range p {
		if err := headersMoreName(d, n); err != nil {
			return err
		}
		t.out.ClearHeaders = append(t.out.ClearHeaders, n)
		t.line(d, IdiomResponseHeader, "ResponseHeaderModifier remove "+n)
	}
	return nil
}

// headersMoreArgs are the arguments of a headers-more directive; none refuses with why.
// An option (-s, -t: conditions on status or content type) is refused, wherever it stands.
func headersMoreArgs(d config.IDirective, why string) ([]string, error) {
	p, err := params(d)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, refuse(d, why)
	}
	for _, v := range p {
		if strings.HasPrefix(v, "-") {
			return nil, refuse(d, "option "+v+" (conditions on status or content type) is not translated")
		}
	}
	return p, nil
}

// headersMoreName checks a header name of a headers-more directive: no wildcard, a valid name.
func headersMoreName(d config.IDirective, n string) error {
	if strings.HasSuffix(n, "*") {
		return refuse(d, "wildcard header names are not translated")
	}
	return checkHeaderName(d, n)
}

func (t *translator) hideHeader(d config.IDirective) error {
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 1 {
		return refuse(d, "expects proxy_hide_header NAME")
	}
	if err := checkHeaderName(d, p[0]); err != nil {
		return err
	}
	t.out.HideHeaders = append(t.out.HideHeaders, p[0])
	t.line(d, IdiomResponseHeader, "ResponseHeaderModifier remove "+p[0])
	return nil
}

func (t *translator) proxySetHeader(d config.IDirective) error {
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 2 {
		return refuse(d, "expects proxy_set_header NAME VALUE")
	}
	return t.requestHeader(d, p[0], p[1])
}

func (t *translator) moreSetInputHeaders(d config.IDirective) error {
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) == 0 {
		return refuse(d, "sets no header")
	}
	for _, v := range p {
		if strings.HasPrefix(v, "-") {
			return refuse(d, "option "+v+" is not translated")
		}
		n, val, _ := strings.Cut(v, ":")
		if err := t.requestHeader(d, strings.TrimSpace(n), strings.TrimSpace(val)); err != nil {
			return err
		}
	}
	return nil
}

// alreadySent are request headers whose value, as the snippet writes it, is what
// ingress-nginx and gatebridge's data plane send anyway: nothing to translate.
var alreadySent = map[string]map[string]bool{
	"upgrade":           {"$http_upgrade": true},
	"connection":        {"$connection_upgrade": true},
	"x-real-ip":         {"$remote_addr": true},
	"x-forwarded-for":   {"$proxy_add_x_forwarded_for": true, "$remote_addr": true},
	"x-forwarded-proto": {"$scheme": true, "$pass_access_scheme": true},
	"x-forwarded-host":  {"$host": true, "$http_host": true, "$best_http_host": true},
	"x-forwarded-port":  {"$server_port": true, "$pass_port": true},
	"host":              {"$http_host": true, "$best_http_host": true, "$host": true},
}

// locationVariables are known per location; the converter expands them.
// $host and $server_name are the host's name (on a host without wildcard; $host also
// without server-alias).
var locationVariables = map[string]bool{"service_name": true, "namespace": true, "service_port": true, "ingress_name": true,
	"host": true, "server_name": true}

// authVariables are what the auth subrequest's header templates can expand
// (dataplane/authz).
var authVariables = map[string]bool{"host": true, "http_host": true, "best_http_host": true, "scheme": true, "pass_access_scheme": true,
	"request_uri": true, "escaped_request_uri": true, "uri": true, "document_uri": true, "args": true, "query_string": true, "is_args": true,
	"request_method": true, "remote_addr": true, "req_id": true, "request_id": true}

func (t *translator) requestHeader(d config.IDirective, n, v string) error {
	if err := checkHeaderName(d, n); err != nil {
		return err
	}
	if len(v) > 4096 {
		return refuse(d, "the value is longer than the 4096 characters a Gateway API header holds")
	}
	if t.ctx == InServer {
		// ingress-nginx's locations always set proxy_set_header themselves, and nginx
		// inherits an array directive only into a level that has none of its own.
		t.line(d, IdiomRequestHeader, "nothing: every ingress-nginx location sets its own proxy_set_header, so a server-level one never reaches the upstream")
		return nil
	}
	if t.ctx == InAuth {
		for _, m := range nginxVariable.FindAllStringSubmatch(v, -1) {
			name := m[1]
			if !authVariables[name] && !strings.HasPrefix(name, "http_") && !strings.HasPrefix(name, "cookie_") && !strings.HasPrefix(name, "arg_") {
				return refuse(d, "variable $"+name+" is not one gatebridge's auth request can evaluate")
			}
		}
		t.out.RequestHeaders = append(t.out.RequestHeaders, SnippetHeader{Name: n, Value: v})
		t.line(d, IdiomRequestHeader, "TrafficPolicy externalAuth.proxySetHeaders "+n)
		return nil
	}
	if alreadySent[strings.ToLower(n)][v] {
		t.line(d, IdiomRequestHeader, "nothing: the data plane already sends "+n+" with this value")
		if strings.EqualFold(n, "host") && v == "$host" {
			t.approx("nginx sends the host name without a port; the data plane sends the client's Host as written (with a port if the client gave one)")
		}
		return nil
	}
	dynamic, err := headerValue(d, v, true)
	if err != nil {
		return err
	}
	t.out.RequestHeaders = append(t.out.RequestHeaders, SnippetHeader{Name: n, Value: v})
	if v == "" {
		t.line(d, IdiomRequestHeader, "RequestHeaderModifier remove "+n)
	} else {
		t.line(d, IdiomRequestHeader, headerConstruct(dynamic, "RequestHeaderModifier set "+n))
	}
	return nil
}

var redirectCodes = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}

// textReturn reports whether `return CODE …` with this code answers with a text (not a
// redirect to a URL).
func textReturn(code string) bool {
	n, err := strconv.Atoi(code)
	return err == nil && !redirectCodes[n]
}

// returnDirective is `return CODE URL` with a redirect code, `return URL` (302), or
// `return CODE [TEXT]` with another code. A URL is literal or one of
// SCHEME://HOST$request_uri with SCHEME https, http or $scheme and HOST $host or a name.
func (t *translator) returnDirective(d config.IDirective) error {
	if t.ctx != InLocation {
		return refuse(d, "return is translated in configuration-snippet and in server-snippet's location = PATH blocks only")
	}
	if t.out.Redirect != nil || t.out.Response != nil {
		return refuse(d, "a second return is never reached; remove it")
	}
	if t.out.IfReturn != nil {
		return refuse(d, "only one return (in an if block or not) per snippet is translated")
	}
	redirect, response, err := parseReturn(d)
	if err != nil {
		return err
	}
	t.out.Redirect, t.out.Response = redirect, response
	if redirect != nil {
		t.line(d, IdiomReturn, "a RequestRedirect rule replacing the location's forwarding rules")
		return nil
	}
	t.line(d, IdiomReturn, "a RouteFilter response (direct response) replacing the location's forwarding rules")
	if response.Body == "" && response.Code >= 400 {
		t.approx("nginx sends its HTML error page as the body; gatebridge sends none")
	}
	return nil
}

// parseReturn reads a return directive.
func parseReturn(d config.IDirective) (*SnippetRedirect, *SnippetResponse, error) {
	// A response text may span lines (return 200 "a\nb"); a code or URL may not.
	var p []string
	for _, q := range d.GetParameters() {
		p = append(p, unquoteToken(q.Value))
	}
	for i, v := range p {
		if strings.Contains(v, "\x00") || strings.ContainsAny(v, "\r\n") && (i == 0 || !textReturn(p[0])) {
			return nil, nil, refuse(d, "a code or URL holds a line break or NUL")
		}
	}
	if len(p) == 1 && (strings.HasPrefix(p[0], "http://") || strings.HasPrefix(p[0], "https://") || strings.HasPrefix(p[0], "$scheme://")) {
		p = []string{"302", p[0]}
	}
	if len(p) < 1 || len(p) > 2 {
		return nil, nil, refuse(d, "expects return CODE [URL|TEXT]")
	}
	code, err := strconv.Atoi(p[0])
	if err != nil || code < 200 || code > 599 || code == 444 {
		return nil, nil, refuse(d, "only status codes 200 to 599 are translated (444 closes the connection, which has no equivalent)")
	}
	if redirectCodes[code] {
		if len(p) != 2 {
			return nil, nil, refuse(d, "a redirect code without a URL is not translated")
		}
		r, why := redirectTarget(p[1])
		if why != "" {
			return nil, nil, refuse(d, why)
		}
		r.Code = code
		return r, nil, nil
	}
	if code >= 300 && code < 400 {
		return nil, nil, refuse(d, "only the redirect codes 301, 302, 303, 307 and 308 are translated among the 3xx")
	}
	r := &SnippetResponse{Code: code}
	if len(p) == 2 {
		if hasVariable(p[1]) {
			return nil, nil, refuse(d, "a response text with nginx variables is not translated")
		}
		if len(p[1]) > 4096 {
			return nil, nil, refuse(d, "the response text is longer than 4096 characters")
		}
		r.Body = p[1]
	}
	return nil, r, nil
}

// location is a location block: server-snippet's `location [=|^~] PATH { return …; }` (or
// `{ deny all; }`, a 403) among ingress-nginx's locations of the host; or
// configuration-snippet's `location [=|^~] PATH { … }`, nested in the Ingress's
// (nestedLocationBody). Regular-expression and named locations are refused.
func (t *translator) location(d config.IDirective) error {
	if t.ctx == InAuth {
		return refuse(d, "nested location blocks are not translated in auth-snippet")
	}
	p, err := params(d)
	if err != nil {
		return err
	}
	kind, path, ok := locationArgs(p)
	switch {
	case ok:
	case kind == "~" || kind == "~*":
		return refuse(d, "regular-expression locations are not translated: nginx tries them after the prefix locations, in the order written, which gatebridge cannot reproduce among the host's routes")
	default:
		return refuse(d, "only location PATH, location = PATH and location ^~ PATH are translated (named and regular-expression locations are not)")
	}
	loc := SnippetLocation{Line: d.GetLine(), Kind: kind, Path: path}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\"'`{}$?#\\") || len(path) > 1024 {
		return refuse(d, fmt.Sprintf("%q is not a literal path", path))
	}
	if t.ctx == InLocation {
		if err := t.nestedLocationBody(d, &loc); err != nil {
			return err
		}
	} else if err := serverLocationBody(d, &loc); err != nil {
		return err
	}
	for _, o := range t.out.Locations {
		// nginx keeps exact locations apart from prefix ones; `^~ /x` and `/x` are one name.
		if o.Path == path && (o.Kind == LocationExact) == (loc.Kind == LocationExact) {
			return refuse(d, "duplicate location "+path+"; nginx rejects the configuration")
		}
	}
	t.out.Locations = append(t.out.Locations, loc)
	if t.ctx == InLocation {
		t.line(d, IdiomLocation, nestedLocationConstruct(loc))
	} else {
		t.line(d, IdiomLocation, serverLocationConstruct(loc))
	}
	if loc.NoBackend || loc.Response != nil && loc.Response.Body == "" && loc.Response.Code >= 400 {
		t.approx("nginx sends its HTML error page as the body; gatebridge sends none")
	}
	if loc.Body != nil {
		t.out.Lines = append(t.out.Lines, loc.Body.Lines...)
	}
	return nil
}

// locationArgs reads a location's arguments as nginx does: a modifier (=, ^~, ~, ~*) as
// its own word or glued to the path (`=/x`), or a name (@x); ok is false for regex and
// named locations and anything else.
func locationArgs(p []string) (kind SnippetLocationKind, path string, ok bool) {
	if len(p) == 1 {
		for _, m := range []string{"^~", "~*", "~", "=", "@"} {
			if rest, glued := strings.CutPrefix(p[0], m); glued && rest != "" {
				p = []string{m, rest}
				break
			}
		}
	}
	switch {
	case len(p) == 1:
		return LocationPrefix, p[0], true
	case len(p) != 2:
		return "", "", false
	case p[0] == "=" || p[0] == "^~":
		return SnippetLocationKind(p[0]), p[1], true
	}
	return SnippetLocationKind(p[0]), p[1], false
}

// serverLocationBody reads the block of a server-snippet location: one return, or deny
// all (403: at server level nothing runs before the access check).
func serverLocationBody(d config.IDirective, loc *SnippetLocation) error {
	ds := d.GetBlock().GetDirectives()
	if len(ds) != 1 {
		return refuse(d, "only a location holding one return (or deny all) is translated")
	}
	in := ds[0]
	switch in.GetName() {
	case "return":
		var err error
		loc.Redirect, loc.Response, err = parseReturn(in)
		return err
	case "deny":
		if q, _ := params(in); len(q) != 1 || q[0] != "all" {
			return refuse(in, "only deny all is translated inside a location")
		}
		loc.Response = &SnippetResponse{Code: 403}
		return nil
	}
	return refuse(in, "only return or deny all is translated inside a location")
}

// nestedLocationBody reads the block of a location nested in the Ingress's location
// (configuration-snippet). Such a location inherits the outer one's rewrite_by_lua, but
// not its `set $proxy_upstream_name` nor its proxy_pass: after the rewrite module's
// return (which answers first), ingress-nginx's balancer finds no backend for the request
// and answers 503 — before the access phase, so allow/deny lines are never evaluated.
// A location holding one return answers with it; one holding only allow/deny lines (or
// nothing) answers 503.
func (t *translator) nestedLocationBody(d config.IDirective, loc *SnippetLocation) error {
	body := &translator{ctx: InLocation, out: &Snippet{}}
	loc.Body = body.out
	for _, in := range d.GetBlock().GetDirectives() {
		switch in.GetName() {
		case "return":
			if loc.Redirect != nil || loc.Response != nil {
				return refuse(in, "a second return is never reached; remove it")
			}
			var err error
			if loc.Redirect, loc.Response, err = parseReturn(in); err != nil {
				return err
			}
		case "allow", "deny":
			if err := accessLine(in); err != nil {
				return err
			}
			body.line(in, IdiomAccess, "nothing: the location answers in nginx's rewrite phase (its return, or ingress-nginx's 503), before the access phase would evaluate it")
		case "add_header":
			if err := body.addHeader(in, false); err != nil {
				return err
			}
		case "more_set_headers":
			if err := body.moreSetHeaders(in); err != nil {
				return err
			}
		case "more_clear_headers":
			if err := body.moreClearHeaders(in); err != nil {
				return err
			}
		default:
			return refuse(in, "only return, allow, deny, add_header, more_set_headers and more_clear_headers are translated inside a nested location (it has no proxy_pass of its own: nothing else reaches a backend)")
		}
	}
	loc.NoBackend = loc.Redirect == nil && loc.Response == nil
	return nil
}

// accessLine checks an allow or deny line: one address, CIDR or all.
func accessLine(d config.IDirective) error {
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 1 {
		return refuse(d, "expects "+d.GetName()+" CIDR|all")
	}
	if _, err := parseCIDRList(p[0]); p[0] != "all" && err != nil {
		return refuse(d, fmt.Sprintf("%q is not an address or CIDR", p[0]))
	}
	return nil
}

// serverLocationConstruct says what a server-snippet location becomes.
func serverLocationConstruct(l SnippetLocation) string {
	answer := ", answering " + strconv.Itoa(locationCode(l))
	if l.Kind == LocationExact {
		return "an Exact match rule for " + l.Path + " on the host, before the Ingresses' paths, in an HTTPRoute of its own without the Ingress's policies" + answer
	}
	return prefixRule(l.Path) + " on the host, in an HTTPRoute of its own without the Ingress's policies" + answer
}

// prefixRule says how a prefix location's paths are matched: nginx compares characters,
// so /x takes /x, /x/… and /xy; the PathPrefix takes the first two, a RegularExpression the
// rest (and all of a path ending in "/", whose PathPrefix would also take /x).
func prefixRule(path string) string {
	if strings.HasSuffix(path, "/") {
		return "a rule matching the paths starting with " + path + " (a RegularExpression: nginx compares characters, not path segments)"
	}
	return "a rule matching the paths starting with " + path + " (PathPrefix " + path + ", and a RegularExpression for " + path + " followed by another character than /: nginx compares characters, not path segments)"
}

// nestedLocationConstruct says what a configuration-snippet location becomes.
func nestedLocationConstruct(l SnippetLocation) string {
	var match string
	switch l.Kind {
	case LocationExact:
		match = "an Exact match rule for " + l.Path
	case LocationPrefixNoRegex:
		match = prefixRule(l.Path) + " (^~ changes nothing: the host has no regex location to skip)"
	default:
		match = prefixRule(l.Path)
	}
	match += ", in an HTTPRoute of its own without the Ingress's policies"
	if l.NoBackend {
		return match + ", answering 503 (and redirecting to HTTPS where the location does): ingress-nginx's Lua rewrite handler, inherited from the Ingress's location, finds no backend for a nested location and answers 503 before the allow/deny lines are evaluated"
	}
	return match + ", answering " + strconv.Itoa(locationCode(l)) + " on both listeners (the return runs before ingress-nginx's https redirect)"
}

func locationCode(l SnippetLocation) int {
	switch {
	case l.NoBackend:
		return 503
	case l.Redirect != nil:
		return l.Redirect.Code
	}
	return l.Response.Code
}

var redirectHost = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func redirectTarget(u string) (*SnippetRedirect, string) {
	if !hasVariable(u) {
		if len(u) > 4096 {
			return nil, "the URL is longer than 4096 characters"
		}
		return &SnippetRedirect{URL: u, Literal: true}, ""
	}
	rest, ok := strings.CutSuffix(u, "$request_uri")
	if !ok {
		return nil, "a URL with variables is translated only as SCHEME://HOST$request_uri"
	}
	scheme, host, ok := strings.Cut(rest, "://")
	if !ok {
		return nil, "a URL with variables is translated only as SCHEME://HOST$request_uri"
	}
	r := &SnippetRedirect{}
	switch scheme {
	case "https", "http":
		r.Scheme = scheme
	case "$scheme":
	default:
		return nil, "scheme " + scheme + " is not translated"
	}
	switch {
	case host == "$host" || host == "$server_name":
	case redirectHost.MatchString(strings.ToLower(host)) && len(host) <= 253:
		r.Host = strings.ToLower(host)
	default:
		return nil, "host " + host + " is not translated (only $host, $server_name or a literal host name)"
	}
	return r, ""
}

// rewrite is `rewrite REGEX REPL break`. Without break, nginx searches the locations again
// with the new path (last, no flag); redirect and permanent answer with the URL.
func (t *translator) rewrite(d config.IDirective) error {
	if t.ctx != InLocation {
		return refuse(d, "rewrite is translated in configuration-snippet only")
	}
	if t.out.Rewrite != nil {
		return refuse(d, "only one rewrite per snippet is translated")
	}
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 3 || p[2] != "break" {
		return refuse(d, "only rewrite REGEX REPLACEMENT break is translated (last, redirect, permanent or no flag restart the location search or redirect)")
	}
	if _, err := syntax.Parse(p[0], syntax.Perl); err != nil {
		return refuse(d, "the regular expression is not RE2 syntax ("+err.Error()+")")
	}
	repl := p[1]
	if !strings.HasPrefix(repl, "/") || strings.ContainsAny(repl, "?#") {
		return refuse(d, "only a replacement path (starting with /, no query) is translated")
	}
	for _, m := range nginxVariable.FindAllString(repl, -1) {
		return refuse(d, "variable "+m+" in the replacement is not translated (only $1…$9)")
	}
	t.out.Rewrite = &SnippetRewrite{Regex: p[0], Replacement: repl}
	t.line(d, IdiomRewrite, "RouteFilter regexRewrite on the location's rules")
	return nil
}

// access is allow/deny in the order gatebridge's access policy evaluates: deny CIDRs,
// then allow CIDRs, then `deny all` or `allow all`.
func (t *translator) access(d config.IDirective) error {
	if t.ctx != InLocation {
		return refuse(d, "allow and deny are translated in configuration-snippet only")
	}
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 1 {
		return refuse(d, "expects "+d.GetName()+" CIDR|all")
	}
	o := t.out
	if t.accessClosed {
		return refuse(d, "comes after allow all or deny all and is never reached; remove it")
	}
	o.HasAccess = true
	if p[0] == "all" {
		t.accessClosed = true
		if d.GetName() == "deny" {
			o.DenyAll = true
			t.line(d, IdiomAccess, "TrafficPolicy access: every address not allowed above is answered 403")
		} else {
			t.line(d, IdiomAccess, "nothing: addresses not listed above are allowed (allow all)")
			o.Allow = nil
		}
		return nil
	}
	pfx, err := parseCIDRList(p[0])
	if err != nil || len(pfx) != 1 {
		return refuse(d, fmt.Sprintf("%q is not an address or CIDR", p[0]))
	}
	if d.GetName() == "deny" {
		if len(o.Allow) > 0 {
			return refuse(d, "a deny after an allow is not translated (gatebridge evaluates deny before allow); put the deny lines first")
		}
		o.Deny = append(o.Deny, pfx[0])
		t.line(d, IdiomAccess, "TrafficPolicy access.deny "+pfx[0].String())
		return nil
	}
	o.Allow = append(o.Allow, pfx[0])
	t.line(d, IdiomAccess, "TrafficPolicy access.allow "+pfx[0].String())
	return nil
}

// ifBlock is one of
//
//	if ($scheme = https) { add_header …; }             headers on the HTTPS listener only
//	if ($scheme = http|https) { return …; }            (also !=) the return on one listener
//	if ($http_NAME = "v") { return …; }                (also !=) the return when the header
//	                                                    is (is not) exactly v
//
// nginx's `if` inside a location is a nested location: its add_header replace the
// location's; its return runs in the rewrite phase, before ingress-nginx's https redirect.
func (t *translator) ifBlock(d config.IDirective) error {
	if t.ctx != InLocation {
		return refuse(d, "if is translated in configuration-snippet only")
	}
	var cond []string
	for _, p := range d.GetParameters() {
		v, err := unquote(strings.Trim(p.Value, "()"))
		if err != nil {
			return refuse(d, err.Error())
		}
		if v != "" {
			cond = append(cond, v)
		}
	}
	const grammar = "only if ($scheme = https) { add_header … }, and if ($scheme|$http_NAME =|!= VALUE) { return …; } are translated"
	if len(cond) != 3 || (cond[1] != "=" && cond[1] != "!=") || hasVariable(cond[2]) || cond[2] == "" {
		return refuse(d, grammar)
	}
	variable, negate, value := cond[0], cond[1] == "!=", cond[2]
	ds := d.GetBlock().GetDirectives()
	if len(ds) == 1 && ds[0].GetName() == "return" {
		return t.ifReturn(d, ds[0], variable, negate, value)
	}
	if variable != "$scheme" || negate || value != "https" {
		return refuse(d, grammar)
	}
	if t.out.HasHTTPSIf {
		return refuse(d, "a second if ($scheme = https) block is not translated")
	}
	t.out.HasHTTPSIf = true
	t.line(d, IdiomIf, "the block's headers on the HTTPS listener's rules")
	return t.block(ds, true)
}

// SnippetIfReturn is an `if` whose block is one return: on one listener (Scheme), or for
// requests whose header Header is (Negate: is not) exactly Value.
type SnippetIfReturn struct {
	Scheme        string
	Header, Value string
	Negate        bool
	Redirect      *SnippetRedirect
	Response      *SnippetResponse
}

var headerVariableName = regexp.MustCompile(`^\$http_[A-Za-z0-9_]+$`)

func (t *translator) ifReturn(d, ret config.IDirective, variable string, negate bool, value string) error {
	if t.out.IfReturn != nil || t.out.Redirect != nil || t.out.Response != nil {
		return refuse(d, "only one return (in an if block or not) per snippet is translated")
	}
	ir := &SnippetIfReturn{Negate: negate}
	var err error
	if ir.Redirect, ir.Response, err = parseReturn(ret); err != nil {
		return err
	}
	switch {
	case variable == "$scheme" && (value == "http" || value == "https"):
		ir.Scheme = value
		if negate {
			ir.Scheme = map[string]string{"http": "https", "https": "http"}[value]
		}
		ir.Negate = false
		t.line(d, IdiomIf, "the return on the "+strings.ToUpper(ir.Scheme)+" listener's rules only")
	case headerVariableName.MatchString(variable):
		ir.Header = strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(variable, "$http_")), "_", "-")
		if ir.Header == "x-forwarded-proto" || strings.HasPrefix(ir.Header, "x-envoy-") {
			return refuse(d, "the data plane replaces "+ir.Header+" before it picks a route (Envoy sets X-Forwarded-Proto from the connection and drops x-envoy-* from clients), so a condition on the client's value cannot be evaluated; where a load balancer terminates TLS in front, test a header it sets that the data plane keeps (X-Forwarded-Ssl, X-Forwarded-Scheme…) or use force-ssl-redirect")
		}
		ir.Value = value
		if len(value) > 4096 {
			return refuse(d, "the compared value is longer than 4096 characters")
		}
		if negate {
			t.line(d, IdiomIf, "the location's rules match header "+ir.Header+" = "+value+"; a rule without the match answers the return")
		} else {
			t.line(d, IdiomIf, "a rule matching header "+ir.Header+" = "+value+" answers the return, before the location's rules")
		}
	default:
		return refuse(d, "the condition tests "+variable+"; only $scheme and request headers ($http_NAME) are translated")
	}
	t.out.IfReturn = ir
	t.line(ret, IdiomReturn, "the if block's answer")
	return nil
}

// proxySettingAnnotation maps the proxy directives that have an annotation to it.
var proxySettingAnnotation = map[string]string{
	"proxy_connect_timeout":    "proxy-connect-timeout",
	"proxy_send_timeout":       "proxy-send-timeout",
	"proxy_read_timeout":       "proxy-read-timeout",
	"client_max_body_size":     "proxy-body-size",
	"proxy_buffering":          "proxy-buffering",
	"proxy_buffer_size":        "proxy-buffer-size",
	"proxy_buffers":            "proxy-buffers-number",
	"proxy_busy_buffers_size":  "proxy-busy-buffers-size",
	"proxy_request_buffering":  "proxy-request-buffering",
	"proxy_max_temp_file_size": "proxy-max-temp-file-size",
	"client_body_buffer_size":  "client-body-buffer-size",
	"proxy_http_version":       "proxy-http-version",
}

// writtenByLocation are the directives ingress-nginx's template writes into every
// location: a configuration-snippet repeating one makes nginx fail ("is duplicate"), so
// ingress-nginx never ran such a snippet; at server level they are always overridden.
var writtenByLocation = map[string]bool{
	"proxy_connect_timeout": true, "proxy_send_timeout": true, "proxy_read_timeout": true, "client_max_body_size": true,
	"proxy_buffering": true, "proxy_buffer_size": true, "proxy_buffers": true, "proxy_request_buffering": true,
	"proxy_http_version": true, "proxy_max_temp_file_size": true,
}

// proxySetting treats a proxy directive as its annotation.
func (t *translator) proxySetting(d config.IDirective, ann string) error {
	if t.ctx != InLocation && t.ctx != InServer {
		return refuse(d, "is not translated in this snippet")
	}
	written := writtenByLocation[d.GetName()]
	if written && t.ctx == InLocation {
		return refuse(d, "ingress-nginx writes "+d.GetName()+" into every location itself, so nginx rejects the configuration (\"is duplicate\") and ingress-nginx never ran this snippet; use the "+ann+" annotation")
	}
	if written {
		t.line(d, IdiomProxySetting, "nothing: every ingress-nginx location sets "+d.GetName()+" itself (annotation "+ann+"), which overrides the server's")
		return nil
	}
	spec, _ := Lookup(ann)
	if spec.Level == Ignored {
		t.line(d, IdiomProxySetting, "nothing, as the "+ann+" annotation: "+spec.Note)
		return nil
	}
	return refuse(d, "is not translated; use the "+ann+" annotation")
}

// proxySSLVerify is `proxy_ssl_verify off`, nginx's default and gatebridge's: HTTPS
// backends' certificates are not verified unless proxy-ssl-verify says so.
func (t *translator) proxySSLVerify(d config.IDirective) error {
	if t.ctx == InAuth {
		return refuse(d, "is not translated in auth-snippet")
	}
	p, err := params(d)
	if err != nil {
		return err
	}
	if len(p) != 1 || p[0] != "off" {
		return refuse(d, "only proxy_ssl_verify off (the default) is translated; use the proxy-ssl-verify and proxy-ssl-secret annotations")
	}
	t.out.ProxySSLVerifyOff = true
	t.line(d, IdiomProxySetting, "nothing: nginx's default, and gatebridge's (HTTPS backends' certificates are not verified without proxy-ssl-verify)")
	return nil
}
