package dataplane

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/clientca"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// Client certificates (frontendTLS.clientCertificate, from auth-tls-*) are enforced in
// two places, as nginx enforces them:
//
//   - the handshake, on the hostname's own SNI filter chain: the CA (and CRL) of the policy,
//     a certificate asked for but never required, and untrusted ones accepted, so that the
//     handshake always completes and HTTP answers the failures (nginx: 400, not a TLS alert);
//   - every request whose Host is that hostname (nginx picks the server by Host): a Lua
//     filter on the hostname's virtual host answers 421, 400 (or the error page) as nginx,
//     and sets the ssl-client-* headers; an RBAC filter after it answers 403 when the
//     subject DN does not match subjectMatch.
//
// See docs/dataplane.md, "Client certificates".
const (
	filterClientCert = "gatebridge.client_certificate"
	filterClientCN   = "gatebridge.client_subject_match"
)

// clientCertHost is the client-certificate policy of one hostname of a Gateway.
type clientCertHost struct {
	policy *v1alpha1.TrafficPolicy
	spec   *v1alpha1.ClientCertificatePolicy
	// ca and crl are the Secret's ca.crt and ca.crl; caSubjects the RFC 2253 subjects of
	// ca.crt's certificates. problem (with field) says why they cannot be used: the
	// hostname's HTTPS listener is then not served.
	ca, crl        []byte
	caSubjects     []string
	field, problem string
}

// clientCertKey keys the client-certificate hosts of a Gateway.
func clientCertKey(gw *gwv1.Gateway, hostname string) string {
	return qualified(gw.Namespace, gw.Name) + "|" + hostname
}

// collectClientCerts records, for every HTTPS listener of gw whose frontendTLS policy asks
// for client certificates, the policy by the listener's hostname. The first listener of a
// hostname decides (a hostname is served once per port, and nginx has one server for it).
func (t *translator) collectClientCerts(gw *gwv1.Gateway, ls []*listenerInfo) {
	for _, li := range ls {
		if li.spec.Protocol != gwv1.HTTPSProtocolType || li.hostname() == "" {
			continue
		}
		p := t.listenerFrontendTLS(li)
		if p == nil || p.Spec.FrontendTLS.ClientCertificate == nil {
			continue
		}
		k := clientCertKey(gw, li.hostname())
		if _, ok := t.clientCerts[k]; ok {
			continue
		}
		if t.clientCerts == nil {
			t.clientCerts = map[string]*clientCertHost{}
		}
		t.clientCerts[k] = t.resolveClientCert(p)
	}
}

// resolveClientCert reads the CA Secret of p's client-certificate policy.
func (t *translator) resolveClientCert(p *v1alpha1.TrafficPolicy) *clientCertHost {
	cc := p.Spec.FrontendTLS.ClientCertificate
	h := &clientCertHost{policy: p, spec: cc, field: "spec.frontendTLS.clientCertificate.caCertificateRef"}
	ref := cc.CACertificateRef
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
		h.problem = "only core Secrets can hold the client CA"
		return h
	}
	ns := p.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if !t.ix.granted(v1alpha1.GroupVersion.Group, "TrafficPolicy", p.Namespace, "", "Secret", ns, string(ref.Name)) {
		h.problem = fmt.Sprintf("Secret %s is in another namespace and no ReferenceGrant there allows it; add one", qualified(ns, string(ref.Name)))
		return h
	}
	sec := t.ix.secrets[qualified(ns, string(ref.Name))]
	if sec == nil {
		h.problem = fmt.Sprintf("Secret %s not found", qualified(ns, string(ref.Name)))
		return h
	}
	h.ca, h.crl = sec.Data["ca.crt"], sec.Data["ca.crl"]
	subjects, err := clientca.Check(h.ca, h.crl)
	if err != nil {
		h.problem = fmt.Sprintf("Secret %s: %v", qualified(ns, string(ref.Name)), err)
		return h
	}
	h.caSubjects = subjects
	return h
}

