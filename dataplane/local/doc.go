// Package local runs the whole data plane on one machine: gatebridge's xDS server and
// ext_authz service on loopback, and an Envoy child process configured by them. It is what
// `gatebridge run`, the end-to-end tests and the benchmarks start. It translates nothing
// itself (dataplane.Translate does) and reads no files.
package local
