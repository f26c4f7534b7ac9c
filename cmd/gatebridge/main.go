// Command gatebridge converts ingress-nginx Ingresses to Gateway API, reports on the
// conversion, and prints the annotation catalog. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes (documented in docs/report-schema.md and the README).
const (
	exitOK       = 0
	exitUsage    = 1
	exitInternal = 2
	exitFailOn   = 3
	// exitInputProblems: convert (or report with --fail-on) found input problems — a file
	// or document not read, an object defined twice — and wrote what it could read.
	exitInputProblems = 4
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "convert":
		return runConvert(args[1:], stdin, stdout, stderr, false)
	case "report":
		return runConvert(args[1:], stdin, stdout, stderr, true)
	case "run":
		return runRun(args[1:], stdout, stderr)
	case "controller":
		return runController(args[1:], stderr)
	case "envoy-bootstrap":
		return runEnvoyBootstrap(args[1:], stdout, stderr)
	case "annotations":
		return runAnnotations(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "gatebridge", version)
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "gatebridge: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
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
`)
}
