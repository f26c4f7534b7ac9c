package testenv

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(Run(m, Options{Name: "internal/testenv"}))
}

// TestCRDsAreServed: the kinds gatebridge writes are served in the versions it writes —
// the Gateway API standard channel (ListenerSet and TLSRoute are v1 there) and ours.
func TestCRDsAreServed(t *testing.T) {
	env := Get(t)
	kinds := []schema.GroupVersionKind{
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GatewayClass"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ListenerSet"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "TLSRoute"},
		{Group: "gateway.networking.k8s.io", Version: "v1beta1", Kind: "ReferenceGrant"},
		{Group: "gatebridge.dev", Version: "v1alpha1", Kind: "TrafficPolicy"},
		{Group: "gatebridge.dev", Version: "v1alpha1", Kind: "RouteFilter"},
	}
	for _, gvk := range kinds {
		if _, err := env.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			t.Errorf("%s is not served: %v", gvk, err)
		}
	}
}

// TestNamespaceAndKubeconfig: namespaces are unique, and the kubeconfig file reaches the
// same API server.
func TestNamespaceAndKubeconfig(t *testing.T) {
	env := Get(t)
	a, b := env.Namespace(t, "same"), env.Namespace(t, "same")
	if a == b {
		t.Fatalf("two namespaces with one name %q", a)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", env.KubeconfigFile(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.EnsureNamespace(ctx, a); err != nil {
		t.Fatalf("EnsureNamespace of an existing namespace: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: a}, &corev1.Namespace{}); err != nil {
		if apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s not found through the kubeconfig: another API server?", a)
		}
		t.Fatal(err)
	}
}
