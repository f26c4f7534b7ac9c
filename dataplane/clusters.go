package dataplane

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// defaultConnectTimeout is nginx's proxy_connect_timeout default.
const defaultConnectTimeout = 5 * time.Second

// clusterVariant is how one Service port is spoken to. Several routes with different
// policies may use one Service port in different ways; each way is its own Envoy cluster,
// and all of them share the Service port's endpoints (one ClusterLoadAssignment).
type clusterVariant struct {
	protocol v1alpha1.BackendProtocol // HTTP, HTTPS, GRPC, GRPCS ("" = HTTP)
	tls      *v1alpha1.BackendTLS
	lb       string // "", "least-request", "ring-hash"
	connect  time.Duration
	// tcp is set for TLS passthrough backends (no HTTP options).
	tcp bool
}

// suffix names the variant; the default variant has none, so the common cluster name is
// just namespace/service/port. Everything of the variant that the cluster is built from is
// in its name: routes share a cluster by name (the first made serves, and a Translator
// counts them by name, shared.go), so two variants of one name would serve one route with
// the other's settings.
func (v clusterVariant) suffix() string {
	var parts []string
	switch v.protocol {
	case v1alpha1.BackendProtocolHTTPS:
		parts = append(parts, "https")
	case v1alpha1.BackendProtocolGRPC:
		parts = append(parts, "h2c")
	case v1alpha1.BackendProtocolGRPCS:
		parts = append(parts, "h2-tls")
	}
	if v.tls != nil && (v.protocol == v1alpha1.BackendProtocolHTTPS || v.protocol == v1alpha1.BackendProtocolGRPCS) {
		t := v.tls
		if t.Verify {
			parts = append(parts, "verify-depth-"+strconv.Itoa(int(derefInt32(t.VerifyDepth, 1))))
		}
		if t.CertificateRef != nil {
			cert := string(t.CertificateRef.Name)
			if t.CertificateRef.Namespace != nil {
				cert = string(*t.CertificateRef.Namespace) + "." + cert
			}
			parts = append(parts, "cert-"+cert)
		}
		if t.SendSNI {
			parts = append(parts, "sni-"+t.ServerName)
		} else if t.Verify && t.ServerName != "" {
			// The name the certificate must carry (upstreamTLS), without SNI.
			parts = append(parts, "san-"+t.ServerName)
		}
		if params := upstreamTLSParams(t); params != nil {
			if params.TlsMinimumProtocolVersion != tlsv3.TlsParameters_TLS_AUTO {
				parts = append(parts, "tls-"+tlsVersionName(params.TlsMinimumProtocolVersion)+"-"+tlsVersionName(params.TlsMaximumProtocolVersion))
			}
			if len(params.CipherSuites) > 0 {
				sum := sha256.Sum256([]byte(strings.Join(params.CipherSuites, ":")))
				parts = append(parts, "ciphers-"+hex.EncodeToString(sum[:4]))
			}
		}
	}
	if v.lb != "" {
		parts = append(parts, v.lb)
	}
	if v.connect != defaultConnectTimeout && v.connect > 0 {
		parts = append(parts, "connect-"+v.connect.String())
	}
	if v.tcp {
		parts = append(parts, "tcp")
	}
	if len(parts) == 0 {
		return ""
	}
	return "~" + strings.Join(parts, "~")
}

// tlsVersionName is "1.2" for TLSv1_2.
func tlsVersionName(v tlsv3.TlsParameters_TlsProtocol) string {
	return strings.ReplaceAll(strings.TrimPrefix(v.String(), "TLSv"), "_", ".")
}

func derefInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// variantFor derives the cluster variant from a route's policy. downstreamTLS matters for
// AUTO_HTTP (TLS to the backend only when the client used HTTPS).
func variantFor(ep *effectivePolicy, downstreamTLS bool) clusterVariant {
	v := clusterVariant{connect: defaultConnectTimeout}
	if ep == nil {
		return v
	}
	if b := ep.spec.Backend; b != nil {
		v.protocol = b.Protocol
		if b.Protocol == v1alpha1.BackendProtocolAutoHTTP {
			v.protocol = v1alpha1.BackendProtocolHTTP
			if downstreamTLS {
				v.protocol = v1alpha1.BackendProtocolHTTPS
			}
		}
		if b.Protocol == v1alpha1.BackendProtocolHTTP {
			v.protocol = ""
		}
		v.tls = b.TLS
		if b.LoadBalancing == v1alpha1.LoadBalancingLeastRequest {
			v.lb = "least-request"
		}
		if b.ConsistentHash != nil {
			v.lb = "ring-hash"
		}
	}
	if ep.spec.SessionAffinity != nil {
		v.lb = "ring-hash"
	}
	if to := ep.spec.Timeouts; to != nil && to.Connect != nil && to.Connect.Duration > 0 {
		v.connect = to.Connect.Duration
	}
	return v
}

