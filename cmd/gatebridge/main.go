// Command gatebridge converts ingress-nginx Ingresses to Gateway API, reports on the
// conversion, and prints the annotation catalog. See README.md.
//
// It is the command-line binary: it links the converter alone (internal/cli). The serving
// commands — run, controller, envoy-bootstrap — are gatebridge-server's
// (cmd/gatebridge-server), which gatebridge executes in its own place (same process,
// arguments, environment and standard streams) when given one of them. Why two binaries:
// Go runs the initialisers of every package linked, and those of the Envoy API
// (go-control-plane registers ~1,000 protobuf files), gRPC and controller-runtime touch
// ~13 MiB of the executable's pages before any input is read, and their registries stay
// on the heap. Without them `gatebridge convert` of 5,000 Ingresses peaks at ~35 MiB of
// executable pages instead of ~48, and its start costs less (see README "Performance").
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/gatebridge-dev/gatebridge/internal/cli"
)

// serverBinary is the executable of the serving commands.
const serverBinary = "gatebridge-server"

func main() {
	if len(os.Args) > 1 && cli.IsServerCommand(os.Args[1]) {
		os.Exit(execServer(os.Args[1:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs a command of internal/cli (the tests call it as main does).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Run(args, stdin, stdout, stderr)
}

// execServer replaces this process with gatebridge-server running args; it returns only
// when that cannot be done, with the exit code.
func execServer(args []string, stderr io.Writer) int {
	path, err := findServer()
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge %s: %v\n", args[0], err)
		return cli.ExitUsage
	}
	argv := append([]string{path}, args...)
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(stderr, "gatebridge %s: starting %s: %v\n", args[0], path, err)
	return cli.ExitInternal
}

// findServer looks for gatebridge-server beside this executable (as `make build`, the
// release archive and the container image place it), then on PATH.
func findServer() (string, error) {
	var tried []string
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		beside := filepath.Join(filepath.Dir(self), serverBinary)
		if isExecutable(beside) {
			return beside, nil
		}
		tried = append(tried, beside)
	}
	path, err := exec.LookPath(serverBinary)
	if err == nil {
		return filepath.Abs(path)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("looking for %s on PATH: %w", serverBinary, err)
	}
	return "", fmt.Errorf("this command is %s's, which is neither at %v nor on PATH: build it beside gatebridge (make build, or go build -o DIR/ ./cmd/gatebridge ./cmd/gatebridge-server) or run %s directly", serverBinary, tried, serverBinary)
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}
