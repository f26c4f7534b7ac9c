package dataplane

import (
	"fmt"
	"strings"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
)

// authPolicy resolves a policy's basic and external auth for the ext_authz service. A
// missing or unreadable credentials Secret fails closed (503), as in ingress-nginx.
//
// With satisfy: any the address lists travel with the policy (anyOf), as one alternative.
func (t *translator) authPolicy(ep *effectivePolicy, anyOf bool) authz.Policy {
	var p authz.Policy
	if anyOf {
		p.SatisfyAny = true
		if a := ep.spec.Access; a != nil {
			p.Access = &authz.Access{Allow: a.Allow, Deny: a.Deny}
		}
	}
	policyNs := strings.SplitN(ep.authSource, "/", 2)[0]
	if b := ep.spec.BasicAuth; b != nil {
		p.Basic = t.basicAuth(policyNs, b)
	}
	if x := ep.spec.ExternalAuth; x != nil {
		p.External = &authz.External{
			URL:             x.URL,
			Method:          x.Method,
			SignIn:          x.SignIn,
			RedirectParam:   x.RedirectParam,
			ResponseHeaders: x.ResponseHeaders,
			RequestRedirect: x.RequestRedirect,
			AlwaysSetCookie: x.AlwaysSetCookie,
			ProxySetHeaders: x.ProxySetHeaders,
		}
	}
	return p
}

func (t *translator) basicAuth(policyNs string, b *v1alpha1.BasicAuthPolicy) *authz.Basic {
	out := &authz.Basic{Realm: b.Realm}
	ns := policyNs
	if b.SecretRef.Namespace != nil {
		ns = string(*b.SecretRef.Namespace)
	}
	name := qualified(ns, string(b.SecretRef.Name))
	if ns != policyNs && !t.ix.granted(v1alpha1.GroupVersion.Group, "TrafficPolicy", policyNs, "", "Secret", ns, string(b.SecretRef.Name)) {
		out.FailClosed = fmt.Sprintf("Secret %s is in another namespace and no ReferenceGrant allows it", name)
		t.problem("TrafficPolicy", policyNs, "", "spec.basicAuth.secretRef", out.FailClosed+"; requests answer 503")
		return out
	}
	sec := t.ix.secrets[name]
	switch {
	case sec == nil:
		out.FailClosed = fmt.Sprintf("Secret %s not found", name)
	case b.SecretType == v1alpha1.BasicAuthMap:
		out.Users = map[string]string{}
		for k, v := range sec.Data {
			out.Users[k] = string(v)
		}
	default:
		if len(sec.Data["auth"]) == 0 {
			out.FailClosed = fmt.Sprintf("Secret %s has no key \"auth\"", name)
		}
		out.Htpasswd = sec.Data["auth"]
	}
	if out.FailClosed != "" {
		t.problem("Secret", ns, string(b.SecretRef.Name), "", out.FailClosed+"; basic auth fails closed (503), as ingress-nginx does")
	}
	return out
}

// authKey names a route's auth policy for the auth service: the policy that gave the auth
// blocks, and with satisfy: any also the address lists it weighs, which may come from
// another policy.
func authKey(ep *effectivePolicy, anyOf bool) string {
	if !anyOf {
		return ep.authSource
	}
	key := ep.authSource + "#satisfy-any"
	if a := ep.spec.Access; a != nil {
		key += ";allow=" + strings.Join(a.Allow, ",") + ";deny=" + strings.Join(a.Deny, ",")
	}
	return key
}
