// Package xds is gatebridge's xDS server: it owns the one snapshot every Envoy is served,
// validates each Resources the translator hands it before the snapshot may change (every
// resource's own rules, unique names, and that every RDS, SRDS, EDS and SDS name used is
// published; what nothing uses is left out), publishes a new snapshot only when a resource
// actually changed, and serves it over gRPC to state-of-the-world and delta (incremental)
// ADS clients. It also keeps the ACK/NACK accounting: which snapshot version each connected
// Envoy has acknowledged, per resource type, and which configuration it rejected and why
// (Stats, WaitForAck).
//
// It does not translate (dataplane does, producing Resources) and knows nothing about
// Kubernetes: its only inputs are Envoy protos — clusters may be handed over encoded
// (EncodedCluster), as a translator keeping thousands does — and gRPC streams.
package xds
