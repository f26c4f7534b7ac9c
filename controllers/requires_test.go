package controllers

import (
	"slices"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

func requiringRoute(name, version, requires string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, ResourceVersion: version}}
	if requires != "" {
		r.Annotations = map[string]string{RequiresAnnotation: requires}
	}
	return r
}

// TestRouteRequirements: a planned route requires the RouteFilters its rules and backends
// name and the planned TrafficPolicies that target it, sorted, without duplicates.
func TestRouteRequirements(t *testing.T) {
	route := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	ext := func(name string) gwv1.HTTPRouteFilter {
		return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef,
			ExtensionRef: &gwv1.LocalObjectReference{Group: gwv1.Group(gbv1.GroupVersion.Group), Kind: "RouteFilter", Name: gwv1.ObjectName(name)}}
	}
	route.Spec.Rules = []gwv1.HTTPRouteRule{
		{Filters: []gwv1.HTTPRouteFilter{ext("rewrite")}},
		{Filters: []gwv1.HTTPRouteFilter{ext("rewrite")}, BackendRefs: []gwv1.HTTPBackendRef{{Filters: []gwv1.HTTPRouteFilter{ext("backend-headers")}}}},
	}
	target := func(kind, name string) gwv1.LocalPolicyTargetReferenceWithSectionName {
		return gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
			Group: gwv1.GroupName, Kind: gwv1.Kind(kind), Name: gwv1.ObjectName(name)}}
	}
	auth := &gbv1.TrafficPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-auth"}}
	auth.Spec.TargetRefs = []gwv1.LocalPolicyTargetReferenceWithSectionName{target("HTTPRoute", "web")}
	defaults := &gbv1.TrafficPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "gatebridge-system", Name: "defaults"}}
	defaults.Spec.TargetRefs = []gwv1.LocalPolicyTargetReferenceWithSectionName{target("Gateway", "gatebridge")}
	bare := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "bare"}}

	got := routeRequirements([]DesiredObject{{Object: auth}, {Object: defaults}, {Object: route}, {Object: bare}})
	if want := "RouteFilter/backend-headers,RouteFilter/rewrite,TrafficPolicy/web-auth"; got[objectKey{"HTTPRoute", "shop", "web"}] != want {
		t.Errorf("web requires %q, want %q", got[objectKey{"HTTPRoute", "shop", "web"}], want)
	}
	if v, ok := got[objectKey{"HTTPRoute", "shop", "bare"}]; ok {
		t.Errorf("a route without filters or policies requires %q", v)
	}
}

// TestFeedHoldsRoutesUntilTheirPolicies: a route seen before the policy it requires is not
// served (never without its auth); a new version of a served route that requires a policy
// not yet held is served in its last version; once the policy arrives, the new version.
func TestFeedHoldsRoutesUntilTheirPolicies(t *testing.T) {
	f := NewFeed(nil, NewPlane(PlaneOptions{Log: logr.Discard()}), FeedOptions{}, logr.Discard())
	routes := func() []*gwv1.HTTPRoute {
		t.Helper()
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.snapshotLocked().Model.HTTPRoutes
	}
	policy := func(name string) *gbv1.TrafficPolicy {
		return &gbv1.TrafficPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}}
	}
	plain := requiringRoute("plain", "1", "")
	f.note("HTTPRoute", plain, false)
	v1 := requiringRoute("web", "1", "TrafficPolicy/web-auth")
	f.note("HTTPRoute", v1, false)
	if got := routes(); !slices.Equal(got, []*gwv1.HTTPRoute{plain}) {
		t.Fatalf("before its policy, the routes served are %v; want only the route requiring nothing", names(got))
	}
	f.note("TrafficPolicy", policy("web-auth"), false)
	if got := routes(); !slices.Equal(got, []*gwv1.HTTPRoute{plain, v1}) {
		t.Fatalf("with its policy held, the routes served are %v", names(got))
	}
	v2 := requiringRoute("web", "2", "TrafficPolicy/web-auth,TrafficPolicy/web-limits")
	f.note("HTTPRoute", v2, false)
	if got := routes(); !slices.Equal(got, []*gwv1.HTTPRoute{plain, v1}) {
		t.Fatalf("a new version requiring a policy not held yet: served %v, want the last version", versions(got))
	}
	f.note("TrafficPolicy", policy("web-limits"), false)
	if got := routes(); !slices.Equal(got, []*gwv1.HTTPRoute{plain, v2}) {
		t.Fatalf("once its policies are held, served %v, want the new version", versions(got))
	}
	// Deletion: the policy's event first: the route is no longer served at all.
	f.note("TrafficPolicy", policy("web-auth"), true)
	if got := routes(); !slices.Equal(got, []*gwv1.HTTPRoute{plain}) {
		t.Fatalf("its policy deleted first: served %v, want only the route requiring nothing", names(got))
	}
}

func names(rs []*gwv1.HTTPRoute) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func versions(rs []*gwv1.HTTPRoute) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name+"@"+r.ResourceVersion)
	}
	return out
}
