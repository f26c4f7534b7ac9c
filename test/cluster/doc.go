// Package cluster is the end-to-end suite of `gatebridge controller`: a real API server
// (envtest), the controller as the built command, a real Envoy joined with the bootstrap
// `gatebridge envoy-bootstrap` prints, and echo backends. The API server refuses
// EndpointSlices on 127.0.0.0/8, so the backends listen on the first non-loopback IPv4
// address of the machine and the EndpointSlices point there.
//
// It checks that, in the cluster, Envoy serves what the API server holds: Ingresses the
// controller migrates, hand-written HTTPRoutes on the shared Gateway, nothing of an Ingress
// that fails closed, and Gateway API status true to what Envoy acknowledged; and that
// Envoy keeps serving while the controller is down and serves what changed meanwhile once
// it is back. Requests are counted at the backends; waits are bounded polls, never timing
// assertions.
//
// The bridge (bridge_test.go): the controller with --fallback in front of a real nginx
// (internal/testnginx, the stand-in for ingress-nginx, behind a Service whose
// EndpointSlice points at it): an Ingress observed, migrating at 25 %, with an invalid
// weight, native and rolled back, each step in gatebridge.dev/state, Events and the live
// report; TLS terminated or passed through by SNI; and a follower replica serving the
// not-migrated locations of its own conversion.
//
// Needs Envoy (hack/envoy.sh), the envtest binaries (hack/envtest.sh) and a non-loopback
// address: skipped without them, failed with CI=true. -short skips it. The bridge tests
// also need nginx (hack/nginx.sh; the same policy).
package cluster
