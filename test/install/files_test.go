package install

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestGatewayAPICopies: the copies hack/gateway-api-crds.sh made are the files of the
// Gateway API module in go.mod (standard channel) and of manifests/crds, and the
// kustomizations list every one of them.
func TestGatewayAPICopies(t *testing.T) {
	dirs, err := testenv.CRDDirectories(repoRoot, testenv.Standard)
	if err != nil {
		t.Fatal(err)
	}
	moduleDir := dirs[0]
	module := yamlFiles(t, moduleDir)
	delete(module, "kustomization.yaml")
	own := yamlFiles(t, filepath.Join(repoRoot, "manifests", "crds"))
	if len(module) == 0 || len(own) == 0 {
		t.Fatalf("found %d Gateway API and %d gatebridge files", len(module), len(own))
	}

	manifests := yamlFiles(t, filepath.Join(repoRoot, "manifests", "gateway-api"))
	delete(manifests, "kustomization.yaml")
	chartCRDs := yamlFiles(t, filepath.Join(chartDir(), "crds"))
	chartFiles := yamlFiles(t, filepath.Join(chartDir(), "files", "gateway-api"))
	wantChartCRDs, wantChartFiles := map[string][]byte{}, map[string][]byte{}
	for name, data := range module {
		if strings.Contains(name, "_vap_") {
			wantChartFiles[name] = data
		} else {
			wantChartCRDs[name] = data
		}
	}
	for name, data := range own {
		wantChartCRDs[name] = data
	}
	for _, c := range []struct {
		where     string
		got, want map[string][]byte
	}{
		{"manifests/gateway-api", manifests, module},
		{"the chart's crds/", chartCRDs, wantChartCRDs},
		{"the chart's files/gateway-api", chartFiles, wantChartFiles},
	} {
		for name, data := range c.want {
			if got, ok := c.got[name]; !ok || !bytes.Equal(got, data) {
				t.Errorf("%s: %s is missing or differs from its source: run hack/gateway-api-crds.sh", c.where, name)
			}
		}
		for name := range c.got {
			if _, ok := c.want[name]; !ok {
				t.Errorf("%s: %s has no source: run hack/gateway-api-crds.sh", c.where, name)
			}
		}
	}

	// Every file is listed where kustomize looks.
	listed := kustomizationResources(t, filepath.Join(repoRoot, "manifests", "gateway-api"))
	for name := range module {
		if !slices.Contains(listed, name) {
			t.Errorf("manifests/gateway-api/kustomization.yaml does not list %s", name)
		}
	}
	top := kustomizationResources(t, filepath.Join(repoRoot, "manifests"))
	for name := range own {
		if !slices.Contains(top, "crds/"+name) {
			t.Errorf("manifests/kustomization.yaml does not list crds/%s", name)
		}
	}
}

func yamlFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	return out
}

func kustomizationResources(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k.Resources
}
