package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TrafficPolicy carries ingress-nginx behaviour that the Gateway API has no standard field
// for. Attached to a Gateway it sets defaults for every route of that Gateway (the
// ingress-nginx ConfigMap); attached to HTTPRoutes it carries one Ingress's annotations.
// A field set at route level replaces the same field set at Gateway level.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=gatebridge,shortName=gbtp
// +kubebuilder:subresource:status
type TrafficPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TrafficPolicySpec   `json:"spec"`
	Status TrafficPolicyStatus `json:"status,omitempty"`
}

// TrafficPolicyList is a list of TrafficPolicy.
//
// +kubebuilder:object:root=true
type TrafficPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TrafficPolicy `json:"items"`
}

// TrafficPolicySpec is the desired behaviour. Every block is optional; an absent block
// means "inherit" (from the Gateway-level policy, else the data plane's default).
type TrafficPolicySpec struct {
	// TargetRefs are the Gateways or HTTPRoutes this policy applies to, in its namespace.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	TargetRefs []gwv1.LocalPolicyTargetReferenceWithSectionName `json:"targetRefs"`

	// PathMatching says how the RegularExpression path matches of the targeted routes
	// behave. From `use-regex` / `rewrite-target` (host-wide regex mode).
	// +optional
	PathMatching *PathMatching `json:"pathMatching,omitempty"`

	// Redirects refines the standard RequestRedirect filters of the targeted routes.
	// From `ssl-redirect`, `preserve-trailing-slash`, `use-port-in-redirects`,
	// `app-root`, `permanent-redirect` and ConfigMap `no-tls-redirect-locations`.
	// +optional
	Redirects *RedirectPolicy `json:"redirects,omitempty"`

	// RequestBody limits the request body. From `proxy-body-size` (default 1m).
	// +optional
	RequestBody *RequestBodyPolicy `json:"requestBody,omitempty"`

	// Timeouts are idle timeouts, not deadlines. From `proxy-*-timeout`.
	// +optional
	Timeouts *TimeoutPolicy `json:"timeouts,omitempty"`

	// Retry says when a request is retried on another endpoint. From `proxy-next-upstream*`.
	// +optional
	Retry *RetryPolicy `json:"retry,omitempty"`

	// Backend says how the backends are spoken to. From `backend-protocol`,
	// `service-upstream`, `load-balance`, `proxy-ssl-*`.
	// +optional
	Backend *BackendPolicy `json:"backend,omitempty"`

	// CORS answers cross-origin requests as ingress-nginx does. From `enable-cors`, `cors-*`.
	// +optional
	CORS *CORSPolicy `json:"cors,omitempty"`

	// Access allows or denies clients by address. From `allowlist-source-range`
	// (alias `whitelist-source-range`) and `denylist-source-range`.
	// +optional
	Access *AccessPolicy `json:"access,omitempty"`

	// BasicAuth requires HTTP basic authentication. From `auth-type: basic`, `auth-secret`,
	// `auth-secret-type`, `auth-realm`.
	// +optional
	BasicAuth *BasicAuthPolicy `json:"basicAuth,omitempty"`

	// ExternalAuth asks an HTTP service before each request. From `auth-url` and friends.
	// +optional
	ExternalAuth *ExternalAuthPolicy `json:"externalAuth,omitempty"`

	// Satisfy combines Access, BasicAuth and ExternalAuth as nginx's `satisfy` does: all
	// (the default) requires every one to pass; any admits a request that passes one of
	// them and, when all fail, answers the auth 401 (with its WWW-Authenticate) rather than
	// Access's 403. From `satisfy`. Taken from the policy that gives the auth blocks.
	// +optional
	Satisfy SatisfyMode `json:"satisfy,omitempty"`

	// RateLimit limits requests per client address. From `limit-rps`, `limit-rpm`,
	// `limit-burst-multiplier`, `limit-allowlist`.
	// +optional
	RateLimit *RateLimitPolicy `json:"rateLimit,omitempty"`

	// ResponseRewrite rewrites the backend's Location, Refresh and Set-Cookie headers. From
	// `proxy-redirect-from`/`-to`, `proxy-cookie-domain`, `proxy-cookie-path`.
	// +optional
	ResponseRewrite *ResponseRewritePolicy `json:"responseRewrite,omitempty"`

	// Mirror sends a copy of every request to another server (responses ignored). From
	// `mirror-target`, `mirror-host`.
	// +optional
	Mirror *MirrorPolicy `json:"mirror,omitempty"`

	// ResponseBandwidth throttles response bodies. From `limit-rate`.
	// +optional
	ResponseBandwidth *ResponseBandwidthPolicy `json:"responseBandwidth,omitempty"`

	// SessionAffinity pins a client to one endpoint with a cookie. From `affinity: cookie`
	// and `session-cookie-*`.
	// +optional
	SessionAffinity *SessionAffinityPolicy `json:"sessionAffinity,omitempty"`

	// FrontendTLS is the TLS a client meets on the targeted HTTPS listeners: client
	// certificates and cipher suites, which ingress-nginx sets per host (server level,
	// first Ingress wins). It applies only where the policy targets a Gateway or
	// ListenerSet with a sectionName naming an HTTPS listener, and changes only that
	// listener's hostname (its own SNI filter chain) — unlike the Gateway API's frontend
	// TLS validation, which covers every hostname of a port. From `auth-tls-*` and
	// `ssl-ciphers`. On a whole Gateway (no sectionName) only cipherSuites apply, as the
	// default of every HTTPS listener without its own (ConfigMap `ssl-ciphers`); ignored on
	// routes.
	// +optional
	FrontendTLS *FrontendTLSPolicy `json:"frontendTLS,omitempty"`

	// ErrorPages sends errors or requests to unavailable backends to another Service.
	// From `default-backend`, `custom-http-errors`, `disable-proxy-intercept-errors`.
	// +optional
	ErrorPages *ErrorPagesPolicy `json:"errorPages,omitempty"`

	// Tracing sends OpenTelemetry spans of the targeted routes to an OTLP collector. The
	// collector, service name, sampling and TrustIncomingSpan are read from the
	// Gateway-level policy only (ingress-nginx's ConfigMap); Enabled and OperationName of
	// a route-level block replace the Gateway's for those routes. From ConfigMap
	// `enable-opentelemetry`, `otlp-collector-*`, `otel-*`, `opentelemetry-*` and the
	// annotations `enable-opentelemetry`, `opentelemetry-operation-name`.
	// +optional
	Tracing *TracingPolicy `json:"tracing,omitempty"`
}

