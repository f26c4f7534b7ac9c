// Package converters turns a set of Ingresses — read exactly as ingress-nginx understood
// them — into Gateway API objects, gatebridge extension objects and a Report.
//
// Convert is a pure function of its Input and Options: no I/O, no clock, no randomness;
// the same input always gives the same objects in the same order. It owns the rules that
// span Ingresses: host-wide regex mode, nginx path ordering, conflicts
// (oldest Ingress wins), canary joining, server-level first-wins settings, TLS hosts and the
// shared Gateway. Annotation values are parsed by package annotations; this package never
// reads an annotation string itself.
//
// The cross-Ingress rules tie only Ingresses that share a hostname, an alias or www name,
// or a Service, so a conversion is made of independent parts (parts.go) plus one listener
// plan over all of them. Incremental uses that: `gatebridge run` re-converts only the parts
// of edited Ingresses and keeps every other object as it was, pointer and all, with results
// byte-for-byte those of Convert. `gatebridge convert` uses it too (Options.Encoder,
// stream.go): each part is encoded as soon as it is built, so its objects are never all in
// memory, and the bytes are those of encoding Convert's objects.
//
// One bad Ingress never stops the others: its problems are findings in the Report, and a
// refused or fail-closed Ingress produces no objects at all (it keeps going to the fallback).
// It still owns its locations, as in ingress-nginx: they are Result.RefusedLocations, which
// a data plane must answer 503 (refused.go) rather than let them fall through to another
// Ingress's path or catch-all. An Ingress the API server would reject (ValidateIngress,
// validate.go) never exists in a cluster: it is refused and everything else converts as if
// it were absent — no objects, no locations, no listener or certificate. Services, Secrets,
// IngressClasses and ConfigMaps with invalid metadata are ignored with a global finding.
// No value beyond what the Gateway API and gatebridge CRDs accept is ever emitted: it is
// a finding instead.
//
// Shared objects carry only what served routes use (hostListeners): a host's HTTPS
// listeners, and the grant of its certificate, exist when a served Ingress — not refused —
// has a route on the host; a TLS passthrough listener when its TLSRoute is emitted. A host
// that only refused Ingresses name reaches no Gateway or ListenerSet. When a served Ingress
// shares the host, the listener is the host's as in ingress-nginx: a refused Ingress still
// owns the host's settings, so the certificate it names first may be the one presented.
//
// Behind the bridge (Options.Bridge, bridge.go) the conversion is the same and complete,
// and each Ingress also gets its migration state (IngressReport.Migration); the locations
// of the Ingresses not migrated join the refused ones, and the HTTPRoutes of migrating ones
// carry their weight. NativeObjects (native.go) cuts what is served natively from the
// Result: the objects of the Ingresses served and the shared objects cut down to what they
// use — the cut the controller makes for the Ingresses it writes (ServedObjects).
//
// The output never holds two objects of one kind, namespace and name: an Ingress names its
// objects apart (uniqueName; an alias is one host's, first in hostname order; a RouteFilter
// is emitted once for all the hosts that use it), listener names are made unique across the
// Gateway (planListeners), an Ingress whose object would take another Ingress's name is
// refused (collisions, in convert), and dropDuplicates drops what still repeats with an
// error finding — a converter bug, on which the package's tests panic.
package converters
