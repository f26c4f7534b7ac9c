package controllers

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testenv.Run(m, testenv.Options{Name: "controllers"}))
}

const (
	waitTimeout = 30 * time.Second
	gatewayNS   = "gatebridge-system"
)

// countingClient counts the writes the writer makes.
type countingClient struct {
	client.Client
	mu     sync.Mutex
	writes []string
}

func (c *countingClient) record(op string, obj any) {
	desc := op
	if m, err := meta.Accessor(obj); err == nil {
		desc = fmt.Sprintf("%s %s/%s", op, m.GetNamespace(), m.GetName())
	}
	if k, ok := obj.(interface{ GetKind() string }); ok {
		desc += " (" + k.GetKind() + ")"
	}
	c.mu.Lock()
	c.writes = append(c.writes, desc)
	c.mu.Unlock()
}

// Writes returns the writes so far.
func (c *countingClient) Writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.record("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.record("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.record("patch", obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *countingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	c.record("apply", obj)
	return c.Client.Apply(ctx, obj, opts...)
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.record("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *countingClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	c.record("deleteAllOf", obj)
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

// countingRecorder counts the Events recorded per regarding object ("namespace/name").
type countingRecorder struct {
	next     events.EventRecorder
	mu       sync.Mutex
	byObject map[string][]string
}

func (r *countingRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if m, err := meta.Accessor(regarding); err == nil {
		r.mu.Lock()
		k := m.GetNamespace() + "/" + m.GetName()
		r.byObject[k] = append(r.byObject[k], reason)
		r.mu.Unlock()
	}
	r.next.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

// Reasons returns the reasons of the Events recorded on the Ingress namespace/name.
func (r *countingRecorder) Reasons(namespace, name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.byObject[namespace+"/"+name]...)
}

func (r *countingRecorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.byObject {
		n += len(v)
	}
	return n
}

// harness is a writer running in-process against the shared API server.
type harness struct {
	t        *testing.T
	env      *testenv.Env
	writes   *countingClient
	events   *countingRecorder
	passes   atomic.Int64
	mu       sync.Mutex
	last     PassResult
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	// xds is the serving half's xDS address (harnessOptions.serve).
	xds string
}

type harnessOptions struct {
	writer         Options
	leaderElection bool
	// serve runs the serving half too, its xDS server at harness.xds.
	serve bool
}

// startWriter starts a manager with the writer; it stops when the test ends.
func startWriter(t *testing.T, env *testenv.Env, o harnessOptions) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, done: make(chan error, 1)}
	o.writer.WrapClient = func(c client.Client) client.Client {
		h.writes = &countingClient{Client: c}
		return h.writes
	}
	o.writer.WrapRecorder = func(r events.EventRecorder) events.EventRecorder {
		h.events = &countingRecorder{next: r, byObject: map[string][]string{}}
		return h.events
	}
	o.writer.Observe = func(r PassResult) {
		h.mu.Lock()
		h.last = r
		h.mu.Unlock()
		h.passes.Add(1)
	}
	mo := ManagerOptions{Writer: o.writer, SkipControllerNameValidation: true, LeaderElection: o.leaderElection}
	if o.serve {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.xds = lis.Addr().String()
		lis.Close()
		mo.Serve = ServeOptions{XDSAddress: h.xds, Feed: FeedOptions{Debounce: 10 * time.Millisecond}}
	}
	if o.leaderElection {
		mo.LeaseDuration, mo.RenewDeadline, mo.RetryPeriod = 4*time.Second, 3*time.Second, 300*time.Millisecond
	}
	mgr, err := NewManager(env.Config, mo)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, runCancel := context.WithCancel(context.Background())
	h.cancel = runCancel
	go func() { h.done <- mgr.Start(runCtx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.stopOnce.Do(func() {
		h.cancel()
		select {
		case err := <-h.done:
			if err != nil {
				h.t.Errorf("manager: %v", err)
			}
		case <-time.After(waitTimeout):
			h.t.Errorf("the manager did not stop within %s", waitTimeout)
		}
	})
}

func (h *harness) lastPass() PassResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// waitPasses waits until n more passes than before have run, and returns the last one.
func (h *harness) waitPasses(before int64, n int64) PassResult {
	h.t.Helper()
	eventually(h.t, func() error {
		if got := h.passes.Load(); got < before+n {
			return fmt.Errorf("%d passes, want %d", got, before+n)
		}
		return nil
	})
	return h.lastPass()
}

// waitSettled waits until a pass has run after before and then none for a second: the
// writer has seen every change made until now. Changes close together may be taken by one
// pass (the queue merges them), so counting passes per change is a race.
func (h *harness) waitSettled(before int64) PassResult {
	h.t.Helper()
	h.waitPasses(before, 1)
	deadline := time.Now().Add(waitTimeout)
	for n := h.passes.Load(); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now := h.passes.Load()
		if now == n {
			return h.lastPass()
		}
		n = now
	}
	h.t.Fatalf("the writer did not settle within %s", waitTimeout)
	return PassResult{}
}

// eventually polls check until it returns nil or the time is up.
func eventually(t *testing.T, check func() error) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %s: %v", waitTimeout, err)
}

// steady asserts that check holds for the whole of d (used for "nothing happens").
func steady(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := check(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// ingressSpec is a small builder for the Ingresses of the tests.
type ingressSpec struct {
	name, namespace, class, host, path, service string
	port                                        intstr.IntOrString
	tls                                         bool
	annotations                                 map[string]string
}

func (s ingressSpec) build() *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	path := s.path
	if path == "" {
		path = "/"
	}
	svc := s.service
	if svc == "" {
		svc = "web"
	}
	port := networkingv1.ServiceBackendPort{Number: 80}
	if s.port.Type == intstr.String {
		port = networkingv1.ServiceBackendPort{Name: s.port.StrVal}
	} else if s.port.IntVal != 0 {
		port = networkingv1.ServiceBackendPort{Number: s.port.IntVal}
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace, Annotations: s.annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &s.class,
			Rules: []networkingv1.IngressRule{{Host: s.host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: svc, Port: port}}}},
			}}}},
		},
	}
	if s.tls {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{s.host}, SecretName: strings.SplitN(s.host, ".", 2)[0] + "-tls"}}
	}
	return ing
}