// PathMatchingMode names a way of evaluating RegularExpression path matches.
// +kubebuilder:validation:Enum=IngressNginx
type PathMatchingMode string

// PathMatchingIngressNginx evaluates the RegularExpression path matches of one hostname
// in ingress-nginx order: longest regex string first, then by string descending; the first
// match wins (not the longest). Exact matches (app-root) are evaluated before them.
const PathMatchingIngressNginx PathMatchingMode = "IngressNginx"

// PathMatching describes regex path evaluation.
type PathMatching struct {
	// Mode of evaluation.
	Mode PathMatchingMode `json:"mode"`
}

// TrailingSlash says what an HTTPS redirect does with a trailing "/" of the request path.
// +kubebuilder:validation:Enum=Strip;Preserve
type TrailingSlash string

const (
	// TrailingSlashStrip removes one trailing "/" (ingress-nginx default: `GET /a/` → `https://h/a`).
	TrailingSlashStrip TrailingSlash = "Strip"
	// TrailingSlashPreserve keeps the path as it is (`preserve-trailing-slash: "true"`).
	TrailingSlashPreserve TrailingSlash = "Preserve"
)

// RedirectPolicy refines the standard RequestRedirect filter where ingress-nginx differs.
type RedirectPolicy struct {
	// HTTPSTrailingSlash applies to redirects that only change the scheme to https
	// (`ssl-redirect`, `force-ssl-redirect`). From `preserve-trailing-slash`.
	// +optional
	HTTPSTrailingSlash TrailingSlash `json:"httpsTrailingSlash,omitempty"`

	// HostnameTrailingSlash applies to redirects that only change the hostname
	// (`from-to-www-redirect`: ingress-nginx drops one trailing "/" of the request URI,
	// so `GET /` answers `Location: https://example.com`). Unset keeps the path.
	// +optional
	HostnameTrailingSlash TrailingSlash `json:"hostnameTrailingSlash,omitempty"`

	// HTTPSIncludePort writes the HTTPS port into the Location even when it is 443.
	// From `use-port-in-redirects`.
	// +optional
	HTTPSIncludePort *bool `json:"httpsIncludePort,omitempty"`

	// FullPathDropsQuery drops the request's query string from redirects that replace
	// the full path (nginx `return <code> <url>` never appends it): `app-root`,
	// `permanent-redirect`, `temporal-redirect`.
	// +optional
	FullPathDropsQuery *bool `json:"fullPathDropsQuery,omitempty"`
}