// hasClientCerts reports whether g's Gateway has a hostname asking for client
// certificates: only then does its connection manager hold the filters.
func (t *translator) hasClientCerts(g *portGroup) bool {
	prefix := qualified(g.gw.Namespace, g.gw.Name) + "|"
	for k := range t.clientCerts {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// clientCertHostOf is the client-certificate policy of hostname on g's Gateway (nil: none).
func (t *translator) clientCertHostOf(g *portGroup, hostname string) *clientCertHost {
	return t.clientCerts[clientCertKey(g.gw, hostname)]
}

// applyClientCertificate configures the handshake of li's chain for its client-certificate
// policy; false (with a problem) when the CA cannot be used: the listener is then not
// served, never served without client certificates.
func (t *translator) applyClientCertificate(li *listenerInfo, ctx *tlsv3.DownstreamTlsContext) (field, problem string) {
	h := t.clientCerts[clientCertKey(li.gw, li.hostname())]
	if h == nil {
		// A second listener of the hostname (another port): the first one's policy rules
		// the virtual host; this one's handshake gets its own CA all the same.
		h = t.resolveClientCert(t.listenerFrontendTLS(li))
	}
	if h.problem != "" {
		return h.field, h.problem
	}
	if h.spec.Mode == v1alpha1.ClientCertificateNotRequested {
		return "", ""
	}
	vc := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: h.ca}},
		// OpenSSL 3's ssl_verify_depth counts the CAs between the client and the trusted
		// one; Envoy's max_verify_depth counts the trusted one too, and is at most
		// maxVerifyDepth (a deeper setting accepts every real chain either way).
		MaxVerifyDepth: wrapperspb.UInt32(uint32(min(max(h.spec.VerifyDepth, 1), maxVerifyDepth-1)) + 1),
		// The handshake completes whatever the certificate; the virtual host's filter
		// answers as nginx does (400 over HTTP, not a TLS alert).
		TrustChainVerification: tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED,
	}
	if len(h.crl) > 0 {
		vc.Crl = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: h.crl}}
	}
	ctx.RequireClientCertificate = wrapperspb.Bool(false)
	ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	// A resumed session does not carry the validation result (Envoy reports such a
	// certificate as not validated): no resumption on chains that check certificates.
	ctx.SessionTicketKeysType = &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: true}
	ctx.DisableStatefulSessionResumption = true
	return "", ""
}

// clientCertFilters are the connection manager's two client-certificate filters, off
// unless a virtual host turns them on (vhostFilterDefaults).
func clientCertFilters() []*hcmv3.HttpFilter {
	return []*hcmv3.HttpFilter{
		luaFilter(filterClientCert, "-- gatebridge: client certificates, per virtual host.\n"),
		{Name: filterClientCN, ConfigType: typed(&rbacv3.RBAC{})},
	}
}

// clientCertVhostConfig is the per-virtual-host configuration of the client-certificate
// filters for hostname h (policy cc) running lua.
func (t *translator) clientCertVhostConfig(cc *clientCertHost, h, lua string) map[string]*anypb.Any {
	out := map[string]*anypb.Any{filterClientCert: mustAny(&luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_SourceCode{
		SourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: lua}},
	}})}
	if m := cc.spec.SubjectMatch; m != "" {
		if err := checkSubjectMatch(m); err != nil {
			// The API server checks it is RE2; objects that skipped it fail closed: no DN
			// matches, every request of the hostname is answered 403.
			t.problem("TrafficPolicy", cc.policy.Namespace, cc.policy.Name, "spec.frontendTLS.clientCertificate.subjectMatch",
				fmt.Sprintf("%q is not an RE2 regular expression Envoy takes (%v); every request for %s is answered 403 (fails closed)", m, err, h))
			m = "[^\\s\\S]"
		}
		out[filterClientCN] = subjectMatchRBAC(m)
	}
	return out
}

