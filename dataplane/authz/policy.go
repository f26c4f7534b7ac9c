package authz

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// ContextExtensionKey is the ext_authz context extension (set per route in
// ExtAuthzPerRoute.check_settings.context_extensions) whose value selects the Policy.
const ContextExtensionKey = "gatebridge-policy"

// Policy is what one route needs checked: nginx's auth_basic and/or auth_request. With both,
// Basic is checked first and External only once Basic passed (nginx "satisfy all": the
// auth_basic access handler runs before auth_request's).
type Policy struct {
	Basic    *Basic    // nginx auth_basic (auth-type: basic)
	External *External // nginx auth_request (auth-url)
	// SatisfyAny is nginx's "satisfy any": Access, Basic and External are alternatives (see
	// checkAny). Without it the address lists are Envoy's RBAC filter's, not this service's.
	SatisfyAny bool
	// Access is the route's allow/deny lists (nginx allow/deny), used with SatisfyAny only.
	Access *Access
}

// Access is ingress-nginx's denylist-source-range (Deny) and allowlist-source-range (Allow):
// CIDRs or bare addresses, Deny listed first as the template writes them.
type Access struct {
	Allow, Deny []string
}

// Basic is ingress-nginx's auth-type: basic with auth-secret.
type Basic struct {
	// Realm is auth-realm: the 401 carries WWW-Authenticate: Basic realm="<Realm>". It may
	// contain nginx variables. The literal value "off" disables the check, as in nginx.
	Realm string
	// Htpasswd is the auth-file layout: the Secret's "auth" key, an htpasswd file.
	Htpasswd []byte
	// Users is the auth-map layout: user -> hash. Used together with Htpasswd, the file's
	// entries win.
	Users map[string]string
	// FailClosed, when non-empty, says why the Secret cannot be used (missing, no "auth" key,
	// unreadable): every request is answered 503 and this reason is logged.
	FailClosed string
}

// External is ingress-nginx's external authentication (auth-url and friends).
type External struct {
	// URL is auth-url. It may contain nginx variables ($host, $scheme, $request_uri,
	// $escaped_request_uri, $http_host, ...), expanded per request.
	URL string
	// Method is auth-method; "" sends the client's method.
	Method string
	// SignIn is auth-signin (may contain variables): a 401 from the auth service becomes a
	// 302 to it, with the original URL in the RedirectParam query parameter.
	SignIn string
	// RedirectParam is auth-signin-redirect-param; "" means "rd".
	RedirectParam string
	// ResponseHeaders is auth-response-headers: each is copied from the auth response into
	// the upstream request, replacing the client's value; a header the auth response lacks is
	// removed from the upstream request (nginx's proxy_set_header with an empty value).
	ResponseHeaders []string
	// RequestRedirect is auth-request-redirect: the X-Auth-Request-Redirect value sent to the
	// auth service (may contain variables); "" means $request_uri.
	RequestRedirect string
	// AlwaysSetCookie is auth-always-set-cookie: the auth response's Set-Cookie is also added
	// to denied responses (401, 403, 500), not only to allowed requests and sign-in redirects.
	AlwaysSetCookie bool
	// ProxySetHeaders is the auth-proxy-set-headers ConfigMap: extra headers sent to the auth
	// service (values may contain variables; an empty value removes the header).
	ProxySetHeaders map[string]string
	// Timeout bounds one auth subrequest; 0 means 60s (nginx's proxy_read_timeout default).
	// Connecting is always limited to 5s (proxy_connect_timeout).
	Timeout time.Duration
}

// Defaults.
const (
	defaultRedirectParam = "rd"
	defaultAuthTimeout   = 60 * time.Second
	defaultDialTimeout   = 5 * time.Second
	basicRealmOff        = "off"
)

// compiledPolicy is a Policy prepared by SetPolicies; the per-request path never parses.
type compiledPolicy struct {
	key        string
	basic      *compiledBasic
	external   *compiledExternal
	satisfyAny bool
	access     *compiledAccess
}

type compiledBasic struct {
	realm      tmpl
	realmOff   bool
	failClosed string
	users      map[string]credential
}

type compiledExternal struct {
	// invalid, when non-empty, is why the configuration is unusable: ingress-nginx denies the
	// location (503).
	invalid         string
	url             tmpl
	hostHeader      tmpl // Hostname() of the raw auth-url, as ingress-nginx renders "Host"
	method          string
	signIn          *tmpl // full redirect target, redirect parameter already appended
	responseHeaders []string
	requestRedirect *tmpl
	alwaysSetCookie bool
	proxySetHeaders []compiledHeader
	timeout         time.Duration
}

type compiledHeader struct {
	name  string // canonical
	value tmpl
}

// Validation rules of ingress-nginx's authreq annotation parser.
var (
	validAuthMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}
	validHeaderName  = regexp.MustCompile(`^[a-zA-Z\d\-_]+$`)
)

// problems collects what SetPolicies warns about for one policy.
type problems struct {
	unsupported map[string][]string // description -> users
	unknownVars []string
}

