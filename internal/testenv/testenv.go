package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// Channel is a Gateway API release channel.
type Channel string

// The Gateway API channels; the standard one is what gatebridge emits and installs.
const (
	Standard     Channel = "standard"
	Experimental Channel = "experimental"
)

// Options say which environment to start.
type Options struct {
	// Name prefixes the environment's log lines (default "testenv").
	Name string
	// Channel of the Gateway API CRDs (default Standard). The two channels define the
	// same CRDs, so only one is installed.
	Channel Channel
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "testenv"
	}
	if o.Channel == "" {
		o.Channel = Standard
	}
	return o
}

// Env is a running kube-apiserver + etcd with the CRDs installed.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is a direct (uncached) client with Scheme.
	Client client.Client
	// Scheme knows the core kinds, the Gateway API kinds and gatebridge's kinds.
	Scheme *runtime.Scheme
	// KubeConfig is a kubeconfig file's content for the API server, for code that reads a
	// cluster the way users point it at one (--kubeconfig).
	KubeConfig []byte
	// RepoRoot is the directory holding go.mod.
	RepoRoot string
	// CRDDirectories are the directories whose CRDs were installed.
	CRDDirectories []string

	env  *envtest.Environment
	name string
}

// NewScheme returns a scheme with the core kinds, the Gateway API kinds (v1 and v1beta1) and
// gatebridge's kinds.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(gwv1b1.Install(s))
	utilruntime.Must(gbv1.AddToScheme(s))
	return s
}

// The environment shared by the tests of one package (Run and Get).
var (
	sharedEnv  *Env
	skipReason string
)

// Run starts the shared environment, runs the package's tests and stops it; TestMain
// passes its result to os.Exit. Under -short, or without binaries outside CI, the
// tests run without an environment and Get skips them.
func Run(m *testing.M, opts Options) int {
	opts = opts.withDefaults()
	quietControllerRuntime()
	if testing.Short() {
		skipReason = "skipping kube-apiserver tests in -short mode"
		return m.Run()
	}
	env, skip, err := start(opts)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: FAIL: %v\n", opts.Name, err)
		return 1
	case skip != "":
		skipReason = skip
		fmt.Fprintf(os.Stderr, "%s: %s\n", opts.Name, skip)
		return m.Run()
	}
	sharedEnv = env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stopping envtest: %v\n", opts.Name, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Get returns the environment Run started, or skips t with the reason it was not started.
func Get(t testing.TB) *Env {
	t.Helper()
	if sharedEnv == nil {
		if skipReason == "" {
			t.Fatal("testenv.Get: the package's TestMain does not call testenv.Run")
		}
		t.Skip(skipReason)
	}
	return sharedEnv
}

// Start starts an environment for one test and stops it when the test ends. It skips
// under -short, and without binaries unless CI=true (then the test fails).
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	opts = opts.withDefaults()
	quietControllerRuntime()
	if testing.Short() {
		t.Skip("skipping kube-apiserver test in -short mode")
	}
	env, skip, err := start(opts)
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	return env
}

// start starts an environment. skip is set (and err nil) when the binaries are missing
// outside CI; err is set for everything that must fail the run.
func start(opts Options) (env *Env, skip string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, "", err
	}
	assets, err := Assets(root)
	if err != nil {
		if os.Getenv("CI") == "true" {
			return nil, "", fmt.Errorf("CI=true and the envtest binaries (kube-apiserver, etcd) could not be obtained: %w", err)
		}
		return nil, fmt.Sprintf("envtest binaries could not be obtained (set KUBEBUILDER_ASSETS or run hack/envtest.sh): %v", err), nil
	}
	dirs, err := CRDDirectories(root, opts.Channel)
	if err != nil {
		return nil, "", err
	}
	e := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     dirs,
		ErrorIfCRDPathMissing: true,
	}
	began := time.Now()
	cfg, err := e.Start()
	if err != nil {
		if stopErr := e.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping after the failed start: %w", stopErr))
		}
		return nil, "", fmt.Errorf("starting envtest (kube-apiserver + etcd from %s): %w", assets, err)
	}
	fmt.Fprintf(os.Stderr, "%s: envtest started in %s (assets %s, CRDs from %v)\n", opts.Name, time.Since(began).Round(time.Millisecond), assets, dirs)
	scheme := NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = e.Stop()
		return nil, "", fmt.Errorf("creating a client for envtest: %w", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, KubeConfig: e.KubeConfig, RepoRoot: root, CRDDirectories: dirs, env: e, name: opts.Name}, "", nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	if e == nil || e.env == nil {
		return nil
	}
	return e.env.Stop()
}

