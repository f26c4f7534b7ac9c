package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
)

var updateManifests = flag.Bool("update-manifests", false, "rewrite the Envoy bootstrap of manifests/ (the ConfigMap and the chart's template) from envoy-bootstrap")

// envoyBootstrap runs `gatebridge envoy-bootstrap args...` and returns its stdout.
func envoyBootstrap(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"envoy-bootstrap"}, args...), nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("envoy-bootstrap %v: exit %d: %s", args, code, stderr.String())
	}
	return stdout.Bytes()
}

// parseBootstrap reads envoy-bootstrap's YAML back into Envoy's proto and validates it.
func parseBootstrap(t *testing.T, out []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	js, err := yaml.YAMLToJSON(out)
	if err != nil {
		t.Fatalf("the bootstrap is not YAML: %v\n%s", err, out)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("the bootstrap is not an Envoy bootstrap: %v\n%s", err, out)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("the bootstrap does not validate: %v", err)
	}
	return &b
}

func TestBootstrapFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--xds-server HOST:PORT is required"},
		{[]string{"--xds-server", "127.0.0.1"}, "missing port"},
		{[]string{"--xds-server", "x:18000", "--admin-port", "0"}, "--admin-port 0 is not a port"},
		{[]string{"--xds-server", "x:18000", "--http-port", "70000"}, "--http-port 70000 is not a port"},
		{[]string{"--xds-server", "x:18000", "--https-port", "9901"}, "--admin-port and --https-port are both 9901"},
		{[]string{"--xds-server", "x:18000", "--ready-port", "8080"}, "--http-port and --ready-port are both 8080"},
		{[]string{"--xds-server", "x:18000", "--admin-address", "0.0.0.0"}, "loopback"},
		{[]string{"--xds-server", "x:18000", "--ready-port", "19001", "--ready-address", "eth0"}, "must be an IP address"},
		{[]string{"--xds-server", "x:18000", "extra"}, "unexpected arguments"},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"envoy-bootstrap"}, c.args...), nil, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("envoy-bootstrap %v: exit %d, stdout %q, stderr %q; want exit %d naming %q", c.args, code, stdout.String(), stderr.String(), exitUsage, c.want)
		}
	}
}

// TestBootstrapContent: the output is the bootstrap builder's, with the port map in the
// node metadata (read back as the xDS server reads it) and the ready listener on request.
func TestBootstrapContent(t *testing.T) {
	args := []string{"--xds-server", "gatebridge-controller.gatebridge-system.svc.cluster.local:18000", "--admin-port", "19000",
		"--http-port", "10080", "--https-port", "10443", "--node-id", "envoy-0"}
	out := envoyBootstrap(t, args...)
	b := parseBootstrap(t, out)
	if got := b.GetNode().GetId(); got != "envoy-0" {
		t.Errorf("node.id = %q", got)
	}
	if !b.GetStatsFlushOnAdmin() {
		t.Error("stats_flush_on_admin is not set: Envoy's periodic flush stalls xDS updates with many clusters")
	}
	pm, err := envoy.PortMapFromNode(b.GetNode())
	if err != nil || !reflect.DeepEqual(pm, map[int32]uint32{80: 10080, 443: 10443}) {
		t.Errorf("port map from the node metadata = %v, %v; want 80→10080, 443→10443", pm, err)
	}
	if a := b.GetAdmin().GetAddress().GetSocketAddress(); a.GetAddress() != "127.0.0.1" || a.GetPortValue() != 19000 {
		t.Errorf("admin address = %v", a)
	}
	if c := b.GetStaticResources().GetClusters(); len(c) != 1 || c[0].GetName() != envoy.XDSClusterName {
		t.Errorf("static clusters = %v", c)
	}
	if cds := b.GetDynamicResources().GetCdsConfig(); cds.GetInitialFetchTimeout().AsDuration() != 0 {
		t.Errorf("initial_fetch_timeout = %v; want 0 (Envoy waits for the controller)", cds.GetInitialFetchTimeout())
	}
	if got := b.GetLayeredRuntime().GetLayers()[0].GetStaticLayer().AsMap(); got["re2.max_program_size.error_level"] == nil {
		t.Errorf("static runtime = %v; want the gateway runtime", got)
	}
	if l := b.GetStaticResources().GetListeners(); len(l) != 0 {
		t.Errorf("listeners without --ready-port: %v", l)
	}
	if again := envoyBootstrap(t, args...); !bytes.Equal(out, again) {
		t.Errorf("the output varies between runs")
	}

	b = parseBootstrap(t, envoyBootstrap(t, append(args, "--ready-port", "19001")...))
	l := b.GetStaticResources().GetListeners()
	if len(l) != 1 || l[0].GetName() != envoy.ReadyListenerName || l[0].GetAddress().GetSocketAddress().GetAddress() != "0.0.0.0" ||
		l[0].GetAddress().GetSocketAddress().GetPortValue() != 19001 {
		t.Errorf("ready listener = %v", l)
	}
}

