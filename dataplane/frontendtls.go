package dataplane

import (
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// A TrafficPolicy's frontendTLS block changes the TLS of one HTTPS listener, i.e. of one
// hostname's SNI filter chain: what ingress-nginx sets per host (server level). Other
// hostnames of the port keep their own chains, untouched.

// listenerTarget keys a policy target that names one listener (sectionName) of a Gateway
// or ListenerSet.
func listenerTarget(kind, namespace, name, section string) string {
	return kind + "|" + qualified(namespace, name) + "/" + section
}

// listenerFrontendTLS is the oldest TrafficPolicy with a frontendTLS block targeting li.
func (t *translator) listenerFrontendTLS(li *listenerInfo) *v1alpha1.TrafficPolicy {
	kind, ns, name := "Gateway", li.gw.Namespace, li.gw.Name
	if li.setName != "" {
		kind, ns, name = "ListenerSet", li.setNamespace, li.setName
	}
	if ps := t.ix.listenerTLS[listenerTarget(kind, ns, name, string(li.spec.Name))]; len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// applyFrontendTLS sets the frontendTLS of li's policy on its chain's TLS context. It
// returns false, with a problem, when the listener must not be served: a block the data
// plane cannot apply exactly is never served without it (fails closed).
func (t *translator) applyFrontendTLS(li *listenerInfo, ctx *tlsv3.DownstreamTlsContext) bool {
	p := t.listenerFrontendTLS(li)
	if p == nil || len(p.Spec.FrontendTLS.CipherSuites) == 0 {
		// The Gateway's own cipher suites (ConfigMap ssl-ciphers): every hostname's unless
		// its listener's policy names its own, as nginx's server-level ssl_ciphers
		// overrides the http-level one.
		if suites := t.gatewayCipherSuites(li.gw); len(suites) > 0 {
			ctx.CommonTlsContext.TlsParams = &tlsv3.TlsParameters{CipherSuites: suites}
		}
	}
	if p == nil {
		return true
	}
	ft := p.Spec.FrontendTLS
	refuse := func(field, msg string) bool {
		msg = fmt.Sprintf("%s; listener %s is not served (fails closed)", msg, li.id())
		t.problem("TrafficPolicy", p.Namespace, p.Name, field, msg)
		t.listenerIssue(li, ConditionProgrammed, ReasonInvalid, "TrafficPolicy "+qualified(p.Namespace, p.Name)+" "+field+": "+msg)
		t.notServed(li)
		return false
	}
	if ft.ClientCertificate != nil {
		if field, problem := t.applyClientCertificate(li, ctx); problem != "" {
			return refuse(field, problem)
		}
	}
	if suites, bad := cipherSuites(ft.CipherSuites); bad != "" {
		return refuse("spec.frontendTLS.cipherSuites", fmt.Sprintf("%q is not a cipher suite Envoy offers (accepted: %v)", bad, v1alpha1.CipherSuiteNames))
	} else if len(suites) > 0 {
		ctx.CommonTlsContext.TlsParams = &tlsv3.TlsParameters{CipherSuites: suites}
	}
	return true
}

// cipherSuites checks a policy's cipher suites; bad names the first unknown one. Envoy
// refuses a whole listener for one unknown name, which would take every hostname of the
// port down with it.
func cipherSuites(names []string) (suites []string, bad string) {
	for _, n := range names {
		if !slices.Contains(v1alpha1.CipherSuiteNames, n) {
			return nil, n
		}
	}
	return names, ""
}

// gatewayCipherSuites are the cipher suites of the oldest TrafficPolicy targeting gw as a
// whole (no sectionName) with frontendTLS.cipherSuites; names Envoy does not offer make it
// ignored, with a problem (Envoy would refuse every listener of the Gateway for them).
func (t *translator) gatewayCipherSuites(gw *gwv1.Gateway) []string {
	k := qualified(gw.Namespace, gw.Name)
	if suites, done := t.gatewaySuites[k]; done {
		return suites
	}
	if t.gatewaySuites == nil {
		t.gatewaySuites = map[string][]string{}
	}
	t.gatewaySuites[k] = t.findGatewayCipherSuites(gw)
	return t.gatewaySuites[k]
}

func (t *translator) findGatewayCipherSuites(gw *gwv1.Gateway) []string {
	for _, p := range t.ix.gatewayPolicies[qualified(gw.Namespace, gw.Name)] {
		ft := p.Spec.FrontendTLS
		if ft == nil || len(ft.CipherSuites) == 0 || !slices.ContainsFunc(p.Spec.TargetRefs, func(r gwv1.LocalPolicyTargetReferenceWithSectionName) bool {
			return r.Kind == "Gateway" && string(r.Name) == gw.Name && r.SectionName == nil
		}) {
			continue
		}
		suites, bad := cipherSuites(ft.CipherSuites)
		if bad != "" {
			t.problem("TrafficPolicy", p.Namespace, p.Name, "spec.frontendTLS.cipherSuites", fmt.Sprintf("%q is not a cipher suite Envoy offers; the Gateway's cipher suites are Envoy's defaults", bad))
			return nil
		}
		return suites
	}
	return nil
}
