package annotations

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

func init() {
	register(
		Spec{Name: "auth-type", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "basic (digest is refused)", validate: validateEnum("basic", "digest"),
			Note: "HTTP basic authentication; wrong credentials get 401, the Authorization header is removed before proxying.", Target: "TrafficPolicy.basicAuth"},
		Spec{Name: "auth-secret", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "[namespace/]name of a Secret", validate: validateObjectRef,
			Note: "Secret with the credentials; another namespace needs a ReferenceGrant.", Target: "TrafficPolicy.basicAuth.secretRef"},
		Spec{Name: "auth-secret-type", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "auth-file",
			Accepts: "auth-file, auth-map", validate: validateEnum("auth-file", "auth-map"),
			Note: "auth-file: htpasswd in key auth; auth-map: one key per user.", Target: "TrafficPolicy.basicAuth.secretType"},
		Spec{Name: "auth-realm", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "text without quotes", validate: validateRegexp(regexp.MustCompile(`^[^"\\]*$`), "text without quotes or backslashes"),
			Note: "Realm in WWW-Authenticate.", Target: "TrafficPolicy.basicAuth.realm"},
		Spec{Name: "auth-url", Family: "auth", Level: Exact, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "an http(s) URL; may use $host, $http_host, $scheme, $request_uri, $escaped_request_uri", validate: validateAuthURL,
			Note: "External auth: 2xx allows, 401/403 go to the client, anything else gives 500; the body is not sent.", Target: "TrafficPolicy.externalAuth"},
		Spec{Name: "auth-method", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE", validate: validateRegexp(authMethods, "GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE (upper case)"),
			Note: "Method of the auth request.", Target: "TrafficPolicy.externalAuth.method"},
		Spec{Name: "auth-signin", Family: "auth", Level: Exact, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts: "an http(s) URL or a path; may use $host, $http_host, $scheme, $request_uri, $escaped_request_uri", validate: validateSignIn,
			Note: "A 401 from auth-url becomes a 302 to this URL with the original URL in the rd parameter (a path: see the finding).", Target: "TrafficPolicy.externalAuth.signIn"},
		Spec{Name: "auth-signin-redirect-param", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "rd",
			Accepts: "a query parameter name", validate: validateRegexp(regexp.MustCompile(`^[A-Za-z0-9_\-]+$`), "a query parameter name"),
			Note: "Name of the return-URL parameter.", Target: "TrafficPolicy.externalAuth.redirectParam"},
		Spec{Name: "auth-response-headers", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "comma-separated header names of letters, digits, - and _", validate: validateAuthHeaderList,
			Note: "Copied from the auth response into the backend request, replacing client values.", Target: "TrafficPolicy.externalAuth.responseHeaders"},
		Spec{Name: "auth-proxy-set-headers", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "namespace/name of a ConfigMap of the Ingress's namespace", validate: validateObjectRef,
			Note: "Every key of the ConfigMap is a header sent to the auth service (replacing the client's; variables as in auth-url); a missing ConfigMap or an invalid header denies the paths (503).", Target: "TrafficPolicy.externalAuth.proxySetHeaders"},
		Spec{Name: "auth-request-redirect", Family: "auth", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "$request_uri",
			Accepts: "a URL or path", validate: validateRegexp(regexp.MustCompile(`^[-._~a-zA-Z0-9/:?&=%$]+$`), "a URL"),
			Note: "Value of X-Auth-Request-Redirect sent to the auth service.", Target: "TrafficPolicy.externalAuth.requestRedirect"},
		Spec{Name: "auth-cache-key", Family: "auth", Level: Ignored, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "nginx variables", validate: validateRegexp(regexp.MustCompile(`^[$A-Za-z0-9_\-]+$`), "nginx variables"),
			Note: "Caches auth answers in nginx; Envoy asks the auth service every time (same decisions, more auth requests)."},
		Spec{Name: "auth-cache-duration", Family: "auth", Level: Ignored, Risk: RiskMedium, Scope: ScopeLocation, Default: "200 202 401 5m",
			Accepts: "status codes followed by a duration", validate: validateRegexp(regexp.MustCompile(`^([0-9]{3} )+[0-9]+[smhd]?$`), "codes followed by a duration, e.g. 200 202 401 5m"),
			Note: "Validity of cached auth answers; no cache in Envoy (same decisions)."},
		Spec{Name: "auth-keepalive", Family: "auth", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "0",
			Accepts: "integer", validate: validateNonNegativeInt, Note: "Envoy pools connections to the auth service itself."},
		Spec{Name: "auth-keepalive-share-vars", Family: "auth", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool, Note: "nginx variable sharing; no observable behaviour in Envoy."},
		Spec{Name: "auth-keepalive-requests", Family: "auth", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "1000",
			Accepts: "integer", validate: validateNonNegativeInt, Note: "Envoy pools connections to the auth service itself."},
		Spec{Name: "auth-keepalive-timeout", Family: "auth", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "60",
			Accepts: "integer seconds", validate: validateNonNegativeInt, Note: "Envoy pools connections to the auth service itself."},
		Spec{Name: "auth-always-set-cookie", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "Forwards Set-Cookie from the auth response for every status.", Target: "TrafficPolicy.externalAuth.alwaysSetCookie"},
		Spec{Name: "enable-global-auth", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "true",
			Accepts: "boolean", validate: validateBool,
			Note: "false opts out of the ConfigMap global-auth-url.", Target: "TrafficPolicy.externalAuth.disabled"},
		Spec{Name: "satisfy", Family: "auth", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "all",
			Accepts: "all, any", validate: validateSatisfy,
			Note: "any: one passing check (IP list, basic auth, external auth) admits; when all fail the auth 401 wins over the list's 403.", Target: "TrafficPolicy.satisfy"},
	)
}

