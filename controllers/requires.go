package controllers

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// A migrated route and the TrafficPolicies and RouteFilters that carry its auth, access
// lists and limits are separate objects, written policies first (writer.go, ownedKinds).
// But every kind has an informer of its own, so a replica can see the route's event before
// its policy's and publish the route, for one batch, without its auth. To close that
// window the writer names on each route what it needs (RequiresAnnotation), and the feed
// serves a route only when it holds all of those; until then it serves the version of the
// route it served before (whose requirements it does hold), or nothing. A route whose
// policy never arrives is never served: fail closed.

// routeRequirements maps each planned HTTPRoute to the value of its RequiresAnnotation:
// the RouteFilters its rules name (extensionRef) and the planned TrafficPolicies that
// target it, of the same namespace, sorted ("" when none).
func routeRequirements(objects []DesiredObject) map[objectKey]string {
	needs := map[objectKey][]string{}
	for _, d := range objects {
		switch o := d.Object.(type) {
		case *gbv1.TrafficPolicy:
			for _, ref := range o.Spec.TargetRefs {
				if string(ref.Group) == gwv1.GroupName && string(ref.Kind) == "HTTPRoute" {
					k := objectKey{"HTTPRoute", o.Namespace, string(ref.Name)}
					needs[k] = append(needs[k], "TrafficPolicy/"+o.Name)
				}
			}
		case *gwv1.HTTPRoute:
			k := objectKey{"HTTPRoute", o.Namespace, o.Name}
			needs[k] = append(needs[k], routeFilterNames(o)...)
		}
	}
	out := make(map[objectKey]string, len(needs))
	for k, names := range needs {
		slices.Sort(names)
		if names = slices.Compact(names); len(names) > 0 {
			out[k] = strings.Join(names, ",")
		}
	}
	return out
}

// routeFilterNames are "RouteFilter/<name>" for every gatebridge RouteFilter the route's
// rules and backends reference.
func routeFilterNames(r *gwv1.HTTPRoute) []string {
	var out []string
	add := func(filters []gwv1.HTTPRouteFilter) {
		for _, f := range filters {
			if e := f.ExtensionRef; e != nil && string(e.Group) == gbv1.GroupVersion.Group && string(e.Kind) == "RouteFilter" {
				out = append(out, "RouteFilter/"+string(e.Name))
			}
		}
	}
	for _, rule := range r.Spec.Rules {
		add(rule.Filters)
		for _, b := range rule.BackendRefs {
			add(b.Filters)
		}
	}
	return out
}

// requirementsHeld reports whether every object obj's RequiresAnnotation names is in held
// (kind → objects by key). An unreadable entry counts as missing.
func requirementsHeld(obj client.Object, held func(kind string, key types.NamespacedName) bool) bool {
	v := obj.GetAnnotations()[RequiresAnnotation]
	if v == "" {
		return true
	}
	for entry := range strings.SplitSeq(v, ",") {
		kind, name, ok := strings.Cut(entry, "/")
		if !ok || name == "" || !held(kind, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}) {
			return false
		}
	}
	return true
}
