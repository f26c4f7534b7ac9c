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
// Needs Envoy (hack/envoy.sh), the envtest binaries (hack/envtest.sh) and a non-loopback
// address: skipped without them, failed with CI=true. -short skips it.
package cluster
