package install

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/controllers"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestInstallRBACIsEnough runs the controller as the kustomization's ServiceAccount, under
// the RBAC the kustomization installs (the API server authorizes with RBAC), with the flags
// of its Deployment and its serving half (xDS, auth service, status): it must take the
// Lease, read the ingress-nginx ConfigMap, migrate an annotated Ingress into owned Gateway
// API objects, write their status, annotate the Ingress and record an Event, and never be
// forbidden anything (its informers of Secrets, EndpointSlices and the rest included).
func TestInstallRBACIsEnough(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	applyInstall(t, env, kustomizeInstall(t))
	if t.Failed() {
		t.FailNow()
	}

	// The ingress-nginx the install sits next to: its class and ConfigMap.
	c := env.Client
	must(t, client.IgnoreAlreadyExists(c.Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}})))
	must(t, client.IgnoreAlreadyExists(c.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"}, Data: map[string]string{"proxy-body-size": "8m"}})))
	// An application with one Ingress, opted in.
	ns := env.Namespace(t, "shop")
	must(t, c.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "storefront"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}))
	prefix := networkingv1.PathTypePrefix
	class := "nginx"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "storefront", Annotations: map[string]string{controllers.MigrateAnnotation: "true"}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "storefront", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
			}}}},
		}}},
	}
	must(t, c.Create(ctx, ing))

	// The controller, as its ServiceAccount, with the Deployment's flags.
	in := kustomizeInstall(t)
	var opts controllers.ManagerOptions
	args := controllerArgs(t, in)
	opts.Writer.Converter.GatewayNamespace = flagValue(args, "--gateway-namespace")
	opts.Writer.Converter.GatewayName = flagValue(args, "--gateway-name")
	opts.Writer.Converter.GatewayClassName = flagValue(args, "--gateway-class")
	opts.Writer.Converter.IngressClass = flagValue(args, "--ingress-class")
	opts.Writer.ConfigMap = flagValue(args, "--configmap")
	opts.LeaderElection = true
	// The serving half too (xDS, auth service, status), on free loopback ports.
	opts.Serve.XDSAddress, opts.Serve.AuthzAddress = "127.0.0.1:0", "127.0.0.1:0"
	opts.MetricsAddress, opts.HealthAddress = "0", "0"
	opts.SkipControllerNameValidation = true
	var logs syncBuffer
	opts.Logger = logr.FromSlogHandler(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// client-go's informers report a forbidden list or watch through klog.
	klog.SetLogger(opts.Logger)
	defer klog.ClearLogger()

	cfg := rest.CopyConfig(env.Config)
	sa := "system:serviceaccount:" + in.namespace + ":gatebridge-controller"
	cfg.Impersonate = rest.ImpersonationConfig{UserName: sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + in.namespace, "system:authenticated"}}
	mgr, err := controllers.NewManager(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("the controller stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("the controller's log:\n%s", logs.String())
		}
	}()

	eventually(t, ctx, "the controller to take the Lease", func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: in.namespace, Name: "gatebridge-controller"}, &coordinationv1.Lease{})
	})
	eventually(t, ctx, "the migrated Ingress's HTTPRoute", func() error {
		var routes gwv1.HTTPRouteList
		if err := c.List(ctx, &routes, client.InNamespace(ns), client.MatchingLabels{converters.LabelSourceIngress: "storefront"}); err != nil {
			return err
		}
		if len(routes.Items) == 0 {
			return fmt.Errorf("no HTTPRoute labelled %s=storefront", converters.LabelSourceIngress)
		}
		return nil
	})
	eventually(t, ctx, "the shared Gateway", func() error {
		return c.Get(ctx, client.ObjectKey{Namespace: opts.Writer.Converter.GatewayNamespace, Name: opts.Writer.Converter.GatewayName}, &gwv1.Gateway{})
	})
	eventually(t, ctx, "the HTTPRoute's status", func() error {
		var routes gwv1.HTTPRouteList
		if err := c.List(ctx, &routes, client.InNamespace(ns), client.MatchingLabels{converters.LabelSourceIngress: "storefront"}); err != nil {
			return err
		}
		for _, r := range routes.Items {
			if len(r.Status.Parents) == 0 {
				return fmt.Errorf("HTTPRoute %s has no status", r.Name)
			}
		}
		return nil
	})
	eventually(t, ctx, "the Ingress's report annotation", func() error {
		var got networkingv1.Ingress
		if err := c.Get(ctx, client.ObjectKeyFromObject(ing), &got); err != nil {
			return err
		}
		if got.Annotations[controllers.ReportHashAnnotation] == "" {
			return fmt.Errorf("no %s annotation", controllers.ReportHashAnnotation)
		}
		return nil
	})
	eventually(t, ctx, "an Event on the Ingress", func() error {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == "storefront" && e.Regarding.Kind == "Ingress" {
				return nil
			}
		}
		return fmt.Errorf("%d Events, none on the Ingress", len(evs.Items))
	})
	if l := logs.String(); strings.Contains(l, "forbidden") {
		t.Errorf("the controller was forbidden something:\n%s", grepLines(l, "forbidden"))
	}

	// And the ServiceAccount may not do what the controller must not: write Secrets, update
	// or delete Ingresses, touch Leases outside its namespace.
	impersonated, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	denied := []struct {
		what string
		do   func() error
	}{
		{"create a Secret", func() error {
			return impersonated.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stolen"}})
		}},
		{"delete an Ingress", func() error { return impersonated.Delete(ctx, ing.DeepCopy()) }},
		{"update an Ingress", func() error {
			var got networkingv1.Ingress
			if err := impersonated.Get(ctx, client.ObjectKeyFromObject(ing), &got); err != nil {
				return err
			}
			return impersonated.Update(ctx, &got)
		}},
		{"create a Lease in another namespace", func() error {
			return impersonated.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatebridge-controller"}})
		}},
		// ConfigMaps are readable everywhere (the CA certificates BackendTLSPolicies name),
		// never writable.
		{"write a ConfigMap", func() error {
			return impersonated.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "planted"}})
		}},
	}
	for _, d := range denied {
		if err := d.do(); !apierrors.IsForbidden(err) {
			t.Errorf("the controller's ServiceAccount may %s: err = %v, want forbidden", d.what, err)
		}
	}
}

// controllerArgs are the controller container's args of in.
func controllerArgs(t *testing.T, in install) []string {
	t.Helper()
	for _, o := range in.ofKind("Deployment") {
		if strings.HasSuffix(o.GetName(), "-controller") {
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			for _, c := range containers {
				m, _ := c.(map[string]any)
				if m["name"] != "controller" {
					continue
				}
				var args []string
				for _, a := range m["args"].([]any) {
					args = append(args, a.(string))
				}
				return args
			}
		}
	}
	t.Fatalf("%s: no controller container", in.name)
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, ctx context.Context, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// syncBuffer is a bytes.Buffer safe for the controller's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
