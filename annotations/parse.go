package annotations

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/gatebridge-dev/gatebridge/internal/httpstatus"
)

// Ingress is the parsed annotation set of one Ingress.
type Ingress struct {
	Rewrite      Rewrite
	Redirect     Redirect
	Backend      Backend
	Timeouts     Timeouts
	Canary       Canary
	Affinity     Affinity
	CORS         CORS
	BasicAuth    BasicAuth
	ExternalAuth ExternalAuth
	Access       Access
	RateLimit    RateLimit

	// Findings are sorted by annotation name; one per notable annotation.
	Findings []Finding
	// Refused names the refused annotations present; the Ingress must not be served.
	Refused []string
	// FailClosed names security-sensitive annotations with invalid values; the Ingress
	// must not be served.
	FailClosed []string
	// Rejected is true when ingress-nginx itself would reject the whole Ingress.
	Rejected bool
	// ConfigurationSnippet, ServerSnippet and AuthSnippet are the translated snippets
	// (nil when absent or refused).
	ConfigurationSnippet, ServerSnippet, AuthSnippet *Snippet
	// ServerSnippetFailed: ingress-nginx ran the server-snippet (the ConfigMap allows it)
	// but gatebridge cannot translate it; it still applies to the whole host there.
	ServerSnippetFailed bool
	// Mirror is mirror-target with mirror-host and mirror-request-body (nil = none).
	Mirror *Mirror
	// ClientCert is auth-tls-*: client certificates, which ingress-nginx applies to the
	// whole host (first Ingress with auth-tls-secret wins).
	ClientCert ClientCert
	// CipherSuites is ssl-ciphers translated to Envoy's names (nil: the Gateway's
	// default); server level, first Ingress of the host wins.
	CipherSuites []string
	// Tracing is enable-opentelemetry and its options (nil: the ConfigMap's setting).
	Tracing *Tracing
	// Present counts the annotations under the prefix.
	Present int
}

// Blocked reports whether the Ingress must not be served natively.
func (in *Ingress) Blocked() bool {
	return len(in.Refused) > 0 || len(in.FailClosed) > 0 || in.Rejected
}

// Parse reads the annotations under prefix ("" = DefaultPrefix) with the ConfigMap
// defaults. It never fails: problems are findings.
func Parse(annotations map[string]string, prefix string, defaults Defaults) *Ingress {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	values := map[string]string{}
	otherPrefix := []string{}
	for k, v := range annotations {
		if name, ok := SplitName(k, prefix); ok {
			values[name] = v
		} else if prefix != DefaultPrefix {
			if name, ok := SplitName(k, DefaultPrefix); ok {
				otherPrefix = append(otherPrefix, name)
			}
		}
	}
	r := newReader(values)
	out := &Ingress{Present: len(values)}
	parseRaw(r, defaults, out)
	out.Canary = parseCanary(r)
	out.Rewrite = parseRewrite(r)
	out.Redirect = parseRedirect(r)
	out.Backend = parseBackend(r)
	out.Timeouts = parseTimeouts(r)
	out.Affinity = parseAffinity(r)
	out.CORS = parseCORS(r)
	out.BasicAuth = parseBasicAuth(r)
	out.ExternalAuth = parseExternalAuth(r)
	out.Access = parseAccess(r)
	out.RateLimit = parseRateLimit(r, defaults)
	out.ClientCert, out.CipherSuites = parseTLS(r)
	out.Tracing = parseObservability(r, defaults)
	out.Mirror = parseMirror(r)
	noteRemaining(r, values)
	for _, n := range otherPrefix {
		r.findings = append(r.findings, Finding{Annotation: DefaultPrefix + "/" + n, Level: Ignored,
			Message: "uses the default prefix while the annotations prefix is " + prefix + "; ingress-nginx rejects such annotations, so it is ignored"})
	}
	out.Findings = sortFindings(r.findings)
	out.Refused = r.refused
	out.FailClosed = r.failClosed
	out.Rejected = r.rejected
	return out
}

