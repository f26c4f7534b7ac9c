package dataplane

import (
	"fmt"
	"slices"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

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
