package dataplane

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// BackendTLSPolicy (Gateway API, GEP-1897): Envoy originates TLS to the Service ports a
// policy targets, sends spec.validation.hostname as SNI and verifies the backend's
// certificate against the CA certificates of the ConfigMaps it names (key ca.crt) or the
// system roots (wellKnownCACertificates: System), matching spec.validation.subjectAltNames
// when given, else the hostname. A policy none of whose CA certificates can be used fails
// closed: the routes' share of requests for that Service port answers 500, never
// plaintext. Of several policies targeting the same Service port, one naming the port
// (sectionName) wins over one naming the whole Service; among equals the oldest wins,
// then the first by name (GEP-713), and the others are Conflicted.

// SystemCABundle is where Envoy reads the system roots for wellKnownCACertificates:
// System: the Debian/Ubuntu bundle, present in the Envoy images.
const SystemCABundle = "/etc/ssl/certs/ca-certificates.crt"

// caCertificateKey is the ConfigMap key of the CA certificates (PEM).
const caCertificateKey = "ca.crt"

// Reasons of the BackendTLSPolicy conditions (Gateway API).
const (
	ReasonNoValidCACertificate    = string(gwv1.BackendTLSPolicyReasonNoValidCACertificate)
	ReasonInvalidCACertificateRef = string(gwv1.BackendTLSPolicyReasonInvalidCACertificateRef)
	ReasonConflicted              = string(gwv1.PolicyReasonConflicted)
	ReasonPolicyInvalid           = string(gwv1.PolicyReasonInvalid)
	ReasonResolvedRefs            = string(gwv1.BackendTLSPolicyReasonResolvedRefs)
)

// backendTLS is a BackendTLSPolicy as the data plane applies it.
type backendTLS struct {
	policy *gwv1.BackendTLSPolicy
	// ca is the PEM bundle of the valid CA certificate refs; system: the system roots.
	ca     []byte
	system bool
	// refReason and refMessage say why a CA certificate ref is invalid ("": none is).
	refReason, refMessage string
	// invalid says which field of the policy the API server would have refused ("": none):
	// such a policy is not accepted, and fails closed.
	invalid string
}

// usable reports whether the policy is valid and has a CA to verify with; a policy
// without one fails closed.
func (b *backendTLS) usable() bool { return b.invalid == "" && (len(b.ca) > 0 || b.system) }

// backendTLSIndex holds the BackendTLSPolicies of a model, resolved against its
// ConfigMaps.
type backendTLSIndex struct {
	// byTarget is the policy in effect per namespace/service/sectionName ("" sectionName:
	// the whole Service).
	byTarget map[string]*backendTLS
	// all are the policies, oldest first; won says which are in effect on a target.
	all []*backendTLS
	won map[*backendTLS]bool
}

func newBackendTLSIndex(m *Model) *backendTLSIndex {
	ix := &backendTLSIndex{byTarget: map[string]*backendTLS{}, won: map[*backendTLS]bool{}}
	if len(m.BackendTLSPolicies) == 0 {
		return ix
	}
	configMaps := make(map[string]*corev1.ConfigMap, len(m.ConfigMaps))
	for _, cm := range m.ConfigMaps {
		configMaps[qualified(cm.Namespace, cm.Name)] = cm
	}
	for _, p := range oldestFirst(m.BackendTLSPolicies) {
		b := resolveBackendTLS(p, configMaps)
		ix.all = append(ix.all, b)
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group != "" || ref.Kind != "Service" {
				continue
			}
			section := ""
			if ref.SectionName != nil {
				section = string(*ref.SectionName)
			}
			k := qualified(p.Namespace, string(ref.Name)) + "/" + section
			if _, taken := ix.byTarget[k]; !taken {
				ix.byTarget[k] = b
				ix.won[b] = true
			}
		}
	}
	return ix
}