// noteRemaining gives every annotation not read by a family a finding: valid ones get
// their catalog level (exact annotations silently), unknown names are reported.
func noteRemaining(r *reader, values map[string]string) {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if r.seen[n] {
			continue
		}
		spec, known := Lookup(n)
		switch {
		case !known:
			r.findings = append(r.findings, Finding{Annotation: n, Value: values[n], Level: Unknown,
				Message: "is not an ingress-nginx annotation (typo?); ingress-nginx ignores it and so does gatebridge"})
		case spec.Level == Legacy:
			r.findings = append(r.findings, Finding{Annotation: n, Value: values[n], Level: Legacy, Message: spec.Note})
		default:
			v, ok := r.str(n)
			if ok && spec.Level != Exact {
				r.findings = append(r.findings, Finding{Annotation: n, Value: v, Level: spec.Level, Message: spec.Note})
			}
		}
	}
}

// sortFindings orders findings by annotation name, keeping the order of findings about
// the same annotation.
func sortFindings(f []Finding) []Finding {
	sort.SliceStable(f, func(i, j int) bool { return f[i].Annotation < f[j].Annotation })
	return f
}

// Defaults are the ingress-nginx controller ConfigMap settings that change behaviour.
type Defaults struct {
	BodySizeBytes         int64
	ConnectTimeout        int
	ReadTimeout           int
	SendTimeout           int
	NextUpstream          []string
	NextUpstreamTries     int
	NextUpstreamTimeout   int
	RetryNonIdempotent    bool
	SSLRedirect           bool
	ForceSSLRedirect      bool
	HTTPRedirectCode      int
	PreserveTrailingSlash bool
	UsePortInRedirects    bool
	// RelativeRedirects is ConfigMap relative-redirects: Location of redirects to a path
	// stays relative.
	RelativeRedirects bool
	// HSTS: Strict-Transport-Security on HTTPS responses of hosts with a certificate
	// (ConfigMap hsts, hsts-max-age, hsts-include-subdomains, hsts-preload).
	HSTS                    bool
	HSTSMaxAge              string
	HSTSIncludeSubdomains   bool
	HSTSPreload             bool
	NoTLSRedirectLocations  []string
	AllowSnippetAnnotations bool
	RiskLevel               Risk
	Allow                   []netip.Prefix
	Deny                    []netip.Prefix
	LimitReqStatusCode      int
	LoadBalance             string
	UseForwardedHeaders     bool
	GlobalAuthURL           string
	CustomHTTPErrors        []int
	// AllowedResponseHeaders is ConfigMap global-allowed-response-headers: the header names
	// custom-headers may set.
	AllowedResponseHeaders []string
	// OpenTelemetry is ConfigMap enable-opentelemetry; the Otel fields are its settings
	// (opentelemetry-*, otlp-collector-*, otel-*).
	OpenTelemetry          bool
	OtelOperationName      string
	OtelTrustIncomingSpan  bool
	OtlpCollectorHost      string
	OtlpCollectorPort      int
	OtelServiceName        string
	OtelSampler            string
	OtelSamplerRatio       float64
	OtelSamplerParentBased bool
	// ProxyBuffering is ConfigMap proxy-buffering ("on"; default off); LimitRate and
	// LimitRateAfter are ConfigMap limit-rate and limit-rate-after, every location's
	// default. nginx throttles (limit_rate) only buffered responses.
	ProxyBuffering            bool
	LimitRate, LimitRateAfter int
	// CipherSuites is ConfigMap ssl-ciphers translated to Envoy's names (nil: not set, or
	// not translatable: Envoy's defaults, which are ingress-nginx's less the DHE suites).
	CipherSuites []string
}

