package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestLifecycle: annotate → objects with owner references and labels; edit the Ingress →
// the route follows; un-annotate → removed; annotate again, delete the Ingress → removed
// (envtest runs no garbage collector: the writer deletes them). The Ingress's spec is
// never written: gatebridge's field manager owns its report-hash annotation only.
func TestLifecycle(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "lifecycle")
	class := "nginx-lifecycle"
	h := startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}}})
	create(t, env, service(ns, "web"))
	ing := ingressSpec{name: "shop", namespace: ns, class: class, host: "shop.lifecycle.example.com", path: "/app",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build()
	create(t, env, ing)

	var route gwv1.HTTPRoute
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "shop")
		if len(rs) != 1 {
			return fmt.Errorf("%d HTTPRoutes of Ingress shop, want 1", len(rs))
		}
		route = rs[0]
		return nil
	})
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(ing), ing); err != nil {
		t.Fatal(err)
	}
	refs := route.OwnerReferences
	if len(refs) != 1 || refs[0].Kind != "Ingress" || refs[0].Name != "shop" || refs[0].UID != ing.UID || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("owner references %+v, want the Ingress as controller", refs)
	}
	for k, v := range map[string]string{converters.LabelManagedBy: converters.ManagedByValue, converters.LabelSourceIngress: "shop", converters.LabelSourceNamespace: ns} {
		if route.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, route.Labels[k], v)
		}
	}
	if got := routePaths(route); !slices.Equal(got, []string{"/app"}) {
		t.Errorf("route paths %v, want [/app]", got)
	}
	if gw := getGateway(t, env); !slices.Contains(listenerNames(gw), "http") {
		t.Errorf("shared Gateway listeners %v, want http", listenerNames(gw))
	}
	eventually(t, func() error {
		if r := h.events.Reasons(ns, "shop"); !slices.Equal(r, []string{ReasonMigrated}) {
			return fmt.Errorf("events %v, want [Migrated]", r)
		}
		return nil
	})
	checkOnlyAnnotationOwned(t, env, ing)
	// One change, one write: passes that follow (the route's own watch event) do not
	// apply it again although the cache may lag behind the write.
	applies := 0
	for _, w := range h.writes.Writes() {
		if strings.HasPrefix(w, "apply "+ns+"/"+route.Name+" ") {
			applies++
		}
	}
	if applies != 1 {
		t.Errorf("the route was applied %d times, want 1: %v", applies, h.writes.Writes())
	}

	// Drift: a person edits the owned route, then deletes it; gatebridge restores it.
	updateObj(t, env, &route, func(r *gwv1.HTTPRoute) { r.Spec.Rules[0].Matches[0].Path.Value = ptrTo("/edited-by-hand") })
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "shop")
		if len(rs) != 1 || !slices.Equal(routePaths(rs[0]), []string{"/app"}) {
			return fmt.Errorf("the edited route was not restored: %v", rs)
		}
		return nil
	})
	if err := env.Client.Delete(ctxT(t), &route); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "shop")
		if len(rs) != 1 || rs[0].UID == route.UID {
			return fmt.Errorf("the deleted route was not written again")
		}
		return nil
	})

	// Edit the path: the route follows.
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/v2" })
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "shop")
		if len(rs) != 1 || !slices.Equal(routePaths(rs[0]), []string{"/v2"}) {
			return fmt.Errorf("routes %v", rs)
		}
		return nil
	})
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(ing), ing); err != nil {
		t.Fatal(err)
	}
	if ing.Spec.Rules[0].HTTP.Paths[0].Path != "/v2" {
		t.Errorf("the Ingress's spec changed: %+v", ing.Spec)
	}

	// Un-annotate: removed.
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { delete(i.Annotations, MigrateAnnotation) })
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 0 {
			return fmt.Errorf("%d routes left", len(rs))
		}
		return nil
	})
	eventually(t, func() error {
		if r := h.events.Reasons(ns, "shop"); !slices.Equal(r, []string{ReasonMigrated, ReasonMigrationRemoved}) {
			return fmt.Errorf("events %v", r)
		}
		return nil
	})

	// "false" is not "true"; then annotate again and delete the Ingress.
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { i.Annotations[MigrateAnnotation] = "true" })
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 1 {
			return fmt.Errorf("%d routes", len(rs))
		}
		return nil
	})
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { i.Annotations[MigrateAnnotation] = "false" })
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 0 {
			return fmt.Errorf("%d routes left with migrate=false", len(rs))
		}
		return nil
	})
	updateObj(t, env, ing, func(i *networkingv1.Ingress) { i.Annotations[MigrateAnnotation] = "true" })
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 1 {
			return fmt.Errorf("%d routes", len(rs))
		}
		return nil
	})
	if err := env.Client.Delete(ctxT(t), ing); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		if rs := routesOf(t, env, ns, "shop"); len(rs) != 0 {
			return fmt.Errorf("%d routes left after deleting the Ingress", len(rs))
		}
		return nil
	})
}

