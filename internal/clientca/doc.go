// Package clientca reads the CA Secret of client-certificate authentication (auth-tls-secret,
// TrafficPolicy frontendTLS.clientCertificate): the trusted certificates of ca.crt, the
// optional revocation lists of ca.crl, and the subjects as OpenSSL prints them (RFC 2253).
// The converter and the data plane check a Secret with the same rules, so that what the
// report calls usable is what Envoy is given.
package clientca