// BasicAuth is auth-type: basic with its Secret.
type BasicAuth struct {
	Enabled bool
	// Secret is [ns/]name.
	Secret     string
	SecretType string
	Realm      string
}

// ExternalAuth is the auth-url family.
type ExternalAuth struct {
	URL             string
	Method          string
	SignIn          string
	RedirectParam   string
	ResponseHeaders []string
	RequestRedirect string
	AlwaysSetCookie bool
	// ProxySetHeaders is auth-proxy-set-headers: the ConfigMap (namespace/name) of extra
	// headers for the auth service ("" = none).
	ProxySetHeaders string
	// GlobalAuth is enable-global-auth (default true).
	GlobalAuth bool
	// SatisfyAny is satisfy: any.
	SatisfyAny bool
}

// basicAuthNames and externalAuthNames are security-sensitive: invalid values fail closed.
var externalAuthNames = []string{"auth-url", "auth-method", "auth-signin", "auth-signin-redirect-param",
	"auth-response-headers", "auth-request-redirect", "auth-cache-key", "auth-cache-duration", "auth-always-set-cookie",
	"auth-keepalive", "auth-keepalive-share-vars", "auth-keepalive-requests", "auth-keepalive-timeout", "auth-proxy-set-headers"}

func parseBasicAuth(r *reader) BasicAuth {
	var b BasicAuth
	t, ok := r.strClosed("auth-type")
	if !ok {
		for _, n := range []string{"auth-secret", "auth-secret-type", "auth-realm"} {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without auth-type")
			}
		}
		return b
	}
	if strings.EqualFold(t, "digest") {
		r.refuse("auth-type", "digest authentication is not available in Envoy; gatebridge will not serve these paths without it (fails closed); keep this Ingress on ingress-nginx or switch to basic or external auth")
		return b
	}
	b.Enabled = true
	b.SecretType = "auth-file"
	if s, ok := r.strClosed("auth-secret"); ok {
		b.Secret = s
	} else if !r.has("auth-secret") {
		r.findings = append(r.findings, Finding{Annotation: "auth-type", Value: t, Level: Exact, Invalid: true,
			Message: "basic auth needs auth-secret; ingress-nginx answers 503 for these paths, and gatebridge does not serve them (fails closed)"})
		r.failClosed = append(r.failClosed, "auth-secret")
	}
	if v, ok := r.strClosed("auth-secret-type"); ok {
		b.SecretType = strings.ToLower(v)
	}
	if v, ok := r.strClosed("auth-realm"); ok {
		b.Realm = v
	}
	return b
}

