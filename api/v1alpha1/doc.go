// Package v1alpha1 holds gatebridge's own extension kinds (API group gatebridge.dev).
//
// They say what the Gateway API cannot: ingress-nginx behaviour that has no standard field
// (idle timeouts, nginx-style retries, the 1 MiB body limit, IP allow/deny lists, basic and
// external auth, per-client rate limits, cookie affinity, custom error pages) and per-rule
// details (capture-group rewrites, redirects the standard filter cannot express).
//
//   - TrafficPolicy is a policy attached to a Gateway (gateway-wide defaults, usually taken
//     from the ingress-nginx controller ConfigMap) or to HTTPRoutes (one Ingress's
//     annotations). A route-level field overrides the Gateway-level one. Implementations
//     that do not know the kind ignore it, so the standard objects still work, approximately.
//   - RouteFilter is referenced from an HTTPRoute rule's ExtensionRef filter. It is used only
//     where dropping the behaviour would change the response (a rewritten path, a redirect
//     target), so other implementations fail such a rule instead of serving it wrongly.
//
// Every field documents the annotation it comes from. Nothing here carries raw proxy
// configuration: values are typed data, validated by the converter.
//
// +kubebuilder:object:generate=true
// +groupName=gatebridge.dev
package v1alpha1