// checkOnlyAnnotationOwned: gatebridge's field manager owns the report-hash annotation of
// the Ingress and nothing else.
func checkOnlyAnnotationOwned(t *testing.T, env *testenv.Env, ing *networkingv1.Ingress) {
	t.Helper()
	eventually(t, func() error {
		var live networkingv1.Ingress
		if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(ing), &live); err != nil {
			return err
		}
		for _, mf := range live.ManagedFields {
			if mf.Manager != FieldManager {
				continue
			}
			if mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
				return fmt.Errorf("gatebridge's entry %+v is not an apply", mf)
			}
			want := `{"f:metadata":{"f:annotations":{"f:` + ReportHashAnnotation + `":{},"f:` + StateAnnotation + `":{}}}}`
			if got := mf.FieldsV1.GetRawString(); got != want {
				return fmt.Errorf("gatebridge owns %s of the Ingress, want only %s", got, want)
			}
			return nil
		}
		return fmt.Errorf("no managedFields entry of %s on the Ingress", FieldManager)
	})
}

// TestNeighboursBrokenAndDependencies: in one namespace, two Ingresses share a TLS host and
// only one migrates; another TLS host does not migrate; a refused Ingress asks to migrate;
// an Ingress carries a placeholder alias. Only what the migrating ones need is written,
// the shared Gateway stays valid, and a change of a neighbour, a Service or the ConfigMap
// is carried into the written objects.
func TestNeighboursBrokenAndDependencies(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "neighbours")
	class := "nginx-neighbours"
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx-controller", Namespace: ns}, Data: map[string]string{"proxy-body-size": "2m"}}
	create(t, env, cm)
	h := startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}, ConfigMap: ns + "/ingress-nginx-controller"}})
	create(t, env, service(ns, "web"))
	create(t, env, service(ns, "api"))
	migrate := map[string]string{MigrateAnnotation: "true"}
	front := ingressSpec{name: "front", namespace: ns, class: class, host: "shared.neighbours.example.com", tls: true,
		annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/index.html"}}.build()
	api := ingressSpec{name: "api", namespace: ns, class: class, host: "shared.neighbours.example.com", tls: true, path: "/api",
		service: "api", port: intstr.FromString("http"), annotations: migrate}.build()
	other := ingressSpec{name: "other", namespace: ns, class: class, host: "other.neighbours.example.com", tls: true}.build()
	broken := ingressSpec{name: "broken", namespace: ns, class: class, host: "broken.neighbours.example.com",
		annotations: map[string]string{MigrateAnnotation: "true", "nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers \"X: y\";"}}.build()
	alias := ingressSpec{name: "alias", namespace: ns, class: class, host: "alias.neighbours.example.com", tls: true,
		annotations: map[string]string{MigrateAnnotation: "true", "nginx.ingress.kubernetes.io/server-alias": "registry.<your domain>"}}.build()
	for _, ing := range []*networkingv1.Ingress{front, api, other, broken, alias} {
		create(t, env, ing)
	}

	// The API server itself refuses a placeholder host: it never reaches the controller.
	placeholder := ingressSpec{name: "placeholder", namespace: ns, class: class, host: "registry.<your domain>", annotations: migrate}.build()
	if err := env.Client.Create(ctxT(t), placeholder); !apierrors.IsInvalid(err) {
		t.Errorf("creating an Ingress with host %q: %v, want Invalid", placeholder.Spec.Rules[0].Host, err)
	}

	eventually(t, func() error {
		rs := routesOf(t, env, ns, "api")
		if len(rs) != 2 { // the HTTPS route and the ssl-redirect route
			return fmt.Errorf("%d routes of api, want 2", len(rs))
		}
		if got := routePaths(rs[0]); !slices.Equal(got, []string{"(?i)^(?:/api).*"}) {
			return fmt.Errorf("api's paths %v: want the host's regex mode (front's rewrite-target)", got)
		}
		if port := rs[0].Spec.Rules[0].BackendRefs[0].Port; port == nil || *port != 80 {
			return fmt.Errorf("api's backend port %v, want 80 (named port http of Service api)", port)
		}
		if len(routesOf(t, env, ns, "alias")) != 2 {
			return fmt.Errorf("alias's routes not written yet")
		}
		return nil
	})
	for _, name := range []string{"front", "other", "broken"} {
		if rs := routesOf(t, env, ns, name); len(rs) != 0 {
			t.Errorf("Ingress %s does not migrate (or is refused) but has routes %v", name, rs)
		}
	}
	gw := getGateway(t, env)
	names := listenerNames(gw)
	for _, want := range []string{"http", "https-shared-neighbours-example-com", "https-alias-neighbours-example-com"} {
		if !slices.Contains(names, want) {
			t.Errorf("Gateway listeners %v lack %s", names, want)
		}
	}
	for _, l := range names {
		if strings.Contains(l, "other") || strings.Contains(l, "registry") || strings.Contains(l, "broken") {
			t.Errorf("Gateway listener %s is of an Ingress that does not migrate or of a placeholder", l)
		}
	}
	if pass := h.lastPass(); pass.Err != nil {
		t.Errorf("last pass failed: %v", pass.Err)
	}
	eventually(t, func() error {
		if r := h.events.Reasons(ns, "broken"); !slices.Equal(r, []string{ReasonMigrationRefused}) {
			return fmt.Errorf("broken's events %v, want [MigrationRefused]", r)
		}
		if r := h.events.Reasons(ns, "alias"); !slices.Equal(r, []string{ReasonMigrated}) {
			return fmt.Errorf("alias's events %v, want [Migrated]", r)
		}
		return nil
	})
	eventually(t, func() error {
		return eventNoteContains(t, env, ns, "broken", ReasonMigrationRefused, "configuration-snippet")
	})
	eventually(t, func() error { return eventNoteContains(t, env, ns, "alias", ReasonMigrated, "server-alias") })

	// A neighbour changes: front drops its rewrite-target, the host leaves regex mode.
	updateObj(t, env, front, func(i *networkingv1.Ingress) { delete(i.Annotations, "nginx.ingress.kubernetes.io/rewrite-target") })
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "api")
		if len(rs) == 0 || !slices.Equal(routePaths(rs[0]), []string{"/api"}) {
			return fmt.Errorf("api's routes %v, want the prefix /api", rs)
		}
		return nil
	})
	// A Service changes: the named port now means 8080.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: ns}}
	updateObj(t, env, svc, func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 })
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "api")
		if len(rs) == 0 || rs[0].Spec.Rules[0].BackendRefs[0].Port == nil || *rs[0].Spec.Rules[0].BackendRefs[0].Port != 8080 {
			return fmt.Errorf("api's backend port not 8080 yet")
		}
		return nil
	})
	// The ConfigMap changes: the defaults policy follows.
	policyBytes := func() (int64, error) {
		var tp gbv1.TrafficPolicy
		if err := env.Client.Get(ctxT(t), client.ObjectKey{Namespace: gatewayNS, Name: converters.DefaultsPolicyName}, &tp); err != nil {
			return 0, err
		}
		if tp.Spec.RequestBody == nil {
			return 0, fmt.Errorf("no requestBody")
		}
		return tp.Spec.RequestBody.MaxBytes, nil
	}
	eventually(t, func() error {
		if n, err := policyBytes(); err != nil || n != 2<<20 {
			return fmt.Errorf("maxBytes %d (%v), want 2 MiB", n, err)
		}
		return nil
	})
	updateObj(t, env, cm, func(c *corev1.ConfigMap) { c.Data["proxy-body-size"] = "8m" })
	eventually(t, func() error {
		if n, err := policyBytes(); err != nil || n != 8<<20 {
			return fmt.Errorf("maxBytes %d (%v), want 8 MiB", n, err)
		}
		return nil
	})
}