func parseExternalAuth(r *reader) ExternalAuth {
	e := ExternalAuth{RedirectParam: "rd"}
	e.GlobalAuth = r.boolean("enable-global-auth", true)
	if v, ok := r.str("satisfy"); ok && v == "any" {
		e.SatisfyAny = true
	}
	if !r.has("auth-url") {
		for _, n := range externalAuthNames[1:] {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Exact, "has no effect without auth-url")
			}
		}
		return e
	}
	// Every external-auth value is checked fail-closed: ingress-nginx drops the whole auth
	// group for some invalid values and serves the location unauthenticated; we refuse.
	e.URL, _ = r.strClosed("auth-url")
	if why := sensitiveAuthHost(e.URL); why != "" {
		r.warn("auth-url", why)
	}
	e.Method, _ = r.strClosed("auth-method")
	e.SignIn, _ = r.strClosed("auth-signin")
	if strings.HasPrefix(e.SignIn, "/") {
		r.note("auth-signin", Approximate, "is a path: nginx's `error_page 401 = "+e.SignIn+"…` serves it by an internal redirect on the same host (as a GET); gatebridge answers 302 to that path with the rd parameter, which the browser follows to the same location (one more round trip)")
	}
	if v, ok := r.strClosed("auth-signin-redirect-param"); ok {
		e.RedirectParam = v
	}
	if v, ok := r.strClosed("auth-response-headers"); ok {
		e.ResponseHeaders = splitList(v)
	}
	e.RequestRedirect, _ = r.strClosed("auth-request-redirect")
	for _, n := range []string{"auth-cache-key", "auth-cache-duration", "auth-keepalive", "auth-keepalive-share-vars", "auth-keepalive-requests", "auth-keepalive-timeout"} {
		if _, ok := r.strClosed(n); ok {
			spec, _ := Lookup(n)
			r.note(n, Ignored, spec.Note)
		}
	}
	if v, ok := r.strClosed("auth-always-set-cookie"); ok {
		e.AlwaysSetCookie = v == "true" || v == "1" || strings.EqualFold(v, "t") || strings.EqualFold(v, "true")
	}
	// The converter reads the ConfigMap (it denies the paths when it is missing).
	e.ProxySetHeaders, _ = r.strClosed("auth-proxy-set-headers")
	if e.ProxySetHeaders != "" && e.URL == "" {
		r.note("auth-proxy-set-headers", Exact, "has no effect without auth-url (as in ingress-nginx)")
	}
	return e
}

// authHeaderName is a header name nginx's proxy_set_header and Envoy accept.
var authHeaderName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

// AuthProxyHeaderProblem says why a key/value of the auth-proxy-set-headers ConfigMap
// cannot be sent ("" = it can): ingress-nginx denies the location for an invalid header
// name, and a line break or NUL in a value would split the request (CVE-2025-15566).
func AuthProxyHeaderProblem(name, value string) string {
	if !authHeaderName.MatchString(name) {
		return fmt.Sprintf("%q is not a header name", name)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return "the value of " + name + " contains a line break or NUL byte"
	}
	return ""
}

// metadataHosts are the names of cloud instance metadata services.
var metadataHosts = map[string]bool{
	"metadata.google.internal": true, "metadata.goog": true,
	"instance-data": true, "instance-data.ec2.internal": true,
}

// awsMetadataIPv6 is the IPv6 address of the EC2 instance metadata service.
var awsMetadataIPv6 = netip.MustParseAddr("fd00:ec2::254")

// sensitiveAuthHost says why an auth-url ("" = fine) points at a link-local or cloud
// metadata address: the proxy itself sends every auth request there (ingress-nginx too),
// so such a URL reads instance credentials rather than asking an auth service.
// auth-signin is not checked: it is a Location the browser follows, never fetched by the
// proxy.
func sensitiveAuthHost(authURL string) string {
	if authURL == "" {
		return ""
	}
	u, err := url.Parse(nginxVariable.ReplaceAllString(authURL, "x"))
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	const tail = ": every auth request is sent there by the proxy, which on most clouds reads the instance's credentials; make sure this is the auth service you mean"
	if metadataHosts[host] {
		return "points at the cloud metadata service " + host + tail
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if a.IsLinkLocalUnicast() || a == awsMetadataIPv6 {
			return "points at the link-local or metadata address " + a.String() + tail
		}
	}
	return ""
}

// validateSatisfy is ingress-nginx's satisfy parser: exactly "any" or "all" (case matters);
// anything else is ignored there (satisfy all), reported here.
func validateSatisfy(v string) error {
	if v != "any" && v != "all" {
		return fmt.Errorf("is not \"any\" or \"all\" (ingress-nginx compares case-sensitively and ignores other values)")
	}
	return nil
}
