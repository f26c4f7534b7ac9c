package install

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

func TestMain(m *testing.M) {
	flag.Parse() // testenv.Run reads -short
	// testenv finds the repository by the nearest go.mod, which here is this module's own;
	// the tests run from the repository root instead (envoy.RepoRoot looks for the go.mod
	// of gatebridge's module).
	root, err := envoy.RepoRoot()
	if err == nil {
		err = os.Chdir(root)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/install: finding the repository root: %v\n", err)
		os.Exit(1)
	}
	repoRoot = root
	os.Exit(testenv.Run(m, testenv.Options{Name: "test/install"}))
}
