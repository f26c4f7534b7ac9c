package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinksNoServingPackage: the command-line binary links neither the data plane nor the
// controller, whose package initialisers cost convert its memory goal (the doc comment).
// An import that brings one back fails here, naming the chain.
func TestLinksNoServingPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{
		"github.com/envoyproxy/go-control-plane/",
		"google.golang.org/grpc",
		"sigs.k8s.io/controller-runtime/pkg/manager",
		"github.com/gatebridge-dev/gatebridge/dataplane",
		"github.com/gatebridge-dev/gatebridge/controllers",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				why, _ := exec.Command("go", "mod", "why", "-m", dep).CombinedOutput()
				t.Errorf("cmd/gatebridge links %s (belongs to gatebridge-server): %s", dep, why)
			}
		}
	}
}

// TestServingCommandsRunInGatebridgeServer: gatebridge run|controller|envoy-bootstrap are
// gatebridge-server's, executed in gatebridge's place with the same arguments and streams;
// without gatebridge-server the error says how to get it.
func TestServingCommandsRunInGatebridgeServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), ".", "../gatebridge-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := []string{"envoy-bootstrap", "--xds-server", "10.1.2.3:18000", "--admin-port", "19901"}
	want := runBinary(t, filepath.Join(dir, "gatebridge-server"), nil, args...)
	got := runBinary(t, filepath.Join(dir, "gatebridge"), nil, args...)
	if want.code != 0 || !strings.Contains(want.stdout, "10.1.2.3") {
		t.Fatalf("gatebridge-server envoy-bootstrap: exit %d, stdout %q, stderr %q", want.code, want.stdout, want.stderr)
	}
	if got != want {
		t.Errorf("gatebridge envoy-bootstrap = %+v, want gatebridge-server's %+v", got, want)
	}
	// A usage error of the server command keeps its exit code through the hand-over.
	bad := runBinary(t, filepath.Join(dir, "gatebridge"), nil, "envoy-bootstrap", "--no-such-flag")
	if bad.code != 1 || !strings.Contains(bad.stderr, "no-such-flag") {
		t.Errorf("gatebridge envoy-bootstrap --no-such-flag: exit %d, stderr %q; want exit 1 naming the flag", bad.code, bad.stderr)
	}

	// gatebridge alone, with gatebridge-server neither beside it nor on PATH.
	alone := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "gatebridge"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alone, "gatebridge"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := runBinary(t, filepath.Join(alone, "gatebridge"), []string{"PATH=" + t.TempDir()}, "run", "-f", "x.yaml")
	if missing.code != 1 || !strings.Contains(missing.stderr, "gatebridge-server") || !strings.Contains(missing.stderr, "make build") {
		t.Errorf("gatebridge run without gatebridge-server: exit %d, stderr %q; want exit 1 saying how to get gatebridge-server", missing.code, missing.stderr)
	}
	// Its own commands do not need it.
	if v := runBinary(t, filepath.Join(alone, "gatebridge"), []string{"PATH=" + t.TempDir()}, "version"); v.code != 0 || v.stdout != "gatebridge dev\n" {
		t.Errorf("gatebridge version alone: %+v", v)
	}
}

type binaryResult struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, path string, env []string, args ...string) binaryResult {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", path, args, err)
	}
	return binaryResult{stdout.String(), stderr.String(), code}
}