// eventNoteContains: an Event with reason on the Ingress, recorded through the API, says text.
func eventNoteContains(t *testing.T, env *testenv.Env, ns, ingress, reason, text string) error {
	var list eventsv1.EventList
	if err := env.Client.List(ctxT(t), &list, client.InNamespace(ns)); err != nil {
		return err
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Ingress" && e.Regarding.Name == ingress && e.Reason == reason {
			if e.ReportingController != EventReporter {
				return fmt.Errorf("event reported by %q", e.ReportingController)
			}
			if strings.Contains(e.Note, text) {
				return nil
			}
			notes = append(notes, e.Note)
		}
	}
	return fmt.Errorf("no %s event on Ingress %s/%s mentions %q (notes: %q)", reason, ns, ingress, text, notes)
}

// TestDropInIngressClass: Ingresses of an IngressClass whose controller is
// gatebridge.dev/ingress-controller migrate without the annotation.
func TestDropInIngressClass(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "dropin")
	own := "gatebridge-dropin"
	create(t, env, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: own}, Spec: networkingv1.IngressClassSpec{Controller: IngressControllerName}})
	h := startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: "nginx-dropin"}}})
	create(t, env, service(ns, "web"))
	native := ingressSpec{name: "native", namespace: ns, class: own, host: "native.dropin.example.com", path: "/app",
		annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}}.build()
	nginx := ingressSpec{name: "legacy", namespace: ns, class: "nginx-dropin", host: "legacy.dropin.example.com"}.build()
	create(t, env, native)
	create(t, env, nginx)
	eventually(t, func() error {
		rs := routesOf(t, env, ns, "native")
		if len(rs) != 1 {
			return fmt.Errorf("%d routes of the drop-in Ingress", len(rs))
		}
		f := rs[0].Spec.Rules[0].Filters
		if len(f) != 1 || f[0].URLRewrite == nil {
			return fmt.Errorf("the drop-in Ingress's rewrite-target is not converted: %+v", f)
		}
		return nil
	})
	if rs := routesOf(t, env, ns, "legacy"); len(rs) != 0 {
		t.Errorf("an nginx Ingress without the annotation got routes %v", rs)
	}
	eventually(t, func() error {
		if r := h.events.Reasons(ns, "native"); !slices.Equal(r, []string{ReasonMigrated}) {
			return fmt.Errorf("native's events %v", r)
		}
		if r := h.events.Reasons(ns, "legacy"); !slices.Equal(r, []string{ReasonAssessed}) {
			return fmt.Errorf("legacy's events %v", r)
		}
		return nil
	})
}

