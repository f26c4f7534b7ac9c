// Command gatebridge-server is gatebridge with its serving commands: `run` (the data plane
// on a laptop), `controller` (the operator in a cluster) and `envoy-bootstrap`. They link
// the Envoy data plane, the xDS server and controller-runtime's manager, which the
// command-line binary (cmd/gatebridge) leaves out; `gatebridge run|controller|
// envoy-bootstrap` starts this binary in its place. It runs every other command of
// gatebridge too (internal/cli), so a container image needs only this one.
package main

import (
	"io"
	"os"

	"github.com/gatebridge-dev/gatebridge/internal/cli"
)

// The exit codes of internal/cli, by their short names.
const (
	exitOK       = cli.ExitOK
	exitUsage    = cli.ExitUsage
	exitInternal = cli.ExitInternal
)

// multiFlag is a repeatable string flag.
type multiFlag = cli.MultiFlag

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return runRun(args[1:], stdout, stderr)
		case "controller":
			return runController(args[1:], stderr)
		case "envoy-bootstrap":
			return runEnvoyBootstrap(args[1:], stdout, stderr)
		}
	}
	return cli.Run(args, stdin, stdout, stderr)
}
