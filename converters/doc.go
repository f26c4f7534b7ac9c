// Package converters turns a set of Ingresses — read exactly as ingress-nginx understood
// them — into Gateway API objects, gatebridge extension objects and a Report.
//
// Convert is a pure function of its Input and Options: no I/O, no clock, no randomness;
// the same input always gives the same objects in the same order. It owns the rules that
// span Ingresses (DESIGN.md §5): host-wide regex mode, nginx path ordering, conflicts
// (oldest Ingress wins), canary joining, server-level first-wins settings, TLS hosts and the
// shared Gateway. Annotation values are parsed by package annotations; this package never
// reads an annotation string itself.
//
// The cross-Ingress rules tie only Ingresses that share a hostname, an alias or www name,
// or a Service, so a conversion is made of independent parts (parts.go) plus one listener
// plan over all of them. Incremental uses that: `gatebridge run` re-converts only the parts
// of edited Ingresses and keeps every other object as it was, pointer and all, with results
// byte-for-byte those of Convert.
//
// One bad Ingress never stops the others: its problems are findings in the Report, and a
// refused or fail-closed Ingress produces no objects at all (it keeps going to the fallback).
package converters