// serviceCluster returns the name of the cluster for a Service port in a variant, creating
// the cluster and its endpoints on first use. The second result says why the Service port
// cannot be used (zero when it can), with the ResolvedRefs reason of a route's backendRef.
func (t *translator) serviceCluster(ns, name string, port int32, v clusterVariant) (string, refIssue) {
	svc := t.ix.services[qualified(ns, name)]
	if svc == nil {
		return "", refIssue{ReasonBackendNotFound, fmt.Sprintf("Service %s not found", qualified(ns, name))}
	}
	sp := findServicePort(svc, port)
	if sp == nil {
		return "", refIssue{ReasonBackendNotFound, fmt.Sprintf("Service %s has no port %d", qualified(ns, name), port)}
	}
	// A Service port whose appProtocol is kubernetes.io/h2c speaks HTTP/2 without TLS
	// (Gateway API); a policy's backend protocol, when it sets one, wins.
	if v.protocol == "" && !v.tcp && sp.AppProtocol != nil && *sp.AppProtocol == "kubernetes.io/h2c" {
		v.protocol = v1alpha1.BackendProtocolGRPC
	}
	base := fmt.Sprintf("%s/%s/%d", ns, name, port)
	cname := base + v.suffix()
	if _, ok := t.clusters[cname]; ok {
		return cname, refIssue{}
	}
	c, why := t.buildCluster(cname, base, svc, sp, v)
	if why == "" && (c.TransportSocket != nil || c.LoadAssignment != nil) {
		// As each route is (encodeRouteWhy): a cluster Envoy would refuse must fail its
		// backend, not the whole configuration at publish. Only a cluster with TLS or an
		// ExternalName address holds values from policies and Services that Envoy's rules
		// constrain; a plain EDS cluster is made of names only, which they do not (checking
		// those too cost ~8 % more time for a full translation of 10,000 routes).
		if err := c.ValidateAll(); err != nil {
			why = "its cluster cannot be sent to Envoy, which would refuse it: " + validationCause(err)
		} else if err := validateTypedConfig(c.GetTransportSocket().GetTypedConfig()); err != nil {
			why = "its cluster's TLS settings cannot be sent to Envoy, which would refuse them: " + validationCause(err)
		}
	}
	var encoded *xds.EncodedCluster
	if why == "" {
		if encoded = xds.EncodeCluster(c); encoded.Err() != nil {
			why = "its cluster cannot be sent to Envoy: " + encoded.Err().Error()
		}
	}
	if why != "" {
		// The backend TLS settings of a policy, not a reference of the route: no reason.
		return "", refIssue{msg: why}
	}
	t.clusters[cname] = encoded
	return cname, refIssue{}
}

// validateTypedConfig checks a typed configuration (a transport socket's TLS context)
// against Envoy's rules, which a message's ValidateAll does not apply inside an Any; xds
// checks it at publish, for the whole configuration, as Envoy does.
func validateTypedConfig(typed *anypb.Any) error {
	if typed == nil {
		return nil
	}
	msg, err := typed.UnmarshalNew()
	if err != nil {
		return fmt.Errorf("decoding %s: %w", typed.GetTypeUrl(), err)
	}
	return validateMessage(msg)
}

// validateMessage applies m's protoc-gen-validate rules (Envoy's), when it has them.
func validateMessage(m proto.Message) error {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		return v.ValidateAll()
	}
	return nil
}

func findServicePort(svc *corev1.Service, port int32) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// baseCluster is what every upstream cluster of gatebridge starts from: round robin, no
// circuit breaking (nginx has none), endpoints dropped as soon as discovery drops them.
func baseCluster(name string, connectTimeout time.Duration) *clusterv3.Cluster {
	timeout := defaultConnectTimeoutProto
	if connectTimeout != defaultConnectTimeout {
		timeout = durationpb.New(connectTimeout)
	}
	return &clusterv3.Cluster{
		Name:                      name,
		ConnectTimeout:            timeout,
		LbPolicy:                  clusterv3.Cluster_ROUND_ROBIN,
		IgnoreHealthOnHostRemoval: true,
		CircuitBreakers:           unlimitedCircuitBreakers,
	}
}