// DefaultDefaults are ingress-nginx's built-in ConfigMap defaults (config.go NewDefault).
func DefaultDefaults() Defaults {
	return Defaults{
		BodySizeBytes: 1 << 20, ConnectTimeout: 5, ReadTimeout: 60, SendTimeout: 60,
		NextUpstream: []string{"error", "timeout"}, NextUpstreamTries: 3,
		SSLRedirect: true, HTTPRedirectCode: 308,
		NoTLSRedirectLocations: []string{"/.well-known/acme-challenge"},
		RiskLevel:              RiskHigh, LimitReqStatusCode: 503, LoadBalance: "round_robin",
		HSTS: true, HSTSMaxAge: "31536000", HSTSIncludeSubdomains: true,
		OtelTrustIncomingSpan: true, OtlpCollectorPort: 4317, OtelServiceName: "nginx",
		OtelSampler: "AlwaysOn", OtelSamplerRatio: 0.01, OtelSamplerParentBased: true,
	}
}

// ConfigMapFinding is a problem with one ConfigMap key.
type ConfigMapFinding struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

// DefaultsFromConfigMap reads the ingress-nginx controller ConfigMap data. Invalid values
// keep the built-in default and give a finding.
func DefaultsFromConfigMap(data map[string]string) (Defaults, []ConfigMapFinding) {
	d := DefaultDefaults()
	var f []ConfigMapFinding
	bad := func(k, why string) {
		f = append(f, ConfigMapFinding{Key: k, Value: data[k], Message: why + "; the ingress-nginx default is used"})
	}
	intKey := func(k string, dst *int) {
		if v, ok := data[k]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				bad(k, "is not a non-negative integer")
				return
			}
			*dst = n
		}
	}
	boolKey := func(k string, dst *bool) {
		if v, ok := data[k]; ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				bad(k, "is not a boolean")
				return
			}
			*dst = b
		}
	}
	if v, ok := data["proxy-body-size"]; ok {
		if n, err := parseNginxSize(v); err == nil {
			d.BodySizeBytes = n
		} else {
			bad("proxy-body-size", err.Error())
		}
	}
	intKey("proxy-connect-timeout", &d.ConnectTimeout)
	intKey("proxy-read-timeout", &d.ReadTimeout)
	intKey("proxy-send-timeout", &d.SendTimeout)
	intKey("proxy-next-upstream-tries", &d.NextUpstreamTries)
	intKey("proxy-next-upstream-timeout", &d.NextUpstreamTimeout)
	intKey("http-redirect-code", &d.HTTPRedirectCode)
	intKey("limit-req-status-code", &d.LimitReqStatusCode)
	switch code := d.LimitReqStatusCode; {
	case code < 400 || code > 599:
		// nginx's limit_req_status refuses it: the controller's configuration would not load.
		d.LimitReqStatusCode = 503
		bad("limit-req-status-code", "is not a status from 400 to 599 (nginx refuses it)")
	case !httpstatus.EnvoyAnswers(code):
		// Envoy's rate limiter answers with standard codes only; another one in a route's
		// configuration makes Envoy refuse the whole route table.
		d.LimitReqStatusCode = 503
		f = append(f, ConfigMapFinding{Key: "limit-req-status-code", Value: data["limit-req-status-code"],
			Message: "is a status Envoy's rate limiter cannot answer with (it knows the standard codes only); limited requests get 503, the ingress-nginx default"})
	}
	if v, ok := data["ssl-ciphers"]; ok {
		suites, dropped, err := EnvoyCipherSuites(v)
		switch {
		case err != nil:
			f = append(f, ConfigMapFinding{Key: "ssl-ciphers", Value: v, Message: "is not translated (" + err.Error() + "); Envoy's default cipher suites apply to every host without ssl-ciphers of its own"})
		case len(dropped) > 0:
			f = append(f, ConfigMapFinding{Key: "ssl-ciphers", Value: v, Message: strings.Join(dropped, ", ") + " cannot be offered by Envoy (BoringSSL has no such cipher) and is left out"})
		}
		d.CipherSuites = suites
	}
	intKey("limit-rate", &d.LimitRate)
	intKey("limit-rate-after", &d.LimitRateAfter)
	if v, ok := data["proxy-buffering"]; ok {
		switch strings.TrimSpace(v) {
		case "on", "off":
			d.ProxyBuffering = strings.TrimSpace(v) == "on"
		default:
			bad("proxy-buffering", "is not on or off")
		}
	}
	if v, ok := data["proxy-next-upstream"]; ok {
		if err := validateNextUpstream(v); err == nil {
			d.NextUpstream = strings.Fields(v)
		} else {
			bad("proxy-next-upstream", err.Error())
		}
	}
	boolKey("retry-non-idempotent", &d.RetryNonIdempotent)
	boolKey("ssl-redirect", &d.SSLRedirect)
	boolKey("force-ssl-redirect", &d.ForceSSLRedirect)
	boolKey("preserve-trailing-slash", &d.PreserveTrailingSlash)
	boolKey("use-port-in-redirects", &d.UsePortInRedirects)
	boolKey("allow-snippet-annotations", &d.AllowSnippetAnnotations)
	boolKey("use-forwarded-headers", &d.UseForwardedHeaders)
	boolKey("relative-redirects", &d.RelativeRedirects)
	boolKey("hsts", &d.HSTS)
	boolKey("hsts-include-subdomains", &d.HSTSIncludeSubdomains)
	boolKey("hsts-preload", &d.HSTSPreload)
	if v, ok := data["hsts-max-age"]; ok {
		// ingress-nginx writes it into the header as a number (max-age=<n>).
		if n := strings.TrimSpace(v); hstsMaxAge.MatchString(n) {
			d.HSTSMaxAge = n
		} else {
			bad("hsts-max-age", "is not a number of seconds")
		}
	}
	if v, ok := data["no-tls-redirect-locations"]; ok {
		d.NoTLSRedirectLocations = splitList(v)
	}
	if v, ok := data["annotations-risk-level"]; ok {
		switch r := Risk(strings.TrimSpace(v)); r {
		case RiskLow, RiskMedium, RiskHigh, RiskCritical:
			d.RiskLevel = r
		default:
			bad("annotations-risk-level", "is not Low, Medium, High or Critical")
		}
	}
	for _, k := range []string{"whitelist-source-range", "denylist-source-range"} {
		if v, ok := data[k]; ok && strings.TrimSpace(v) != "" {
			p, err := parseCIDRList(v)
			if err != nil {
				bad(k, err.Error())
				continue
			}
			if k == "whitelist-source-range" {
				d.Allow = p
			} else {
				d.Deny = p
			}
		}
	}
	readOpenTelemetry(data, &d, bad)
	if v, ok := data["load-balance"]; ok {
		d.LoadBalance = strings.TrimSpace(v)
	}
	if v, ok := data["global-auth-url"]; ok {
		d.GlobalAuthURL = strings.TrimSpace(v)
	}
	if v, ok := data["custom-http-errors"]; ok && strings.TrimSpace(v) != "" {
		if codes, err := parseStatusList(v); err == nil {
			d.CustomHTTPErrors = codes
		} else {
			bad("custom-http-errors", err.Error())
		}
	}
	if v, ok := data["global-allowed-response-headers"]; ok {
		// ingress-nginx keeps the valid names of the list and warns about the others.
		for _, h := range splitList(v) {
			if customHeaderName.MatchString(h) {
				d.AllowedResponseHeaders = append(d.AllowedResponseHeaders, h)
			} else {
				f = append(f, ConfigMapFinding{Key: "global-allowed-response-headers", Value: v, Message: fmt.Sprintf("%q is not a header name; ingress-nginx leaves it out of the list", h)})
			}
		}
	}
	if d.HTTPRedirectCode < 300 || d.HTTPRedirectCode > 308 {
		bad("http-redirect-code", "is not a redirect code (301, 302, 307, 308)")
		d.HTTPRedirectCode = 308
	}
	return d, f
}