// TestEventsOncePerChangeAndRestartInSync: an Event is recorded when an Ingress's
// assessment changes, not on passes that change nothing for it; a restarted controller
// with everything in sync writes nothing and records nothing.
func TestEventsOncePerChangeAndRestartInSync(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "events")
	class := "nginx-events"
	opts := harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}}}
	h := startWriter(t, env, opts)
	create(t, env, service(ns, "web"))
	assessed := ingressSpec{name: "assessed", namespace: ns, class: class, host: "assessed.events.example.com", tls: true}.build()
	migrating := ingressSpec{name: "migrating", namespace: ns, class: class, host: "migrating.events.example.com", tls: true,
		annotations: map[string]string{MigrateAnnotation: "true", "nginx.ingress.kubernetes.io/proxy-body-size": "4m"}}.build()
	create(t, env, assessed)
	create(t, env, migrating)
	eventually(t, func() error {
		if len(routesOf(t, env, ns, "migrating")) != 2 {
			return fmt.Errorf("routes not written yet")
		}
		for _, ing := range []*networkingv1.Ingress{assessed, migrating} {
			var live networkingv1.Ingress
			if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(ing), &live); err != nil {
				return err
			}
			if live.Annotations[ReportHashAnnotation] == "" {
				return fmt.Errorf("%s has no report-hash yet", ing.Name)
			}
		}
		return nil
	})
	wantEvents := func(name string, want ...string) func() error {
		return func() error {
			if got := h.events.Reasons(ns, name); !slices.Equal(got, want) {
				return fmt.Errorf("events on %s: %v, want %v", name, got, want)
			}
			return nil
		}
	}
	eventually(t, wantEvents("assessed", ReasonAssessed))
	eventually(t, wantEvents("migrating", ReasonMigrated))

	// Passes that change nothing for these Ingresses: a Service is added and edited.
	before := h.passes.Load()
	writesBefore := len(h.writes.Writes())
	extra := service(ns, "unrelated")
	create(t, env, extra)
	updateObj(t, env, extra, func(s *corev1.Service) { s.Spec.Ports[0].Port = 81 })
	updateObj(t, env, extra, func(s *corev1.Service) { s.Spec.Ports[0].Port = 82 })
	h.waitSettled(before)
	eventually(t, wantEvents("assessed", ReasonAssessed))
	eventually(t, wantEvents("migrating", ReasonMigrated))
	if w := h.writes.Writes()[writesBefore:]; len(w) != 0 {
		t.Errorf("passes that change nothing wrote %v", w)
	}

	// The assessment changes: one more Event.
	updateObj(t, env, assessed, func(i *networkingv1.Ingress) {
		i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/limit-rps": "not-a-number"}
	})
	eventually(t, wantEvents("assessed", ReasonAssessed, ReasonAssessed))
	eventually(t, func() error { return eventNoteContains(t, env, ns, "assessed", ReasonAssessed, "limit-rps") })

	// Restart: everything is in sync, so nothing is written and no Event recorded.
	steady(t, time.Second, func() error { return nil }) // let the last pass's writes reach the API server
	h.stop()
	h2 := startWriter(t, env, opts)
	pass := h2.waitPasses(0, 1)
	if pass.Err != nil {
		t.Fatalf("first pass after the restart: %v", pass.Err)
	}
	if pass.Plan == nil || len(pass.Plan.Objects) == 0 {
		t.Fatalf("the first pass planned nothing")
	}
	steady(t, 2*time.Second, func() error {
		if w := h2.writes.Writes(); len(w) != 0 {
			return fmt.Errorf("the restarted controller wrote %v", w)
		}
		if n := h2.events.Total(); n != 0 {
			return fmt.Errorf("the restarted controller recorded %d Events", n)
		}
		return nil
	})
}