// RequestBodyPolicy limits request bodies.
type RequestBodyPolicy struct {
	// MaxBytes is the largest accepted body; larger requests get 413. 0 means unlimited.
	// From `proxy-body-size` (nginx size: "1m", "8k", "0"; default 1m = 1048576).
	// +kubebuilder:validation:Minimum=0
	MaxBytes int64 `json:"maxBytes"`
}

// TimeoutPolicy holds idle timeouts: the longest gap between two reads or writes, never a
// total deadline (long downloads and server-sent events keep working).
type TimeoutPolicy struct {
	// Connect is the time to establish the backend connection. `proxy-connect-timeout` (5s).
	// +optional
	Connect *metav1.Duration `json:"connect,omitempty"`
	// Read is the longest gap between two reads from the backend. `proxy-read-timeout` (60s).
	// +optional
	Read *metav1.Duration `json:"read,omitempty"`
	// Send is the longest gap between two writes to the backend. `proxy-send-timeout` (60s).
	// +optional
	Send *metav1.Duration `json:"send,omitempty"`
}

// RetryCondition is one `proxy-next-upstream` condition.
// +kubebuilder:validation:Enum=error;timeout;invalid_header;http_500;http_502;http_503;http_504;http_403;http_404;http_429
type RetryCondition string

// RetryPolicy says when to try the next endpoint.
type RetryPolicy struct {
	// On lists the conditions; empty means never retry (`proxy-next-upstream: off`).
	// +optional
	// +kubebuilder:validation:MaxItems=10
	On []RetryCondition `json:"on,omitempty"`
	// Attempts counts tries including the first (`proxy-next-upstream-tries`, default 3);
	// 0 means unlimited, as in nginx.
	// +kubebuilder:validation:Minimum=0
	Attempts int32 `json:"attempts"`
	// Budget limits the time spent on all tries (`proxy-next-upstream-timeout`); unset = none.
	// +optional
	Budget *metav1.Duration `json:"budget,omitempty"`
	// NonIdempotent also retries POST, LOCK, PATCH (`non_idempotent` condition or ConfigMap
	// `retry-non-idempotent`). By default they are never retried.
	// +optional
	NonIdempotent bool `json:"nonIdempotent,omitempty"`
}

// BackendProtocol is what the backend speaks. From `backend-protocol`.
// +kubebuilder:validation:Enum=HTTP;HTTPS;AUTO_HTTP;GRPC;GRPCS
type BackendProtocol string

// Backend protocols.
const (
	BackendProtocolHTTP     BackendProtocol = "HTTP"
	BackendProtocolHTTPS    BackendProtocol = "HTTPS"
	BackendProtocolAutoHTTP BackendProtocol = "AUTO_HTTP"
	BackendProtocolGRPC     BackendProtocol = "GRPC"
	BackendProtocolGRPCS    BackendProtocol = "GRPCS"
)

// LoadBalancing is the endpoint picking algorithm. From `load-balance`.
// +kubebuilder:validation:Enum=RoundRobin;LeastRequest
type LoadBalancing string

// Load balancing algorithms.
const (
	LoadBalancingRoundRobin   LoadBalancing = "RoundRobin"
	LoadBalancingLeastRequest LoadBalancing = "LeastRequest"
)

// BackendPolicy says how to talk to the backends.
type BackendPolicy struct {
	// Protocol of the backend. HTTPS and GRPCS do not verify the backend certificate unless
	// TLS.Verify is true (ingress-nginx default).
	// +optional
	Protocol BackendProtocol `json:"protocol,omitempty"`
	// ServiceUpstream sends traffic to the Service's cluster IP instead of its endpoints.
	// From `service-upstream`.
	// +optional
	ServiceUpstream bool `json:"serviceUpstream,omitempty"`
	// LoadBalancing algorithm. From `load-balance` (`ewma` becomes LeastRequest).
	// +optional
	LoadBalancing LoadBalancing `json:"loadBalancing,omitempty"`
	// ConsistentHash picks the endpoint by a hash of request properties (Envoy ring hash);
	// it wins over LoadBalancing, and session affinity wins over it, as in ingress-nginx.
	// From `upstream-hash-by`.
	// +optional
	ConsistentHash *ConsistentHashPolicy `json:"consistentHash,omitempty"`
	// TLS towards HTTPS/GRPCS backends. From `proxy-ssl-*`.
	// +optional
	TLS *BackendTLS `json:"tls,omitempty"`
}

