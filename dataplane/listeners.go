package dataplane

import (
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// listener builds the Envoy listener of a port group: one HTTP connection manager for
// plain HTTP; for TLS, one filter chain per certificate hostname (chosen by SNI) and one
// per passthrough hostname.
func (t *translator) listener(g *portGroup, tlsRoutes []*gwv1.TLSRoute, hasRoutes bool) *listenerv3.Listener {
	l := &listenerv3.Listener{
		Name:    t.listenerName(g),
		Address: socketAddress(g.address, g.envoyPort),
		// nginx reads the whole request header into 1k..8k buffers; 32 KiB per connection
		// keeps Envoy's memory bounded like Envoy Gateway does.
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(32768),
	}
	if !g.tls {
		if !hasRoutes {
			return nil
		}
		l.FilterChains = []*listenerv3.FilterChain{{Name: "http", Filters: []*listenerv3.Filter{t.hcmFilter(g)}}}
		return l
	}
	l.ListenerFilters = []*listenerv3.ListenerFilter{{
		Name:       "envoy.filters.listener.tls_inspector",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})},
	}}
	// Every HTTPS chain of the group has the same connection manager: build it once.
	var hcm *listenerv3.Filter
	groupHCM := func() *listenerv3.Filter {
		if hcm == nil {
			hcm = t.hcmFilter(g)
		}
		return hcm
	}
	seen := map[string]string{}
	for _, li := range g.listeners {
		key := li.hostname()
		if prev, dup := seen[key]; dup {
			msg := fmt.Sprintf("hostname %q on port %d is already served by listener %s; this listener is not served", key, li.spec.Port, prev)
			t.problem("Gateway", li.gw.Namespace, li.gw.Name, "listeners["+string(li.spec.Name)+"].hostname", msg)
			t.listenerIssue(li, ConditionConflicted, ReasonHostnameConflict, msg)
			t.notServed(li)
			continue
		}
		var fc *listenerv3.FilterChain
		switch {
		case li.spec.Protocol == gwv1.HTTPSProtocolType:
			fc = t.httpsFilterChain(li, groupHCM)
		case li.spec.Protocol == gwv1.TLSProtocolType:
			fc = t.passthroughFilterChain(li, tlsRoutes)
		}
		if fc == nil {
			continue
		}
		seen[key] = li.id()
		if key != "" {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{key}}
		}
		l.FilterChains = append(l.FilterChains, fc)
	}
	if t.bridged(g) && t.model.Bridge.TLS != nil && !slices.ContainsFunc(l.FilterChains, func(fc *listenerv3.FilterChain) bool { return fc.FilterChainMatch == nil }) {
		l.FilterChains = append(l.FilterChains, t.bridgeTLSChain(g))
	}
	if len(l.FilterChains) == 0 {
		return nil
	}
	// Most specific first is Envoy's own rule; sorting keeps the output deterministic.
	sort.SliceStable(l.FilterChains, func(i, j int) bool { return l.FilterChains[i].Name < l.FilterChains[j].Name })
	return l
}

// listenerName is the Envoy listener's name: the port group's, or with
// Options.ListenersByAddress its address and port, so that a Gateway that takes over the
// address of one just deleted updates the same listener in place (Envoy refuses a new
// listener on an address another one still holds).
func (t *translator) listenerName(g *portGroup) string {
	if t.opts.ListenersByAddress {
		return net.JoinHostPort(g.address, strconv.Itoa(int(g.envoyPort)))
	}
	return g.name()
}