// resolveBackendTLS checks a policy's validation settings and reads the CA certificates it
// names.
func resolveBackendTLS(p *gwv1.BackendTLSPolicy, configMaps map[string]*corev1.ConfigMap) *backendTLS {
	b := &backendTLS{policy: p}
	v := p.Spec.Validation
	b.invalid = invalidValidation(v)
	if len(v.CACertificateRefs) == 0 && v.WellKnownCACertificates != nil && *v.WellKnownCACertificates == gwv1.WellKnownCACertificatesSystem {
		b.system = true
		return b
	}
	invalid := func(reason, msg string) {
		if b.refReason == "" {
			b.refReason, b.refMessage = reason, msg
		}
	}
	for i, ref := range v.CACertificateRefs {
		field := fmt.Sprintf("spec.validation.caCertificateRefs[%d]", i)
		if ref.Group != "" || ref.Kind != "ConfigMap" {
			invalid(ReasonInvalidKind, fmt.Sprintf("%s: kind %s of group %q is not supported; name a ConfigMap (group \"\")", field, ref.Kind, ref.Group))
			continue
		}
		cm := configMaps[qualified(p.Namespace, string(ref.Name))]
		if cm == nil {
			invalid(ReasonInvalidCACertificateRef, fmt.Sprintf("%s: ConfigMap %s not found", field, qualified(p.Namespace, string(ref.Name))))
			continue
		}
		data, ok := cm.Data[caCertificateKey]
		if !ok {
			invalid(ReasonInvalidCACertificateRef, fmt.Sprintf("%s: ConfigMap %s has no data key %s", field, qualified(cm.Namespace, cm.Name), caCertificateKey))
			continue
		}
		pemData := []byte(data)
		if err := checkCACertificates(pemData); err != nil {
			invalid(ReasonInvalidCACertificateRef, fmt.Sprintf("%s: ConfigMap %s data %s: %v", field, qualified(cm.Namespace, cm.Name), caCertificateKey, err))
			continue
		}
		b.ca = append(b.ca, pemData...)
		if !strings.HasSuffix(string(pemData), "\n") {
			b.ca = append(b.ca, '\n')
		}
	}
	if len(v.CACertificateRefs) == 0 {
		invalid(ReasonInvalidCACertificateRef, "spec.validation: neither caCertificateRefs nor wellKnownCACertificates: System is set")
	}
	return b
}

// maxAbsoluteURI is the longest subjectAltNames[].uri the API takes.
const maxAbsoluteURI = 253

// absoluteURI is the pattern of a subjectAltNames[].uri (Gateway API's AbsoluteURI): a
// scheme and an authority at least.
var absoluteURI = regexp.MustCompile(`^(([^:/?#]+):)(//([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?$`)

// invalidValidation names the field of spec.validation that the API server would have
// refused, with why, or returns "". A policy read from files (gatebridge run) is checked
// by nothing else, and its hostname becomes the SNI and the names to match, which Envoy
// constrains (an SNI over 255 bytes fails the whole configuration).
func invalidValidation(v gwv1.BackendTLSPolicyValidation) string {
	if h := string(v.Hostname); !gatewayHostname(h) || strings.HasPrefix(h, "*") {
		return fmt.Sprintf("spec.validation.hostname %.80q is not a DNS name (lowercase labels of letters, digits and hyphens, at most 253 characters, no wildcard)", h)
	}
	for i, san := range v.SubjectAltNames {
		field := fmt.Sprintf("spec.validation.subjectAltNames[%d]", i)
		switch san.Type {
		case gwv1.HostnameSubjectAltNameType:
			if san.URI != "" || !gatewayHostname(string(san.Hostname)) {
				return fmt.Sprintf("%s: type Hostname needs a hostname (a DNS name, wildcard first label allowed) and no uri; got hostname %.80q", field, san.Hostname)
			}
		case gwv1.URISubjectAltNameType:
			if u := string(san.URI); san.Hostname != "" || len(u) > maxAbsoluteURI || !absoluteURI.MatchString(u) {
				return fmt.Sprintf("%s: type URI needs an absolute uri (scheme://authority…, at most %d characters) and no hostname; got uri %.80q", field, maxAbsoluteURI, u)
			}
		default:
			return fmt.Sprintf("%s: type %.40q is neither Hostname nor URI", field, san.Type)
		}
	}
	return ""
}

