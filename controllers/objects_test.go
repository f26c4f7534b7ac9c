package controllers

import (
	"strings"
	"testing"
	"unicode/utf8"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

func route(path string) *gwv1.HTTPRoute {
	ns := gwv1.Namespace("gatebridge-system")
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", Labels: map[string]string{converters.LabelManagedBy: converters.ManagedByValue}},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gatebridge", Namespace: &ns}}},
			Hostnames:       []gwv1.Hostname{"web.example.com"},
			Rules: []gwv1.HTTPRouteRule{{
				Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Value: &path}}},
				BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "web", Port: ptrTo(gwv1.PortNumber(80))}}}},
			}},
		},
	}
}

// asLive is want as the API server returns it after applying: the applied-hash, defaults
// filled in, server-set metadata, and no TypeMeta (objects from the cache have none).
func asLive(t *testing.T, form applyForm, r *gwv1.HTTPRoute) *gwv1.HTTPRoute {
	t.Helper()
	live := r.DeepCopy()
	live.TypeMeta = metav1.TypeMeta{}
	live.Annotations = map[string]string{AppliedHashAnnotation: form.hash}
	live.OwnerReferences = []metav1.OwnerReference{{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "web", UID: "u-1", Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(false)}}
	live.ResourceVersion, live.UID, live.Generation = "42", "route-uid", 1
	group, kind := gwv1.Group(gwv1.GroupName), gwv1.Kind("Gateway")
	live.Spec.ParentRefs[0].Group, live.Spec.ParentRefs[0].Kind = &group, &kind
	pt := gwv1.PathMatchPathPrefix
	live.Spec.Rules[0].Matches[0].Path.Type = &pt
	return live
}

