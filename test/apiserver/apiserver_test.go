package apiserver

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The one envtest environment shared by every test in this package.
var (
	// k8sClient is nil when the environment was not started (-short, or no
	// binaries outside CI); skipReason then says why.
	k8sClient  client.Client
	skipReason string
	repoRoot   string
	// kubeconfig is the environment's kubeconfig file, for code that reads a cluster the
	// way users point it at one (gatebridge report --kubeconfig).
	kubeconfig []byte
)

const opTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		skipReason = "skipping kube-apiserver tests in -short mode"
		return m.Run()
	}
	onCI := os.Getenv("CI") == "true"

	root, err := findRepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/apiserver: %v\n", err)
		return 1
	}
	repoRoot = root

	assets, err := envtestAssets(root)
	if err != nil {
		if onCI {
			fmt.Fprintf(os.Stderr, "test/apiserver: FAIL: CI=true and the envtest binaries (kube-apiserver, etcd) could not be obtained: %v\n", err)
			return 1
		}
		skipReason = fmt.Sprintf("envtest binaries could not be obtained (set KUBEBUILDER_ASSETS or run hack/envtest.sh): %v", err)
		fmt.Fprintf(os.Stderr, "test/apiserver: %s\n", skipReason)
		return m.Run()
	}

	crdDirs, err := crdDirectories(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/apiserver: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "test/apiserver: envtest assets %s, CRD dirs %v\n", assets, crdDirs)

	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdDirs,
		ErrorIfCRDPathMissing: true,
	}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/apiserver: FAIL: starting envtest (kube-apiserver + etcd from %s): %v\n", assets, err)
		if stopErr := env.Stop(); stopErr != nil {
			fmt.Fprintf(os.Stderr, "test/apiserver: stopping envtest after failed start: %v\n", stopErr)
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "test/apiserver: envtest started in %s\n", time.Since(start).Round(time.Millisecond))

	code := func() int {
		c, err := client.New(cfg, client.Options{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "test/apiserver: FAIL: creating client: %v\n", err)
			return 1
		}
		k8sClient = c
		kubeconfig = env.KubeConfig
		return m.Run()
	}()

	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "test/apiserver: stopping envtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// requireAPIServer skips the test when the shared environment is not running.
func requireAPIServer(t *testing.T) client.Client {
	t.Helper()
	if k8sClient == nil {
		t.Skip(skipReason)
	}
	return k8sClient
}

// findRepoRoot walks up from the working directory to the directory holding go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found in the working directory or any parent")
		}
		dir = parent
	}
}

// envtestAssets returns the directory with kube-apiserver and etcd: from
// KUBEBUILDER_ASSETS, else from running hack/envtest.sh (which builds them on
// a fresh machine, ~10 min cold, and is instant once cached).
func envtestAssets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if err := checkAssets(dir); err != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS=%s: %w", dir, err)
		}
		return dir, nil
	}
	script := filepath.Join(root, "hack", "envtest.sh")
	fmt.Fprintf(os.Stderr, "test/apiserver: KUBEBUILDER_ASSETS is unset; running %s (a cold build takes ~10 min; use -timeout 30m)\n", script)
	var stdout bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("running %s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", fmt.Errorf("%s printed no directory", script)
	}
	if err := checkAssets(dir); err != nil {
		return "", fmt.Errorf("%s printed %s: %w", script, dir, err)
	}
	return dir, nil
}

func checkAssets(dir string) error {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("missing %s: %w", name, err)
		}
	}
	return nil
}

// crdDirectories returns the Gateway API standard-channel CRD directory and,
// if it exists and holds YAML, the repo's manifests/crds directory: the CRDs
// package validation embeds. The experimental channel is not needed: in v1.6.3
// ListenerSet and TLSRoute are standard (v1), and TestEverythingConvertEmitsIsAccepted
// creates every object with strict field validation, so a field only the
// experimental CRDs define would be refused as unknown.
func crdDirectories(root string) ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating sigs.k8s.io/gateway-api with go list: %w", err)
	}
	gwDir := strings.TrimSpace(string(out))
	if gwDir == "" {
		return nil, errors.New("go list printed no directory for sigs.k8s.io/gateway-api (module not downloaded?)")
	}
	dirs := []string{filepath.Join(gwDir, "config", "crd", "standard")}

	own := filepath.Join(root, "manifests", "crds")
	var yamls []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(own, pattern))
		if err != nil {
			return nil, fmt.Errorf("globbing %s: %w", own, err)
		}
		yamls = append(yamls, m...)
	}
	if len(yamls) > 0 {
		dirs = append(dirs, own)
	} else {
		fmt.Fprintf(os.Stderr, "test/apiserver: no CRDs under %s; installing only the Gateway API CRDs\n", own)
	}
	return dirs, nil
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