// checkCACertificates reports whether data holds PEM certificates only, at least one.
func checkCACertificates(data []byte) error {
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if strings.TrimSpace(string(rest)) != "" {
				if n == 0 {
					return fmt.Errorf("not a PEM certificate")
				}
				return fmt.Errorf("not PEM after certificate %d", n)
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("a PEM block of type %s, not CERTIFICATE", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no PEM certificate")
	}
	return nil
}

// forPort returns the policy in effect on a Service port (nil: none).
func (ix *backendTLSIndex) forPort(svc *corev1.Service, sp *corev1.ServicePort) *backendTLS {
	if ix == nil || len(ix.byTarget) == 0 {
		return nil
	}
	base := qualified(svc.Namespace, svc.Name) + "/"
	if sp.Name != "" {
		if b := ix.byTarget[base+sp.Name]; b != nil {
			return b
		}
	}
	return ix.byTarget[base]
}

// applyBackendTLS makes cluster c originate TLS as the policy in effect on the Service
// port says; false when none is. why is set when the policy has no usable CA: the
// cluster must not be served (the routes answer 500).
func (t *translator) applyBackendTLS(c *clusterv3.Cluster, svc *corev1.Service, sp *corev1.ServicePort, v clusterVariant) (applied bool, why string) {
	if v.tcp {
		return false, "" // TLS passthrough: the client's own TLS goes through
	}
	b := t.ix.backendTLS.forPort(svc, sp)
	if b == nil {
		return false, ""
	}
	p := b.policy
	if b.invalid != "" {
		return true, fmt.Sprintf("BackendTLSPolicy %s is invalid (%s); requests to Service %s port %d answer 500 rather than go unverified",
			qualified(p.Namespace, p.Name), b.invalid, qualified(svc.Namespace, svc.Name), sp.Port)
	}
	if !b.usable() {
		return true, fmt.Sprintf("BackendTLSPolicy %s has no valid CA certificate (%s); requests to Service %s port %d answer 500 rather than go unverified",
			qualified(p.Namespace, p.Name), b.refMessage, qualified(svc.Namespace, svc.Name), sp.Port)
	}
	c.TransportSocket = b.transportSocket(v)
	return true, ""
}

// transportSocket is the UpstreamTlsContext of the policy.
func (b *backendTLS) transportSocket(v clusterVariant) *corev3.TransportSocket {
	val := b.policy.Spec.Validation
	vc := &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sanMatchers(val)}
	if len(b.ca) > 0 {
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b.ca}}
	} else {
		vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: SystemCABundle}}
	}
	ctx := &tlsv3.UpstreamTlsContext{
		Sni:              string(val.Hostname),
		CommonTlsContext: &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}},
	}
	if v.protocol == v1alpha1.BackendProtocolGRPC || v.protocol == v1alpha1.BackendProtocolGRPCS {
		ctx.CommonTlsContext.AlpnProtocols = []string{"h2"}
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}}
}

// sanMatchers: the subjectAltNames when given (any one must match), else the hostname as
// a DNS name.
func sanMatchers(v gwv1.BackendTLSPolicyValidation) []*tlsv3.SubjectAltNameMatcher {
	exact := func(t tlsv3.SubjectAltNameMatcher_SanType, s string) *tlsv3.SubjectAltNameMatcher {
		return &tlsv3.SubjectAltNameMatcher{SanType: t, Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}}
	}
	if len(v.SubjectAltNames) == 0 {
		return []*tlsv3.SubjectAltNameMatcher{exact(tlsv3.SubjectAltNameMatcher_DNS, string(v.Hostname))}
	}
	var out []*tlsv3.SubjectAltNameMatcher
	for _, san := range v.SubjectAltNames {
		switch san.Type {
		case gwv1.HostnameSubjectAltNameType:
			out = append(out, exact(tlsv3.SubjectAltNameMatcher_DNS, string(san.Hostname)))
		case gwv1.URISubjectAltNameType:
			out = append(out, exact(tlsv3.SubjectAltNameMatcher_URI, string(san.URI)))
		}
	}
	return out
}

// BackendTLSPolicyStatus is the status of one BackendTLSPolicy: one entry per Gateway of
// ours whose routes send requests to a Service the policy targets.
type BackendTLSPolicyStatus struct {
	Namespace, Name string
	Generation      int64
	Ancestors       []BackendTLSPolicyAncestor
}

// BackendTLSPolicyAncestor is the policy's status for one Gateway.
type BackendTLSPolicyAncestor struct {
	GatewayNamespace, GatewayName string
	Conditions                    []metav1.Condition
}

