package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// repoRoot is the gatebridge checkout (TestMain sets it).
var repoRoot string

// kubeVersion is the API server envtest runs (hack/envtest.sh builds Kubernetes 1.37); the
// chart is rendered for it.
const kubeVersion = "v1.37.1"

// An install is what one way of installing renders.
type install struct {
	name    string
	objects []*unstructured.Unstructured
	// namespace is where the controller and Envoy run.
	namespace string
	// values are the Helm values (nil for kustomize).
	values map[string]any
	// notes are the chart's NOTES.txt, rendered.
	notes string
}

// chartDir is the Helm chart.
func chartDir() string { return filepath.Join(repoRoot, "manifests", "charts", "gatebridge") }

// renderChart renders the chart as `helm template --include-crds` does: Helm's install
// action in client-only dry-run mode.
func renderChart(t *testing.T, releaseName, namespace string, values map[string]any) install {
	t.Helper()
	chrt, err := loader.Load(chartDir())
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.Replace = true
	inst.IncludeCRDs = true
	inst.KubeVersion = kv
	if values == nil {
		values = map[string]any{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := inst.RunWithContext(ctx, chrt, values)
	if err != nil {
		t.Fatalf("rendering the chart (release %s, values %v): %v", releaseName, values, err)
	}
	rel, ok := out.(*release.Release)
	if !ok {
		t.Fatalf("helm returned a %T", out)
	}
	var hooks strings.Builder
	for _, h := range rel.Hooks {
		hooks.WriteString(h.Path + " ")
	}
	if hooks.Len() > 0 {
		t.Fatalf("the chart has hooks (%s); the install tests do not apply them", hooks.String())
	}
	return install{name: "chart " + releaseName, objects: decodeObjects(t, []byte(rel.Manifest)), namespace: namespace, values: values, notes: rel.Info.Notes}
}

// chartError is the error rendering the chart with values gives (nil if it renders).
func chartError(values map[string]any) error {
	chrt, err := loader.Load(chartDir())
	if err != nil {
		return err
	}
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		return err
	}
	inst := action.NewInstall(action.NewConfiguration())
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = "gatebridge"
	inst.Namespace = "gatebridge-system"
	inst.Replace = true
	inst.KubeVersion = kv
	_, err = inst.RunWithContext(context.Background(), chrt, values)
	return err
}

// loadValues reads a values file of testdata.
func loadValues(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "test", "install", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// buildKustomization builds manifests/ with kustomize's Go API, as `kubectl apply -k` does.
func buildKustomization(t *testing.T) install {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "manifests"))
	if err != nil {
		t.Fatalf("kustomize build manifests/: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return install{name: "kustomize", objects: decodeObjects(t, out), namespace: "gatebridge-system"}
}

// decodeObjects splits a multi-document YAML stream into objects (empty documents skipped).
func decodeObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decoding the rendered manifests: %v", err)
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	if len(out) == 0 {
		t.Fatal("nothing rendered")
	}
	return out
}

// find returns the one object of kind and name, or fails t.
func (in install) find(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found *unstructured.Unstructured
	for _, o := range in.objects {
		if o.GetKind() == kind && o.GetName() == name {
			if found != nil {
				t.Fatalf("%s: two %s %s", in.name, kind, name)
			}
			found = o
		}
	}
	if found == nil {
		t.Fatalf("%s: no %s %s among %s", in.name, kind, name, in.summary())
	}
	return found
}

// ofKind returns the objects of kind.
func (in install) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range in.objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (in install) summary() string {
	var ids []string
	for _, o := range in.objects {
		ids = append(ids, objectID(o))
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

func objectID(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// gatebridgeBinary builds cmd/gatebridge (and cmd/gatebridge-server) of the checkout once (the main module, as a user
// builds it) and returns its path.
var gatebridgeBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gatebridge-install-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gatebridge")
	// gatebridge-server beside it: envoy-bootstrap is its command.
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/gatebridge", "./cmd/gatebridge-server")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gatebridge ./cmd/gatebridge-server: %w\n%s", err, out)
	}
	return bin, nil
})

// gatebridge runs the built binary with args and returns its stdout, stderr and exit code.
func gatebridge(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := gatebridgeBinary()
	if err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return o.String(), e.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("running gatebridge %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}
