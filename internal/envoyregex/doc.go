// Package envoyregex says whether Envoy takes a regular expression: RE2 syntax as Go reads
// it, with the limits and the one difference measured against the real Envoy (Check). The
// converter and the data plane check patterns with it, so that what the report calls
// servable is what Envoy is given, and a pattern Envoy would refuse never costs the whole
// configuration it would be pushed with.
package envoyregex
