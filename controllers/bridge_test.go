package controllers

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
)

func TestParseFallback(t *testing.T) {
	for _, c := range []struct {
		in   string
		want fallbackRef
		err  string
	}{
		{"ingress-nginx/ingress-nginx-controller", fallbackRef{Service: types.NamespacedName{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}}, ""},
		{"ingress-nginx/ingress-nginx-controller:8080", fallbackRef{Service: types.NamespacedName{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, Port: "8080"}, ""},
		{"ingress-nginx/ingress-nginx-controller:http", fallbackRef{Service: types.NamespacedName{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, Port: "http"}, ""},
		{"10.0.0.1:80", fallbackRef{Address: "10.0.0.1:80"}, ""},
		{"nginx.internal:8443", fallbackRef{Address: "nginx.internal:8443"}, ""},
		{"[::1]:80", fallbackRef{Address: "[::1]:80"}, ""},
		{"ingress-nginx", fallbackRef{}, "want namespace/name[:port]"},
		{"Bad_NS/svc", fallbackRef{}, "not a namespace name"},
		{"ns/Svc", fallbackRef{}, "not a Service name"},
		{"ns/svc:0", fallbackRef{}, "neither a number"},
		{"ns/svc:not_a_name", fallbackRef{}, "neither a number"},
		{"host:http", fallbackRef{}, "not a number"},
		{":80", fallbackRef{}, "want namespace/name[:port]"},
	} {
		got, err := parseFallback("--fallback", c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err == "" && got != c.want:
			t.Errorf("%q: %+v, want %+v", c.in, got, c.want)
		}
	}
	if err := (Options{FallbackTLS: "10.0.0.1:443"}).CheckFallback(); err == nil || !strings.Contains(err.Error(), "needs --fallback") {
		t.Errorf("--fallback-tls alone: %v", err)
	}
}

func TestBridgeModelResolvesServicePorts(t *testing.T) {
	nginx := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "controller"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "web", Port: 8080}, {Name: "http", Port: 81}, {Name: "https", Port: 8443},
	}}}
	plain := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "plain"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	lookup := func(k types.NamespacedName) *corev1.Service {
		for _, s := range []*corev1.Service{nginx, plain} {
			if s.Namespace == k.Namespace && s.Name == k.Name {
				return s
			}
		}
		return nil
	}
	svc := func(name string, port int32) *dataplane.FallbackTarget {
		return &dataplane.FallbackTarget{ServiceNamespace: "ingress-nginx", ServiceName: name, Port: port}
	}
	for _, c := range []struct {
		fallback, tls string
		http          dataplane.FallbackTarget
		wantTLS       *dataplane.FallbackTarget
	}{
		// No 80: the port named http; TLS: the port named https.
		{"ingress-nginx/controller", "", *svc("controller", 81), svc("controller", 8443)},
		{"ingress-nginx/controller:web", "", *svc("controller", 8080), svc("controller", 8443)},
		{"ingress-nginx/controller:9000", "ingress-nginx/controller:web", *svc("controller", 9000), svc("controller", 8080)},
		// A Service without a TLS port: no TLS fallback.
		{"ingress-nginx/plain", "", *svc("plain", 80), nil},
		// Not there yet: the defaults, found once it exists.
		{"ingress-nginx/later", "", *svc("later", 80), nil},
		{"ingress-nginx/later", "ingress-nginx/later", *svc("later", 80), svc("later", 443)},
		{"127.0.0.1:8080", "127.0.0.1:8443", dataplane.FallbackTarget{Address: "127.0.0.1:8080"}, &dataplane.FallbackTarget{Address: "127.0.0.1:8443"}},
		{"127.0.0.1:8080", "", dataplane.FallbackTarget{Address: "127.0.0.1:8080"}, nil},
	} {
		b, err := Options{Fallback: c.fallback, FallbackTLS: c.tls}.bridge()
		if err != nil {
			t.Fatal(err)
		}
		m := b.model(lookup)
		if m.GatewayNamespace != "gatebridge-system" || m.GatewayName != "gatebridge" {
			t.Errorf("%s: bridged Gateway %s/%s", c.fallback, m.GatewayNamespace, m.GatewayName)
		}
		if m.HTTP != c.http {
			t.Errorf("%s: HTTP %+v, want %+v", c.fallback, m.HTTP, c.http)
		}
		if (m.TLS == nil) != (c.wantTLS == nil) || m.TLS != nil && *m.TLS != *c.wantTLS {
			t.Errorf("%s %s: TLS %+v, want %+v", c.fallback, c.tls, m.TLS, c.wantTLS)
		}
	}
}