// TestForeignObjectsAreLeftAlone: an HTTPRoute a person wrote under the name gatebridge
// would use, and `gatebridge convert` output applied by hand (managed-by label, no
// applied-hash), are neither modified nor deleted; the Ingress is told why it failed.
func TestForeignObjectsAreLeftAlone(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "foreign")
	class := "nginx-foreign"
	create(t, env, service(ns, "web"))
	// What the controller would name the route of Ingress "taken" on its host.
	gwNS := gwv1.Namespace(gatewayNS)
	foreign := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "taken-taken-foreign-example-com", Namespace: ns},
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gatebridge", Namespace: &gwNS}}},
			Hostnames: []gwv1.Hostname{"hand.written.example.com"}}}
	create(t, env, foreign)
	exported := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "exported", Namespace: ns,
		Labels: map[string]string{converters.LabelManagedBy: converters.ManagedByValue, converters.LabelSourceIngress: "gone", converters.LabelSourceNamespace: ns}},
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gatebridge", Namespace: &gwNS}}}}}
	create(t, env, exported)
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(foreign), foreign); err != nil {
		t.Fatal(err)
	}
	rv := foreign.ResourceVersion

	h := startWriter(t, env, harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}}})
	create(t, env, ingressSpec{name: "taken", namespace: ns, class: class, host: "taken.foreign.example.com", tls: true,
		annotations: map[string]string{MigrateAnnotation: "true"}}.build())
	eventually(t, func() error {
		if r := h.events.Reasons(ns, "taken"); !slices.Equal(r, []string{ReasonMigrationFailed}) {
			return fmt.Errorf("events %v, want [MigrationFailed]", r)
		}
		return nil
	})
	eventually(t, func() error {
		return eventNoteContains(t, env, ns, "taken", ReasonMigrationFailed, "is not managed by gatebridge")
	})
	var live gwv1.HTTPRoute
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(foreign), &live); err != nil {
		t.Fatal(err)
	}
	if live.ResourceVersion != rv || live.Spec.Hostnames[0] != "hand.written.example.com" {
		t.Errorf("the hand-written HTTPRoute was modified: %+v", live)
	}
	if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(exported), &live); err != nil {
		t.Errorf("the exported HTTPRoute (managed-by label, not written by the controller) is gone: %v", err)
	}
	// A failed Ingress gets none of its objects: not its other route, not its listener.
	if rs := routesOf(t, env, ns, "taken"); len(rs) != 0 {
		t.Errorf("the failed Ingress has routes %v", rs)
	}
	if names := listenerNames(getGateway(t, env)); slices.Contains(names, "https-taken-foreign-example-com") {
		t.Errorf("the failed Ingress's listener is on the Gateway: %v", names)
	}
}