// Sub-messages that thousands of clusters and routes have with the same content are one
// proto each, shared, not one per resource: at 10,000 HTTPRoutes they were ~10 MiB of the
// control plane's live heap (test/bench BenchmarkChangeToServing). Sharing is safe because
// no proto is mutated once built (the xDS server's contract: xds.Server.Publish), and
// encoding only reads them.
var (
	// unlimitedCircuitBreakers: nginx has no request or connection limits towards
	// upstreams; Envoy's defaults (1024) would answer 503 under load where ingress-nginx
	// did not.
	unlimitedCircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections:     wrapperspb.UInt32(1 << 20),
		MaxPendingRequests: wrapperspb.UInt32(1 << 20),
		MaxRequests:        wrapperspb.UInt32(1 << 20),
		MaxRetries:         wrapperspb.UInt32(1 << 20),
	}}}
	defaultConnectTimeoutProto = durationpb.New(defaultConnectTimeout)
	// noTimeout is a zero duration: no timeout, where Envoy has a default one.
	noTimeout = durationpb.New(0)
	// edsDiscovery and adsConfig: endpoints (and routes, secrets) come over the ADS
	// stream.
	edsDiscovery = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
	adsConfig    = &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
)

func (t *translator) buildCluster(cname, base string, svc *corev1.Service, sp *corev1.ServicePort, v clusterVariant) (*clusterv3.Cluster, string) {
	c := baseCluster(cname, v.connect)
	switch v.lb {
	case "least-request":
		c.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	case "ring-hash":
		c.LbPolicy = clusterv3.Cluster_RING_HASH
	}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
		c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: cname, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(svc.Spec.ExternalName, uint32(sp.Port))},
		}}}
	default:
		c.ClusterDiscoveryType = edsDiscovery
		c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfig, ServiceName: base}
		if _, ok := t.loadAssignments[base]; !ok {
			t.loadAssignments[base] = t.loadAssignment(base, svc, sp)
		}
	}
	if v.protocol == v1alpha1.BackendProtocolGRPC || v.protocol == v1alpha1.BackendProtocolGRPCS {
		c.TypedExtensionProtocolOptions = map[string]*anyType{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": http2Options(),
		}
	}
	// A BackendTLSPolicy on the Service port decides its TLS (backendtls.go).
	if applied, why := t.applyBackendTLS(c, svc, sp, v); applied {
		if why != "" {
			return nil, why
		}
		return c, ""
	}
	if v.protocol == v1alpha1.BackendProtocolHTTPS || v.protocol == v1alpha1.BackendProtocolGRPCS {
		ts, why := t.upstreamTLS(svc.Namespace, v)
		if why != "" {
			return nil, why
		}
		c.TransportSocket = ts
	}
	return c, ""
}

// maxVerifyDepth is the largest max_verify_depth Envoy accepts in a
// CertificateValidationContext.
const maxVerifyDepth = 100

// maxSNI is the longest server name Envoy accepts in an UpstreamTlsContext (its sni field's
// validation rule).
const maxSNI = 255