// subjectMatchRBAC allows the requests whose ssl-client-subject-dn (set by the Lua filter,
// the client's own removed) contains a match of re: nginx's unanchored
// `$ssl_client_s_dn !~ re → 403`. Without a DN (plain HTTP, no certificate) nothing
// matches, as nginx's empty variable does not match a regex that starts with CN=.
func subjectMatchRBAC(re string) *anypb.Any {
	principal := &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_Header{Header: &routev3.HeaderMatcher{
		Name: "ssl-client-subject-dn",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(?s).*(?:" + re + ").*"}},
		}},
	}}}
	return mustAny(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
		Action: rbacconfigv3.RBAC_ALLOW,
		Policies: map[string]*rbacconfigv3.Policy{"auth-tls-match-cn": {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  []*rbacconfigv3.Principal{principal},
		}},
	}}})
}

// clientCertLua is the Lua of one hostname's virtual host: its settings, then the checks.
func clientCertLua(cc *clientCertHost, tls bool) string {
	var b strings.Builder
	// The policy's name in a comment, quoted: a name read from a file could hold a line break.
	b.WriteString("-- gatebridge: client certificates of " + luaString(qualified(cc.policy.Namespace, cc.policy.Name)) + ".\n")
	fmt.Fprintf(&b, "local mode = %s\n", luaString(string(cc.spec.Mode)))
	fmt.Fprintf(&b, "local tls_port = %t\n", tls)
	fmt.Fprintf(&b, "local forward_cert = %t\n", cc.spec.ForwardCertificate)
	if cc.spec.ErrorPageURL != "" {
		fmt.Fprintf(&b, "local error_page = %s\n", luaString(cc.spec.ErrorPageURL))
	} else {
		b.WriteString("local error_page = nil\n")
	}
	b.WriteString("local ca_subjects = {")
	for _, s := range cc.caSubjects {
		fmt.Fprintf(&b, "[%s] = true, ", luaString(s))
	}
	b.WriteString("}\n")
	b.WriteString(clientCertLuaBody)
	return b.String()
}

// clientCertLuaBody is the hostname-independent part of clientCertLua. nginx's order:
// 421 (a TLS connection negotiated for another name), then the certificate (400), then,
// in the RBAC filter that follows, the subject match (403).
const clientCertLuaBody = `
local headers_out = {"ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn", "ssl-client-cert"}

-- nginx's Host: lower case, without port and trailing dot.
local function host_name(authority)
  local h = authority:lower()
  if h:sub(1, 1) == "[" then
    local e = h:find("]", 1, true)
    if e then h = h:sub(1, e) end
  else
    h = h:gsub(":%d*$", "")
  end
  return (h:gsub("%.$", ""))
end

local function page(status, title, text)
  return "<html>\r\n<head><title>" .. status .. " " .. title .. "</title></head>\r\n<body>\r\n" ..
    "<center><h1>" .. status .. " " .. (status == 400 and "Bad Request" or title) .. "</h1></center>\r\n" ..
    (text and ("<center>" .. text .. "</center>\r\n") or "") .. "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
end

-- A failed verification: 400, or nginx's "error_page 495 496 = <page>": a URL is a
-- redirect, a path an internal redirect (the request goes on as GET for that path).
local function fail(handle, headers, text)
  if error_page and error_page:sub(1, 1) == "/" then
    headers:replace(":path", error_page)
    if headers:get(":method") ~= "HEAD" then headers:replace(":method", "GET") end
    handle:clearRouteCache()
    return false
  end
  if error_page then
    handle:respond({[":status"] = "302", ["location"] = error_page, ["content-type"] = "text/html"}, page(302, "Found"))
  else
    handle:respond({[":status"] = "400", ["content-type"] = "text/html"}, page(400, text, text))
  end
  return true
end

-- Why a certificate that did not verify is admitted by optional_no_ca (nginx's
-- ngx_ssl_verify_error_optional: trust errors only), nil when it is not: expired or not yet
-- valid, or issued by one of the trusted CAs (so revoked, or otherwise broken).
local function trust_error(ssl, subject, issuer)
  local now = os.time()
  local from, to = ssl:validFromPeerCertificate(), ssl:expirationPeerCertificate()
  if (from and from > now) or (to and to < now) then return nil end
  if ca_subjects[issuer] then return nil end
  if subject == issuer then return "self-signed certificate" end
  return "unable to verify the first certificate"
end

function envoy_on_request(handle)
  local headers = handle:headers()
  for _, n in ipairs(headers_out) do headers:remove(n) end
  local ssl = handle:streamInfo():downstreamSslConnection()
  if not tls_port or ssl == nil then
    -- Plain HTTP: nginx's ssl_client variables are empty, so no header is sent.
    return
  end
  if mode == "NotRequested" then
    headers:add("ssl-client-verify", "NONE")
    return
  end
  local sni = handle:streamInfo():requestedServerName()
  if sni and sni ~= "" and sni:lower() ~= host_name(headers:get(":authority") or "") then
    handle:respond({[":status"] = "421", ["content-type"] = "text/html"}, page(421, "Misdirected Request"))
    return
  end
  local verify, subject, issuer = "NONE", "", ""
  if ssl:peerCertificatePresented() then
    subject, issuer = ssl:subjectPeerCertificate() or "", ssl:issuerPeerCertificate() or ""
    if ssl:peerCertificateValidated() then
      verify = "SUCCESS"
    else
      local reason = trust_error(ssl, subject, issuer)
      if mode == "OptionalNoCA" and reason then
        verify = "FAILED:" .. reason
      else
        if fail(handle, headers, "The SSL certificate error") then return end
        verify = "FAILED:certificate error"
      end
    end
  elseif mode == "Required" then
    if fail(handle, headers, "No required SSL certificate was sent") then return end
  end
  headers:add("ssl-client-verify", verify)
  if subject ~= "" then headers:add("ssl-client-subject-dn", subject) end
  if issuer ~= "" then headers:add("ssl-client-issuer-dn", issuer) end
  if forward_cert and ssl:peerCertificatePresented() then
    headers:add("ssl-client-cert", ssl:urlEncodedPemEncodedPeerCertificate())
  end
end
`

