package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gatebridge-dev/gatebridge/sources"
)

// Exit codes (documented in docs/report-schema.md and the README), the same in both
// binaries.
const (
	ExitOK       = 0
	ExitUsage    = 1
	ExitInternal = 2
	ExitFailOn   = 3
	// ExitInputProblems: convert (or report with --fail-on) found input problems — a file
	// or document not read, an object defined twice — and wrote what it could read.
	ExitInputProblems = 4
)

// The package's own short names for them.
const (
	exitOK            = ExitOK
	exitUsage         = ExitUsage
	exitFailOn        = ExitFailOn
	exitInputProblems = ExitInputProblems
)

// Version is what `gatebridge version` prints; a release build sets it with
// -ldflags "-X github.com/gatebridge-dev/gatebridge/internal/cli.Version=v1.2.3".
var Version = "dev"

// ServerCommands are the commands of gatebridge-server alone: they link the data plane
// and the controller.
var ServerCommands = []string{"run", "controller", "envoy-bootstrap"}

// IsServerCommand reports whether name is one of ServerCommands.
func IsServerCommand(name string) bool { return slices.Contains(ServerCommands, name) }

// Run runs the command-line commands — convert, report, annotations, version and help —
// and returns the exit code. Any other command is a usage error.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		Usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "convert":
		return runConvert(args[1:], stdin, stdout, stderr, false)
	case "report":
		return runConvert(args[1:], stdin, stdout, stderr, true)
	case "annotations":
		return runAnnotations(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "gatebridge", Version)
		return exitOK
	case "help", "-h", "--help":
		Usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "gatebridge: unknown command %q\n\n", args[0])
	Usage(stderr)
	return exitUsage
}

// Usage prints the commands of both binaries: to a user they are one tool.
func Usage(w io.Writer) {
	fmt.Fprint(w, `gatebridge moves ingress-nginx Ingresses to the Gateway API.

Usage:
  gatebridge report      -f PATH... | --kubeconfig FILE [-n NS | -A]  [-o table|json|markdown|html]
  gatebridge convert     -f PATH... | --kubeconfig FILE [-n NS | -A]  [-o yaml|json]
  gatebridge run         -f PATH... [--http-port 8080] [--https-port 8443] [--admin-port 9901] [--envoy PATH]
  gatebridge controller  [--kubeconfig FILE] [--metrics-port 8080] [--health-port 8081] [--leader-elect]
  gatebridge envoy-bootstrap --xds-server HOST:PORT [--admin-port 9901] [--http-port 8080] [--https-port 8443] [--ready-port N]
  gatebridge annotations [-o table|json|markdown]
  gatebridge version

PATH is a file, a directory (read recursively) or - for standard input.
Run "gatebridge COMMAND -h" for the flags of a command.
run, controller and envoy-bootstrap are gatebridge-server's, which gatebridge starts
in its place (it looks beside itself, then on PATH).
`)
}

// MultiFlag is a repeatable string flag.
type MultiFlag []string

func (m *MultiFlag) String() string     { return strings.Join(*m, ",") }
func (m *MultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// RegisterSizeFlags registers the input size limits (--max-document-size,
// --max-file-size) into o.
func RegisterSizeFlags(fs *flag.FlagSet, o *sources.Options) { registerSizeFlags(fs, o) }