// BackendTLSPolicyStatuses judges every BackendTLSPolicy of m for the Gateways of the
// GatewayClasses of controllerName, in namespace/name order: Accepted (False: Invalid when
// a validation field is one the API server refuses, Conflicted, or NoValidCACertificate
// when none of its CA certificates can be used) and
// ResolvedRefs (False: InvalidKind or InvalidCACertificateRef). It reads the model only,
// as Translate resolves the policies.
func BackendTLSPolicyStatuses(m *Model, controllerName string) []BackendTLSPolicyStatus {
	if len(m.BackendTLSPolicies) == 0 {
		return nil
	}
	if controllerName == "" {
		controllerName = DefaultControllerName
	}
	ix := newBackendTLSIndex(m)
	gateways := map[string]bool{}
	for _, gw := range ourGateways(m, controllerName) {
		gateways[qualified(gw.Namespace, gw.Name)] = true
	}
	setParents := map[string]string{}
	for _, s := range m.ListenerSets {
		ns := s.Namespace
		if s.Spec.ParentRef.Namespace != nil {
			ns = string(*s.Spec.ParentRef.Namespace)
		}
		setParents[qualified(s.Namespace, s.Name)] = qualified(ns, string(s.Spec.ParentRef.Name))
	}
	// ancestors: Service (namespace/name) → the Gateways of the routes that use it.
	ancestors := map[string]map[string]bool{}
	for _, r := range m.HTTPRoutes {
		gws := routeGateways(r.Namespace, r.Spec.ParentRefs, gateways, setParents)
		if len(gws) == 0 {
			continue
		}
		for _, rule := range r.Spec.Rules {
			for _, br := range rule.BackendRefs {
				if svc, ok := serviceOf(r.Namespace, br.BackendObjectReference); ok {
					addAll(ancestors, svc, gws)
				}
			}
			for _, f := range rule.Filters {
				if f.RequestMirror != nil {
					if svc, ok := serviceOf(r.Namespace, f.RequestMirror.BackendRef); ok {
						addAll(ancestors, svc, gws)
					}
				}
			}
		}
	}
	out := make([]BackendTLSPolicyStatus, 0, len(ix.all))
	for _, b := range ix.all {
		p := b.policy
		st := BackendTLSPolicyStatus{Namespace: p.Namespace, Name: p.Name, Generation: p.Generation}
		gws := map[string]bool{}
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group == "" && ref.Kind == "Service" {
				for g := range ancestors[qualified(p.Namespace, string(ref.Name))] {
					gws[g] = true
				}
			}
		}
		conds := b.conditions(ix.won[b], p.Generation)
		names := make([]string, 0, len(gws))
		for g := range gws {
			names = append(names, g)
		}
		sort.Strings(names)
		const maxAncestors = 16 // the API's limit of status.ancestors
		if len(names) > maxAncestors {
			names = names[:maxAncestors]
		}
		for _, g := range names {
			ns, name, _ := strings.Cut(g, "/")
			st.Ancestors = append(st.Ancestors, BackendTLSPolicyAncestor{GatewayNamespace: ns, GatewayName: name, Conditions: conds})
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		return qualified(out[i].Namespace, out[i].Name) < qualified(out[j].Namespace, out[j].Name)
	})
	return out
}

// conditions are the policy's Accepted and ResolvedRefs conditions.
func (b *backendTLS) conditions(won bool, generation int64) []metav1.Condition {
	accepted := metav1.Condition{Type: ConditionAccepted, Status: metav1.ConditionTrue, Reason: ReasonAccepted,
		Message: "Envoy originates TLS to the targeted Service ports and verifies their certificates", ObservedGeneration: generation}
	resolved := metav1.Condition{Type: ConditionResolvedRefs, Status: metav1.ConditionTrue, Reason: ReasonResolvedRefs,
		Message: "the CA certificates are resolved", ObservedGeneration: generation}
	if b.refReason != "" {
		resolved.Status, resolved.Reason, resolved.Message = metav1.ConditionFalse, b.refReason, b.refMessage
	}
	switch {
	case b.invalid != "":
		accepted.Status, accepted.Reason = metav1.ConditionFalse, ReasonPolicyInvalid
		accepted.Message = b.invalid + ": requests to the targeted Service ports answer 500"
	case !b.usable():
		accepted.Status, accepted.Reason = metav1.ConditionFalse, ReasonNoValidCACertificate
		accepted.Message = "no CA certificate can be used: requests to the targeted Service ports answer 500"
	case !won:
		accepted.Status, accepted.Reason = metav1.ConditionFalse, ReasonConflicted
		accepted.Message = "an older BackendTLSPolicy (or one naming the port by sectionName) targets the same Service ports"
	}
	return []metav1.Condition{accepted, resolved}
}

// routeGateways are the Gateways of ours (namespace/name) a route's parentRefs name,
// directly or through a ListenerSet.
func routeGateways(ns string, refs []gwv1.ParentReference, gateways map[string]bool, setParents map[string]string) []string {
	var out []string
	for _, ref := range refs {
		if ref.Group != nil && string(*ref.Group) != gwv1.GroupName {
			continue
		}
		refNs := ns
		if ref.Namespace != nil {
			refNs = string(*ref.Namespace)
		}
		k := qualified(refNs, string(ref.Name))
		if ref.Kind != nil && *ref.Kind == "ListenerSet" {
			k = setParents[k]
		} else if ref.Kind != nil && *ref.Kind != "Gateway" {
			continue
		}
		if gateways[k] {
			out = append(out, k)
		}
	}
	return out
}

// serviceOf is the Service (namespace/name) a backend reference names.
func serviceOf(ns string, ref gwv1.BackendObjectReference) (string, bool) {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		return "", false
	}
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return qualified(ns, string(ref.Name)), true
}

func addAll(m map[string]map[string]bool, k string, vs []string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	for _, v := range vs {
		m[k][v] = true
	}
}