// ConsistentHashPolicy is the key endpoints are hashed by: the hashes of its parts,
// combined in order.
type ConsistentHashPolicy struct {
	// Key lists the request properties hashed.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Key []HashKey `json:"key"`
}

// HashKeySource is a request property a hash key reads.
// +kubebuilder:validation:Enum=RequestURI;Host;SourceIP;Header;Cookie;QueryParameter
type HashKeySource string

// Hash key sources; they mirror the nginx variables $request_uri, $host, $remote_addr,
// $http_<name>, $cookie_<name> and $arg_<name>.
const (
	HashKeyRequestURI     HashKeySource = "RequestURI"
	HashKeyHost           HashKeySource = "Host"
	HashKeySourceIP       HashKeySource = "SourceIP"
	HashKeyHeader         HashKeySource = "Header"
	HashKeyCookie         HashKeySource = "Cookie"
	HashKeyQueryParameter HashKeySource = "QueryParameter"
)

// HashKey is one part of a consistent-hash key.
type HashKey struct {
	// Source of the value.
	Source HashKeySource `json:"source"`
	// Name of the header, cookie or query parameter (Header, Cookie, QueryParameter).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	Name string `json:"name,omitempty"`
}

// BackendTLS configures TLS towards the backend.
type BackendTLS struct {
	// Verify checks the backend certificate against CACertificateRef. `proxy-ssl-verify: on`.
	// +optional
	Verify bool `json:"verify,omitempty"`
	// CertificateRef is a Secret with tls.crt/tls.key (client certificate) and ca.crt
	// (trusted CAs). `proxy-ssl-secret`.
	// +optional
	CertificateRef *gwv1.SecretObjectReference `json:"certificateRef,omitempty"`
	// VerifyDepth is the longest accepted chain. `proxy-ssl-verify-depth` (1).
	// +optional
	VerifyDepth *int32 `json:"verifyDepth,omitempty"`
	// ServerName is used for SNI and verification. `proxy-ssl-name`.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`
	// SendSNI sends the server name in the handshake. `proxy-ssl-server-name: on`.
	// +optional
	SendSNI bool `json:"sendSNI,omitempty"`
	// Ciphers is an OpenSSL cipher list. `proxy-ssl-ciphers`.
	// +optional
	Ciphers string `json:"ciphers,omitempty"`
	// Protocols lists accepted versions, e.g. TLSv1.2 TLSv1.3. `proxy-ssl-protocols`.
	// +optional
	Protocols []string `json:"protocols,omitempty"`
}

// CORSPolicy is ingress-nginx's CORS behaviour: every OPTIONS request from an allowed origin
// is answered 204 by the proxy (no Access-Control-Request-Method needed), headers are set on
// every response from an allowed origin (errors included), and "*" is sent literally.
type CORSPolicy struct {
	// AllowOrigins: "*" or origins `scheme://host[:port]`, `scheme://*.domain` (one label).
	// `cors-allow-origin` (default "*").
	AllowOrigins []string `json:"allowOrigins"`
	// AllowMethods `cors-allow-methods`.
	AllowMethods []string `json:"allowMethods"`
	// AllowHeaders `cors-allow-headers`.
	AllowHeaders []string `json:"allowHeaders"`
	// ExposeHeaders `cors-expose-headers`.
	// +optional
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// AllowCredentials `cors-allow-credentials` (default true).
	AllowCredentials bool `json:"allowCredentials"`
	// MaxAgeSeconds `cors-max-age` (default 1728000).
	MaxAgeSeconds int32 `json:"maxAgeSeconds"`
}

// SatisfyMode is how the access checks combine.
// +kubebuilder:validation:Enum=all;any
type SatisfyMode string

// Satisfy modes of `satisfy`.
const (
	SatisfyAll SatisfyMode = "all"
	SatisfyAny SatisfyMode = "any"
)

