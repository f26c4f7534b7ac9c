package annotations

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func init() {
	register(
		Spec{Name: "backend-protocol", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "HTTP",
			Accepts: "HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS (FCGI is refused)", validate: validateEnum("HTTP", "HTTPS", "AUTO_HTTP", "GRPC", "GRPCS", "FCGI"),
			Note:   "HTTPS and GRPCS backends are not certificate-checked unless proxy-ssl-verify is on, as in ingress-nginx; FCGI is refused (Envoy has no FastCGI).",
			Target: "TrafficPolicy.backend.protocol"},
		Spec{Name: "upstream-vhost", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeLocation,
			Accepts:  "a hostname, optionally with :port, that may use the nginx variables $host and $server_name",
			validate: validateUpstreamVhost,
			Note:     "Sets the Host header sent to the backend; $host and $server_name are evaluated per host; a :port is dropped (a Gateway API hostname holds none).", Target: "HTTPRoute URLRewrite hostname"},
		Spec{Name: "service-upstream", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false (ConfigMap)",
			Accepts: "boolean", validate: validateBool,
			Note: "Sends traffic to the Service cluster IP instead of the endpoints.", Target: "TrafficPolicy.backend.serviceUpstream"},
		Spec{Name: "load-balance", Family: "backend", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "round_robin (ConfigMap)",
			Accepts:  "round_robin, ewma, chash, chashsubset, sticky_balanced, sticky_persistent",
			validate: validateEnum("round_robin", "ewma", "chash", "chashsubset", "sticky_balanced", "sticky_persistent"),
			Note:     "round_robin is exact; ewma becomes Envoy least-request (power of two choices), the others round robin.",
			Target:   "TrafficPolicy.backend.loadBalancing"},
		Spec{Name: "proxy-ssl-secret", Family: "backend", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts: "namespace/name of a Secret with tls.crt, tls.key and ca.crt", validate: validateObjectRef,
			Note: "Client certificate and CA for TLS to the backend.", Target: "TrafficPolicy.backend.tls.certificateRef"},
		Spec{Name: "proxy-ssl-verify", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "off",
			Accepts: "on, off", validate: validateEnum("on", "off"),
			Note: "Verifies the backend certificate.", Target: "TrafficPolicy.backend.tls.verify"},
		Spec{Name: "proxy-ssl-verify-depth", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "1",
			Accepts: "integer ≥ 0", validate: validateNonNegativeInt,
			Note: "Longest backend certificate chain accepted.", Target: "TrafficPolicy.backend.tls.verifyDepth"},
		Spec{Name: "proxy-ssl-ciphers", Family: "backend", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress, Default: "DEFAULT",
			Accepts: "an OpenSSL cipher list", validate: validateRegexp(cipherListChars, "an OpenSSL cipher list"),
			Note: "Ciphers offered to the backend.", Target: "TrafficPolicy.backend.tls.ciphers"},
		Spec{Name: "proxy-ssl-protocols", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "TLSv1.2",
			Accepts: "space-separated TLSv1, TLSv1.1, TLSv1.2, TLSv1.3", validate: validateTLSProtocols,
			Note: "TLS versions offered to the backend.", Target: "TrafficPolicy.backend.tls.protocols"},
		Spec{Name: "proxy-ssl-name", Family: "backend", Level: Exact, Risk: RiskHigh, Scope: ScopeIngress,
			Accepts: "a hostname", validate: maxLength(maxHostname, "hostname (TLS SNI)", validateRegexp(dnsNameWithWildcard, "a hostname")),
			Note: "Name used for SNI and verification towards the backend.", Target: "TrafficPolicy.backend.tls.serverName"},
		Spec{Name: "proxy-ssl-server-name", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "off",
			Accepts: "on, off", validate: validateEnum("on", "off"),
			Note: "Sends SNI to the backend.", Target: "TrafficPolicy.backend.tls.sendSNI"},
		Spec{Name: "proxy-http-version", Family: "backend", Level: Ignored, Risk: RiskLow, Scope: ScopeLocation, Default: "1.1",
			Accepts: "1.0, 1.1", validate: validateEnum("1.0", "1.1"),
			Note: "Envoy speaks HTTP/1.1 to backends (the default); HTTP/1.0 is not available."},
		Spec{Name: "server-alias", Family: "backend", Level: Exact, Risk: RiskHigh, Scope: ScopeIngress,
			Accepts: "comma-separated hostnames (regex aliases ~… are refused)", validate: validateServerAlias,
			Note: "Adds hostnames served exactly like the Ingress host; the first Ingress of a host wins.", Target: "HTTPRoute hostnames"},
		Spec{Name: "ssl-passthrough", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeIngress, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "TLS on 443 goes by SNI, undecrypted, to the Service of the host's / path.", Target: "Gateway TLS Passthrough listener + TLSRoute"},
		Spec{Name: "default-backend", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "a Service name in the Ingress namespace", validate: maxLength(63, "Service name", validateRegexp(dnsLabel, "a Service name")),
			Note: "Serves requests whose backend has no ready endpoints, and custom-http-errors.", Target: "TrafficPolicy.errorPages.defaultBackend"},
		Spec{Name: "custom-http-errors", Family: "backend", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation,
			Accepts: "comma-separated 4xx/5xx codes", validate: validateStatusList,
			Note: "Listed codes are answered by the default backend as in nginx, but only for requests Envoy has received completely: an error answered while the client was still sending the body (such as a 413) reaches the client unchanged, and the default backend never gets the request body.", Target: "TrafficPolicy.errorPages.codes"},
		Spec{Name: "disable-proxy-intercept-errors", Family: "backend", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note: "Lets backend error bodies through even with custom-http-errors; the proxy's own errors still get error pages.", Target: "TrafficPolicy.errorPages.interceptUpstreamErrors"},
	)
}

