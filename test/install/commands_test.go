package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
)

// pendingFlags are controller flags the chart passes through for features of later
// versions; the controller of this version does not know them yet.
var pendingFlags = map[string]string{}

// TestControllerArgsAreFlags: the controller Deployment's args are flags the controller
// accepts (`gatebridge ARGS -h` exits 0 only when every flag before -h is known).
func TestControllerArgsAreFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatebridge; skipped with -short")
	}
	for _, in := range []install{kustomizeInstall(t), chartDefaults(t), chartEveryToggle(t)} {
		var d appsv1.Deployment
		typed(t, in, "Deployment", deploymentName(in, "controller"), &d)
		var args []string
		for _, a := range container(t, &d, "controller").Args {
			name, _, _ := strings.Cut(a, "=")
			if why, ok := pendingFlags[name]; ok {
				t.Logf("%s: not checking %s: it is for %s", in.name, a, why)
				continue
			}
			args = append(args, a)
		}
		if _, stderr, code := gatebridge(t, append(args, "-h")...); code != 0 {
			t.Errorf("%s: the controller refuses the Deployment's args %v (exit %d):\n%s", in.name, args, code, stderr)
		}
	}
}

// deploymentName is the name of the Deployment of component in.
func deploymentName(in install, component string) string {
	for _, o := range in.ofKind("Deployment") {
		if strings.HasSuffix(o.GetName(), "-"+component) {
			return o.GetName()
		}
	}
	return component
}

// envoyCommand is the Envoy Deployment's command line for a local run: the bootstrap of its
// ConfigMap written to dir, $(POD_NAME) set to podName.
func envoyCommand(t *testing.T, in install, dir, podName string) (bootstrap string, args []string, d *appsv1.Deployment) {
	t.Helper()
	d = &appsv1.Deployment{}
	typed(t, in, "Deployment", deploymentName(in, "envoy"), d)
	c := container(t, d, "envoy")
	var cm corev1.ConfigMap
	typed(t, in, "ConfigMap", d.Spec.Template.Spec.Volumes[0].ConfigMap.Name, &cm)
	mount := c.VolumeMounts[0].MountPath
	file := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(file, []byte(cm.Data["envoy.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Args {
		a = strings.ReplaceAll(a, "$(POD_NAME)", podName)
		if a == filepath.Join(mount, "envoy.yaml") {
			a = file
		}
		args = append(args, a)
	}
	return cm.Data["envoy.yaml"], args, d
}

// TestEnvoyArgsValidate: the real Envoy accepts the Envoy Deployment's command line and
// the bootstrap of its ConfigMap (envoy --mode validate).
func TestEnvoyArgsValidate(t *testing.T) {
	envoyPath := envoytest.Require(t)
	for _, in := range []install{kustomizeInstall(t), chartDefaults(t), chartEveryToggle(t)} {
		_, args, _ := envoyCommand(t, in, t.TempDir(), "gatebridge-envoy-0")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, envoyPath, append([]string{"--mode", "validate"}, args...)...).CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Errorf("%s: envoy --mode validate %v: %v\n%s", in.name, args, err, out)
		}
	}
}

// TestChartBootstrapMatchesCommand: the bootstrap the chart renders is what
// `gatebridge envoy-bootstrap` prints for the same values (cmd/gatebridge-server's
// TestBootstrapManifests generates the template; this checks it renders right).
func TestChartBootstrapMatchesCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatebridge; skipped with -short")
	}
	for _, c := range []struct {
		in   install
		args []string
	}{
		{chartDefaults(t), []string{"--xds-server", "gatebridge-controller.gatebridge-system.svc.cluster.local:18000",
			"--admin-port", "19000", "--ready-port", "19001", "--http-port", "8080", "--https-port", "8443"}},
		{chartEveryToggle(t), []string{"--xds-server", "edge-gatebridge-controller.edge-system.svc.cluster.example:18100",
			"--admin-port", "19100", "--ready-port", "19101", "--http-port", "10080", "--https-port", "10443"}},
	} {
		want, stderr, code := gatebridge(t, append([]string{"envoy-bootstrap"}, c.args...)...)
		if code != 0 {
			t.Fatalf("envoy-bootstrap %v: exit %d: %s", c.args, code, stderr)
		}
		var d appsv1.Deployment
		typed(t, c.in, "Deployment", deploymentName(c.in, "envoy"), &d)
		var cm corev1.ConfigMap
		typed(t, c.in, "ConfigMap", d.Spec.Template.Spec.Volumes[0].ConfigMap.Name, &cm)
		if got := cm.Data["envoy.yaml"]; got != want {
			t.Errorf("%s: the rendered bootstrap is not envoy-bootstrap %v:\n--- rendered\n%s\n--- envoy-bootstrap\n%s", c.in.name, c.args, got, want)
		}
	}
}