func TestWeights(t *testing.T) {
	for state, want := range map[string]int{"native": 100, "migrating 25%": 25, "migrating 0%": 0} {
		if n, ok := converters.WeightFromState(state); !ok || n != want {
			t.Errorf("converters.WeightFromState(%q) = %d, %v; want %d", state, n, ok, want)
		}
	}
	for _, state := range []string{"observed", "refused", "failed", "", "migrating x%"} {
		if _, ok := converters.WeightFromState(state); ok {
			t.Errorf("converters.WeightFromState(%q) says a weight", state)
		}
	}

	// A restarted writer keeps the weight its annotation says; a valid weight is
	// remembered, an invalid one is not, and a gone Ingress is forgotten.
	ing := func(name string, ann map[string]string) networkingv1.Ingress {
		return networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann}}
	}
	weights := map[string]int{"ns/known": 40}
	seedWeights(weights, []networkingv1.Ingress{
		ing("known", map[string]string{StateAnnotation: "migrating 10%"}),
		ing("restarted", map[string]string{StateAnnotation: "migrating 30%"}),
		ing("observed", map[string]string{StateAnnotation: "observed"}),
	})
	if weights["ns/known"] != 40 || weights["ns/restarted"] != 30 || len(weights) != 2 {
		t.Fatalf("seeded %v", weights)
	}
	plan := func(name string, ann map[string]string, m converters.Migration) *IngressPlan {
		i := ing(name, ann)
		return &IngressPlan{Ingress: &i, Requested: true, State: StateMigrated, Report: converters.IngressReport{Namespace: "ns", Name: name, Verdict: converters.VerdictExact, Migration: &m}}
	}
	p := &Plan{Ingresses: []*IngressPlan{
		plan("known", map[string]string{gbv1.WeightAnnotation: "50"}, converters.Migration{State: converters.MigrationMigrating, Weight: 50}),
		plan("restarted", map[string]string{gbv1.WeightAnnotation: "half"}, converters.Migration{State: converters.MigrationMigrating, Weight: 30}),
	}}
	rememberWeights(weights, p)
	if weights["ns/known"] != 50 || weights["ns/restarted"] != 30 || len(weights) != 2 {
		t.Errorf("remembered %v", weights)
	}
	if v, bad := invalidWeight(p.Ingresses[1]); !bad || v != "half" {
		t.Errorf("invalidWeight: %q %v", v, bad)
	}
	e := invalidWeightEvent("half", *p.Ingresses[1].Report.Migration)
	for _, want := range []string{gbv1.WeightAnnotation, `"half"`, "stays 30%", "migrating 30%"} {
		if !strings.Contains(e.Note, want) || e.Type != corev1.EventTypeWarning {
			t.Errorf("invalid weight Event %+v does not say %q", e, want)
		}
	}
	rememberWeights(weights, &Plan{Ingresses: p.Ingresses[:1]})
	if _, ok := weights["ns/restarted"]; ok {
		t.Errorf("a gone Ingress's weight is remembered: %v", weights)
	}
}

func TestStateValue(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	mig := func(s converters.MigrationState, w int) *converters.Migration {
		return &converters.Migration{State: s, Weight: w}
	}
	for _, c := range []struct {
		state     MigrationState
		verdict   converters.Verdict
		migration *converters.Migration
		want      string
	}{
		{StateOff, converters.VerdictExact, mig(converters.MigrationObserved, 0), "observed"},
		{StateMigrated, converters.VerdictExact, mig(converters.MigrationMigrating, 25), "migrating 25%"},
		{StateMigrated, converters.VerdictExact, mig(converters.MigrationNative, 100), "native"},
		{StateRefused, converters.VerdictRefused, mig(converters.MigrationRefused, 0), "refused"},
		// The writer knows more than the converter: a hostname the API server rejects, an
		// object it could not write.
		{StateRefused, converters.VerdictExact, mig(converters.MigrationNative, 100), "refused"},
		{StateFailed, converters.VerdictExact, mig(converters.MigrationMigrating, 25), "failed"},
		// Without a bridge: from the writer's state.
		{StateOff, converters.VerdictExact, nil, "observed"},
		{StateMigrated, converters.VerdictApproximate, nil, "native"},
		{StateOff, converters.VerdictSkipped, nil, ""},
	} {
		ip := &IngressPlan{Ingress: ing, State: c.state, Report: converters.IngressReport{Verdict: c.verdict, Migration: c.migration}}
		if got := stateValue(ip); got != c.want {
			t.Errorf("%s %s %v: state %q, want %q", c.state, c.verdict, c.migration, got, c.want)
		}
	}
}