// httpsFilterChain terminates TLS with the listener's certificates and serves HTTP with
// the group's connection manager.
func (t *translator) httpsFilterChain(li *listenerInfo, hcm func() *listenerv3.Filter) *listenerv3.FilterChain {
	if li.spec.TLS == nil || (li.spec.TLS.Mode != nil && *li.spec.TLS.Mode != gwv1.TLSModeTerminate) {
		msg := "an HTTPS listener needs tls.mode Terminate and certificateRefs; this listener is not served"
		t.problem("Gateway", li.gw.Namespace, li.gw.Name, "listeners["+string(li.spec.Name)+"].tls", msg)
		t.listenerIssue(li, ConditionProgrammed, ReasonInvalid, msg)
		t.notServed(li)
		return nil
	}
	var sds []*tlsv3.SdsSecretConfig
	for i, ref := range li.spec.TLS.CertificateRefs {
		field := fmt.Sprintf("listeners[%s].tls.certificateRefs[%d]", li.spec.Name, i)
		if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
			t.problem("Gateway", li.gw.Namespace, li.gw.Name, field, "only core Secrets are supported as certificates")
			t.listenerIssue(li, ConditionResolvedRefs, ReasonInvalidCertificateRef, field+": only core Secrets are supported as certificates")
			continue
		}
		ns := li.gw.Namespace
		if li.setName != "" {
			ns = li.setNamespace
		}
		from, fromKind := ns, "Gateway"
		if li.setName != "" {
			fromKind = "ListenerSet"
		}
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if !t.ix.granted(gwv1.GroupName, fromKind, from, "", "Secret", ns, string(ref.Name)) {
			msg := fmt.Sprintf("Secret %s is in another namespace and no ReferenceGrant there allows it; add one", qualified(ns, string(ref.Name)))
			t.problem("Gateway", li.gw.Namespace, li.gw.Name, field, msg)
			t.listenerIssue(li, ConditionResolvedRefs, ReasonRefNotPermitted, field+": "+msg)
			continue
		}
		sec := t.ix.secrets[qualified(ns, string(ref.Name))]
		if sec == nil {
			msg := fmt.Sprintf("Secret %s not found", qualified(ns, string(ref.Name)))
			t.problem("Gateway", li.gw.Namespace, li.gw.Name, field, msg)
			t.listenerIssue(li, ConditionResolvedRefs, ReasonInvalidCertificateRef, field+": "+msg)
			continue
		}
		name := t.tlsSecret(sec)
		if name == "" {
			msg := fmt.Sprintf("Secret %s does not hold a valid tls.crt/tls.key pair", qualified(ns, string(ref.Name)))
			t.problem("Gateway", li.gw.Namespace, li.gw.Name, field, msg)
			t.listenerIssue(li, ConditionResolvedRefs, ReasonInvalidCertificateRef, field+": "+msg)
			continue
		}
		sds = append(sds, &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfig})
	}
	if len(sds) == 0 {
		msg := "no usable certificate; this HTTPS listener is not served"
		t.problem("Gateway", li.gw.Namespace, li.gw.Name, "listeners["+string(li.spec.Name)+"]", msg)
		t.listenerIssue(li, ConditionProgrammed, ReasonInvalid, msg)
		t.notServed(li)
		return nil
	}
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: sds,
		AlpnProtocols:                  []string{"h2", "http/1.1"},
	}}
	if !t.applyFrontendTLS(li, ctx) {
		return nil
	}
	return &listenerv3.FilterChain{
		Name:    "https/" + chainName(li.hostname()),
		Filters: []*listenerv3.Filter{hcm()},
		TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}},
	}
}

func chainName(host string) string {
	if host == "" {
		return "*"
	}
	return host
}

// passthroughFilterChain proxies the TLS stream of the listener's hostname to the backends
// of the TLSRoutes attached to it (ssl-passthrough).
func (t *translator) passthroughFilterChain(li *listenerInfo, routes []*gwv1.TLSRoute) *listenerv3.FilterChain {
	var clusters []*tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight
	var routeName string
	for _, r := range routes {
		if !routeAllowed(li, "TLSRoute", r.Namespace) {
			continue
		}
		attached := false
		for _, ref := range r.Spec.ParentRefs {
			for _, l := range parentListeners([]*portGroup{{listeners: []*listenerInfo{li}}}, ref, r.Namespace) {
				if l == li {
					attached = true
				}
			}
		}
		hosts := make([]string, 0, len(r.Spec.Hostnames))
		for i, h := range r.Spec.Hostnames {
			if !gatewayHostname(string(h)) {
				// Refused by the API server; from a file, an SNI name Envoy would refuse.
				t.problem("TLSRoute", r.Namespace, r.Name, fmt.Sprintf("spec.hostnames[%d]", i), fmt.Sprintf("%q is not a hostname (Gateway API: a lowercase DNS name, optionally starting with *.); not served", string(h)))
				continue
			}
			hosts = append(hosts, string(h))
		}
		noneLeft := len(hosts) == 0 && len(r.Spec.Hostnames) > 0 // not every name: none
		if !attached || noneLeft || len(intersectHostnames(li.hostname(), hosts)) == 0 || len(r.Spec.Rules) == 0 {
			continue
		}
		for i, b := range r.Spec.Rules[0].BackendRefs {
			name, why := t.backendCluster(r.Namespace, "TLSRoute", b.BackendObjectReference, clusterVariant{connect: defaultConnectTimeout, tcp: true})
			if why.msg != "" {
				t.routeRefIssue("TLSRoute", r.Namespace, r.Name, fmt.Sprintf("spec.rules[0].backendRefs[%d]", i), why, "")
				continue
			}
			w := uint32(1)
			if b.Weight != nil {
				w = uint32(*b.Weight)
			}
			if w > 0 {
				clusters = append(clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: name, Weight: w})
			}
		}
		routeName = qualified(r.Namespace, r.Name)
		break // the oldest attached TLSRoute owns the hostname
	}
	if len(clusters) == 0 {
		if routeName == "" {
			return nil
		}
		t.problem("TLSRoute", strings.SplitN(routeName, "/", 2)[0], strings.SplitN(routeName, "/", 2)[1], "spec.rules[0].backendRefs", "no usable backend; the hostname is not served")
		return nil
	}
	tp := &tcpproxyv3.TcpProxy{StatPrefix: "passthrough/" + chainName(li.hostname())}
	if len(clusters) == 1 {
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: clusters[0].Name}
	} else {
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpproxyv3.TcpProxy_WeightedCluster{Clusters: clusters}}
	}
	t.served = append(t.served, Served{Listener: li.id(), Host: chainName(li.hostname()), Match: "TLS passthrough", Action: "→ " + clusters[0].Name, Route: routeName})
	return &listenerv3.FilterChain{
		Name: "passthrough/" + chainName(li.hostname()),
		Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(tp)}}},
	}
}