// vhostConfigs are the per-filter configurations of the virtual hosts of one route table
// that have their own (client certificates), on top of the port group's defaults; key
// identifies them, so that the memo of the table sees when they change.
type vhostConfigs struct {
	byHost map[string]map[string]*anypb.Any
	key    string
}

// merged is host's per-filter configuration: defaults with its own on top.
func (v vhostConfigs) merged(host string, defaults map[string]*anypb.Any) map[string]*anypb.Any {
	own := v.byHost[host]
	if len(own) == 0 {
		return defaults
	}
	out := make(map[string]*anypb.Any, len(defaults)+len(own))
	for k, a := range defaults {
		out[k] = a
	}
	for k, a := range own {
		out[k] = a
	}
	return out
}

// vhostConfigs collects the own configurations of hosts on g.
func (t *translator) vhostConfigs(g *portGroup, hosts []string) vhostConfigs {
	var v vhostConfigs
	if len(t.clientCerts) == 0 {
		return v
	}
	var key strings.Builder
	for _, h := range hosts {
		cc := t.clientCertHostOf(g, h)
		if cc == nil {
			continue
		}
		if v.byHost == nil {
			v.byHost = map[string]map[string]*anypb.Any{}
		}
		lua := clientCertLua(cc, g.tls)
		v.byHost[h] = t.clientCertVhostConfig(cc, h, lua)
		// The configuration is a function of these (the Lua holds the rest).
		key.WriteString(h + "\x00" + lua + "\x00" + cc.spec.SubjectMatch + "\x00")
	}
	v.key = key.String()
	return v
}

// checkSubjectMatch reports why Envoy would not take subjectMatch: as written, and as the
// RBAC rule matches it anywhere in the subject (subjectMatchRBAC).
func checkSubjectMatch(m string) error {
	if err := envoyregex.Check(m); err != nil {
		return err
	}
	return envoyregex.Check("(?s).*(?:" + m + ").*")
}
