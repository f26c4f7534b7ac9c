// Package echo is gatebridge's test backend: an HTTP handler that answers every request with a
// JSON description of what it received (NewHandler, decoded by Decode), a fake external-auth
// service in the style of oauth2-proxy (NewAuthHandler), a server that speaks HTTP/1.1, h2c
// (prior knowledge) or TLS with HTTP/2 (Start), and certificate helpers for HTTPS cases
// (SelfSignedCert, NewCA). The end-to-end tests put it behind Envoy and check what arrived;
// cmd/echo runs it for the demo.
//
// It owns only the backend side of a test. It must not know about Envoy, xDS, Kubernetes or
// gatebridge's converters, must not listen anywhere but the address it is given, and must use
// only the standard library, so that any test package can import it cheaply.
package echo
