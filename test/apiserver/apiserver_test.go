package apiserver

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// repoRoot is the repository's root directory, for the inputs the tests read.
var repoRoot string

const opTimeout = 30 * time.Second

// TestMain starts the one envtest environment every test in this package shares (the real
// kube-apiserver and etcd with the Gateway API v1.6.3 standard CRDs and manifests/crds;
// internal/testenv decides when it may skip: -short, or no binaries outside CI).
func TestMain(m *testing.M) {
	flag.Parse()
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/apiserver: %v\n", err)
		os.Exit(1)
	}
	repoRoot = root
	os.Exit(testenv.Run(m, testenv.Options{Name: "test/apiserver"}))
}

// requireAPIServer returns the shared environment's client, or skips the test with the
// reason the environment was not started.
func requireAPIServer(t *testing.T) client.Client {
	t.Helper()
	return testenv.Get(t).Client
}

func describe(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	if u.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", gvk.Kind, u.GetName())
	}
	return fmt.Sprintf("%s %s/%s", gvk.Kind, u.GetNamespace(), u.GetName())
}

// ensureNamespace creates the namespace unless it already exists. Namespaces
// are never deleted: envtest runs no namespace controller, so a deleted
// namespace would stay Terminating and block later files.
func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// deleteAll deletes the objects in reverse order, ignoring NotFound.
func deleteAll(t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for i := len(objs) - 1; i >= 0; i-- {
		if err := c.Delete(ctx, objs[i]); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleaning up %s: %v", describe(objs[i]), err)
		}
	}
}

// httpRoute returns an HTTPRoute in the default namespace with one
// PathPrefix match on path.
func httpRoute(name, path string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata": map[string]any{
			"name":      name,
			"namespace": metav1.NamespaceDefault,
		},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gatebridge-test"}},
			"hostnames":  []any{"example.com"},
			"rules": []any{map[string]any{
				"matches": []any{map[string]any{
					"path": map[string]any{"type": "PathPrefix", "value": path},
				}},
				"backendRefs": []any{map[string]any{"name": "backend", "port": int64(8080)}},
			}},
		},
	}}
}

// TestAPIServerRejectsInvalidHTTPRoute proves that the Gateway API CRDs and
// their validation rules (CEL) are live in the test API server.
func TestAPIServerRejectsInvalidHTTPRoute(t *testing.T) {
	c := requireAPIServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	valid := httpRoute("gatebridge-valid", "/api")
	invalid := httpRoute("gatebridge-invalid", "api")
	t.Cleanup(func() { deleteAll(t, c, []*unstructured.Unstructured{valid, invalid}) })

	if err := c.Create(ctx, valid); err != nil {
		t.Fatalf("API server rejected the valid %s: %v", describe(valid), err)
	}
	t.Logf("accepted %s", describe(valid))

	err := c.Create(ctx, invalid)
	switch {
	case err == nil:
		t.Fatalf("API server accepted %s whose path %q has no leading \"/\"; the Gateway API validation rules are not enforced", describe(invalid), "api")
	case !apierrors.IsInvalid(err):
		t.Fatalf("creating %s: want an Invalid error, got %v", describe(invalid), err)
	default:
		t.Logf("rejected %s as expected: %v", describe(invalid), err)
	}
}