func (s *Server) compile(key string, p Policy) *compiledPolicy {
	cp := &compiledPolicy{key: key}
	var pr problems
	if p.Basic != nil {
		cp.basic = compileBasic(p.Basic, &pr)
	}
	if p.External != nil {
		cp.external = compileExternal(p.External, &pr)
	}
	cp.satisfyAny = p.SatisfyAny
	if p.SatisfyAny && p.Access != nil {
		cp.access = compileAccess(p.Access)
	}

	log := s.log.WithValues("policy", key)
	if cp.basic != nil && cp.basic.failClosed != "" {
		log.Info("basic auth secret unusable: every request is answered 503", "reason", cp.basic.failClosed)
	}
	descs := slices.Sorted(maps.Keys(pr.unsupported))
	for _, d := range descs {
		users := pr.unsupported[d]
		sort.Strings(users)
		log.Info("warning: htpasswd users with an unsupported hash format can never log in",
			"format", d, "users", users)
	}
	if len(pr.unknownVars) > 0 {
		log.Info("warning: unsupported nginx variables expand to an empty string", "variables", pr.unknownVars)
	}
	if cp.access != nil && cp.access.invalid != "" {
		log.Info("address list invalid: every request is answered 503", "reason", cp.access.invalid)
	}
	if cp.external != nil && cp.external.invalid != "" {
		log.Info("external auth configuration invalid: every request is answered 503", "reason", cp.external.invalid)
	}
	return cp
}

func compileBasic(b *Basic, pr *problems) *compiledBasic {
	cb := &compiledBasic{failClosed: b.FailClosed, realmOff: b.Realm == basicRealmOff}
	var unknown []string
	cb.realm, unknown = parseTemplate(b.Realm)
	pr.unknownVars = append(pr.unknownVars, unknown...)
	if cb.failClosed != "" {
		return cb
	}
	cb.users = parseHtpasswd(b.Htpasswd)
	for user, hash := range b.Users {
		if _, ok := cb.users[user]; !ok {
			cb.users[user] = classifyHash(hash)
		}
	}
	for user, c := range cb.users {
		if c.scheme == schemeUnsupported {
			if pr.unsupported == nil {
				pr.unsupported = make(map[string][]string)
			}
			pr.unsupported[c.why] = append(pr.unsupported[c.why], user)
		}
	}
	return cb
}

func compileExternal(e *External, pr *problems) *compiledExternal {
	ce := &compiledExternal{
		method:          e.Method,
		alwaysSetCookie: e.AlwaysSetCookie,
		timeout:         e.Timeout,
	}
	if ce.timeout <= 0 {
		ce.timeout = defaultAuthTimeout
	}
	addVars := func(t tmpl, unknown []string) tmpl {
		pr.unknownVars = append(pr.unknownVars, unknown...)
		return t
	}

	u, err := parseAuthURL(e.URL)
	if err != nil {
		ce.invalid = fmt.Sprintf("auth-url: %v", err)
		return ce
	}
	ce.url = addVars(parseTemplate(e.URL))
	ce.hostHeader = addVars(parseTemplate(u.Hostname()))

	if e.Method != "" && !slices.Contains(validAuthMethods, e.Method) {
		ce.invalid = fmt.Sprintf("auth-method %q is not a valid HTTP method", e.Method)
		return ce
	}
	for _, h := range e.ResponseHeaders {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if !validHeaderName.MatchString(h) {
			ce.invalid = fmt.Sprintf("auth-response-headers: invalid header name %q", h)
			return ce
		}
		ce.responseHeaders = append(ce.responseHeaders, http.CanonicalHeaderKey(h))
	}
	if e.SignIn != "" {
		target, err := signInTarget(e.SignIn, e.RedirectParam)
		if err != nil {
			ce.invalid = fmt.Sprintf("auth-signin: %v", err)
			return ce
		}
		t := addVars(parseTemplate(target))
		ce.signIn = &t
	}
	if e.RequestRedirect != "" {
		t := addVars(parseTemplate(e.RequestRedirect))
		ce.requestRedirect = &t
	}
	names := slices.Sorted(maps.Keys(e.ProxySetHeaders))
	for _, name := range names {
		if !validHeaderName.MatchString(name) {
			ce.invalid = fmt.Sprintf("auth-proxy-set-headers: invalid header name %q", name)
			return ce
		}
		ce.proxySetHeaders = append(ce.proxySetHeaders, compiledHeader{
			name:  http.CanonicalHeaderKey(name),
			value: addVars(parseTemplate(e.ProxySetHeaders[name])),
		})
	}
	return ce
}

// parseAuthURL applies ingress-nginx's auth-url validation (parser.StringToURL) to the raw,
// unexpanded annotation value, and also requires http or https (anything else fails in
// nginx's proxy_pass).
func parseAuthURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a valid URL: %w", err)
	}
	switch {
	case u.Scheme == "":
		return nil, fmt.Errorf("url scheme is empty")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("url scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("url host is empty")
	case strings.Contains(u.Host, ".."):
		return nil, fmt.Errorf("invalid url host")
	}
	return u, nil
}

// signInTarget is ingress-nginx's buildAuthSignURL: append
// "<param>=$pass_access_scheme://$http_host$escaped_request_uri" with '?' when the sign-in URL
// has no query parameters, with '&' when it has some, and leave the URL alone when it already
// carries a non-empty <param>. The decision is made on the raw annotation value.
func signInTarget(signIn, param string) (string, error) {
	if param == "" {
		param = defaultRedirectParam
	}
	u, err := url.Parse(signIn)
	if err != nil {
		return "", fmt.Errorf("not a valid URL: %w", err)
	}
	q := u.Query()
	const value = "=$pass_access_scheme://$http_host$escaped_request_uri"
	switch {
	case len(q) == 0:
		return signIn + "?" + param + value, nil
	case q.Get(param) != "":
		return signIn, nil
	default:
		return signIn + "&" + param + value, nil
	}
}
