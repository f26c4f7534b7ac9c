package v1alpha1

// The bridge to ingress-nginx (docs/bridge.md): the annotations a user writes on an Ingress
// to move it over, the ones gatebridge writes, and the names the data plane uses to split a
// migrating Ingress's requests between Envoy and the fallback.
const (
	// MigrateAnnotation on an Ingress opts it in: "true" serves it natively (as owned
	// Gateway API objects); anything else, or no annotation, leaves it on ingress-nginx.
	MigrateAnnotation = "gatebridge.dev/migrate"
	// WeightAnnotation ("0"…"100") on a migrating Ingress is the share of its requests
	// served natively; the rest goes to the fallback untouched. No annotation = 100. The
	// converter copies the valid value of a migrating Ingress onto its HTTPRoutes (only
	// when below 100), where the data plane reads it; a hand-written HTTPRoute on the
	// bridged Gateway may carry it too.
	WeightAnnotation = "gatebridge.dev/weight"
	// StickyAnnotation "true" pins each client to its side with the BucketCookie while the
	// weight does not change. Copied onto HTTPRoutes like the weight.
	StickyAnnotation = "gatebridge.dev/sticky"
	// StateAnnotation is written by the controller on every Ingress it converts: the
	// migration state as `kubectl get ingress -o yaml` shows it ("observed", "migrating
	// 25%", "native", "refused", "failed").
	StateAnnotation = "gatebridge.dev/state"
	// BucketCookie holds a client's bucket (0…99) for sticky routes: a request is served
	// natively when its bucket is below the route's weight, so raising the weight only
	// ever moves clients from the fallback to Envoy.
	BucketCookie = "gatebridge-bucket"
	// BucketHeader carries the request's bucket from the first HTTP filter to the route
	// match; it is removed before the request goes upstream (native or fallback).
	BucketHeader = "x-gatebridge-bucket"
)