func TestInSync(t *testing.T) {
	owner := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "u-1"}}
	want := route("/api")
	form, err := newApplyForm(want, owner, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := form.obj.Object["status"]; ok {
		t.Errorf("the apply form carries a status")
	}
	if md := form.obj.Object["metadata"].(map[string]any); md["creationTimestamp"] != nil || md["ownerReferences"] == nil {
		t.Errorf("metadata = %v: want an owner reference and no creationTimestamp", md)
	}
	live := asLive(t, form, want)
	check := func(name string, obj client.Object, wantSync bool) {
		t.Helper()
		ok, err := inSync(form, obj)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantSync {
			t.Errorf("%s: inSync = %v, want %v", name, ok, wantSync)
		}
	}
	check("as applied, with defaults", live, true)

	edited := live.DeepCopy()
	edited.Spec.Rules[0].Matches[0].Path.Value = ptrTo("/edited")
	check("a field gatebridge sets was edited", edited, false)

	removed := live.DeepCopy()
	removed.Spec.Hostnames = nil
	check("a field gatebridge sets was removed", removed, false)

	extra := live.DeepCopy()
	extra.Labels["team"] = "payments"
	check("someone added a label", extra, true)

	older := live.DeepCopy()
	older.Annotations[AppliedHashAnnotation] = "0000000000000000"
	check("applied from another form", older, false)

	// A field gatebridge no longer sets is caught by the hash, not by the field comparison.
	next, err := newApplyForm(route("/api"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if next.hash == form.hash {
		t.Errorf("dropping the owner reference keeps the hash %s", next.hash)
	}
}

func TestOwned(t *testing.T) {
	labels := map[string]string{converters.LabelManagedBy: converters.ManagedByValue}
	cases := []struct {
		name string
		meta metav1.ObjectMeta
		want bool
	}{
		{"written by the controller", metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{AppliedHashAnnotation: "abc"}}, true},
		{"gatebridge convert output applied by hand", metav1.ObjectMeta{Labels: labels}, false},
		{"someone else's", metav1.ObjectMeta{Annotations: map[string]string{AppliedHashAnnotation: "abc"}}, false},
	}
	for _, c := range cases {
		if got := owned(&c.meta); got != c.want {
			t.Errorf("%s: owned = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestContains(t *testing.T) {
	cases := []struct {
		have, want any
		ok         bool
	}{
		{map[string]any{"a": int64(1), "b": "x"}, map[string]any{"a": int64(1)}, true},
		{map[string]any{"a": float64(1)}, map[string]any{"a": int64(1)}, true},
		{map[string]any{"a": int64(2)}, map[string]any{"a": int64(1)}, false},
		{map[string]any{}, map[string]any{"a": "x"}, false},
		{[]any{"a", "b"}, []any{"a"}, false},
		{[]any{map[string]any{"x": "1", "y": "2"}}, []any{map[string]any{"x": "1"}}, true},
		{"a", "a", true},
		{true, false, false},
	}
	for _, c := range cases {
		if got := contains(c.have, c.want); got != c.ok {
			t.Errorf("contains(%v, %v) = %v, want %v", c.have, c.want, got, c.ok)
		}
	}
}

// TestInvalidHostnamesNeverReachTheGateway: should the conversion let an invalid host
// through, the Ingress is refused by the controller and its listener is not written.
func TestInvalidHostnamesNeverReachTheGateway(t *testing.T) {
	r := route("/")
	r.Spec.Hostnames = []gwv1.Hostname{"registry.<your domain>"}
	r.Spec.ParentRefs[0].SectionName = ptrTo(gwv1.SectionName("https-registry-your-domain"))
	ip := &IngressPlan{State: StateMigrated, Report: converters.IngressReport{Objects: []converters.ObjectRef{{Kind: "HTTPRoute", Namespace: "apps", Name: "web"}}}}
	objects := map[objectKey]client.Object{{"HTTPRoute", "apps", "web"}: r}
	listeners := map[listenerRef]string{{"Gateway", "gatebridge", "https-registry-your-domain"}: "registry.<your domain>"}
	refuseInvalidHostnames(ip, objects, listeners, "gatebridge-system")
	if ip.State != StateRefused || len(ip.Notes) != 1 || !strings.Contains(ip.Notes[0], `"registry.<your domain>"`) {
		t.Fatalf("plan = %+v, want refused with a note naming the host", ip)
	}
	n := collectNeeds([]*IngressPlan{ip}, objects, "gatebridge-system")
	if len(n.listeners) != 0 || n.migrating {
		t.Fatalf("a refused Ingress still needs %v", n.listeners)
	}
	for _, h := range []string{"example.com", "*.example.com", "a-b.c"} {
		if !validHostname(h) {
			t.Errorf("validHostname(%q) = false", h)
		}
	}
	for _, h := range []string{"", "*", "Upper.example.com", "__ingress_host__", "a..b", "*.*.example.com"} {
		if validHostname(h) {
			t.Errorf("validHostname(%q) = true", h)
		}
	}
}

func TestReportHashAndEvents(t *testing.T) {
	ip := &IngressPlan{State: StateOff, Report: converters.IngressReport{Verdict: converters.VerdictApproximate, Findings: []converters.Finding{
		{Annotation: "proxy-buffering", Severity: converters.SeverityInfo, Message: "Envoy streams"},
		{Field: "spec.rules[0].http.paths[1].backend.service.name", Severity: converters.SeverityWarning, Message: "Service web does not exist"},
	}}}
	h := reportHash(ip)
	if h != reportHash(ip) || !strings.HasPrefix(h, "off/") {
		t.Fatalf("reportHash = %q, not stable or not prefixed with the state", h)
	}
	if stateOf(h) != StateOff {
		t.Errorf("stateOf(%q) = %q", h, stateOf(h))
	}
	e := eventFor(ip, "")
	if e.Reason != ReasonAssessed || e.Type != "Normal" || !strings.Contains(e.Note, "verdict approximate") ||
		strings.Index(e.Note, "does not exist") > strings.Index(e.Note, "Envoy streams") {
		t.Errorf("assessment event = %+v (warnings must come first)", e)
	}
	if e := eventFor(ip, StateMigrated); e.Reason != ReasonMigrationRemoved {
		t.Errorf("after migrated → off: reason %s", e.Reason)
	}
	ip.State = StateMigrated
	if reportHash(ip) == h {
		t.Errorf("the migration state does not change the hash")
	}
	ip.Objects = []objectKey{{"HTTPRoute", "apps", "web"}}
	if e := eventFor(ip, StateOff); e.Reason != ReasonMigrated || !strings.Contains(e.Note, "HTTPRoute apps/web") {
		t.Errorf("migrated event = %+v", e)
	}
	long := strings.Repeat("é", 2000)
	if got := truncate(long, maxEventNote); len(got) > maxEventNote || !utf8.ValidString(got) {
		t.Errorf("truncate: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}
