// Package e2e is the end-to-end suite: real Envoy, gatebridge's xDS server and auth
// service, and the project's echo backends on 127.0.0.1. Each scene writes Ingresses (or
// Gateway API objects) pointing at the echo backends, serves them through the same
// pipeline as `gatebridge run`, and checks request by request what the client received
// (status, Location, headers) and what the backend received (method, path and query,
// Host, headers). The expectations come from ingress-nginx v1.15.1's documented behaviour
// (annotations, defaults, template), not from the implementation.
//
// The suite needs Envoy: hack/envoy.sh installs it on first use. With -short it is
// skipped; with CI=true a missing Envoy fails the run. GATEBRIDGE_E2E_ENVOY_LOG_LEVEL=debug
// keeps Envoy's debug log in the run's work directory (gatebridge-e2e-* under $TMPDIR).
package e2e