// create creates obj and deletes it when the test ends.
func create(t *testing.T, env *testenv.Env, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(ctxT(t), obj); err != nil {
		t.Fatalf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
	t.Cleanup(func() {
		if err := env.Client.Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s/%s: %v", obj.GetNamespace(), obj.GetName(), err)
		}
	})
}

func service(namespace, name string, ports ...corev1.ServicePort) *corev1.Service {
	if len(ports) == 0 {
		ports = []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}
	}
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Spec: corev1.ServiceSpec{Ports: ports}}
}

// updateObj reads the object, changes it with mutate and writes it, retrying on conflicts.
func updateObj[T client.Object](t *testing.T, env *testenv.Env, obj T, mutate func(T)) {
	t.Helper()
	eventually(t, func() error {
		if err := env.Client.Get(ctxT(t), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate(obj)
		return env.Client.Update(ctxT(t), obj)
	})
}

// routesOf lists the HTTPRoutes of namespace that name the Ingress as their source.
func routesOf(t *testing.T, env *testenv.Env, namespace, ingress string) []gwv1.HTTPRoute {
	t.Helper()
	var list gwv1.HTTPRouteList
	if err := env.Client.List(ctxT(t), &list, client.InNamespace(namespace), client.MatchingLabels{converters.LabelSourceIngress: ingress}); err != nil {
		t.Fatal(err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

func getGateway(t *testing.T, env *testenv.Env) *gwv1.Gateway {
	t.Helper()
	var gw gwv1.Gateway
	if err := env.Client.Get(ctxT(t), client.ObjectKey{Namespace: gatewayNS, Name: "gatebridge"}, &gw); err != nil {
		t.Fatalf("reading the shared Gateway: %v", err)
	}
	return &gw
}

func listenerNames(gw *gwv1.Gateway) []string {
	var out []string
	for _, l := range gw.Spec.Listeners {
		out = append(out, string(l.Name))
	}
	return out
}

func routePaths(r gwv1.HTTPRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		for _, m := range rule.Matches {
			if m.Path != nil && m.Path.Value != nil {
				out = append(out, *m.Path.Value)
			}
		}
	}
	return out
}
