// Package controllers is `gatebridge controller`: the operator that runs in a cluster next to
// ingress-nginx. It owns the controller-runtime manager (cache, health and readiness
// probes, Prometheus metrics, Lease leader election) and the writer: the reconciler that
// turns Ingresses into owned Gateway API objects through the API server.
//
// The writer is one level-triggered pass over the whole cluster state, because the
// conversion is: ingress-nginx's host-wide rules (first wins, regex mode, canaries) tie
// every Ingress of a host to the others. Every watched change (Ingress, IngressClass,
// Service, the controller ConfigMap, an owned object) enqueues the same key; a pass then
//
//  1. reads a converters.Input from the informer cache (Ingresses of the gatebridge
//     IngressClass are converted as if of the converted class: the drop-in path);
//  2. converts the Ingresses (assess) through a converters.Incremental: the watch handlers
//     note which Ingresses changed (namespace/name), and only their parts — the Ingresses
//     tied to them by a host or a Service — are converted again; a change of an
//     IngressClass, a Service or the ConfigMap converts everything. Owned objects and
//     hand-written routes are not the conversion's input: they convert nothing again;
//  3. plans the objects to write (plan.go, pure): each migrating Ingress's own objects, as
//     its IngressReport.Objects names them, and the shared objects cut down to what those
//     need — the GatewayClass and the Gateway always, a listener, ListenerSet entry or
//     certificate ReferenceGrant only when a migrating Ingress's route uses it, and the
//     ingress-nginx-defaults TrafficPolicy while any Ingress migrates;
//  4. fails, before writing anything, a migrating Ingress whose object's name is held by an
//     object gatebridge does not own (or that the API server rejected in the same form),
//     so that it gets none of its objects and the shared ones keep nothing of it;
//  5. deletes the owned objects the plan no longer holds (routes first) and applies, with
//     server-side apply (field manager "gatebridge", ForceOwnership), the planned objects
//     that differ from the live ones (objects.go: an applied-hash annotation plus a check
//     that the live object still holds every field gatebridge sets). What a route depends
//     on — listeners, ReferenceGrants, RouteFilters, the TrafficPolicies that target it —
//     is applied before it, so a route is never served without its auth or limits. An
//     object the conversion reused (the same pointer) keeps its apply form and hash;
//  6. records an Event on an Ingress only when its verdict, findings or migration state
//     changed, remembered across restarts in its gatebridge.dev/report-hash annotation —
//     conflicts with hand-written HTTPRoutes on the shared Gateway included (conflicts.go:
//     the older route wins an identical match, as in the data plane) — and writes its
//     migration state in gatebridge.dev/state ("observed", "migrating 25%", "native",
//     "refused", "failed"), with the report-hash in one apply of metadata;
//  7. writes status.loadBalancer.ingress of the Ingresses of the gatebridge IngressClass:
//     the Envoy Service's address (address.go), when it changed.
//
// What it must not do: modify an object it does not own (owned = label
// app.kubernetes.io/managed-by: gatebridge and the gatebridge.dev/applied-hash annotation),
// write an Ingress's spec (only its report-hash and state annotations, by server-side
// apply), or write at all when it is not the leader. Every replica runs the passes' steps
// 1–3 (the conversion; its feed needs the legacy locations below); steps 4–7 — every
// write, Event and status — run on the leader only, and becoming the leader runs a pass.
//
// The bridge (bridge.go; --fallback): the conversion runs in bridge mode — each Ingress
// gets a migration state and weight (converters.Options.Bridge), an invalid
// gatebridge.dev/weight keeps the last valid one (PreviousWeights: the writer's memory,
// after a restart the weight its gatebridge.dev/state says) with a Warning Event — and each
// pass hands its feed the locations of the Ingresses not served natively (observed and
// refused: the conversion's RefusedLocations). The feed publishes them with the objects it
// reads and the fallback target (a Service port resolved through the Services and
// EndpointSlices it watches, or host:port), and publishes nothing before the first of them
// arrived.
//
// The serving half (serve.go; ManagerOptions.Serve) runs next to the writer: in the
// cluster, Envoy serves what the API server holds.
//   - Feed (feed.go), on every replica: informer events on Gateway API objects (owned and
//     hand-written alike), gatebridge's kinds, Services, EndpointSlices and the Secrets
//     those reference become pipeline.Snapshots, batched by a short debounce and published
//     through pipeline.Publisher — the policy `gatebridge run` uses. Nothing is published
//     before every informer synced; /readyz waits for the first publish.
//   - Plane (plane.go), on every replica: the xDS server and the ext_authz service. Envoys
//     are grouped by the port map of their node metadata and the auth address they reach;
//     each group has its own translator and snapshot, all served on one port.
//   - StatusWriter (statuswriter.go, status.go), on the leader only: Gateway API status
//     from the translation's typed results and what Envoy acknowledged (Programmed only
//     after the ACK; a NACK shows as Programmed False, reason Invalid), the
//     gatebridge.dev/Conflicted condition of routes (conflicts.go) and the shared
//     Gateway's status.addresses (address.go).
//
// `gatebridge convert` and `report` convert through converters.ConvertDropIn, the writer
// through DropInInput: both treat the gatebridge IngressClass alike, so they give the same
// verdicts.
package controllers