// tlsSecret adds a TLS certificate Secret as an SDS resource and returns its name, or ""
// when the pair does not load (Envoy would reject it and keep the listener warming).
func (t *translator) tlsSecret(sec *corev1.Secret) string {
	name := qualified(sec.Namespace, sec.Name)
	if _, ok := t.secrets[name]; ok {
		return name
	}
	// The same Secret object gives the same proto as last time: checking the key pair again
	// for every certificate on every change would cost more than the rest of a change.
	p, ok := t.memo.secretProtos[sec]
	if !ok {
		p = secretProto(name, sec)
	}
	t.memo.nextSecretProtos[sec] = p
	if p == nil {
		return ""
	}
	t.secrets[name] = p
	return name
}

// secretProto is the SDS resource of a TLS Secret, nil when its pair does not load.
func secretProto(name string, sec *corev1.Secret) *tlsv3.Secret {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil
	}
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: crt}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: key}},
	}}}
}

// upstreamFailureReplies answers 502 where a backend could not be reached or broke the
// connection before its response (nginx "connect() failed" / "upstream prematurely closed
// connection": 502 Bad Gateway); Envoy's own answer is 503. Upstream timeouts stay 504 and
// "no endpoints" stays 503, as in nginx.
func upstreamFailureReplies() *hcmv3.LocalReplyConfig {
	return &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{{
		Filter: &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"UF", "UC", "UR", "UPE"}},
		}},
		StatusCode: wrapperspb.UInt32(502),
	}}}
}

// hcmFilter is the HTTP connection manager of a port group. Route tables come over SRDS and
// RDS, one per hostname (see scopes.go); the filters are mostly disabled here and enabled
// per route by the policies that need them.
func (t *translator) hcmFilter(g *portGroup) *listenerv3.Filter {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:       g.name(),
		RouteSpecifier:   scopedRoutes(g.name()),
		HttpFilters:      t.httpFilters(g),
		UseRemoteAddress: wrapperspb.Bool(true),
		// X-Forwarded-For is set to the peer address by the route configuration (nginx:
		// $remote_addr, not appended); the client's value goes to X-Original-Forwarded-For.
		SkipXffAppend: true,
		// nginx passes the client's X-Request-ID on and generates one only when absent.
		PreserveExternalRequestId: true,
		// nginx matches locations on the normalised $uri: dot segments resolved, slashes merged.
		NormalizePath: wrapperspb.Bool(true),
		MergeSlashes:  true,
		// nginx ignores request headers with underscores (underscores_in_headers off).
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_DROP_HEADER,
		},
		// ingress-nginx answers HTTP/1.0 clients too.
		HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true},
		LocalReplyConfig:    upstreamFailureReplies(),
	}
	if t.bridged(g) {
		hcm.UpgradeConfigs = websocketUpgrade()
	}
	t.applyTracing(g, hcm)
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)}}
}