// AccessPolicy allows or denies clients by address; deny is evaluated first. A client not
// in a non-empty Allow list gets 403. The client address is the TCP peer unless the data
// plane is told to trust X-Forwarded-For.
type AccessPolicy struct {
	// Allow CIDRs. `allowlist-source-range` / `whitelist-source-range`.
	// +optional
	Allow []string `json:"allow,omitempty"`
	// Deny CIDRs. `denylist-source-range`.
	// +optional
	Deny []string `json:"deny,omitempty"`
}

// BasicAuthSecretType is the layout of the credentials Secret.
// +kubebuilder:validation:Enum=auth-file;auth-map
type BasicAuthSecretType string

// Secret layouts of `auth-secret-type`.
const (
	BasicAuthFile BasicAuthSecretType = "auth-file"
	BasicAuthMap  BasicAuthSecretType = "auth-map"
)

// BasicAuthPolicy requires HTTP basic authentication. Wrong credentials get 401 with
// `WWW-Authenticate: Basic realm="<realm>"`; on success the Authorization header is removed
// before proxying. A missing or unreadable Secret fails closed (503).
type BasicAuthPolicy struct {
	// SecretRef names the Secret (`auth-secret`). Another namespace needs a ReferenceGrant.
	SecretRef gwv1.SecretObjectReference `json:"secretRef"`
	// SecretType `auth-secret-type`: auth-file (htpasswd in key "auth") or auth-map.
	SecretType BasicAuthSecretType `json:"secretType"`
	// Realm `auth-realm`.
	// +optional
	Realm string `json:"realm,omitempty"`
}

// ExternalAuthPolicy asks an HTTP service before proxying (nginx auth_request): 2xx allows,
// 401/403 are returned to the client, anything else gives 500. The body is not sent.
type ExternalAuthPolicy struct {
	// URL of the auth service. `auth-url`. May contain the variables $host, $scheme,
	// $request_uri, $escaped_request_uri, $http_host; no others.
	URL string `json:"url"`
	// Method of the auth request; empty = the client's. `auth-method`.
	// +optional
	Method string `json:"method,omitempty"`
	// SignIn: on 401 redirect (302) to this URL with the original URL in RedirectParam.
	// `auth-signin`.
	// +optional
	SignIn string `json:"signIn,omitempty"`
	// RedirectParam `auth-signin-redirect-param` (default "rd").
	// +optional
	RedirectParam string `json:"redirectParam,omitempty"`
	// ResponseHeaders are copied from the auth response into the backend request.
	// `auth-response-headers`.
	// +optional
	ResponseHeaders []string `json:"responseHeaders,omitempty"`
	// RequestRedirect is the value of X-Auth-Request-Redirect. `auth-request-redirect`.
	// +optional
	RequestRedirect string `json:"requestRedirect,omitempty"`
	// AlwaysSetCookie forwards Set-Cookie from the auth response for every status.
	// `auth-always-set-cookie`.
	// +optional
	AlwaysSetCookie bool `json:"alwaysSetCookie,omitempty"`
	// Disabled turns off gateway-wide external auth for these routes. `enable-global-auth: "false"`.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// ProxySetHeaders are headers set on the auth request, by name, replacing the client's
	// (an empty value removes the header); values may use the nginx variables the auth
	// request can evaluate ($host, $http_host, $scheme, $request_uri, $uri, $args,
	// $request_method, $remote_addr, $request_id, $http_<name>, $cookie_<name>,
	// $arg_<name>…). From the ConfigMap `auth-proxy-set-headers` names and `auth-snippet`
	// proxy_set_header lines (the snippet's wins for the same name).
	// +optional
	// +kubebuilder:validation:MaxProperties=96
	ProxySetHeaders map[string]string `json:"proxySetHeaders,omitempty"`
}

