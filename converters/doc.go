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
// One bad Ingress never stops the others: its problems are findings in the Report, and a
// refused or fail-closed Ingress produces no objects at all (it keeps going to the fallback).
package converters