// Namespace creates a namespace named prefix plus a unique suffix and returns its name.
// Namespaces are never deleted: envtest runs no namespace controller, so a deleted one
// would stay Terminating.
func (e *Env) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace %s-*: %v", prefix, err)
	}
	return ns.Name
}

// EnsureNamespace creates the namespace name unless it exists.
func (e *Env) EnsureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := e.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// KubeconfigFile writes KubeConfig to a file in t's temporary directory and returns its path.
func (e *Env) KubeconfigFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, e.KubeConfig, 0o600); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return p
}

// RepoRoot walks up from the working directory to the directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting the working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or any parent")
		}
		dir = parent
	}
}

// Assets returns the directory holding kube-apiserver and etcd: KUBEBUILDER_ASSETS, else
// the last line hack/envtest.sh prints (it builds the binaries on a fresh machine and
// waits on a lock while another run builds them).
func Assets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if err := checkAssets(dir); err != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS=%s: %w", dir, err)
		}
		return dir, nil
	}
	script := filepath.Join(root, "hack", "envtest.sh")
	fmt.Fprintf(os.Stderr, "testenv: KUBEBUILDER_ASSETS is unset; running %s (a cold build takes ~10 min; use -timeout 30m)\n", script)
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

// CRDDirectories returns the Gateway API CRD directory of channel (from the module in
// go.mod) and the repository's manifests/crds.
func CRDDirectories(root string, channel Channel) ([]string, error) {
	gw, err := gatewayAPIDir(root)
	if err != nil {
		return nil, err
	}
	dirs := []string{filepath.Join(gw, "config", "crd", string(channel))}
	if _, err := os.Stat(dirs[0]); err != nil {
		return nil, fmt.Errorf("the Gateway API %s channel CRDs: %w", channel, err)
	}
	own := filepath.Join(root, "manifests", "crds")
	yamls, err := filepath.Glob(filepath.Join(own, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", own, err)
	}
	if len(yamls) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", own)
	}
	return append(dirs, own), nil
}

var gatewayAPI struct {
	once sync.Once
	dir  string
	err  error
}

// gatewayAPIDir is the module directory of sigs.k8s.io/gateway-api (go list, once).
func gatewayAPIDir(root string) (string, error) {
	gatewayAPI.once.Do(func() {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			gatewayAPI.err = fmt.Errorf("locating sigs.k8s.io/gateway-api with go list: %w", err)
			return
		}
		gatewayAPI.dir = strings.TrimSpace(string(out))
		if gatewayAPI.dir == "" {
			gatewayAPI.err = errors.New("go list printed no directory for sigs.k8s.io/gateway-api (module not downloaded?)")
		}
	})
	return gatewayAPI.dir, gatewayAPI.err
}

var quietOnce sync.Once

// quietControllerRuntime gives controller-runtime's global logger a sink (it complains
// with a stack trace when none is set) that prints warnings and errors only, or
// everything when GATEBRIDGE_TEST_LOG=1.
func quietControllerRuntime() {
	quietOnce.Do(func() {
		level := slog.LevelWarn
		if os.Getenv("GATEBRIDGE_TEST_LOG") == "1" {
			level = slog.LevelDebug
		}
		ctrllog.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	})
}
