package dataplane

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// effectivePolicy is the TrafficPolicy that applies to one HTTPRoute on one Gateway: each
// block comes from the oldest route-level policy that sets it, else from the oldest
// Gateway-level policy that sets it. Blocks are taken whole, never merged field by field,
// so a route-level block says everything about its concern.
type effectivePolicy struct {
	spec v1alpha1.TrafficPolicySpec
	// source names, per block, the policy it came from ("namespace/name"), for auth keys
	// and rate-limit names.
	authSource, rateLimitSource string
}

func (t *translator) policyFor(gw *gwv1.Gateway, route *gwv1.HTTPRoute) *effectivePolicy {
	ep := &effectivePolicy{}
	fill := func(p *v1alpha1.TrafficPolicy) {
		s, d := &p.Spec, &ep.spec
		src := qualified(p.Namespace, p.Name)
		setIfNil(&d.PathMatching, s.PathMatching)
		setIfNil(&d.Redirects, s.Redirects)
		setIfNil(&d.RequestBody, s.RequestBody)
		setIfNil(&d.Timeouts, s.Timeouts)
		setIfNil(&d.Retry, s.Retry)
		setIfNil(&d.Backend, s.Backend)
		setIfNil(&d.CORS, s.CORS)
		setIfNil(&d.Access, s.Access)
		setIfNil(&d.SessionAffinity, s.SessionAffinity)
		setIfNil(&d.ResponseBandwidth, s.ResponseBandwidth)
		setIfNil(&d.ResponseRewrite, s.ResponseRewrite)
		setIfNil(&d.Mirror, s.Mirror)
		setIfNil(&d.ErrorPages, s.ErrorPages)
		if d.BasicAuth == nil && d.ExternalAuth == nil && (s.BasicAuth != nil || s.ExternalAuth != nil) {
			d.BasicAuth, d.ExternalAuth = s.BasicAuth, s.ExternalAuth
			ep.authSource = src
		}
		if d.Satisfy == "" {
			d.Satisfy = s.Satisfy
		}
		if d.RateLimit == nil && s.RateLimit != nil {
			d.RateLimit = s.RateLimit
			ep.rateLimitSource = src
		}
	}
	if route != nil {
		for _, p := range t.ix.routePolicies[qualified(route.Namespace, route.Name)] {
			fill(p)
		}
	}
	for _, p := range t.ix.gatewayPolicies[qualified(gw.Namespace, gw.Name)] {
		fill(p)
	}
	// externalAuth.disabled turns off a Gateway-wide external auth for this route.
	if ep.spec.ExternalAuth != nil && ep.spec.ExternalAuth.Disabled {
		ep.spec.ExternalAuth = nil
		if ep.spec.BasicAuth == nil {
			ep.authSource = ""
		}
	}
	return ep
}

func setIfNil[T any](dst **T, src *T) {
	if *dst == nil && src != nil {
		*dst = src
	}
}

// nginxOrder reports whether RegularExpression path matches follow ingress-nginx order.
func (ep *effectivePolicy) nginxOrder() bool {
	return ep.spec.PathMatching != nil && ep.spec.PathMatching.Mode == v1alpha1.PathMatchingIngressNginx
}