// RateLimitPolicy limits requests per client address, nginx limit_req style: a token bucket
// per client, filled at the rate, holding rate × BurstMultiplier, excess answered with
// StatusCode. The bucket is shared by all routes of the policy (one Ingress = one zone).
type RateLimitPolicy struct {
	// RequestsPerSecond `limit-rps`.
	// +optional
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`
	// RequestsPerMinute `limit-rpm`.
	// +optional
	RequestsPerMinute int32 `json:"requestsPerMinute,omitempty"`
	// BurstMultiplier `limit-burst-multiplier` (5).
	BurstMultiplier int32 `json:"burstMultiplier"`
	// Exempt CIDRs are not limited. `limit-allowlist` / `limit-whitelist`.
	// +optional
	Exempt []string `json:"exempt,omitempty"`
	// StatusCode for limited requests (ConfigMap `limit-req-status-code`, 503).
	StatusCode int32 `json:"statusCode"`
}

// ResponseRewritePolicy rewrites response headers of the backend as nginx's
// proxy_redirect, proxy_cookie_domain and proxy_cookie_path do, with literal values.
type ResponseRewritePolicy struct {
	// Redirect replaces the prefix From of Location (and of the url= of Refresh) with To;
	// case-sensitive.
	// +optional
	Redirect *HeaderRewrite `json:"redirect,omitempty"`
	// CookieDomain replaces a Set-Cookie Domain equal to From (case-insensitive, a leading
	// dot ignored and kept) with To.
	// +optional
	CookieDomain *HeaderRewrite `json:"cookieDomain,omitempty"`
	// CookiePath replaces the prefix From of a Set-Cookie Path with To; case-sensitive.
	// +optional
	CookiePath *HeaderRewrite `json:"cookiePath,omitempty"`
}

// HeaderRewrite is a literal From → To replacement.
type HeaderRewrite struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	From string `json:"from"`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	To string `json:"to"`
}

// MirrorPolicy is a server that receives a copy of each request with its path and query;
// its answers are discarded. HTTPS is not certificate-checked and sends no SNI, as nginx's
// proxy_pass.
type MirrorPolicy struct {
	// Scheme towards the mirror.
	// +kubebuilder:validation:Enum=http;https
	Scheme string `json:"scheme"`
	// Host is the mirror's DNS name or IP address.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9.:-]+$`
	Host string `json:"host"`
	// Port of the mirror.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// HostHeader is the Host of the copies (`mirror-host`, else Host).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9.:*-]+$`
	HostHeader string `json:"hostHeader,omitempty"`
}

// ResponseBandwidthPolicy is a response bandwidth limit (Envoy's bandwidth limit filter):
// one allowance per rule, shared by the responses it sends at the same time.
type ResponseBandwidthPolicy struct {
	// KiBPerSecond is the bandwidth in KiB (1024 bytes) per second, nginx's `limit_rate Nk`.
	// +kubebuilder:validation:Minimum=1
	KiBPerSecond int32 `json:"kibPerSecond"`
}

// SessionAffinityPolicy pins clients with a cookie, set when an endpoint is first chosen.
type SessionAffinityPolicy struct {
	// CookieName `session-cookie-name` (INGRESSCOOKIE).
	CookieName string `json:"cookieName"`
	// CookiePath `session-cookie-path`; empty = the path of the matched rule.
	// +optional
	CookiePath string `json:"cookiePath,omitempty"`
	// CookieDomain `session-cookie-domain`.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	CookieDomain string `json:"cookieDomain,omitempty"`
	// ExpiresSeconds `session-cookie-expires`.
	// +optional
	ExpiresSeconds *int64 `json:"expiresSeconds,omitempty"`
	// MaxAgeSeconds `session-cookie-max-age`.
	// +optional
	MaxAgeSeconds *int64 `json:"maxAgeSeconds,omitempty"`
	// Secure `session-cookie-secure`; unset = Secure when the request is HTTPS.
	// +optional
	Secure *bool `json:"secure,omitempty"`
	// SameSite `session-cookie-samesite`.
	// +optional
	// +kubebuilder:validation:Enum=None;Lax;Strict
	SameSite string `json:"sameSite,omitempty"`
	// ConditionalSameSiteNone omits SameSite=None for the user agents ingress-nginx knows to
	// reject it (util/same_site.lua). Only with SameSite None.
	// `session-cookie-conditional-samesite-none`.
	// +optional
	ConditionalSameSiteNone bool `json:"conditionalSameSiteNone,omitempty"`
	// Mode `affinity-mode`: balanced (may move sessions on scale-up) or persistent.
	// +kubebuilder:validation:Enum=balanced;persistent
	Mode string `json:"mode"`
	// CanaryBehavior `affinity-canary-behavior`: sticky or legacy.
	// +kubebuilder:validation:Enum=sticky;legacy
	CanaryBehavior string `json:"canaryBehavior"`
	// ChangeOnFailure picks a new endpoint when the pinned one fails.
	// `session-cookie-change-on-failure`.
	// +optional
	ChangeOnFailure bool `json:"changeOnFailure,omitempty"`
	// NoCookieBackends are backends whose responses set no cookie: the canary Service of a
	// canary Ingress with `affinity-canary-behavior: legacy` (ingress-nginx then keeps the
	// canary's own affinity, none, instead of copying the primary's).
	// +optional
	NoCookieBackends []ServicePortRef `json:"noCookieBackends,omitempty"`
}

