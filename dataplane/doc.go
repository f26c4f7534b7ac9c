// Package dataplane translates the Gateway API model — Gateways, ListenerSets, HTTPRoutes,
// TLSRoutes, ReferenceGrants and gatebridge's own TrafficPolicy and RouteFilter kinds, plus
// the Services, EndpointSlices and Secrets they use — into Envoy v3 resources.
//
// Translate is a pure function: the same Model gives byte-identical resources, with names
// derived from object identity so that an update touches only what changed. It never does
// I/O. The xDS server (dataplane/xds), the ext_authz service (dataplane/authz) and the Envoy
// process supervisor (dataplane/envoy) live in subpackages; the Kubernetes watch and the file
// reader are front doors elsewhere that build a Model and call Translate.
//
// The ingress-nginx behaviours the converter encodes (host-wide regex mode and its ordering,
// capture-group rewrites, the ssl-redirect details, canary matches, the 1 MiB body limit,
// idle timeouts, retries, unverified HTTPS backends, CORS as nginx answers it, access lists,
// auth, rate limits, cookie affinity, default backends) are reproduced here; where Envoy
// cannot reproduce a detail the difference is stated in docs/dataplane.md and in the
// converter's report.
package dataplane