// TestBootstrapValidatesWithEnvoy: the real Envoy accepts the output (envoy --mode validate).
func TestBootstrapValidatesWithEnvoy(t *testing.T) {
	envoyPath := envoytest.Require(t)
	for _, args := range [][]string{
		{"--xds-server", "127.0.0.1:18000"},
		manifestBootstrapArgs,
		{"--xds-server", "[::1]:18000", "--admin-address", "::1", "--admin-port", "9000", "--http-port", "80", "--https-port", "443", "--ready-port", "9001", "--ready-address", "::"},
	} {
		file := filepath.Join(t.TempDir(), "envoy.yaml")
		if err := os.WriteFile(file, envoyBootstrap(t, args...), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, envoyPath, "--mode", "validate", "-c", file, "--disable-hot-restart").CombinedOutput()
		cancel()
		if err != nil || !bytes.Contains(out, []byte("OK")) {
			t.Errorf("envoy --mode validate, bootstrap of %v: %v\n%s", args, err, out)
		}
	}
}

// manifestBootstrapArgs are the flags of the bootstrap manifests/envoy/bootstrap.yaml ships
// (the names and ports of manifests/controller and manifests/envoy).
var manifestBootstrapArgs = []string{
	"--xds-server", "gatebridge-controller.gatebridge-system.svc.cluster.local:18000",
	"--admin-port", "19000", "--ready-port", "19001", "--http-port", "8080", "--https-port", "8443",
}

// The chart's template is envoy-bootstrap's output for chartBootstrapArgs, with each
// stand-in value replaced by the template expression of the value.
var (
	chartBootstrapArgs = []string{"--xds-server", "gatebridge-xds.invalid:61001", "--admin-port", "61002", "--ready-port", "61003",
		"--http-port", "61004", "--https-port", "61005"}
	chartBootstrapValues = []struct{ sentinel, expr string }{
		{"gatebridge-xds.invalid", `{{ include "gatebridge.fullname" . }}-controller.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}`},
		{"61001", "{{ int .Values.ports.xds }}"},
		{"61002", "{{ int .Values.ports.envoyAdmin }}"},
		{"61003", "{{ int .Values.ports.envoyReady }}"},
		{"61004", "{{ int .Values.ports.http }}"},
		{"61005", "{{ int .Values.ports.https }}"},
	}
)

const configMapHeader = `# Generated from ` + "`" + `gatebridge envoy-bootstrap %s` + "`" + `
# by ` + "`" + `go test ./cmd/gatebridge-server -run TestBootstrapManifests -update-manifests` + "`" + `: do not edit.
# Envoy reads its bootstrap only when it starts: restart the Envoy Deployment after a change
# (kubectl -n gatebridge-system rollout restart deployment/gatebridge-envoy).
apiVersion: v1
kind: ConfigMap
metadata:
  name: gatebridge-envoy-bootstrap
  namespace: gatebridge-system
  labels:
    app.kubernetes.io/name: gatebridge
    app.kubernetes.io/instance: gatebridge
    app.kubernetes.io/component: envoy
data:
  envoy.yaml: |
`

const chartTemplateHeader = `{{- /* Generated from the output of gatebridge envoy-bootstrap by
go test ./cmd/gatebridge-server -run TestBootstrapManifests -update-manifests: do not edit. */ -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "gatebridge.fullname" . }}-envoy-bootstrap
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "gatebridge.labels" (dict "ctx" . "component" "envoy") | nindent 4 }}
data:
  envoy.yaml: |
`

// indent4 indents every line of b by four spaces (a YAML block scalar under data:).
func indent4(b []byte) string {
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			out.WriteString("    " + line)
		}
	}
	return out.String()
}

// TestBootstrapManifests: the bootstrap in manifests/envoy/bootstrap.yaml and the chart's
// template are envoy-bootstrap's output (test/install renders the template and compares
// it with the command's output for other values).
func TestBootstrapManifests(t *testing.T) {
	root := filepath.Join("..", "..")
	configMap := fmt.Sprintf(configMapHeader, strings.Join(manifestBootstrapArgs, " ")) + indent4(envoyBootstrap(t, manifestBootstrapArgs...))

	tmpl := indent4(envoyBootstrap(t, chartBootstrapArgs...))
	for _, v := range chartBootstrapValues {
		if strings.Count(tmpl, v.sentinel) != 1 {
			t.Fatalf("the stand-in %s occurs %d times in the bootstrap, want once", v.sentinel, strings.Count(tmpl, v.sentinel))
		}
		tmpl = strings.Replace(tmpl, v.sentinel, v.expr, 1)
	}
	tmpl = chartTemplateHeader + tmpl

	for file, want := range map[string]string{
		filepath.Join(root, "manifests", "envoy", "bootstrap.yaml"):                                   configMap,
		filepath.Join(root, "manifests", "charts", "gatebridge", "templates", "envoy-bootstrap.yaml"): tmpl,
	} {
		if *updateManifests {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (go test ./cmd/gatebridge-server -run TestBootstrapManifests -update-manifests writes it)", err)
		}
		if string(got) != want {
			t.Errorf("%s is not envoy-bootstrap's output: run go test ./cmd/gatebridge-server -run TestBootstrapManifests -update-manifests and review the diff", file)
		}
	}
}
