package install

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// buildOverlay builds the kustomization in testdata/dir, as `kubectl apply -k` does.
func buildOverlay(t *testing.T, dir string) install {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "test", "install", "testdata", dir))
	if err != nil {
		t.Fatalf("kustomize build testdata/%s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return install{name: "kustomize " + dir, objects: decodeObjects(t, out), namespace: "gatebridge-system"}
}

// TestBridgeSettings: the bridge's fallback reaches the controller as flags it accepts —
// from the chart's bridge values and from the kustomize component — and the chart's notes
// then tell how to migrate gradually and what ingress-nginx needs.
func TestBridgeSettings(t *testing.T) {
	argsOf := func(in install) []string {
		var d appsv1.Deployment
		typed(t, in, "Deployment", deploymentName(in, "controller"), &d)
		return container(t, &d, "controller").Args
	}
	component := buildOverlay(t, "bridge-overlay")
	if args := argsOf(component); !slices.Contains(args, "--fallback=ingress-nginx/ingress-nginx-controller") {
		t.Errorf("the bridge component's controller args %v lack --fallback", args)
	}
	toggled := chartEveryToggle(t)
	for _, want := range []string{"--fallback=ingress-nginx-internal/internal-controller:http", "--fallback-tls=ingress-nginx-internal/internal-controller:8443"} {
		if args := argsOf(toggled); !slices.Contains(args, want) {
			t.Errorf("%s: controller args %v lack %s", toggled.name, args, want)
		}
	}
	for _, want := range []string{"gatebridge.dev/weight=10", `gatebridge\.dev/state`, "-n ingress-nginx-internal patch configmap internal-controller", `"use-forwarded-headers":"true"`, `"proxy-real-ip-cidr":"10.8.0.0/14"`} {
		if !strings.Contains(toggled.notes, want) {
			t.Errorf("NOTES.txt with a fallback lacks %q:\n%s", want, toggled.notes)
		}
	}
	defaults := chartDefaults(t)
	for _, a := range argsOf(defaults) {
		if strings.HasPrefix(a, "--fallback") {
			t.Errorf("the chart's defaults pass %s: the bridge is opt-in", a)
		}
	}
	if strings.Contains(defaults.notes, "use-forwarded-headers") {
		t.Errorf("NOTES.txt without a fallback mentions the bridge's ingress-nginx settings")
	}
	if !testing.Short() {
		for _, in := range []install{component, toggled} {
			if _, stderr, code := gatebridge(t, append(argsOf(in), "-h")...); code != 0 {
				t.Errorf("%s: the controller refuses the args (exit %d):\n%s", in.name, code, stderr)
			}
		}
	}
}

// TestIngressNginxRealClient: the ingress-nginx settings the bridge needs are the same in
// the kustomize component (which keeps the ConfigMap's other keys), the merge-patch file
// and the ingress-nginx Helm values.
func TestIngressNginxRealClient(t *testing.T) {
	want := map[string]string{"use-forwarded-headers": "true", "proxy-real-ip-cidr": "10.244.0.0/16"}
	var cm corev1.ConfigMap
	typed(t, buildOverlay(t, "ingress-nginx-overlay"), "ConfigMap", "ingress-nginx-controller", &cm)
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("component: %s = %q, want %q", k, cm.Data[k], v)
		}
	}
	if cm.Data["allow-snippet-annotations"] != "false" {
		t.Errorf("component: the ConfigMap's own keys are lost: %v", cm.Data)
	}
	read := func(name string, out any) {
		data, err := os.ReadFile(filepath.Join(repoRoot, "manifests", "bridge", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var patch struct{ Data map[string]string }
	read("ingress-nginx-configmap-patch.yaml", &patch)
	var values struct {
		Controller struct{ Config map[string]string }
	}
	read("ingress-nginx-values.yaml", &values)
	for name, got := range map[string]map[string]string{"patch": patch.Data, "Helm values": values.Controller.Config} {
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}
}