// upstreamTLS is TLS towards a backend. Like ingress-nginx, the certificate is not verified
// and no SNI is sent unless the policy asks for it.
func (t *translator) upstreamTLS(ns string, v clusterVariant) (*corev3.TransportSocket, string) {
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}}
	if v.protocol == v1alpha1.BackendProtocolGRPCS {
		ctx.CommonTlsContext.AlpnProtocols = []string{"h2"}
	}
	if b := v.tls; b != nil {
		if len(b.ServerName) > maxSNI {
			// Envoy refuses a longer SNI, which would fail the whole configuration.
			return nil, fmt.Sprintf("backend.tls.serverName is %d characters long; a TLS server name holds at most %d", len(b.ServerName), maxSNI)
		}
		if b.SendSNI && b.ServerName != "" {
			ctx.Sni = b.ServerName
		}
		ctx.CommonTlsContext.TlsParams = upstreamTLSParams(b)
		if b.CertificateRef != nil {
			sns := ns
			if b.CertificateRef.Namespace != nil {
				sns = string(*b.CertificateRef.Namespace)
			}
			sec := t.ix.secrets[qualified(sns, string(b.CertificateRef.Name))]
			if sec == nil {
				return nil, fmt.Sprintf("backend TLS Secret %s not found", qualified(sns, string(b.CertificateRef.Name)))
			}
			if len(sec.Data[corev1.TLSCertKey]) > 0 && len(sec.Data[corev1.TLSPrivateKeyKey]) > 0 {
				name := t.tlsSecret(sec)
				if name == "" {
					return nil, fmt.Sprintf("backend TLS Secret %s has an invalid certificate or key", qualified(sec.Namespace, sec.Name))
				}
				ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: name, SdsConfig: adsConfig}}
			}
			if b.Verify {
				ca := sec.Data["ca.crt"]
				if len(ca) == 0 {
					return nil, fmt.Sprintf("backend TLS Secret %s has no ca.crt to verify with", qualified(sec.Namespace, sec.Name))
				}
				// Envoy refuses a CA that does not parse with the whole push: this backend
				// fails closed instead.
				if err := checkCACertificates(ca); err != nil {
					return nil, fmt.Sprintf("backend TLS Secret %s: ca.crt is %v", qualified(sec.Namespace, sec.Name), err)
				}
				vc := &tlsv3.CertificateValidationContext{
					TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: ca}},
					// At most Envoy's maxVerifyDepth (nginx takes more; no real chain is that
					// long). A negative depth is left to fail validation: the backend fails
					// closed.
					MaxVerifyDepth: wrapperspb.UInt32(uint32(min(derefInt32(b.VerifyDepth, 1), maxVerifyDepth))),
				}
				if b.ServerName != "" {
					vc.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
						SanType: tlsv3.SubjectAltNameMatcher_DNS,
						Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: b.ServerName}},
					}}
				}
				ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
			}
		} else if b.Verify {
			return nil, "proxy-ssl-verify is on but no proxy-ssl-secret names the CA"
		}
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}}, ""
}

// upstreamTLSParams are proxy-ssl-protocols and proxy-ssl-ciphers as Envoy's TLS
// parameters (nil: Envoy's defaults). The versions listed become the range from the lowest
// to the highest (SSLv2 and SSLv3, which Envoy does not speak, are left out). A cipher list
// is taken when it names its ciphers (annotations.EnvoyCipherSuites); "DEFAULT" and lists
// of OpenSSL rules (HIGH:!aNULL…) keep Envoy's defaults, which the converter's report says.
// Like nginx's proxy_ssl_ciphers, the list governs TLS 1.2 and older only.
func upstreamTLSParams(b *v1alpha1.BackendTLS) *tlsv3.TlsParameters {
	var p tlsv3.TlsParameters
	if oldest, newest, _, _, ok := annotations.TLSVersionRange(b.Protocols); ok {
		p.TlsMinimumProtocolVersion, p.TlsMaximumProtocolVersion = envoyTLSVersions[oldest], envoyTLSVersions[newest]
	}
	if b.Ciphers != "" {
		if suites, _, err := annotations.EnvoyCipherSuites(b.Ciphers); err == nil {
			p.CipherSuites = suites
		}
	}
	if p.TlsMinimumProtocolVersion == tlsv3.TlsParameters_TLS_AUTO && len(p.CipherSuites) == 0 {
		return nil
	}
	return &p
}

// envoyTLSVersions are annotations.TLSVersions as Envoy's protocol versions.
var envoyTLSVersions = []tlsv3.TlsParameters_TlsProtocol{tlsv3.TlsParameters_TLSv1_0, tlsv3.TlsParameters_TLSv1_1, tlsv3.TlsParameters_TLSv1_2, tlsv3.TlsParameters_TLSv1_3}

// loadAssignment resolves a Service port to its ready endpoints, through EndpointSlices
// (or the legacy Endpoints object), as kube-proxy would.
func (t *translator) loadAssignment(base string, svc *corev1.Service, sp *corev1.ServicePort) *endpointv3.ClusterLoadAssignment {
	eps := t.ix.readyEndpoints(svc, sp)
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: base}
	if len(eps) > 0 {
		loc := &endpointv3.LocalityLbEndpoints{}
		for _, e := range eps {
			loc.LbEndpoints = append(loc.LbEndpoints, lbEndpoint(e.host, e.port))
		}
		cla.Endpoints = []*endpointv3.LocalityLbEndpoints{loc}
	}
	return loadAssignmentInWireForm(cla)
}