var (
	// upstreamVhostChars is a host name made of letters, digits, dots, dashes and nginx
	// variables, with an optional port: what nginx's proxy_set_header Host takes here.
	upstreamVhostChars = mustRegexp(`^(?:[A-Za-z0-9.-]|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)+(?::[0-9]{1,5})?$`)
	cipherListChars    = mustRegexp(`^[A-Za-z0-9_:+!@=.\-]+$`)
	dnsLabel           = mustRegexp(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	objectRef          = mustRegexp(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-.a-z0-9]*[a-z0-9])?$`)
)

func validateObjectRef(v string) error {
	if !objectRef.MatchString(v) {
		return errorf("is not [namespace/]name")
	}
	ns, name, found := strings.Cut(v, "/")
	if !found {
		ns, name = "", v
	}
	if err := checkLength(ns, maxNamespace, "namespace"); err != nil {
		return errorf("namespace %q %v", ns, err)
	}
	if err := checkLength(name, maxObjectName, "object name"); err != nil {
		return errorf("name %v", err)
	}
	return nil
}

func validateTLSProtocols(v string) error {
	for _, p := range strings.Fields(v) {
		switch p {
		case "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3":
		default:
			return errorf("%q is not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", p)
		}
	}
	if len(strings.Fields(v)) == 0 {
		return errorf("lists no protocol")
	}
	return nil
}

// AliasNames are the hostnames the server-alias annotation under prefix ("" =
// DefaultPrefix) names, lowercased and not validated: the converter ties together the
// Ingresses that may share a hostname before it parses their annotations.
func AliasNames(annotations map[string]string, prefix string) []string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	v, ok := annotations[strings.TrimSuffix(prefix, "/")+"/server-alias"]
	if !ok {
		return nil
	}
	return splitList(strings.ToLower(normalize(v)))
}

func validateServerAlias(v string) error {
	for _, a := range splitList(v) {
		if strings.HasPrefix(a, "~") {
			return errorf("alias %q is a regex server name, which gatebridge refuses", a)
		}
		if !dnsNameWithWildcard.MatchString(a) {
			return errorf("alias %q is not a hostname", a)
		}
		if err := checkLength(a, maxHostname, "Gateway API hostname"); err != nil {
			return errorf("alias %.64q… %v", a, err)
		}
	}
	return nil
}

func validateStatusList(v string) error {
	_, err := parseStatusList(v)
	return err
}

func parseStatusList(v string) ([]int, error) {
	var out []int
	for _, s := range splitList(v) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 400 || n > 599 {
			return nil, errorf("%q is not a 4xx or 5xx status code", s)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errorf("lists no code")
	}
	return out, nil
}

// Backend is the backend family of one Ingress.
type Backend struct {
	// Protocol is upper-cased backend-protocol ("" = HTTP default).
	Protocol        string
	UpstreamVhost   string
	ServiceUpstream *bool
	// LoadBalance is load-balance as written ("" = ConfigMap default).
	LoadBalance string
	ProxySSL    ProxySSL
	// ServerAlias are the extra hostnames.
	ServerAlias []string
	// SSLPassthrough is ssl-passthrough.
	SSLPassthrough bool
	// DefaultBackend is a Service name ("" = none).
	DefaultBackend string
	// CustomHTTPErrors codes (nil = none).
	CustomHTTPErrors []int
	// DisableInterceptErrors is disable-proxy-intercept-errors.
	DisableInterceptErrors bool
	// CustomHeaders is custom-headers as written: the ConfigMap ("namespace/name") whose
	// keys are response headers ("" = none). The converter resolves it.
	CustomHeaders string
	// HashBy is upstream-hash-by(-subset, -subset-size); nil = not set.
	HashBy *HashBy
}

// ProxySSL holds the proxy-ssl-* annotations.
type ProxySSL struct {
	// Secret is [ns/]name ("" = none).
	Secret      string
	Verify      bool
	VerifyDepth *int
	Ciphers     string
	Protocols   []string
	Name        string
	ServerName  bool
	// Set is true when any proxy-ssl-* annotation is present.
	Set bool
}

func parseBackend(r *reader) Backend {
	var b Backend
	if p, ok := r.str("backend-protocol"); ok {
		b.Protocol = strings.ToUpper(p)
		if b.Protocol == "FCGI" {
			r.refuse("backend-protocol", "FastCGI backends cannot be served: Envoy has no FastCGI client; keep this Ingress on ingress-nginx or put an HTTP server in front of the FastCGI process")
			b.Protocol = ""
		}
	}
	b.UpstreamVhost, _ = r.str("upstream-vhost")
	b.ServiceUpstream = r.optBool("service-upstream")
	b.HashBy = parseHashBy(r)
	if lb, ok := r.str("load-balance"); ok {
		b.LoadBalance = strings.ToLower(lb)
		switch {
		case b.HashBy != nil:
			// balancer.lua: upstream-hash-by wins over load-balance.
			r.note("load-balance", Exact, "has no effect: upstream-hash-by takes precedence (as in ingress-nginx)")
			b.LoadBalance = ""
		case b.LoadBalance == "round_robin":
		case b.LoadBalance == "ewma":
			r.note("load-balance", Approximate, "ewma becomes Envoy least-request (power of two choices), which also favours fast endpoints")
		default:
			r.note("load-balance", Approximate, b.LoadBalance+" is not available in Envoy; round robin is used")
		}
	}
	b.ProxySSL = parseProxySSL(r)
	if v, ok := r.str("server-alias"); ok {
		b.ServerAlias = splitList(strings.ToLower(v))
	}
	b.SSLPassthrough = r.boolean("ssl-passthrough", false)
	b.DefaultBackend, _ = r.str("default-backend")
	if v, ok := r.str("custom-http-errors"); ok {
		b.CustomHTTPErrors, _ = parseStatusList(v)
	}
	b.DisableInterceptErrors = r.boolean("disable-proxy-intercept-errors", false)
	b.CustomHeaders, _ = r.str("custom-headers")
	if _, ok := r.str("proxy-http-version"); ok && r.values["proxy-http-version"] == "1.0" {
		r.note("proxy-http-version", Approximate, "HTTP/1.0 to the backend is not available in Envoy; HTTP/1.1 is used")
	}
	return b
}

func parseProxySSL(r *reader) ProxySSL {
	var p ProxySSL
	for _, n := range []string{"proxy-ssl-secret", "proxy-ssl-verify", "proxy-ssl-verify-depth", "proxy-ssl-ciphers", "proxy-ssl-protocols", "proxy-ssl-name", "proxy-ssl-server-name"} {
		if r.has(n) {
			p.Set = true
		}
	}
	p.Secret, _ = r.str("proxy-ssl-secret")
	if v, ok := r.str("proxy-ssl-verify"); ok {
		p.Verify = strings.EqualFold(v, "on")
	}
	p.VerifyDepth = r.optInt("proxy-ssl-verify-depth")
	p.Ciphers, _ = r.str("proxy-ssl-ciphers")
	if p.Ciphers != "" && p.Ciphers != "DEFAULT" {
		// The data plane offers the backend the ciphers a list names (dataplane
		// upstreamTLSParams), else Envoy's defaults.
		suites, dropped, err := EnvoyCipherSuites(p.Ciphers)
		switch {
		case err != nil:
			r.note("proxy-ssl-ciphers", Approximate, "is not translated: "+err.Error()+"; Envoy's default ciphers are offered to the backend")
		case len(dropped) > 0:
			r.note("proxy-ssl-ciphers", Approximate, fmt.Sprintf("%s cannot be offered by Envoy (BoringSSL has no such cipher) and is left out; the backend is offered %s", strings.Join(dropped, ", "), strings.Join(suites, ":")))
		}
	}
	if v, ok := r.str("proxy-ssl-protocols"); ok {
		p.Protocols = strings.Fields(v)
		noteProxySSLProtocols(r, p.Protocols)
	}
	p.Name, _ = r.str("proxy-ssl-name")
	if v, ok := r.str("proxy-ssl-server-name"); ok {
		p.ServerName = strings.EqualFold(v, "on")
	}
	if p.Verify && p.Secret == "" {
		r.note("proxy-ssl-verify", Exact, "is on without proxy-ssl-secret: nginx then has no CA to verify with and every handshake fails; set proxy-ssl-secret")
	}
	return p
}

// noteProxySSLProtocols says what of proxy-ssl-protocols Envoy cannot do (TLSVersionRange).
func noteProxySSLProtocols(r *reader, names []string) {
	_, _, unknown, widened, ok := TLSVersionRange(names)
	switch {
	case !ok:
		r.note("proxy-ssl-protocols", Approximate, "names no TLS version Envoy speaks (TLSv1 to TLSv1.3); Envoy's defaults apply towards the backend")
	case len(unknown) > 0:
		r.note("proxy-ssl-protocols", Approximate, strings.Join(unknown, ", ")+" cannot be spoken by Envoy and is left out")
	}
	if widened {
		r.note("proxy-ssl-protocols", Approximate, "Envoy takes a range of versions: those between the lowest and the highest listed are allowed too")
	}
}

// TLSVersions are nginx's protocol names that Envoy speaks, oldest first.
var TLSVersions = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// TLSVersionRange is how Envoy speaks the protocol names of proxy-ssl-protocols: from the
// oldest to the newest of those it speaks (indexes into TLSVersions). unknown are the
// names it does not speak (SSLv2, SSLv3), left out; widened says the range allows a
// version the names leave out; ok is false when it speaks none of them.
func TLSVersionRange(names []string) (oldest, newest int, unknown []string, widened, ok bool) {
	listed := map[int]bool{}
	for _, n := range names {
		v := slices.Index(TLSVersions, n)
		if v < 0 {
			unknown = append(unknown, n)
			continue
		}
		if !ok || v < oldest {
			oldest = v
		}
		if !ok || v > newest {
			newest = v
		}
		listed[v], ok = true, true
	}
	return oldest, newest, unknown, ok && newest-oldest+1 > len(listed), ok
}

// validateUpstreamVhost accepts a host name with an optional port and nginx variables; the
// name (without port) fits a Gateway API hostname when it has no variable (the converter
// checks the evaluated one).
func validateUpstreamVhost(v string) error {
	if !upstreamVhostChars.MatchString(v) {
		return errorf("is not a hostname with an optional :port and nginx variables")
	}
	name := v
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		name = v[:i]
	}
	limit := maxHostname
	if strings.Contains(name, "$") {
		limit = maxHeaderValue
	}
	return checkLength(name, limit, "Gateway API hostname")
}

var (
	// customHeaderName and customHeaderValue are what ingress-nginx's custom-headers parser
	// accepts as the keys and values of the ConfigMap (customheaders headerRegexp and
	// valueRegexp): anything else denies the location (503).
	customHeaderName  = mustRegexp(`^[a-zA-Z\d\-_]+$`)
	customHeaderValue = mustRegexp(`^[a-zA-Z\d_ :;.,\\/"'?!(){}\[\]@<>=\-+*#$&\x60|~^%]+$`)
)

// CustomHeaderProblem says why ingress-nginx denies a location (503) for one entry of a
// custom-headers ConfigMap ("" = it accepts it): a name or value its parser refuses, or a
// name not listed (exactly, case included) in ConfigMap global-allowed-response-headers.
func CustomHeaderProblem(name, value string, allowed []string) string {
	switch {
	case !customHeaderName.MatchString(name):
		return fmt.Sprintf("key %q is not a header name ingress-nginx accepts (letters, digits, - and _)", name)
	case !customHeaderValue.MatchString(value):
		return fmt.Sprintf("the value of %s has characters ingress-nginx refuses (or is empty)", name)
	case !slices.Contains(allowed, name):
		return fmt.Sprintf("header %s is not listed in ConfigMap global-allowed-response-headers (%s)", name, strings.Join(allowed, ","))
	}
	return ""
}