// ServicePortRef is a port of a Service.
type ServicePortRef struct {
	// Name of the Service.
	Name string `json:"name"`
	// Namespace of the Service; empty: the policy's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service.
	Port int32 `json:"port"`
}

// ErrorPagesPolicy routes errors to a default backend Service.
type ErrorPagesPolicy struct {
	// DefaultBackend Service (first port) in the policy's namespace: used when the rule's
	// backend has no ready endpoints, and for Codes. `default-backend`.
	// +optional
	DefaultBackend *gwv1.BackendObjectReference `json:"defaultBackend,omitempty"`
	// Codes are response codes replaced by the default backend's answer to the same
	// request on "/" (query kept) with X-Code, X-Format, X-Original-URI, X-Namespace,
	// X-Ingress-Name, X-Service-Name, X-Service-Port headers; without DefaultBackend they are
	// answered 404. `custom-http-errors`.
	// +optional
	Codes []int32 `json:"codes,omitempty"`
	// InterceptUpstreamErrors false lets backend error bodies through unchanged; the
	// proxy's own errors (access lists, rate limits, auth) are still replaced.
	// `disable-proxy-intercept-errors` (inverted).
	InterceptUpstreamErrors bool `json:"interceptUpstreamErrors"`
	// IngressName is sent as X-Ingress-Name to the default backend.
	// +optional
	IngressName string `json:"ingressName,omitempty"`
}

// TrafficPolicyStatus is written by the controller.
type TrafficPolicyStatus struct {
	// Ancestors are the targets this policy applies to, with conditions.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Ancestors []gwv1.PolicyAncestorStatus `json:"ancestors,omitempty"`
}

// FrontendTLSPolicy is the TLS of one HTTPS listener's hostname.
type FrontendTLSPolicy struct {
	// ClientCertificate asks clients for a certificate and checks it. From `auth-tls-*`.
	// +optional
	ClientCertificate *ClientCertificatePolicy `json:"clientCertificate,omitempty"`
	// CipherSuites offered for TLS 1.2 and older, in order of preference, by their
	// BoringSSL (= OpenSSL) names, e.g. ECDHE-RSA-AES128-GCM-SHA256. From `ssl-ciphers`,
	// translated: names Envoy cannot offer are left out (the report says which).
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Enum=ECDHE-ECDSA-AES128-GCM-SHA256;ECDHE-RSA-AES128-GCM-SHA256;ECDHE-ECDSA-AES256-GCM-SHA384;ECDHE-RSA-AES256-GCM-SHA384;ECDHE-ECDSA-CHACHA20-POLY1305;ECDHE-RSA-CHACHA20-POLY1305;ECDHE-ECDSA-AES128-SHA;ECDHE-RSA-AES128-SHA;ECDHE-ECDSA-AES256-SHA;ECDHE-RSA-AES256-SHA;AES128-GCM-SHA256;AES256-GCM-SHA384;AES128-SHA;AES256-SHA
	CipherSuites []string `json:"cipherSuites,omitempty"`
}

// ClientCertificateMode is when a client certificate is required. From
// `auth-tls-verify-client` (nginx ssl_verify_client).
// +kubebuilder:validation:Enum=Required;Optional;OptionalNoCA;NotRequested
type ClientCertificateMode string

// Client certificate modes.
const (
	// ClientCertificateRequired (`on`): no certificate, or one that does not verify, is
	// answered 400 (or redirected to ErrorPageURL); the TLS handshake itself succeeds.
	ClientCertificateRequired ClientCertificateMode = "Required"
	// ClientCertificateOptional (`optional`): no certificate is admitted; one that does
	// not verify is answered 400.
	ClientCertificateOptional ClientCertificateMode = "Optional"
	// ClientCertificateOptionalNoCA (`optional_no_ca`): a certificate the CA did not sign
	// is admitted (ssl-client-verify says why it failed); an expired or revoked one is
	// still answered 400.
	ClientCertificateOptionalNoCA ClientCertificateMode = "OptionalNoCA"
	// ClientCertificateNotRequested (`off`): none is asked for; the ssl-client-* headers
	// still reach the backend (ssl-client-verify: NONE).
	ClientCertificateNotRequested ClientCertificateMode = "NotRequested"
)

