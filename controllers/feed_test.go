package controllers

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// TestFeedModelFollowsChanges: the model the feed patches from one batch to the next
// (only the changed kinds' lists rebuilt, updates replaced in place) is the model built
// from scratch from the objects held, after updates, additions and deletions, and the
// lists of unchanged kinds are the previous model's.
func TestFeedModelFollowsChanges(t *testing.T) {
	m := bench.GenerateRoutes(40, 8080)
	f := NewFeed(nil, NewPlane(PlaneOptions{Log: logr.Discard()}), FeedOptions{}, logr.Discard())
	for _, o := range bench.Objects(m) {
		f.note(kindOf(o), o, false)
	}
	tlsSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cert", Namespace: "gatebridge-system"}, Type: corev1.SecretTypeTLS}
	f.note("Secret", tlsSecret, false)
	check := func(step string) *dataplane.Model {
		t.Helper()
		f.mu.Lock()
		defer f.mu.Unlock()
		got := f.snapshotLocked().Model
		want := fromScratch(f)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the patched model differs from the model built from scratch", step)
		}
		return got
	}
	before := check("first")
	if len(before.Secrets) != 0 {
		t.Errorf("a Secret no listener references is in the model")
	}
	r := bench.Route(7, "changed")
	f.note("HTTPRoute", r, false)
	after := check("a route updated")
	if !slices.Contains(after.HTTPRoutes, r) {
		t.Errorf("the updated route is not in the model")
	}
	if &after.Services[0] != &before.Services[0] || &after.EndpointSlices[0] != &before.EndpointSlices[0] {
		t.Errorf("the lists of unchanged kinds were rebuilt")
	}
	f.note("HTTPRoute", bench.Route(100, ""), false)
	check("a route added")
	f.note("HTTPRoute", m.HTTPRoutes[3], true)
	f.note("Service", m.Services[5], true)
	check("a route and a Service deleted")
	gw := m.Gateways[0].DeepCopy()
	gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType,
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}})
	f.note("Gateway", gw, false)
	if got := check("a Gateway referencing a Secret"); len(got.Secrets) != 1 || got.Secrets[0] != tlsSecret {
		t.Errorf("the referenced Secret is not in the model: %v", got.Secrets)
	}
	// A client CA named by a TrafficPolicy's frontendTLS (auth-tls-secret) is in the model too.
	caSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "client-ca", Namespace: "apps"}, Type: corev1.SecretTypeOpaque}
	f.note("Secret", caSecret, false)
	f.note("TrafficPolicy", &gbv1.TrafficPolicy{ObjectMeta: metav1.ObjectMeta{Name: "mtls", Namespace: "gatebridge-system"},
		Spec: gbv1.TrafficPolicySpec{FrontendTLS: &gbv1.FrontendTLSPolicy{ClientCertificate: &gbv1.ClientCertificatePolicy{
			CACertificateRef: gwv1.SecretObjectReference{Name: "client-ca", Namespace: ptrTo(gwv1.Namespace("apps"))}}}}}, false)
	if got := check("a TrafficPolicy referencing a client CA"); !slices.Contains(got.Secrets, caSecret) {
		t.Errorf("the client CA Secret is not in the model: %v", got.Secrets)
	}
	s := m.EndpointSlices[2].DeepCopy()
	s.ResourceVersion = "2"
	f.note("EndpointSlice", s, false)
	f.mu.Lock()
	change := f.snapshotLocked().Change
	f.dirty = map[string]bool{}
	f.mu.Unlock()
	if change.String() != "all" {
		// dirty still holds the earlier kinds: the change is "all" until a publish
		t.Fatalf("change %s", change)
	}
	f.note("EndpointSlice", s, false)
	f.mu.Lock()
	change = f.snapshotLocked().Change
	f.mu.Unlock()
	if change.String() != "endpoints" {
		t.Errorf("only an EndpointSlice changed: change %s, want endpoints", change)
	}
}

// fromScratch builds the model of the objects f holds, as the feed did before it kept
// its model between batches.
func fromScratch(f *Feed) *dataplane.Model {
	m := &dataplane.Model{}
	for _, k := range feedKinds {
		var objs []client.Object
		for _, o := range f.objects[k.name] {
			objs = append(objs, o)
		}
		slices.SortFunc(objs, func(a, b client.Object) int {
			return strings.Compare(fmt.Sprint(a.GetNamespace(), "\x00", a.GetName()), fmt.Sprint(b.GetNamespace(), "\x00", b.GetName()))
		})
		if k.name == "Secret" {
			used := referencedSecrets(m)
			objs = slices.DeleteFunc(objs, func(o client.Object) bool {
				return !used[client.ObjectKeyFromObject(o)]
			})
		}
		setKind(m, k.name, objs)
	}
	return m
}

// TestFeedSettle: an isolated change is published Debounce after it; a change right
// after a publish waits for MinInterval; a stream of changes is published MaxDelay after
// its first.
func TestFeedSettle(t *testing.T) {
	f := NewFeed(nil, NewPlane(PlaneOptions{Log: logr.Discard()}), FeedOptions{Debounce: 5 * time.Millisecond, MinInterval: 150 * time.Millisecond, MaxDelay: 400 * time.Millisecond}, logr.Discard())
	settle := func(lastPublish time.Time, during func()) time.Duration {
		t.Helper()
		f.lastPublish = lastPublish
		f.mu.Lock()
		f.firstChange = time.Now()
		f.mu.Unlock()
		began := time.Now()
		done := make(chan struct{})
		go func() { during(); close(done) }()
		if !f.settle(context.Background()) {
			t.Fatal("settle gave up")
		}
		settled := time.Since(began)
		<-done
		return settled
	}
	kick := func() {
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
	if d := settle(time.Time{}, func() {}); d >= 100*time.Millisecond {
		t.Errorf("an isolated change waited %s, want about the debounce (5ms)", d)
	}
	if d := settle(time.Now(), func() {}); d < 140*time.Millisecond {
		t.Errorf("a change right after a publish waited %s, want MinInterval (150ms)", d)
	}
	stream := func() {
		for range 300 {
			kick()
			time.Sleep(2 * time.Millisecond)
		}
	}
	// The stream lasts 600 ms or more: the batch is published within MaxDelay.
	if d := settle(time.Time{}, stream); d > 400*time.Millisecond+100*time.Millisecond {
		t.Errorf("a stream of changes waited %s, want at most MaxDelay (400ms)", d)
	}
}
