// Package bridge holds the end-to-end tests of the bridge to ingress-nginx (issue 14,
// docs/bridge.md) through the real command: `gatebridge run --fallback … --fallback-tls …`
// (built from this tree) with a real Envoy, echo backends (test/echo) and Debian's nginx as
// the stand-in for ingress-nginx (internal/testnginx), in front of the same backends.
//
// A request that reached a backend through nginx carries nginx's marker header
// (testnginx.Header); one Envoy served natively does not. Each test runs its own
// `gatebridge run` on its own directory of files and edits them to reload it, waiting for
// run to report each reload served (acknowledged by Envoy) before going on. The load test
// drives test/bridge/loadgen as a second process and counts its failures.
//
// With -short the package is skipped; without Envoy or nginx it is skipped, or fails with
// CI=true (make test installs both: hack/envoy.sh, hack/nginx.sh).
package bridge
