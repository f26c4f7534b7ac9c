package validation

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "copy the CRDs into crds/ again (go generate ./validation/)")

// crdSources returns, per embedded file name, the file it is a copy of: the Gateway API
// standard-channel CRDs of the module version in go.mod, and manifests/crds.
func crdSources(t *testing.T) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating sigs.k8s.io/gateway-api with go list: %v", err)
	}
	gwDir := strings.TrimSpace(string(out))
	if gwDir == "" {
		t.Fatal("go list printed no directory for sigs.k8s.io/gateway-api (run go mod download)")
	}
	src := map[string]string{}
	gw, err := filepath.Glob(filepath.Join(gwDir, "config", "crd", "standard", "gateway.networking.k8s.io_*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gw {
		// The ValidatingAdmissionPolicy of the bundle guards CRD upgrades; it is no CRD.
		if strings.Contains(filepath.Base(f), "_vap_") {
			continue
		}
		src[filepath.Base(f)] = f
	}
	own, err := filepath.Glob(filepath.Join("..", "manifests", "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range own {
		src[filepath.Base(f)] = f
	}
	if len(gw) == 0 || len(own) == 0 {
		t.Fatalf("found %d Gateway API and %d gatebridge CRD files", len(gw), len(own))
	}
	return src
}

// TestEmbeddedCRDsAreCurrent: crds/ holds exactly the CRDs the API server tests install.
// The embed directive cannot reach the module cache or ../manifests, hence the copies.
func TestEmbeddedCRDsAreCurrent(t *testing.T) {
	src := crdSources(t)
	if *update {
		old, _ := filepath.Glob(filepath.Join("crds", "*.yaml"))
		for _, f := range old {
			if _, keep := src[filepath.Base(f)]; !keep {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, from := range src {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("crds", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	onDisk, err := filepath.Glob(filepath.Join("crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range onDisk {
		names = append(names, filepath.Base(f))
	}
	var want []string
	for name := range src {
		want = append(want, name)
	}
	sort.Strings(want)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("crds/ holds %v, want %v (run go generate ./validation/)", names, want)
	}
	if !*update {
		embedded, err := embeddedCRDs.ReadDir("crds")
		if err != nil {
			t.Fatal(err)
		}
		if len(embedded) != len(names) {
			t.Fatalf("%d CRDs embedded, %d in crds/", len(embedded), len(names))
		}
	}
	for name, from := range src {
		got, err := os.ReadFile(filepath.Join("crds", name))
		if err != nil {
			t.Fatal(err)
		}
		wantBytes, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("crds/%s differs from %s (run go generate ./validation/)", name, from)
		}
	}
}

// TestEmbeddedCRDsLoad: every served version of every embedded CRD builds (schema, defaults,
// CEL programs), so Validate never meets a broken schema at run time.
func TestEmbeddedCRDsLoad(t *testing.T) {
	v, err := defaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range v.Kinds() {
		if _, err := v.versions[gvk].get(); err != nil {
			t.Errorf("%s: %v", gvk, err)
		}
	}
	for _, kind := range []string{"Gateway", "HTTPRoute", "TLSRoute", "ListenerSet", "ReferenceGrant", "GatewayClass", "TrafficPolicy", "RouteFilter"} {
		found := false
		for _, gvk := range v.Kinds() {
			found = found || gvk.Kind == kind
		}
		if !found {
			t.Errorf("no CRD for %s, which convert emits", kind)
		}
	}
}
