package cluster

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// What TestMain found; skip says why the suite cannot run (and the tests skip).
var (
	envoyPath string
	hostIP    string
	binary    string
	skip      string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if !testing.Short() {
			dir, err := os.MkdirTemp("", "gatebridge-cluster-")
			if err != nil {
				fmt.Fprintf(os.Stderr, "cluster: %v\n", err)
				return 1
			}
			defer os.RemoveAll(dir)
			if err := prepare(dir); err != nil {
				if os.Getenv("CI") == "true" {
					fmt.Fprintf(os.Stderr, "cluster: FAIL: CI=true and %v\n", err)
					return 1
				}
				skip = err.Error()
				fmt.Fprintf(os.Stderr, "cluster: skipping: %v\n", skip)
			}
		}
		return testenv.Run(m, testenv.Options{Name: "cluster"})
	}()
	os.Exit(code)
}

// prepare finds Envoy and a non-loopback address and builds the gatebridge command.
func prepare(dir string) error {
	var err error
	if envoyPath, err = envoy.FindForTest(); err != nil {
		return fmt.Errorf("Envoy is not available: %w", err)
	}
	if hostIP, err = nonLoopbackIPv4(); err != nil {
		return err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	binary = filepath.Join(dir, "gatebridge")
	// gatebridge controller hands over to gatebridge-server, built beside it.
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/gatebridge", "./cmd/gatebridge-server")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the gatebridge command: %w", err)
	}
	return nil
}

// nonLoopbackIPv4 is the first IPv4 address of an interface that is up and not loopback
// (what `hostname -I` lists first): the API server refuses EndpointSlices on 127.0.0.0/8,
// so the echo backends listen there.
func nonLoopbackIPv4() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("listing network interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if ip4 := ipn.IP.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsLinkLocalUnicast() {
				return ip4.String(), nil
			}
		}
	}
	return "", errors.New("this machine has no non-loopback IPv4 address for the echo backends (the API server refuses EndpointSlices on 127.0.0.0/8)")
}

// require skips t when the suite cannot run here.
func require(t *testing.T) *testenv.Env {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	return testenv.Get(t)
}