// ClientCertificatePolicy is ingress-nginx's client-certificate authentication. Whenever
// it is set the backend receives ssl-client-verify (SUCCESS, FAILED:<reason> or NONE),
// ssl-client-subject-dn and ssl-client-issuer-dn (RFC 2253), replacing any the client
// sent. A missing or unusable CA Secret makes the listener fail closed (not served).
type ClientCertificatePolicy struct {
	// CACertificateRef names a Secret with the trusted CA certificates in ca.crt and,
	// optionally, a certificate revocation list in ca.crl (PEM). `auth-tls-secret`.
	// Another namespace needs a ReferenceGrant.
	CACertificateRef gwv1.SecretObjectReference `json:"caCertificateRef"`
	// Mode `auth-tls-verify-client` (default on = Required).
	Mode ClientCertificateMode `json:"mode"`
	// VerifyDepth is nginx's ssl_verify_depth: how many intermediate CA certificates may
	// sit between the client certificate and a trusted one. `auth-tls-verify-depth` (1).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	VerifyDepth int32 `json:"verifyDepth"`
	// ErrorPageURL: a failed verification is redirected (302) here instead of answered
	// 400. `auth-tls-error-page`.
	// +optional
	ErrorPageURL string `json:"errorPageURL,omitempty"`
	// ForwardCertificate also sends ssl-client-cert, the client certificate as URL-escaped
	// PEM. `auth-tls-pass-certificate-to-upstream`.
	// +optional
	ForwardCertificate bool `json:"forwardCertificate,omitempty"`
	// SubjectMatch is a regular expression (RE2) searched, unanchored, in the client
	// certificate's full subject DN (RFC 2253); no match is answered 403.
	// `auth-tls-match-cn`.
	// +optional
	SubjectMatch string `json:"subjectMatch,omitempty"`
}

// TracingPolicy is OpenTelemetry tracing as ingress-nginx's otel module does it: one server
// span per request, named by OperationName, continuing the client's W3C trace context
// (traceparent) unless TrustIncomingSpan is false, and propagated to the backend.
type TracingPolicy struct {
	// Enabled makes spans for the targeted routes (`enable-opentelemetry`). A route with
	// tracing off makes none.
	Enabled bool `json:"enabled"`

	// OperationName is the span name. It may use the nginx variables $request_method,
	// $request_uri, $uri, $scheme, $http_host, $remote_addr, $request_id,
	// $http_<name> (evaluated per request), and $service_name, $service_port, $namespace
	// (the rule's first backend and the route's namespace); no others. Empty: Envoy's
	// default name. ConfigMap `opentelemetry-operation-name`, annotation
	// `opentelemetry-operation-name`.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	OperationName string `json:"operationName,omitempty"`

	// Collector receives the spans over OTLP/gRPC (plain text). Gateway level only:
	// without it no span is sent. ConfigMap `otlp-collector-host`, `otlp-collector-port`.
	// +optional
	Collector *OTLPCollector `json:"collector,omitempty"`

	// ServiceName is the service.name resource attribute of the spans. Gateway level
	// only. ConfigMap `otel-service-name` (default nginx).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ServiceName string `json:"serviceName,omitempty"`

	// SampledPerMillion is how many of a million traces started here are recorded (traces
	// continued from a client keep the client's sampled flag). Gateway level only; unset
	// records every one. ConfigMap `otel-sampler` (AlwaysOn 1000000, AlwaysOff 0) and
	// `otel-sampler-ratio` for TraceIdRatioBased (0.01 = 10000).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	SampledPerMillion *int32 `json:"sampledPerMillion,omitempty"`

	// TrustIncomingSpan false ignores the client's traceparent and tracestate: every span
	// starts a new trace. Gateway level only (Envoy reads the trace context before it picks
	// a route). ConfigMap `opentelemetry-trust-incoming-span` (default true).
	// +optional
	TrustIncomingSpan *bool `json:"trustIncomingSpan,omitempty"`
}

// OTLPCollector is an OTLP/gRPC endpoint.
type OTLPCollector struct {
	// Host is a DNS name or IP address.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9.:-]+$`
	Host string `json:"host"`
	// Port of the collector (4317).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}