func TestLiveMigrations(t *testing.T) {
	ing := func(name string, ann map[string]string) networkingv1.Ingress {
		return networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: ann}}
	}
	ings := []networkingv1.Ingress{
		ing("migrating", map[string]string{StateAnnotation: "migrating 25%", gbv1.StickyAnnotation: "true"}),
		ing("failed", map[string]string{StateAnnotation: "failed"}),
		ing("native", map[string]string{StateAnnotation: "native"}),
		ing("none", nil),
		ing("garbled", map[string]string{StateAnnotation: "half-way"}),
	}
	r := converters.Report{}
	for _, i := range ings {
		r.Ingresses = append(r.Ingresses, converters.IngressReport{Namespace: "ns", Name: i.Name, Verdict: converters.VerdictExact})
	}
	converters.LiveMigrations(ings, &r)
	want := map[string]*converters.Migration{
		"migrating": {State: converters.MigrationMigrating, Weight: 25, Sticky: true},
		"failed":    {State: MigrationFailed},
		"native":    {State: converters.MigrationNative, Weight: 100},
		"none":      nil,
		"garbled":   nil,
	}
	for _, rep := range r.Ingresses {
		w := want[rep.Name]
		if (w == nil) != (rep.Migration == nil) || w != nil && *w != *rep.Migration {
			t.Errorf("%s: %+v, want %+v", rep.Name, rep.Migration, w)
		}
	}
}

// TestFeedCarriesTheBridge: with a fallback, every model carries the Bridge (its Service
// port resolved against the Services the feed holds, again when the Service changes) and
// the legacy locations the writer handed over; the same locations again make no batch.
func TestFeedCarriesTheBridge(t *testing.T) {
	f := NewFeed(nil, NewPlane(PlaneOptions{Log: logr.Discard()}), FeedOptions{}, logr.Discard())
	b, err := Options{Fallback: "ingress-nginx/controller"}.bridge()
	if err != nil {
		t.Fatal(err)
	}
	f.setBridge(b)
	select {
	case <-f.legacyReady:
		t.Fatal("legacy locations are ready before the writer handed any over")
	default:
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "controller"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}, {Name: "https", Port: 8443}}}}
	f.note("Service", svc, false)
	locs := []dataplane.RefusedLocation{{GatewayNamespace: "gatebridge-system", GatewayName: "gatebridge", Host: "a.example.com", Source: "ns/a", Reason: converters.NotMigratedReason}}
	f.SetLegacyLocations(locs)
	select {
	case <-f.legacyReady:
	default:
		t.Fatal("legacy locations handed over, but not ready")
	}
	snapshot := func() *dataplane.Model {
		f.mu.Lock()
		defer f.mu.Unlock()
		m := f.snapshotLocked().Model
		f.dirty = map[string]bool{}
		return m
	}
	m := snapshot()
	if !reflect.DeepEqual(m.RefusedLocations, locs) {
		t.Errorf("model RefusedLocations %v, want %v", m.RefusedLocations, locs)
	}
	if m.Bridge == nil || m.Bridge.HTTP.Port != 8080 || m.Bridge.TLS == nil || m.Bridge.TLS.Port != 8443 {
		t.Fatalf("model Bridge %+v, want http 8080 and TLS 8443 of ingress-nginx/controller", m.Bridge)
	}
	f.SetLegacyLocations(slices.Clone(locs))
	f.mu.Lock()
	dirty := len(f.dirty)
	f.mu.Unlock()
	if dirty != 0 {
		t.Errorf("the same legacy locations again started a batch")
	}
	svc = svc.DeepCopy()
	svc.Spec.Ports = []corev1.ServicePort{{Name: "web", Port: 80}}
	f.note("Service", svc, false)
	if m := snapshot(); m.Bridge.HTTP.Port != 80 || m.Bridge.TLS != nil {
		t.Errorf("after the Service changed: Bridge %+v, want port 80 and no TLS", m.Bridge)
	}
}