// TestOnlyTheLeaderWrites: with leader election, a second replica converts (its feed
// needs the conversion's legacy locations) but writes nothing while the first leads, and
// takes over when it stops.
func TestOnlyTheLeaderWrites(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t, "leader")
	class := "nginx-leader"
	opts := harnessOptions{writer: Options{Converter: converters.Options{IngressClass: class}}, leaderElection: true}
	create(t, env, service(ns, "web"))
	first := startWriter(t, env, opts)
	create(t, env, ingressSpec{name: "one", namespace: ns, class: class, host: "one.leader.example.com",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build())
	eventually(t, func() error {
		if len(routesOf(t, env, ns, "one")) != 1 {
			return fmt.Errorf("not written by the leader yet")
		}
		return nil
	})
	second := startWriter(t, env, opts)
	second.waitPasses(0, 1)
	steady(t, 2*time.Second, func() error {
		if w := second.writes.Writes(); len(w) != 0 {
			return fmt.Errorf("the follower wrote %v", w)
		}
		if n := second.events.Total(); n != 0 {
			return fmt.Errorf("the follower recorded %d Events", n)
		}
		return nil
	})
	if p := second.lastPass(); p.Plan == nil || len(p.Plan.Ingresses) == 0 || !p.Follower {
		t.Errorf("the follower's pass: follower %v, plan %v; want a conversion by a follower", p.Follower, p.Plan)
	}
	passesBefore := second.passes.Load()
	first.stop()
	create(t, env, ingressSpec{name: "two", namespace: ns, class: class, host: "two.leader.example.com",
		annotations: map[string]string{MigrateAnnotation: "true"}}.build())
	eventually(t, func() error {
		if len(routesOf(t, env, ns, "two")) != 1 {
			return fmt.Errorf("the new leader has not written Ingress two yet")
		}
		return nil
	})
	if second.passes.Load() == passesBefore || len(second.writes.Writes()) == 0 {
		t.Errorf("Ingress two was written, but not by the second replica")
	}
}