// hostPort is one endpoint address of a Service port.
type hostPort struct {
	host string
	port uint32
}

// readyEndpoints are the ready addresses behind a Service port, sorted: the EndpointSlices'
// port named like the Service port (the target port as the EndpointSlice controller
// resolved it), else the legacy Endpoints object's.
func (ix *index) readyEndpoints(svc *corev1.Service, sp *corev1.ServicePort) []hostPort {
	seen := map[hostPort]bool{}
	var eps []hostPort
	add := func(h string, p int32) {
		hp := hostPort{h, uint32(p)}
		if p > 0 && !seen[hp] {
			seen[hp] = true
			eps = append(eps, hp)
		}
	}
	k := qualified(svc.Namespace, svc.Name)
	if slices := ix.slices[k]; len(slices) > 0 {
		for _, s := range slices {
			var port int32
			for _, p := range s.Ports {
				if p.Name != nil && *p.Name == sp.Name && p.Port != nil {
					port = *p.Port
				} else if p.Name == nil && sp.Name == "" && p.Port != nil {
					port = *p.Port
				}
			}
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				for _, a := range e.Addresses {
					add(a, port)
				}
			}
		}
	} else if e := ix.endpoints[k]; e != nil {
		for _, ss := range e.Subsets {
			var port int32
			for _, p := range ss.Ports {
				if p.Name == sp.Name {
					port = p.Port
				}
			}
			for _, a := range ss.Addresses {
				add(a.IP, port)
			}
		}
	}
	sort.Slice(eps, func(i, j int) bool {
		if eps[i].host != eps[j].host {
			return eps[i].host < eps[j].host
		}
		return eps[i].port < eps[j].port
	})
	return eps
}

// Services resolves the Service ports of a model to their ready endpoints exactly as the
// backend clusters are resolved (Service port → the EndpointSlices' target port → ready
// addresses; an ExternalName Service → its external name). `run` gives it to the auth
// service (authz.ServiceResolver), which has no cluster DNS to resolve the in-cluster
// names of auth-url with. It is immutable and safe for concurrent use.
type Services struct{ ix *index }

// NewServices indexes the Services, EndpointSlices and Endpoints of m.
func NewServices(m *Model) *Services {
	return &Services{ix: newIndex(&Model{Services: m.Services, EndpointSlices: m.EndpointSlices, Endpoints: m.Endpoints})}
}

// ResolveService implements authz.ServiceResolver.
func (s *Services) ResolveService(namespace, name string, port int32) ([]string, bool, error) {
	svc := s.ix.services[qualified(namespace, name)]
	if svc == nil {
		return nil, false, nil
	}
	sp := findServicePort(svc, port)
	if sp == nil {
		return nil, true, fmt.Errorf("no port %d in Service %s", port, qualified(namespace, name))
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return []string{net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port)))}, true, nil
	}
	eps := s.ix.readyEndpoints(svc, sp)
	addrs := make([]string, len(eps))
	for i, e := range eps {
		addrs[i] = net.JoinHostPort(e.host, strconv.FormatUint(uint64(e.port), 10))
	}
	return addrs, true, nil
}

// hasReadyEndpoints reports whether a Service port resolves to at least one endpoint.
func (t *translator) hasReadyEndpoints(ns, name string, port int32) bool {
	svc := t.ix.services[qualified(ns, name)]
	if svc == nil {
		return false
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return true
	}
	sp := findServicePort(svc, port)
	if sp == nil {
		return false
	}
	return len(t.ix.readyEndpoints(svc, sp)) > 0
}

func lbEndpoint(host string, port uint32) *endpointv3.LbEndpoint {
	return &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)}},
	}
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// authzCluster reaches gatebridge's ext_authz gRPC service (HTTP/2).
func authzCluster(address string) *clusterv3.Cluster {
	host, portStr, err := net.SplitHostPort(address)
	port, _ := strconv.Atoi(portStr)
	if err != nil {
		host, port = address, 0
	}
	return &clusterv3.Cluster{
		Name:                 AuthzClusterName,
		ConnectTimeout:       durationpb.New(2 * time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: AuthzClusterName, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(host, uint32(port))},
		}}},
		TypedExtensionProtocolOptions: map[string]*anyType{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": http2Options(),
		},
	}
}

// http2Options makes a cluster speak HTTP/2 (h2c, or h2 over its TLS transport socket).
func http2Options() *anyType {
	return mustAny(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
		}},
	})
}
