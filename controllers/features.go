package controllers

import (
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// claimedFeatures are the Gateway API features gatebridge serves, as its GatewayClasses'
// status.supportedFeatures says: each one passes the official conformance suite's tests
// of it (test/conformance; `make conformance`). A feature goes here only with its tests
// passing.
var claimedFeatures = []gwv1.FeatureName{
	// Core of the GATEWAY-HTTP profile.
	"Gateway",
	"HTTPRoute",
	"ReferenceGrant",
	// BackendTLSPolicy (backendtls.go): TLS to the targeted Services, verified.
	"BackendTLSPolicy",
	"BackendTLSPolicySANValidation",
	// Gateway extended: addresses come from --gateway-address-pool (addresspool.go).
	"GatewayAddressEmpty",
	"GatewayHTTPListenerIsolation",
	"GatewayPort8080",
	"GatewayStaticAddresses",
	"ListenerSet",
	// HTTPRoute extended.
	"HTTPRoute303RedirectStatusCode",
	"HTTPRoute307RedirectStatusCode",
	"HTTPRoute308RedirectStatusCode",
	"HTTPRouteBackendProtocolH2C",
	"HTTPRouteBackendProtocolWebSocket",
	"HTTPRouteBackendRequestHeaderModification",
	"HTTPRouteBackendTimeout",
	"HTTPRouteCORS",
	"HTTPRouteDestinationPortMatching",
	"HTTPRouteHostRewrite",
	"HTTPRouteMethodMatching",
	"HTTPRouteNamedRouteRule",
	"HTTPRouteParentRefPort",
	"HTTPRoutePathRedirect",
	"HTTPRoutePathRewrite",
	"HTTPRoutePortRedirect",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors",
	"HTTPRouteRequestPercentageMirror",
	"HTTPRouteRequestTimeout",
	"HTTPRouteResponseHeaderModification",
	"HTTPRouteRetry", // rules[].retry: experimental channel CRDs
	"HTTPRouteSchemeRedirect",
}

// supportedFeatures is status.supportedFeatures of our GatewayClasses: sorted by name, as
// the API requires.
func supportedFeatures() []gwv1.SupportedFeature {
	names := slices.Clone(claimedFeatures)
	slices.Sort(names)
	out := make([]gwv1.SupportedFeature, len(names))
	for i, n := range names {
		out[i] = gwv1.SupportedFeature{Name: n}
	}
	return out
}
